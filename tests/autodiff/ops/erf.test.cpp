#include <cmath>

#include "reference/ops_reference.hpp"
#include "support/unary_op_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("erf: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "erf", [](const auto& x) { return vaelib::erf(x); }, [](auto v) { return std::erf(v); }, -3.0, 3.0, 31);
}

TEST_CASE("erf: value and derivative against mpmath, double and float", "[ops]") {
  const auto op = [](const auto& x) { return vaelib::erf(x); };
  ops_reference::check_against_reference<double>(op, ops_reference::erf_cases);
  ops_reference::check_against_reference<float>(op, ops_reference::erf_cases);
}

TEST_CASE("erf: odd, saturates at +-1 with a zero gradient", "[ops]") {
  Tape<double> tape;
  const double inf = std::numeric_limits<double>::infinity();
  const auto x = tape.variable(xt::xarray<double>{-inf, -30.0, 30.0, inf});
  const auto y = erf(x);
  require_close(y.value(), xt::xarray<double>{-1.0, -1.0, 1.0, 1.0}, 0.0);
  tape.backward(sum(y));
  require_close(x.grad(), xt::xarray<double>{0.0, 0.0, 0.0, 0.0}, 0.0);
}
