#pragma once
// log: elementwise. Defined for x > 0 (log(0) = -inf, negative x gives NaN, as in NumPy).

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = log(x)
/// backward: dx += dy / x
template <class T>
Var<T> log(const Var<T>& x) {
  return detail::unary_op(
      "log", x, [](const auto& x) { return xt::log(x); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return dy / x;
      });
}

}  // namespace vaelib
