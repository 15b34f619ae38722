#pragma once
// The helpers for writing an op, public (docs/adding-an-op.md). vaelib's own elementwise ops
// are written with the same machinery (autodiff/detail/elementwise.hpp).
//
// Formulas are generic lambdas over xtensor expressions: each takes its arguments by
// `const auto&` and returns an expression built from them, which is evaluated straight into
// the destination buffer (xt::noalias, vectorised by xsimd, split over the BLAS's threads
// when large). The adaptors a formula receives live until the end of that assignment, no
// longer: never keep them, and capture nothing but scalars in the lambdas.

#include <cstddef>

#include "vaelib/autodiff/detail/elementwise.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib::ops {

/// A unary elementwise op named `name`: y = forward(x), and in backward
/// dx += backward(x, y, dy). The op checks the handle, records the node, and evaluates both
/// formulas into the node's buffers (no allocation once the tape's buffers are sized).
///
///   ops::unary_elementwise("exp", x, [](const auto& x) { return xt::exp(x); },
///                          [](const auto& x, const auto& y, const auto& dy) { return dy * y; });
template <class T, class Forward, class Backward>
Var<T> unary_elementwise(const char* name, const Var<T>& x, Forward forward, Backward backward) {
  return detail::unary_op(name, x, forward, backward);
}

/// A binary elementwise op named `name` with NumPy broadcasting: y = forward(a, b), and in
/// backward da += grad_a(a, b, y, dy) and db += grad_b(a, b, y, dy), each summed back to its
/// operand's shape over the axes it was broadcast along. A gradient is only evaluated for an
/// operand that needs one. Throws ShapeError naming the op when the shapes do not broadcast.
template <class T, class Forward, class GradA, class GradB>
Var<T> binary_elementwise(const char* name, const Var<T>& a, const Var<T>& b, Forward forward, GradA grad_a,
                          GradB grad_b) {
  return detail::binary_op(name, a, b, forward, grad_a, grad_b);
}

/// In a backward closure: writes formula(in[0..n), ...) into a gradient target from
/// Tape::grad_target, assigning on the sweep's first write and adding after. Every input is
/// a buffer of n elements (self.value, self.grad, t.value_ptr(x), ...).
///
///   ops::write_grad(t.grad_target(x), self.size,
///                   [](const auto& x, const auto& dy) { return 3 * x * x * dy; },
///                   t.value_ptr(x), self.grad);
template <class T, class Formula, class... In>
void write_grad(GradTarget<T> target, std::size_t n, const Formula& formula, const In*... in) {
  detail::write_grad(target, n, formula, static_cast<const T*>(in)...);
}

}  // namespace vaelib::ops
