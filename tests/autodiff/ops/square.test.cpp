#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("square: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "square", [](const auto& x) { return vaelib::square(x); }, [](auto v) { return v * v; }, -2.0, 2.0, 1);
}

TEST_CASE("square: closed-form values and gradient", "[ops]") {
  Tape<double> tape;
  require_close(square(tape.constant(xt::xarray<double>{-3.0, 0.0, 0.5, 2.0})).value(),
                xt::xarray<double>{9.0, 0.0, 0.25, 4.0});
  const auto x = tape.variable(xt::xarray<double>{-3.0, 0.0, 0.5, 2.0});
  tape.backward(sum(square(x)));
  require_close(x.grad(), xt::xarray<double>{-6.0, 0.0, 1.0, 4.0});
}
