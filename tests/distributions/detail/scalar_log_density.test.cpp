#include "vaelib/distributions/detail/scalar_log_density.hpp"

#include <tuple>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

// f(a, b, c) = a b - c^2 / 2 + a, whose partials are (b + 1, a, -c): simple enough to write
// with xtensor's own broadcasting for the expected values.
vaelib::detail::ScalarLogDensity<3> scalar_density_test_kernel(const std::array<double, 3>& v) {
  return {v[0] * v[1] - v[2] * v[2] / 2 + v[0], {v[1] + 1, v[0], -v[2]}};
}

Var<double> scalar_density_test_op(const Vars& v) {
  return vaelib::detail::scalar_log_density("test_density", std::array<Var<double>, 3>{v[0], v[1], v[2]},
                                            scalar_density_test_kernel);
}

}  // namespace

TEST_CASE("scalar_log_density: every way of broadcasting reads the right elements, forward and backward",
          "[distributions]") {
  // the same shape, one value, a repeat over leading axes (with and without leading 1s),
  // and broadcasts that are no such repeat (a middle or trailing axis of 1)
  const std::vector<std::tuple<Shape, Shape, Shape>> cases{
      {{5, 4, 3}, {5, 4, 3}, {5, 4, 3}}, {{5, 4, 3}, {4, 3}, {4, 3}}, {{5, 4, 3}, {}, {1}},
      {{5, 4, 3}, {1, 4, 3}, {3}},       {{5, 4, 3}, {4, 1}, {5, 1, 3}}, {{4, 3}, {5, 4, 3}, {1, 1, 1, 3}},
      {{2, 3}, {2, 1}, {1, 3}},
  };
  std::uint32_t seed = 1;
  for (const auto& [shape_a, shape_b, shape_c] : cases) {
    INFO("a " << to_string(shape_a) << ", b " << to_string(shape_b) << ", c " << to_string(shape_c));
    const xt::xarray<double> a = random_array(shape_a, -2, 2, seed++);
    const xt::xarray<double> b = random_array(shape_b, -2, 2, seed++);
    const xt::xarray<double> c = random_array(shape_c, -2, 2, seed++);
    Tape<double> tape;
    const Var<double> y = scalar_density_test_op({tape.constant(a), tape.constant(b), tape.constant(c)});
    const xt::xarray<double> expected = a * b - c * c / 2 + a;
    require_close(y.value(), expected, 1e-14);
    require_gradient(
        [](Tape<double>& t, const Vars& v) {
          // weights that differ by element, so a misplaced partial changes the gradient
          const Var<double> out = scalar_density_test_op(v);
          const Var<double> w = t.constant(random_array(out.shape(), 0.5, 1.5, 99));
          return sum(out * w);
        },
        {a, b, c});
  }
}

TEST_CASE("scalar_log_density: the partials are kept from the forward pass only when a gradient is wanted",
          "[distributions]") {
  Tape<double> tape;
  const Var<double> x = tape.constant(xt::xarray<double>{1.0, 2.0});
  const Var<double> y = scalar_density_test_op({x, x, x});
  CHECK(tape.node(y).scratch.capacity() == 0);
  CHECK(y.value()(1) == 2.0 * 2.0 - 2.0 + 2.0);
}
