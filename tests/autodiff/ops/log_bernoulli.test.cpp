#include <cmath>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// The composed form the fused op replaces.
template <class T>
Var<T> composed_log_bernoulli(const Var<T>& x, const Var<T>& l) {
  return x * l - softplus(l);
}

/// Binary targets of `shape` (a fixed pattern).
xt::xarray<double> binary_targets(const Shape& shape) {
  xt::xarray<double> x = xt::zeros<double>(shape);
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = (i * 7 + i / 3) % 3 == 0 ? 1.0 : 0.0;
  return x;
}

}  // namespace

TEST_CASE("log_bernoulli: closed-form values, stable for large |logits|", "[ops]") {
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{1.0, 0.0, 1.0, 0.0, 1.0, 0.0});
  const auto l = tape.constant(xt::xarray<double>{0.0, 0.0, 2.0, 2.0, -800.0, 800.0});
  const auto y = log_bernoulli(x, l);
  require_close(y.value(), xt::xarray<double>{std::log(0.5), std::log(0.5), -std::log1p(std::exp(-2.0)),
                                              -2.0 - std::log1p(std::exp(-2.0)), -800.0, -800.0},
                1e-14);
}

TEST_CASE("log_bernoulli: values and gradients equal the composed x l - softplus(l)", "[ops]") {
  // same shapes, targets repeated over particles (the fused paths), and a broadcast the fused
  // op hands to the composed form; lengths that are not a multiple of the vector width
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{5, 37}, {5, 37}}, {{4, 19}, {3, 4, 19}}, {{1, 19}, {6, 19}}, {{19}, {2, 3, 19}}};
  for (const auto& [xs, ls] : cases) {
    INFO("x " << to_string(xs) << ", logits " << to_string(ls));
    for (const bool x_needs_grad : {false, true}) {
      Tape<double> fused_tape, composed_tape;
      const auto xv = binary_targets(xs);
      const auto lv = random_array(ls, -30.0, 30.0, 3);
      const auto xf = x_needs_grad ? fused_tape.variable(xv) : fused_tape.constant(xv);
      const auto lf = fused_tape.variable(lv);
      const auto xc = x_needs_grad ? composed_tape.variable(xv) : composed_tape.constant(xv);
      const auto lc = composed_tape.variable(lv);
      const auto yf = log_bernoulli(xf, lf);
      const auto yc = composed_log_bernoulli(xc, lc);
      require_close(yf.value(), yc.value(), 1e-13);
      // a non-uniform upstream gradient, so dx sums the particles' contributions correctly
      const auto weights = random_array(ls, 0.5, 1.5, 4);
      fused_tape.backward(sum(yf * fused_tape.constant(weights)));
      composed_tape.backward(sum(yc * composed_tape.constant(weights)));
      require_close(lf.grad(), lc.grad(), 1e-13);
      if (x_needs_grad) require_close(xf.grad(), xc.grad(), 1e-12);
    }
  }
}

TEST_CASE("log_bernoulli: gradients match finite differences; float agrees with double", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return log_bernoulli(v[0], v[1]); },
                   {random_array({3, 5}, 0.0, 1.0, 5), random_array({2, 3, 5}, -4.0, 4.0, 6)});
  Tape<float> tf;
  Tape<double> td;
  const auto lv = random_array({7, 33}, -10.0, 10.0, 7);
  const auto xv = binary_targets({7, 33});
  const auto yf = log_bernoulli(tf.constant(xt::xarray<float>(xv)), tf.constant(xt::xarray<float>(lv)));
  const auto yd = log_bernoulli(td.constant(xv), td.constant(lv));
  CHECK(xt::allclose(xt::xarray<double>(yf.value()), yd.value(), 1e-5, 1e-5));
}

TEST_CASE("log_bernoulli: incompatible shapes are refused, naming both", "[ops]") {
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>(xt::zeros<double>({3, 4})));
  const auto l = tape.constant(xt::xarray<double>(xt::zeros<double>({3, 5})));
  CHECK_THROWS_AS(log_bernoulli(x, l), ShapeError);
  CHECK_THROWS_WITH(log_bernoulli(x, l), Catch::Matchers::Contains("log_bernoulli") &&
                                             Catch::Matchers::Contains("[3, 4]") && Catch::Matchers::Contains("[3, 5]"));
}
