#pragma once
// cos: elementwise.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = cos(x)
/// backward: dx += -sin(x) dy
template <class T>
Var<T> cos(const Var<T>& x) {
  return detail::unary_op(
      "cos", x, [](const auto& x) { return xt::cos(x); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)y;
        return -xt::sin(x) * dy;
      });
}

}  // namespace vaelib
