#pragma once
// mul: elementwise with NumPy broadcasting; gradients are summed back to each input's shape.

#include <type_traits>

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = a * b
/// backward: da += dy * b, db += dy * a
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  return detail::binary_op(
      "mul", a, b, [](const auto& a, const auto& b) { return a * b; },
      [](const auto& a, const auto& b, const auto& y, const auto& dy) {
        (void)a, (void)b, (void)y;
        return dy * b;
      },
      [](const auto& a, const auto& b, const auto& y, const auto& dy) {
        (void)a, (void)b, (void)y;
        return dy * a;
      });
}

template <class T>
Var<T> operator*(const Var<T>& a, const Var<T>& b) {
  return mul(a, b);
}
template <class T>
Var<T> operator*(const Var<T>& a, std::type_identity_t<T> b) {
  return mul(a, detail::scalar_like(a, b));
}
template <class T>
Var<T> operator*(std::type_identity_t<T> a, const Var<T>& b) {
  return mul(detail::scalar_like(b, a), b);
}

}  // namespace vaelib
