#pragma once
// sin: elementwise (periodic models, von Mises-style angles).

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = sin(x)
/// backward: dx += cos(x) dy
template <class T>
Var<T> sin(const Var<T>& x) {
  return detail::unary_op(
      "sin", x, [](const auto& x) { return xt::sin(x); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)y;
        return xt::cos(x) * dy;
      });
}

}  // namespace vaelib
