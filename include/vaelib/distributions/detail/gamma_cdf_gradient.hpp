#pragma once
// The derivative of the regularised lower incomplete gamma P(alpha, x) with respect to its
// shape alpha, and the implicit-reparameterisation derivative of a standard Gamma draw built
// on it (Figurnov, Mohamed & Mnih, "Implicit reparameterization gradients", 2018): a draw x
// with P(alpha, x) = u held fixed moves as
//
//   dx/dalpha = -(dP/dalpha)(alpha, x) / p(x; alpha),   p(x; alpha) = x^(alpha-1) e^-x / Gamma(alpha)
//
// Both are computed in double through the relative quantity d log x / d alpha, which needs no
// exponential of a large argument (draws far below double's range, alpha << 1, keep it finite):
//
//   x < alpha + max(1, sqrt(alpha)) (series): P = x^alpha e^-x S / Gamma(alpha + 1), S = sum_n x^n / (alpha+1)_n,
//     d log x / d alpha = (S (digamma(alpha + 1) - log x) - S_alpha) / alpha,
//     S_alpha = -sum_n [x^n / (alpha+1)_n] sum_{k=1..n} 1 / (alpha + k)
//   above (continued fraction): 1 - P = x^alpha e^-x C / Gamma(alpha), C = 1/T with
//     Legendre's fraction T = b_0 + a_1 / (b_1 + a_2 / (b_2 + ...)), b_n = x + 2n + 1 - alpha,
//     a_n = n (alpha - n), differentiated in alpha alongside its recurrences:
//     d log x / d alpha = C (log x - digamma(alpha)) + C_alpha
//
// Both branches add positive terms or nearly so: the series' first term is negative only for
// x above e^digamma(alpha+1) ~ alpha + 1/2, and up to the switch it is at most a few times
// smaller than the second; the continued fraction, whose derivative loses ~1e-13 just above
// alpha + 1 at alpha ~ 1e6, is used only from alpha + sqrt(alpha). With log x - digamma(alpha)
// formed without cancellation (log_minus_digamma), the result keeps ~1e-14 relative accuracy
// from alpha = 1e-3 to 1e6; checked against mpmath (tests/reference/implicit_reparam_reference.py).
// Either branch takes O(sqrt(alpha)) terms near x = alpha (about 9 sqrt(alpha): 90 at
// alpha = 100, 9000 at alpha = 1e6) and a few terms elsewhere.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "vaelib/autodiff/ops/lgamma.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"

namespace vaelib::detail {

/// log x - digamma(alpha) for x = exp(log_x). For alpha >= 10 and x near alpha, where the two
/// terms nearly cancel, as log(x / alpha) (by log1p) plus log(alpha) - digamma(alpha) (by its
/// asymptotic series, the one digamma sums): this keeps ~1e-16 absolute instead of the
/// ~1e-16 log(alpha) of the difference, which near x = alpha = 1e6 would cost 1e-12 relative.
inline double log_minus_digamma(double log_x, double x, double alpha) {
  if (alpha < 10) return log_x - digamma(alpha);
  const double inv2 = 1 / (alpha * alpha);
  const double log_minus_digamma_at_alpha =
      0.5 / alpha +
      inv2 *
          (1.0 / 12 -
           inv2 * (1.0 / 120 -
                   inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12))))));
  const double u = (x - alpha) / alpha;
  const double log_ratio = std::abs(u) < 0.5 ? std::log1p(u) : log_x - std::log(alpha);
  return log_ratio + log_minus_digamma_at_alpha;
}

/// d log x / d alpha for a Gamma(alpha, 1) draw x = exp(log_x) at fixed P(alpha, x), i.e.
/// -(dP/dalpha) / (x p(x; alpha)); positive (a larger shape moves every quantile up). alpha > 0
/// finite; log_x may be -inf (an underflowed draw: the answer is +inf, and x times it is 0).
inline double standard_gamma_log_draw_alpha_derivative(double log_x, double alpha) {
  constexpr double eps = std::numeric_limits<double>::epsilon();
  const double x = std::exp(log_x);
  // A safety cap far above what either branch needs (9 sqrt(alpha) terms near x = alpha).
  const auto max_terms = static_cast<std::size_t>(1000 + 100 * std::sqrt(alpha));
  if (x < alpha + std::max(1.0, std::sqrt(alpha))) {
    double term = 1, sum = 1, harmonic = 0, sum_alpha = 0;
    // terms grow while alpha + n < x and then shrink at least geometrically
    for (std::size_t n = 1; n < max_terms; ++n) {
      const double denominator = alpha + static_cast<double>(n);
      term *= x / denominator;
      harmonic += 1 / denominator;
      sum += term;
      sum_alpha -= term * harmonic;
      // once shrinking, the terms after this one fall by at least `ratio` < 1 each, and their
      // harmonic factor grows by at most 1 / ((alpha + n + 1)(1 - ratio)) over the tail
      const double ratio = x / (denominator + 1);
      if (ratio >= 1) continue;
      const double tail = term * ratio / (1 - ratio);
      if (tail <= eps * sum && tail * (harmonic + 1 / ((denominator + 1) * (1 - ratio))) <= eps * -sum_alpha) break;
    }
    // digamma(alpha + 1) - log x; at large alpha from digamma(alpha + 1) = digamma(alpha) + 1 / alpha
    const double gap = alpha < 10 ? digamma(alpha + 1) - log_x : 1 / alpha - log_minus_digamma(log_x, x, alpha);
    return (sum * gap - sum_alpha) / alpha;
  }
  // Legendre's fraction by its forward recurrences A_n = b_n A_{n-1} + a_n A_{n-2} (and B_n),
  // with their alpha-derivatives dA_n, dB_n; all eight rescaled together each step (the
  // recurrences are linear, so A/B and its derivative are unchanged).
  double a_prev = 1, a_cur = x + 1 - alpha, b_prev = 0, b_cur = 1;
  double da_prev = 0, da_cur = -1, db_prev = 0, db_cur = 0;
  double fraction = a_cur, fraction_alpha = da_cur;  // T and dT/dalpha
  for (std::size_t n = 1; n < max_terms; ++n) {
    const double nd = static_cast<double>(n);
    const double bn = x + 2 * nd + 1 - alpha, an = nd * (alpha - nd);  // d bn = -1, d an = n
    const double a_next = bn * a_cur + an * a_prev;
    const double b_next = bn * b_cur + an * b_prev;
    const double da_next = -a_cur + bn * da_cur + nd * a_prev + an * da_prev;
    const double db_next = -b_cur + bn * db_cur + nd * b_prev + an * db_prev;
    const double scale = 1 / std::max(std::abs(a_next), std::abs(b_next));
    a_prev = a_cur * scale, a_cur = a_next * scale, b_prev = b_cur * scale, b_cur = b_next * scale;
    da_prev = da_cur * scale, da_cur = da_next * scale, db_prev = db_cur * scale, db_cur = db_next * scale;
    const double next = a_cur / b_cur, next_alpha = (da_cur - next * db_cur) / b_cur;  // A/B and its derivative
    const bool done = std::abs(next - fraction) <= eps * std::abs(next) &&
                      std::abs(next_alpha - fraction_alpha) <= eps * std::abs(next_alpha);
    fraction = next, fraction_alpha = next_alpha;
    if (done) break;
  }
  // C = 1/T, C_alpha = -T_alpha / T^2
  return (log_minus_digamma(log_x, x, alpha) - fraction_alpha / fraction) / fraction;
}

/// log(x p(x; alpha)) = alpha log x - x - lgamma(alpha) for the standard Gamma density p, for
/// alpha >= 20 in Stirling's form (the terms of size alpha log alpha cancel exactly, as in
/// gamma_log_density).
inline double standard_gamma_log_x_density(double x, double alpha) {
  constexpr double half_log_2pi = 0.91893853320467274178;
  if (alpha >= 20) {
    const double u = (x - alpha) / alpha;
    return alpha * (std::log1p(u) - u) + 0.5 * std::log(alpha) - half_log_2pi - stirling_correction(alpha);
  }
  return alpha * std::log(x) - x - std::lgamma(alpha);
}

/// dP(alpha, x) / dalpha for the regularised lower incomplete gamma P (the standard Gamma's
/// CDF), x > 0 and alpha > 0 finite: -(d log x / d alpha at fixed P) x p(x; alpha). Negative.
inline double gamma_cdf_alpha_derivative(double x, double alpha) {
  return -standard_gamma_log_draw_alpha_derivative(std::log(x), alpha) *
         std::exp(standard_gamma_log_x_density(x, alpha));
}

}  // namespace vaelib::detail
