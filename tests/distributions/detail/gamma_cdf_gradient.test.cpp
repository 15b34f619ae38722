#include "vaelib/distributions/detail/gamma_cdf_gradient.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "reference/implicit_reparam_reference.inc"

using namespace vaelib;
namespace implicit_reference = vaelib::testing::implicit_reparam_reference;

TEST_CASE("gamma_cdf_gradient: d log x / d alpha of a standard Gamma draw matches mpmath, alpha 1e-3 to 1e6",
          "[distributions]") {
  // quantiles from 1e-12 to 1 - 1e-12 (log x down to -27631) and both sides of the branch switch
  for (const auto& c : implicit_reference::gamma_draw_cases) {
    const double got = vaelib::detail::standard_gamma_log_draw_alpha_derivative(c.log_x, c.alpha);
    const double error = std::abs(got - c.d_log_x) / std::abs(c.d_log_x);
    INFO("alpha " << c.alpha << ", log x " << c.log_x << ": " << got << " vs " << c.d_log_x << " (relative error "
                  << error << ")");
    CHECK(error < 1e-13);
  }
}

TEST_CASE("gamma_cdf_gradient: dP/dalpha of the regularised incomplete gamma matches mpmath", "[distributions]") {
  for (const auto& c : implicit_reference::gamma_draw_cases) {
    if (c.x == 0) continue;
    const double got = vaelib::detail::gamma_cdf_alpha_derivative(c.x, c.alpha);
    INFO("alpha " << c.alpha << ", x " << c.x << ": " << got << " vs " << c.d_cdf);
    CHECK(got <= 0);
    if (std::abs(c.d_cdf) < 1e-290) {  // at the edge of double's range: only its size matters
      CHECK(std::abs(got) < 1e-280);
      continue;
    }
    CHECK(std::abs(got - c.d_cdf) <= 1e-12 * std::abs(c.d_cdf));
  }
}

TEST_CASE(
    "gamma_cdf_gradient: continuous across the switch from series to continued fraction, positive, and "
    "finite for underflowed draws",
    "[distributions]") {
  for (const double alpha : {0.3, 1.0, 4.0, 50.0, 2e4}) {
    const double edge = alpha + std::max(1.0, std::sqrt(alpha));
    const double below =
        vaelib::detail::standard_gamma_log_draw_alpha_derivative(std::log(std::nextafter(edge, 0.0)), alpha);
    const double above = vaelib::detail::standard_gamma_log_draw_alpha_derivative(std::log(edge), alpha);
    INFO("alpha " << alpha << ": " << below << " below the switch, " << above << " at it");
    CHECK(below > 0);
    CHECK(std::abs(below - above) <= 1e-13 * above);
  }
  // A draw far below double's range (alpha = 1e-3): x = 0 exactly, log x finite and the
  // derivative finite; log x = -inf gives +inf (x times it is taken as 0 by the samplers).
  CHECK(std::isfinite(vaelib::detail::standard_gamma_log_draw_alpha_derivative(-5e4, 1e-3)));
  CHECK(vaelib::detail::standard_gamma_log_draw_alpha_derivative(-std::numeric_limits<double>::infinity(), 1e-3) ==
        std::numeric_limits<double>::infinity());
}
