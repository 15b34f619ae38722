#pragma once
// The scalar pieces the closed-form KL divergences share, in double and free of the
// cancellations that the textbook forms suffer at the extremes:
//   expm1_minus_identity(x)  = e^x - 1 - x            (the Gaussian and exponential-family
//                                                       "ratio" term, never exp of a difference
//                                                       minus the difference)
//   log1p_minus_identity(t)  = t - log(1 + t)
//   log1p_bregman(t)         = (1 + t) log(1 + t) - t
//   log_ratio(x, y)          = log(x / y), through log1p when x and y are close
//   lgamma_bregman(x2, x1)   = lgamma(x2) - lgamma(x1) - (x2 - x1) digamma(x1) >= 0, with
//                              Stirling's series when both are large, where the lgammas of
//                              size x log x would cancel to a result of size (x2 - x1)^2 / x

#include <cmath>
#include <limits>

#include "vaelib/autodiff/ops/digamma.hpp"
#include "vaelib/autodiff/ops/lgamma.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"

namespace vaelib::detail {

/// e^x - 1 - x (>= 0): its Taylor series x^2/2! + x^3/3! + ... for |x| < 1/2, where
/// expm1(x) - x would lose the leading digits; +inf for x = +inf, +inf for x = -inf.
inline double expm1_minus_identity(double x) {
  if (std::abs(x) < 0.5) {
    double term = x * x / 2;
    double sum = term;
    for (int n = 3; n < 40 && std::abs(term) > 1e-18 * sum; ++n) {
      term *= x / n;
      sum += term;
    }
    return sum;
  }
  if (x == std::numeric_limits<double>::infinity()) return x;
  return std::expm1(x) - x;
}

/// t - log(1 + t) (>= 0) for t > -1: series t^2/2 - t^3/3 + ... for |t| < 1/4.
inline double log1p_minus_identity(double t) {
  if (std::abs(t) < 0.25) {
    double power = t * t;
    double sum = 0;
    for (int n = 2; n < 60; ++n) {
      const double term = power / n;
      sum += (n % 2 == 0) ? term : -term;
      if (std::abs(term) <= 1e-18 * std::abs(sum)) break;
      power *= t;
    }
    return sum;
  }
  return t - std::log1p(t);
}

/// (1 + t) log(1 + t) - t (>= 0) for t >= -1: series t^2/2 - t^3/6 + t^4/12 - ...
/// (the n-th term (-1)^n t^n / (n (n - 1))) for |t| < 1/4.
inline double log1p_bregman(double t) {
  if (std::abs(t) < 0.25) {
    double power = t * t;
    double sum = 0;
    for (int n = 2; n < 60; ++n) {
      const double term = power / (n * (n - 1.0));
      sum += (n % 2 == 0) ? term : -term;
      if (std::abs(term) <= 1e-18 * std::abs(sum)) break;
      power *= t;
    }
    return sum;
  }
  if (t == -1) return 1;  // the limit of (1 + t) log(1 + t)
  return (1 + t) * std::log1p(t) - t;
}

/// log(x / y) for x, y > 0: log1p of the relative difference when the ratio is near 1 (the
/// difference of two logs would keep only its absolute accuracy), else log x - log y (the
/// ratio itself may overflow or underflow).
inline double log_ratio(double x, double y) {
  const double r = x / y;
  if (r > 0.5 && r < 2) return std::log1p((x - y) / y);
  return std::log(x) - std::log(y);
}

/// (1 + t)^(-n) - 1 + n t (>= 0) for t > -1: the Bregman divergence of x^(-n) over x^(-n);
/// its binomial series sum_{j >= 2} C(-n, j) t^j for |t| < 0.1.
inline double inverse_power_bregman(int n, double t) {
  if (std::abs(t) < 0.1) {
    double term = -n * t;  // the j = 1 term, not part of the sum
    double sum = 0;
    for (int j = 2; j < 80; ++j) {
      term *= -(n + j - 1.0) / j * t;
      sum += term;
      if (std::abs(term) <= 1e-18 * std::abs(sum)) break;
    }
    return sum;
  }
  return std::pow(1 + t, -n) - 1 + n * t;
}

/// stirling_correction(x2) - stirling_correction(x1) - (x2 - x1) stirling_correction'(x1) for
/// x1, x2 >= 20, t = (x2 - x1) / x1: term by term of the series c(x) = sum_k c_k x^(1 - 2k),
/// each a multiple of inverse_power_bregman, so that nearby x1, x2 keep full relative accuracy.
inline double stirling_correction_bregman(double x1, double t) {
  constexpr double coefficients[] = {1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188};
  const double inv = 1 / x1;
  double power = inv;  // x1^(1 - 2k)
  double sum = 0;
  for (int k = 1; k <= 5; ++k) {
    sum += coefficients[k - 1] * power * inverse_power_bregman(2 * k - 1, t);
    power *= inv * inv;
  }
  return sum;
}

/// lgamma(x2) - lgamma(x1) - (x2 - x1) digamma(x1) for x1, x2 > 0: the Bregman divergence of
/// lgamma, >= 0, the common part of the Gamma, Beta and Dirichlet KLs. For x1, x2 >= 20,
/// from lgamma(x) = (x - 1/2) log x - x + log(2 pi)/2 + c(x) and digamma(x) = log x - 1/(2x)
/// + c'(x), with t = (x2 - x1) / x1:
///   x1 [(1 + t) log1p(t) - t] + [t - log1p(t)] / 2 + [c(x2) - c(x1) - (x2 - x1) c'(x1)]
/// three nonnegative terms, each without cancellation (nothing of size x log x is formed;
/// relative error ~1e-15 where the plain form loses about log10(x1 / result) digits). Below 20
/// the plain form, whose terms are small (absolute error ~1e-15).
inline double lgamma_bregman(double x2, double x1) {
  if (x1 >= 20 && x2 >= 20) {
    const double t = (x2 - x1) / x1;
    return x1 * log1p_bregman(t) + log1p_minus_identity(t) / 2 + stirling_correction_bregman(x1, t);
  }
  return std::lgamma(x2) - std::lgamma(x1) - (x2 - x1) * digamma(x1);
}

}  // namespace vaelib::detail
