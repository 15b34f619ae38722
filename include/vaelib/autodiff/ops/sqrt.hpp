#pragma once
// sqrt: elementwise.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = sqrt(x)
/// backward: dx += dy / (2 y)
template <class T>
Var<T> sqrt(const Var<T>& x) {
  return detail::unary_op(
      "sqrt", x, [](const auto& x) { return xt::sqrt(x); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return dy / (2 * y);
      });
}

}  // namespace vaelib
