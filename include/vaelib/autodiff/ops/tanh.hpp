#pragma once
// tanh: elementwise.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = tanh(x)
/// backward: dx += (1 - y^2) dy
template <class T>
Var<T> tanh(const Var<T>& x) {
  return detail::unary_op(
      "tanh", x, [](const auto& x) { return xt::tanh(x); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return (1 - y * y) * dy;
      });
}

}  // namespace vaelib
