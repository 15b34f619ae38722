#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("log1p: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "log1p", [](const auto& x) { return vaelib::log1p(x); }, [](auto v) { return std::log1p(v); }, -0.5, 3.0, 1);
}

TEST_CASE("log1p: accurate for tiny x, and closed-form gradient", "[ops]") {
  Tape<double> tape;
  const auto y = log1p(tape.constant(xt::xarray<double>{1e-12, -1e-12, 0.0, std::exp(1.0) - 1.0}));
  require_close(y.value(), xt::xarray<double>{1e-12 - 0.5e-24, -1e-12 - 0.5e-24, 0.0, 1.0}, 1e-15);
  // log(1 + 1e-12) computed naively is off by ~1e-4 relative; log1p is exact to rounding.
  CHECK(std::abs(y.value()(0) / 1e-12 - 1.0) < 1e-12);
  CHECK(std::abs(y.value()(1) / -1e-12 - 1.0) < 1e-12);
  const auto x = tape.variable(xt::xarray<double>{0.0, 1.0, -0.5});
  tape.backward(sum(log1p(x)));
  require_close(x.grad(), xt::xarray<double>{1.0, 0.5, 2.0});
}
