#pragma once
// log_normal_cdf: log Phi(x), elementwise, finite far into the left tail where Phi underflows
// (log Phi(-1e4) = -5.0e7), and accurate in the right tail where Phi rounds to 1
// (log Phi(10) = -7.6e-24). Computed in double, also for Var<float>.

#include <cmath>
#include <numbers>

#include "vaelib/autodiff/tape.hpp"

namespace vaelib {
namespace detail {

/// Below this, log Phi and phi / Phi come from the asymptotic series (erfc(-x / sqrt 2) would
/// still be representable down to about -37, but the series is exact to rounding here).
inline constexpr double log_normal_cdf_series_below = -30;

/// S(x) = 1 - 1/x^2 + 1*3/x^4 - 1*3*5/x^6 + ..., the factor in Phi(x) = phi(x) S(x) / (-x) of
/// the left tail's asymptotic expansion. For x <= -30 its terms fall below 1e-17 of the sum
/// within nine terms, long before the series starts to diverge (near term x^2 / 2).
inline double normal_tail_series(double x) {
  const double inv_x2 = 1 / (x * x);
  double term = 1;
  double sum = 1;
  for (int k = 1; k < 40 && std::abs(term) > 1e-18; ++k) {
    term *= -(2 * k - 1) * inv_x2;
    sum += term;
  }
  return sum;
}

/// log Phi(x) in double: log(erfc(-x / sqrt 2) / 2) in the middle, log1p(-Phi(-x)) on the
/// right, the asymptotic series -x^2/2 - log(-x) - log(2 pi)/2 + log S(x) below -30.
inline double log_normal_cdf(double x) {
  if (x < log_normal_cdf_series_below) {
    return -0.5 * x * x - std::log(-x) - 0.5 * std::log(2 * std::numbers::pi) + std::log(normal_tail_series(x));
  }
  if (x > 0) return std::log1p(-0.5 * std::erfc(x * (std::numbers::sqrt2 / 2)));
  return std::log(0.5 * std::erfc(-x * (std::numbers::sqrt2 / 2)));
}

/// d log Phi(x) / dx = phi(x) / Phi(x) (the inverse Mills ratio of -x), in double: the ratio of
/// the two directly while both are representable, -x / S(x) below -30 (about -x there).
inline double log_normal_cdf_slope(double x) {
  if (x < log_normal_cdf_series_below) return -x / normal_tail_series(x);
  const double phi = std::exp(-0.5 * x * x) * (0.5 * std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
  return phi / (0.5 * std::erfc(-x * (std::numbers::sqrt2 / 2)));
}

}  // namespace detail

/// forward:  y = log Phi(x)   (-inf at x = -inf, 0 at +inf)
/// backward: dx += phi(x) / Phi(x) dy   (about -x in the left tail, 0 at +inf)
template <class T>
Var<T> log_normal_cdf(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("log_normal_cdf", x);
  const Var<T> y = tape.make_node("log_normal_cdf", x.shape(), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t i = 0, n = tape.node(y).size; i < n; ++i)
    out[i] = static_cast<T>(detail::log_normal_cdf(static_cast<double>(in[i])));
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    const T* xv = t.value_ptr(x);
    for (std::size_t i = 0; i < self.size; ++i) {
      const T contribution = static_cast<T>(detail::log_normal_cdf_slope(static_cast<double>(xv[i]))) * self.grad[i];
      g.data[i] = g.accumulate ? g.data[i] + contribution : contribution;
    }
  });
  return y;
}

}  // namespace vaelib
