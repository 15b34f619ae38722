#pragma once
// clamp: elementwise limit to [lo, hi].

#include <string>
#include <type_traits>

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = min(max(x, lo), hi)
/// backward: dx += dy where lo <= x <= hi, else 0 (the gradient passes at the bounds)
template <class T>
Var<T> clamp(const Var<T>& x, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  if (!(lo <= hi)) {
    throw ArgumentError("clamp: lower bound " + std::to_string(lo) + " is above upper bound " + std::to_string(hi));
  }
  return detail::unary_op(
      "clamp", x, [lo, hi](const auto& x) { return xt::clip(x, lo, hi); },
      [lo, hi](const auto& x, const auto&, const auto& dy) { return xt::where(x >= lo && x <= hi, dy, T(0)); });
}

}  // namespace vaelib
