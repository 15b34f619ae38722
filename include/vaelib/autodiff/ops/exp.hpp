#pragma once
// exp: elementwise.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = exp(x)
/// backward: dx += dy * y
template <class T>
Var<T> exp(const Var<T>& x) {
  return detail::unary_op(
      "exp", x, [](const auto& x) { return xt::exp(x); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return dy * y;
      });
}

}  // namespace vaelib
