#include <cmath>
#include <numbers>

#include "reference/ops_reference.hpp"
#include "support/unary_op_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("log_normal_cdf: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "log_normal_cdf", [](const auto& x) { return vaelib::log_normal_cdf(x); },
      [](auto v) {
        const double x = static_cast<double>(v);
        return static_cast<decltype(v)>(std::log(0.5 * (1 + std::erf(x / std::numbers::sqrt2))));
      },
      -4.0, 4.0, 61);
}

TEST_CASE("log_normal_cdf: value and derivative against mpmath, from -1e6 to 30, double and float", "[ops]") {
  const auto op = [](const auto& x) { return vaelib::log_normal_cdf(x); };
  ops_reference::check_against_reference<double>(op, ops_reference::log_normal_cdf_cases);
  ops_reference::check_against_reference<float>(op, ops_reference::log_normal_cdf_cases);
}

TEST_CASE("log_normal_cdf: finite-difference gradients in the tails and across the series switch", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return log_normal_cdf(v[0]); },
                   {xt::xarray<double>{-30.2, -30.01, -29.99, -29.5, -12.0, -3.0}});
  require_gradient([](Tape<double>&, const Vars& v) { return log_normal_cdf(v[0]); },
                   {xt::xarray<double>{0.3, 2.0, 5.0, 7.5}});
  // The series and erfc agree where they meet (continuity at the switch).
  const double below = detail::log_normal_cdf(std::nextafter(-30.0, -31.0));
  CHECK(std::abs(below - std::log(0.5 * std::erfc(30.0 / std::numbers::sqrt2))) < 1e-12 * 455);
}

TEST_CASE("log_normal_cdf: limits at +-inf, NaN in, NaN out", "[ops]") {
  const double inf = std::numeric_limits<double>::infinity();
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{-inf, inf});
  const auto y = log_normal_cdf(x);
  CHECK(y.value()(0) == -inf);
  CHECK(y.value()(1) == 0.0);
  tape.backward(sum(y));
  CHECK(x.grad()(0) == inf);
  CHECK(x.grad()(1) == 0.0);
  CHECK(std::isnan(log_normal_cdf(tape.constant(std::numeric_limits<double>::quiet_NaN())).item()));
  Tape<float> tf;
  CHECK(log_normal_cdf(tf.constant(-1000.0f)).item() == Approx(-500007.82669481218).epsilon(1e-7));
}
