#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

// A user-written op with a deliberately wrong backward (2x instead of 3x^2): the checker
// must catch it and point at the element.
Var<double> cube_with_wrong_gradient(const Var<double>& x) {
  Tape<double>& tape = x.tape();
  const Var<double> y = tape.make_node("wrong_cube", x.shape(), {x});
  for (std::size_t i = 0; i < x.size(); ++i) tape.value_ptr(y)[i] = x.data()[i] * x.data()[i] * x.data()[i];
  tape.set_backward(y, [x](Tape<double>& t, TapeRecord<double>& self) {
    const GradTarget<double> g = t.grad_target(x);
    for (std::size_t i = 0; i < self.size; ++i) {
      const double contribution = 2 * t.value_ptr(x)[i] * self.grad[i];
      g.data[i] = g.accumulate ? g.data[i] + contribution : contribution;
    }
  });
  return y;
}

}  // namespace

TEST_CASE("check_gradient: passes on a correct composite function", "[grad_check]") {
  const auto a = random_array({3, 4}, -1, 1, 7);
  const auto b = random_array({4}, 0.5, 2, 8);
  const GradCheckResult r = check_gradient(
      [](Tape<double>&, const Vars& v) { return sum(tanh(v[0]) * log(v[1]) + square(v[0])); }, {a, b});
  INFO(r.message);
  CHECK(r.ok);
  CHECK(r.checked == 16);
  CHECK(r.max_abs_error < 1e-8);
  CHECK_THAT(r.message, Contains("passed on 16 elements"));
}

TEST_CASE("check_gradient: catches a wrong backward and names the element", "[grad_check]") {
  const xt::xarray<double> x = {0.5, -1.0, 2.0};
  const GradCheckResult r =
      check_gradient([](Tape<double>&, const Vars& v) { return sum(cube_with_wrong_gradient(v[0])); }, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.worst_input == 0);
  CHECK(r.numeric == Approx(3 * x(r.worst_index) * x(r.worst_index)).epsilon(1e-6));
  CHECK_THAT(r.message, Contains("FAILED") && Contains("worst at input 0"));
}

TEST_CASE("check_gradient: a function whose output shape depends on the input is refused", "[grad_check]") {
  const xt::xarray<double> x = {0.0};
  auto shape_changing = [](Tape<double>& t, const Vars& v) {
    return v[0].data()[0] > 0 ? t.constant(xt::xarray<double>{1.0, 2.0}) * v[0] : v[0] * 1.0;
  };
  REQUIRE_THROWS_WITH(check_gradient(shape_changing, {x}), Contains("output shape changed from [1] to [2]"));
}
