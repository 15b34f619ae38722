#pragma once
// where: pick from a where a condition holds, else from b (all three broadcast together).

#include "vaelib/autodiff/detail/elementwise.hpp"

namespace vaelib {

/// forward:  y = cond != 0 ? a : b         (cond is read as a mask; it gets no gradient)
/// backward: da += dy where cond != 0;  db += dy where cond == 0  (each summed to its shape)
template <class T>
Var<T> where(const Var<T>& cond, const Var<T>& a, const Var<T>& b) {
  Tape<T>& tape = a.tape();
  tape.check_handle("where", cond);
  tape.check_handle("where", a);
  tape.check_handle("where", b);
  const Shape out_shape = broadcast_shapes("where", cond.shape(), broadcast_shapes("where", a.shape(), b.shape()));
  const Var<T> y = tape.make_node("where", out_shape, {cond, a, b});
  {
    const auto vc = detail::shaped(cond.data(), cond.shape());
    const auto va = detail::shaped(a.data(), a.shape());
    const auto vb = detail::shaped(b.data(), b.shape());
    xt::noalias(detail::shaped(tape.value_ptr(y), out_shape)) = xt::where(xt::not_equal(vc, T(0)), va, vb);
  }
  tape.set_backward(y, [cond, a, b](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& nc = t.node(cond);
    const auto vc = detail::shaped(static_cast<const T*>(nc.value), nc.shape);
    const auto vg = detail::shaped(static_cast<const T*>(self.grad), self.shape);
    const auto zero = T(0);
    if (t.node(a).requires_grad)
      detail::write_grad_summed_to_shape(t, self, a, xt::where(xt::not_equal(vc, zero), vg, zero));
    if (t.node(b).requires_grad)
      detail::write_grad_summed_to_shape(t, self, b, xt::where(xt::not_equal(vc, zero), zero, vg));
  });
  return y;
}

}  // namespace vaelib
