#pragma once
// The standard Gamma's CDF P(alpha, x) (regularised lower incomplete gamma) and its inverse
// in plain double, for tests of the implicit-reparameterisation gradients: written here from
// the textbook series and continued fraction, independently of the library's derivative
// code, to differentiate the quantile x(alpha) = P^{-1}(u; alpha) by finite differences.

#include <algorithm>
#include <cmath>

namespace vaelib::testing {

/// {P(alpha, x), Q(alpha, x) = 1 - P} for alpha > 0, x >= 0: the series of P below
/// alpha + 1, the continued fraction of Q above (modified Lentz), the smaller one computed
/// directly so that both tails keep their relative accuracy.
struct IncompleteGamma {
  double lower, upper;
};
inline IncompleteGamma incomplete_gamma(double alpha, double x) {
  if (x <= 0) return {0, 1};
  const double log_prefactor = alpha * std::log(x) - x - std::lgamma(alpha);
  if (x < alpha + 1) {
    double term = 1 / alpha, sum = term;
    for (int n = 1; n < 100000 && term > 1e-17 * sum; ++n) {
      term *= x / (alpha + n);
      sum += term;
    }
    const double p = sum * std::exp(log_prefactor);
    return {p, 1 - p};
  }
  const double tiny = 1e-300;
  double b = x + 1 - alpha, c = 1 / tiny, d = 1 / b, h = d;
  for (int n = 1; n < 100000; ++n) {
    const double an = -n * (n - alpha);
    b += 2;
    d = an * d + b;
    d = std::abs(d) < tiny ? tiny : d;
    c = b + an / c;
    c = std::abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < 1e-16) break;
  }
  const double q = h * std::exp(log_prefactor);
  return {1 - q, q};
}

/// x with {P, Q}(alpha, x) = level, by bisection in log x to double's resolution; matched
/// through the smaller tail, so that levels near 1 keep their accuracy.
inline double gamma_quantile(double alpha, const IncompleteGamma& level) {
  double lo = -800, hi = std::log(alpha + 40 * std::sqrt(alpha) + 800);
  const bool upper_tail = level.upper < 0.5;
  for (int i = 0; i < 200 && hi - lo > 1e-16 * std::max(1.0, std::abs(lo)); ++i) {
    const double mid = 0.5 * (lo + hi);
    const IncompleteGamma f = incomplete_gamma(alpha, std::exp(mid));
    const bool below = upper_tail ? f.upper > level.upper : f.lower < level.lower;
    (below ? lo : hi) = mid;
  }
  return std::exp(0.5 * (lo + hi));
}

}  // namespace vaelib::testing
