#include "support/unary_op_checks.hpp"

#include <cmath>
#include <numbers>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("cos: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "cos", [](const auto& x) { return vaelib::cos(x); }, [](auto v) { return std::cos(v); }, -7.0, 7.0, 21);
}

TEST_CASE("cos: closed-form values and the gradient -sin(x)", "[ops]") {
  constexpr double pi = std::numbers::pi;
  Tape<double> tape;
  require_close(cos(tape.constant(xt::xarray<double>{0.0, pi / 3, pi, -pi / 3})).value(),
                xt::xarray<double>{1.0, 0.5, -1.0, 0.5}, 1e-15);
  const auto x = tape.variable(xt::xarray<double>{0.0, pi / 6, pi / 2});
  tape.backward(sum(cos(x)));
  require_close(x.grad(), xt::xarray<double>{0.0, -0.5, -1.0}, 1e-15);
}
