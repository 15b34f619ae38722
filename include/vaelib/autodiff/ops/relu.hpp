#pragma once
// relu: elementwise.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = max(x, 0)
/// backward: dx += dy where x > 0, else 0
template <class T>
Var<T> relu(const Var<T>& x) {
  return detail::unary_op(
      "relu", x, [](const auto& x) { return xt::maximum(x, T(0)); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return xt::where(x > 0, dy, T(0));
      });
}

}  // namespace vaelib
