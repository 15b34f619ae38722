#pragma once
// softplus: elementwise. The stable form: no overflow for large |x|.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))
/// backward: dx += sigmoid(x) dy
template <class T>
Var<T> softplus(const Var<T>& x) {
  return detail::unary_op(
      "softplus", x, [](const auto& x) { return xt::maximum(x, T(0)) + xt::log1p(xt::exp(-xt::abs(x))); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return dy / (1 + xt::exp(-x));
      });
}

}  // namespace vaelib
