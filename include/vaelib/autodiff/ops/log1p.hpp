#pragma once
// log1p: elementwise. Accurate for small |x|.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = log(1 + x)
/// backward: dx += dy / (1 + x)
template <class T>
Var<T> log1p(const Var<T>& x) {
  return detail::unary_op(
      "log1p", x, [](const auto& x) { return xt::log1p(x); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return dy / (1 + x);
      });
}

}  // namespace vaelib
