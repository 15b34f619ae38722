#pragma once
// detach: the same value, cut off from the gradient.

#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y = x (no copy: y reads x's buffer)
/// backward: none; nothing flows from y back to x
template <class T>
Var<T> detach(const Var<T>& x) {
  return x.tape().make_alias("detach", x, x.shape(), /*differentiable=*/false);
}

}  // namespace vaelib
