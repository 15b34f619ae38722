#pragma once
// log_sigmoid: elementwise. Stable for large |x|.

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = log sigmoid(x) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|))
/// backward: dx += (1 - sigmoid(x)) dy = sigmoid(-x) dy
template <class T>
Var<T> log_sigmoid(const Var<T>& x) {
  return detail::unary_op(
      "log_sigmoid", x, [](const auto& x) { return xt::minimum(x, T(0)) - xt::log1p(xt::exp(-xt::abs(x))); },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)x;
        (void)y;
        return dy / (1 + xt::exp(x));
      });
}

}  // namespace vaelib
