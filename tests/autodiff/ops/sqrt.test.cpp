#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("sqrt: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "sqrt", [](const auto& x) { return vaelib::sqrt(x); }, [](auto v) { return std::sqrt(v); }, 0.5, 3.0, 1);
}

TEST_CASE("sqrt: closed-form values and gradient", "[ops]") {
  Tape<double> tape;
  require_close(sqrt(tape.constant(xt::xarray<double>{0.0, 1.0, 4.0, 0.25, 2.0})).value(),
                xt::xarray<double>{0.0, 1.0, 2.0, 0.5, std::sqrt(2.0)});
  const auto x = tape.variable(xt::xarray<double>{1.0, 4.0, 0.25});
  tape.backward(sum(sqrt(x)));
  require_close(x.grad(), xt::xarray<double>{0.5, 0.25, 1.0});
}
