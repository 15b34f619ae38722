#include "support/unary_op_checks.hpp"

#include <cmath>
#include <numbers>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("sin: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "sin", [](const auto& x) { return vaelib::sin(x); }, [](auto v) { return std::sin(v); }, -7.0, 7.0, 11);
}

TEST_CASE("sin: closed-form values and the gradient cos(x)", "[ops]") {
  constexpr double pi = std::numbers::pi;
  Tape<double> tape;
  require_close(sin(tape.constant(xt::xarray<double>{0.0, pi / 6, pi / 2, -pi / 2})).value(),
                xt::xarray<double>{0.0, 0.5, 1.0, -1.0}, 1e-15);
  const auto x = tape.variable(xt::xarray<double>{0.0, pi / 3, pi});
  tape.backward(sum(sin(x)));
  require_close(x.grad(), xt::xarray<double>{1.0, 0.5, -1.0}, 1e-15);
}
