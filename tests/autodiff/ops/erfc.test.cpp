#include <cmath>

#include "reference/ops_reference.hpp"
#include "support/unary_op_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("erfc: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "erfc", [](const auto& x) { return vaelib::erfc(x); }, [](auto v) { return std::erfc(v); }, -3.0, 3.0, 41);
}

TEST_CASE("erfc: value and derivative against mpmath (right tail to 1e-296), double and float", "[ops]") {
  const auto op = [](const auto& x) { return vaelib::erfc(x); };
  ops_reference::check_against_reference<double>(op, ops_reference::erfc_cases);
  ops_reference::check_against_reference<float>(op, ops_reference::erfc_cases);
}

TEST_CASE("erfc: keeps its relative accuracy where 1 - erf(x) rounds to 0", "[ops]") {
  Tape<double> tape;
  const auto y = erfc(tape.constant(10.0));
  CHECK(1 - std::erf(10.0) == 0.0);
  CHECK(y.item() == Approx(2.0884875837625448e-45).epsilon(1e-13));
}
