#pragma once
// digamma: elementwise psi(x) = d/dx log|Gamma(x)| (the derivative of lgamma), and trigamma
// psi'(x) as a scalar function. Used by the closed-form entropies of Gamma and Beta, which
// stay differentiable in their parameters.

#include <cmath>
#include <limits>
#include <numbers>

#include "vaelib/autodiff/ops/lgamma.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {
namespace detail {

/// psi'(x) = sum_{k >= 0} 1 / (x + k)^2, in double. For x < 10 the recurrence psi'(x) =
/// psi'(x + 1) + 1/x^2 shifts x to at least 10, where the asymptotic series
///   psi'(x) ~ 1/x + 1/(2x^2) + sum_{n=1..7} B_{2n} / x^{2n+1}
/// is accurate to ~1e-16 relative (its next term, 3617 / (510 x^17), is 7e-17 at x = 10).
/// Negative x use the reflection psi'(x) = pi^2 / sin^2(pi x) - psi'(1 - x). NaN at the
/// poles x = 0, -1, -2, ... and for NaN or -inf; 0 for +inf.
inline double trigamma(double x) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(x) || x == -inf) return nan;
  if (x == inf) return 0;
  double result = 0;
  double sign = 1;
  if (x <= 0) {
    const double r = x - std::nearbyint(x);  // sin^2(pi x) has period 1
    if (r == 0) return nan;
    const double s = std::sin(std::numbers::pi * r);
    result = std::numbers::pi * std::numbers::pi / (s * s);
    sign = -1;
    x = 1 - x;
  }
  double shifted = 0;
  for (; x < 10; x += 1) shifted += 1 / (x * x);
  const double inv = 1 / x;
  const double inv2 = inv * inv;
  const double series =
      inv +
      inv2 * (0.5 +
              inv * (1.0 / 6 -
                     inv2 * (1.0 / 30 -
                             inv2 * (1.0 / 42 -
                                     inv2 * (1.0 / 30 - inv2 * (5.0 / 66 - inv2 * (691.0 / 2730 - inv2 * 7.0 / 6)))))));
  return result + sign * (shifted + series);
}

}  // namespace detail

/// forward:  y = digamma(x) = psi(x)   (NaN at x = 0, -1, -2, ...)
/// backward: dx += trigamma(x) dy
template <class T>
Var<T> digamma(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("digamma", x);
  const Var<T> y = tape.make_node("digamma", x.shape(), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t i = 0, n = tape.node(y).size; i < n; ++i)
    out[i] = static_cast<T>(detail::digamma(static_cast<double>(in[i])));
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    const T* xv = t.value_ptr(x);
    for (std::size_t i = 0; i < self.size; ++i) {
      const T contribution = static_cast<T>(detail::trigamma(static_cast<double>(xv[i]))) * self.grad[i];
      g.data[i] = g.accumulate ? g.data[i] + contribution : contribution;
    }
  });
  return y;
}

}  // namespace vaelib
