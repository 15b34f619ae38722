#include "support/unary_op_checks.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("log: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "log", [](const auto& x) { return vaelib::log(x); }, [](auto v) { return std::log(v); }, 0.5, 3.0, 1);
}

TEST_CASE("log: closed-form values and the domain edges", "[ops]") {
  Tape<double> tape;
  const double e = std::exp(1.0);
  require_close(log(tape.constant(xt::xarray<double>{1.0, e, e * e, 0.5})).value(),
                xt::xarray<double>{0.0, 1.0, 2.0, -std::log(2.0)});
  const auto y = log(tape.constant(xt::xarray<double>{0.0, -1.0}));
  CHECK(y.value()(0) == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(y.value()(1)));
  // d log x / dx = 1 / x
  const auto x = tape.variable(xt::xarray<double>{0.5, 2.0, 4.0});
  tape.backward(sum(log(x)));
  require_close(x.grad(), xt::xarray<double>{2.0, 0.5, 0.25});
}
