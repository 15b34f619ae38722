#pragma once
// log_diff_exp: log(exp(a) - exp(b)) for a >= b, elementwise with NumPy broadcasting, without
// forming exp(a) or exp(b) (which overflow or underflow) and without cancellation when b is
// close to a. The log of a difference of CDFs (interval-censored data, truncated or discretised
// distributions) is written this way.
//
// Values: a == b gives -inf (the difference is 0); b = -inf gives a; a < b gives NaN (the
// logarithm of a negative number), as does a = b = +inf. The gradient at a == b is +inf for a
// and -inf for b.

#include <limits>
#include <numbers>

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = log(exp a - exp b) = a + log(1 - exp(-(a - b))), with
///           log(1 - exp(-d)) = log(-expm1(-d)) for d < log 2 (no cancellation near d = 0)
///           and log1p(-exp(-d)) above (no loss where exp(-d) is small); y = a where b = -inf
/// backward: da += dy / (1 - exp(b - a)) = dy / (0 - expm1(b - a)),
///           db += -dy exp(b - a) / (0 - expm1(b - a))   (da = dy, db = 0 where b = -inf)
template <class T>
Var<T> log_diff_exp(const Var<T>& a, const Var<T>& b) {
  // Each formula repeats a - b: an xtensor expression must not refer to a local of the lambda.
  return detail::binary_op(
      "log_diff_exp", a, b,
      [](const auto& a, const auto& b) {
        return xt::where(
            xt::equal(b, -std::numeric_limits<T>::infinity()), a,
            a + xt::where(a - b < T(std::numbers::ln2), xt::log(-xt::expm1(b - a)), xt::log1p(-xt::exp(b - a))));
      },
      // 1 - exp(b - a) as 0 - expm1(b - a): +0, never -0, at a == b (whatever sign of zero the
      // SIMD expm1 returns there), so the gradients are +inf and -inf as documented.
      [](const auto& a, const auto& b, const auto& y, const auto& dy) {
        (void)y;
        return xt::where(xt::equal(b, -std::numeric_limits<T>::infinity()), dy, dy / (T(0) - xt::expm1(b - a)));
      },
      [](const auto& a, const auto& b, const auto& y, const auto& dy) {
        (void)y;
        return xt::where(xt::equal(b, -std::numeric_limits<T>::infinity()), T(0) * dy,
                         -dy * xt::exp(b - a) / (T(0) - xt::expm1(b - a)));
      });
}

}  // namespace vaelib
