#pragma once
// sigmoid: elementwise. Saturates to exactly 0 or 1 without NaN.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = 1 / (1 + exp(-x))
/// backward: dx += y (1 - y) dy
template <class T>
Var<T> sigmoid(const Var<T>& x) {
  return detail::unary_op(
      "sigmoid", x, [](const auto& x) { return 1 / (1 + xt::exp(-x)); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return y * (1 - y) * dy;
      });
}

}  // namespace vaelib
