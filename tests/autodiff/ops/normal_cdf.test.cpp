#include <cmath>
#include <numbers>

#include "reference/ops_reference.hpp"
#include "support/unary_op_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {
double normal_cdf_by_erf(double x) { return 0.5 * (1 + std::erf(x / std::numbers::sqrt2)); }
}  // namespace

TEST_CASE("normal_cdf: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "normal_cdf", [](const auto& x) { return vaelib::normal_cdf(x); },
      [](auto v) { return static_cast<decltype(v)>(normal_cdf_by_erf(static_cast<double>(v))); }, -4.0, 4.0, 51);
}

TEST_CASE("normal_cdf: value and derivative against mpmath (left tail to 1e-300), double and float", "[ops]") {
  const auto op = [](const auto& x) { return vaelib::normal_cdf(x); };
  ops_reference::check_against_reference<double>(op, ops_reference::normal_cdf_cases);
  ops_reference::check_against_reference<float>(op, ops_reference::normal_cdf_cases);
}

TEST_CASE("normal_cdf: Phi(0) = 1/2, Phi(x) + Phi(-x) = 1, limits at +-inf", "[ops]") {
  Tape<double> tape;
  const double inf = std::numeric_limits<double>::infinity();
  require_close(normal_cdf(tape.constant(xt::xarray<double>{0.0, -inf, inf})).value(),
                xt::xarray<double>{0.5, 0.0, 1.0}, 0.0);
  const auto x = random_array({20}, -6, 6, 52);
  const auto both = normal_cdf(tape.constant(x)) + normal_cdf(tape.constant(xt::xarray<double>(-x)));
  require_close(both.value(), xt::xarray<double>(xt::ones<double>({20})), 1e-15);
}
