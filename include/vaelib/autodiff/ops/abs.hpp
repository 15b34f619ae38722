#pragma once
// abs: elementwise.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = |x|
/// backward: dx += sign(x) dy   (0 at x = 0)
template <class T>
Var<T> abs(const Var<T>& x) {
  return detail::unary_op(
      "abs", x, [](const auto& x) { return xt::abs(x); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return xt::sign(x) * dy;
      });
}

}  // namespace vaelib
