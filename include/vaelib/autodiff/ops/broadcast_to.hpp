#pragma once
// broadcast_to: expand a tensor to a larger shape by NumPy's rules (a copy).

#include "vaelib/autodiff/detail/strided.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y = x repeated along the axes where x has size 1 (or that x lacks)
/// backward: dx += dy summed over those axes
template <class T>
Var<T> broadcast_to(const Var<T>& x, const Shape& shape) {
  Tape<T>& tape = x.tape();
  tape.check_handle("broadcast_to", x);
  if (!broadcasts_to(x.shape(), shape)) {
    throw ShapeError("broadcast_to: cannot broadcast shape " + to_string(x.shape()) + " to " + to_string(shape) +
                     " (each axis must match or be 1 in the input)");
  }
  const Var<T> y = tape.make_node("broadcast_to", shape, {x});
  detail::expand_into(tape.value_ptr(y), shape, x.data(), x.shape(), false);
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    detail::reduce_sum_into(g.data, t.node(x).shape, static_cast<const T*>(self.grad), self.shape, g.accumulate);
  });
  return y;
}

}  // namespace vaelib
