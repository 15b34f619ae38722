#pragma once
// pow: x raised to a scalar power, or elementwise to a tensor of powers (broadcasting).

#include <type_traits>

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = x^p            (p a scalar)
/// backward: dx += p x^(p-1) dy  (0 for p = 0: x^0 is constant, also at x = 0)
template <class T>
Var<T> pow(const Var<T>& x, std::type_identity_t<T> p) {
  const T q = p == T(0) ? T(0) : p - 1;  // p = 0: 0 * x^0, not 0 * 0^-1 = NaN at x = 0
  return detail::unary_op(
      "pow", x, [p](const auto& x) { return xt::pow(x, p); },
      [p, q](const auto& x, const auto&, const auto& dy) { return p * xt::pow(x, q) * dy; });
}

/// forward:  y = a^b            (elementwise, broadcasting)
/// backward: da += b a^(b-1) dy, taken as 0 where b == 0 (a^0 is constant, also at a = 0);
///           db += y log(a) dy, taken as 0 where a == 0 (the limit for b > 0; a negative base
///           gives NaN, as the math does).
template <class T>
Var<T> pow(const Var<T>& a, const Var<T>& b) {
  return detail::binary_op(
      "pow", a, b, [](const auto& a, const auto& b) { return xt::pow(a, b); },
      [](const auto& a, const auto& b, const auto&, const auto& dy) {
        return xt::where(xt::equal(b, T(0)), T(0), b * xt::pow(a, b - 1) * dy);
      },
      [](const auto& a, const auto&, const auto& y, const auto& dy) {
        return xt::where(xt::equal(a, T(0)), T(0), y * xt::log(a) * dy);
      });
}

}  // namespace vaelib
