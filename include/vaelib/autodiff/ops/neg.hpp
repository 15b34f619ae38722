#pragma once
// neg: elementwise.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = -x
/// backward: dx += -dy
template <class T>
Var<T> neg(const Var<T>& x) {
  return detail::unary_op(
      "neg", x, [](const auto& x) { return -x; },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return -dy;
      });
}

}  // namespace vaelib

namespace vaelib {
template <class T>
Var<T> operator-(const Var<T>& x) {
  return neg(x);
}
}  // namespace vaelib
