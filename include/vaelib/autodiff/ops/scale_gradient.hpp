#pragma once
// scale_gradient: the identity in the forward pass, a per-row weight on the gradient in the
// backward pass. The doubly reparameterised estimator needs it: each particle's path to the
// proposal's parameters is weighted by its own importance weight, which is only known after
// the model has been evaluated on the particle.

#include <algorithm>
#include <string>

#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y = x
/// backward: dx += dy * scale, with `scale` (shape = a prefix of x's shape) repeated over x's
///           remaining trailing axes.
/// `scale` is read when backward runs, not when y is made: it may be filled in after y has
/// been used (its buffer is written through Tape::value_ptr). It receives no gradient.
template <class T>
Var<T> scale_gradient(const Var<T>& x, const Var<T>& scale) {
  Tape<T>& tape = x.tape();
  tape.check_handle("scale_gradient", x);
  tape.check_handle("scale_gradient", scale);
  const Shape& xs = x.shape();
  const Shape& ss = scale.shape();
  if (ss.size() > xs.size() || !std::equal(ss.begin(), ss.end(), xs.begin())) {
    throw ShapeError("scale_gradient: the scale's shape " + to_string(ss) + " must be a leading part of x's shape " +
                     to_string(xs));
  }
  if (scale.requires_grad()) {
    throw ArgumentError("scale_gradient: the scale must not require a gradient (detach it)");
  }
  const Var<T> y = tape.make_node("scale_gradient", xs, {x, scale});
  std::copy_n(x.data(), x.size(), tape.value_ptr(y));
  tape.set_backward(y, [x, scale](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& s = t.node(scale);
    const std::size_t inner = s.size == 0 ? 0 : self.size / s.size;
    const GradTarget<T> g = t.grad_target(x);
    for (std::size_t r = 0; r < s.size; ++r) {
      const T w = s.value[r];
      const T* dy = self.grad + r * inner;
      T* dx = g.data + r * inner;
      for (std::size_t i = 0; i < inner; ++i) dx[i] = g.accumulate ? dx[i] + w * dy[i] : w * dy[i];
    }
  });
  return y;
}

}  // namespace vaelib
