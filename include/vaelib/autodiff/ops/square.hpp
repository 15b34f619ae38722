#pragma once
// square: elementwise.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = x^2
/// backward: dx += 2 x dy
template <class T>
Var<T> square(const Var<T>& x) {
  return detail::unary_op(
      "square", x, [](const auto& x) { return x * x; },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return 2 * x * dy;
      });
}

}  // namespace vaelib
