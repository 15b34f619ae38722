#pragma once
// lgamma: elementwise log|Gamma(x)|, and digamma psi(x) = d/dx log|Gamma(x)| as a scalar
// function (the op of the same name is in digamma.hpp). Meant for x > 0 (log-densities of
// Gamma, Beta, Poisson); for negative non-integers both follow the usual definitions, and at
// the poles x = 0, -1, -2, ... lgamma is +inf and digamma NaN.

#include <cmath>
#include <limits>
#include <numbers>

#include "vaelib/autodiff/tape.hpp"

namespace vaelib {
namespace detail {

/// psi(x) = Gamma'(x) / Gamma(x), in double. For x < 10 the recurrence psi(x) = psi(x + 1)
/// - 1/x shifts x to at least 10, where the asymptotic series
///   psi(x) ~ log x - 1/(2x) - sum_{n=1..7} B_{2n} / (2n x^{2n})
/// is accurate to ~1e-16 (its next term, 3617 / (8160 x^16), is 4.4e-17 at x = 10). Negative
/// x use the reflection psi(x) = psi(1 - x) - pi / tan(pi x), with tan evaluated on x minus
/// its nearest integer (exact) so that large |x| keep their accuracy. NaN at the poles
/// x = 0, -1, -2, ... and for NaN or -inf; +inf for +inf.
inline double digamma(double x) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(x) || x == -inf) return nan;
  if (x == inf) return inf;
  double result = 0;
  if (x <= 0) {
    const double r = x - std::nearbyint(x);  // tan(pi x) has period 1
    if (r == 0) return nan;                  // a pole
    result = -std::numbers::pi / std::tan(std::numbers::pi * r);
    x = 1 - x;
  }
  for (; x < 10; x += 1) result -= 1 / x;
  const double inv2 = 1 / (x * x);
  const double series =
      inv2 *
      (1.0 / 12 -
       inv2 * (1.0 / 120 -
               inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12))))));
  return result + std::log(x) - 0.5 / x - series;
}

}  // namespace detail

/// forward:  y = log|Gamma(x)|   (std::lgamma; +inf at x = 0, -1, -2, ...)
/// backward: dx += digamma(x) dy
template <class T>
Var<T> lgamma(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("lgamma", x);
  const Var<T> y = tape.make_node("lgamma", x.shape(), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t i = 0, n = tape.node(y).size; i < n; ++i) out[i] = std::lgamma(in[i]);
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    const T* xv = t.value_ptr(x);
    for (std::size_t i = 0; i < self.size; ++i) {
      const T contribution = static_cast<T>(detail::digamma(static_cast<double>(xv[i]))) * self.grad[i];
      g.data[i] = g.accumulate ? g.data[i] + contribution : contribution;
    }
  });
  return y;
}

}  // namespace vaelib
