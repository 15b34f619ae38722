#pragma once
// The machinery shared by elementwise ops, so that each op's header states only its forward
// and backward formulas. Formulas are generic lambdas over xtensor expressions, evaluated
// straight into the destination buffer (xt::noalias) and vectorised by xsimd.
//
// A formula lambda must take its arguments by `const auto&` and return an expression built
// from them: the adaptors it receives live until the end of the assignment, no longer.

#include <array>
#include <cstddef>
#include <utility>

#include "vaelib/autodiff/detail/strided.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/detail/parallel.hpp"
#include "vaelib/detail/xtensor.hpp"

namespace vaelib::detail {

/// A rank-1 xtensor adaptor over n elements (no copy, no allocation).
template <class T>
auto flat(T* p, std::size_t n) {
  return xt::adapt(p, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
}

/// An adaptor over a contiguous row-major buffer of `shape` (no copy).
template <class T>
auto shaped(T* p, const Shape& shape) {
  return xt::adapt(p, shape_size(shape), xt::no_ownership(), shape);
}

/// Evaluates formula(flat views of the inputs over a range) into dst over [0, n), split
/// over the BLAS's threads when n is large (each range is an independent assignment).
/// `accumulate` adds instead of assigning.
template <class T, class Formula, class... In>
void assign_flat(T* dst, std::size_t n, bool accumulate, const Formula& formula, const In*... in) {
  parallel_for(n, parallel_grain, [&](std::size_t begin, std::size_t end) {
    auto out = flat(dst + begin, end - begin);
    if (accumulate)
      xt::noalias(out) += formula(flat(in + begin, end - begin)...);
    else
      xt::noalias(out) = formula(flat(in + begin, end - begin)...);
  });
}

/// An operand of a flat elementwise pass: `data` holds the pass's n elements, or, when
/// `repeated`, one value that stands for all n (a broadcast scalar such as the 0.5 of
/// `0.5 * x`).
template <class T>
struct FlatOperand {
  const T* data;
  bool repeated = false;
};

/// assign_flat over operands that may be repeated scalars. A repeated operand reads from a
/// block filled with its value, so the formula sees the same flat views as assign_flat's
/// (no strided broadcast loop, and no further template instances of the formula).
template <class T, class Formula, std::size_t N>
void assign_flat(T* dst, std::size_t n, bool accumulate, const Formula& formula, const std::array<FlatOperand<T>, N>& op) {
  const auto run = [&]<std::size_t... I>(std::index_sequence<I...>) {
    if (!(op[I].repeated || ...)) return assign_flat(dst, n, accumulate, formula, op[I].data...);
    constexpr std::size_t block = 512;
    alignas(64) T values[N][block];
    for (std::size_t k = 0; k < N; ++k)  // no pass reads more than min(block, n) of them
      if (op[k].repeated) std::fill_n(values[k], std::min(block, n), *op[k].data);
    parallel_for(n, parallel_grain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t from = begin; from < end; from += block) {
        const std::size_t len = std::min(block, end - from);
        auto out = flat(dst + from, len);
        if (accumulate)
          xt::noalias(out) += formula(flat(op[I].repeated ? &values[I][0] : op[I].data + from, len)...);
        else
          xt::noalias(out) = formula(flat(op[I].repeated ? &values[I][0] : op[I].data + from, len)...);
      }
    });
  };
  run(std::make_index_sequence<N>{});
}

/// Writes formula(inputs) into a gradient target: assigns on the first write, adds after.
template <class T, class Formula, class... In>
void write_grad(GradTarget<T> target, std::size_t n, const Formula& formula, const In*... in) {
  assign_flat(target.data, n, target.accumulate, formula, in...);
}

/// y = forward(x); dx += backward(x, y, dy). Used by every unary elementwise op.
template <class T, class Forward, class Backward>
Var<T> unary_op(const char* name, const Var<T>& x, Forward forward, Backward backward) {
  Tape<T>& tape = x.tape();
  tape.check_handle(name, x);
  const Var<T> y = tape.make_node(name, x.shape(), {x});
  assign_flat(tape.value_ptr(y), tape.node(y).size, false, forward, x.data());
  tape.set_backward(y, [x, backward](Tape<T>& t, TapeRecord<T>& self) {
    write_grad(t.grad_target(x), self.size, backward, static_cast<const T*>(t.value_ptr(x)),
               static_cast<const T*>(self.value), static_cast<const T*>(self.grad));
  });
  return y;
}

/// Adds `contribution`, an expression of the output node's shape, into the gradient of
/// `target`, summed over the axes along which `target` was broadcast to that shape. When a
/// sum is needed the contribution goes through the output node's scratch buffer (kept
/// across steps). The caller keeps the adaptors inside `contribution` alive.
template <class T, class E>
void write_grad_summed_to_shape(Tape<T>& tape, TapeRecord<T>& self, const Var<T>& target, const E& contribution) {
  const Shape& target_shape = tape.node(target).shape;
  if (target_shape == self.shape) {
    const GradTarget<T> g = tape.grad_target(target);
    auto dst = shaped(g.data, self.shape);
    if (g.accumulate)
      xt::noalias(dst) += contribution;
    else
      xt::noalias(dst) = contribution;
    return;
  }
  T* tmp = self.scratch.ensure(self.size);
  xt::noalias(shaped(tmp, self.shape)) = contribution;
  const GradTarget<T> g = tape.grad_target(target);
  reduce_sum_into(g.data, target_shape, static_cast<const T*>(tmp), self.shape, g.accumulate);
}

/// An operand of a binary op's flat pass over the output's n elements: flat when it has all
/// n elements (its shape is the output's, up to leading 1s: the same row-major layout) or
/// repeated when it has one; neither (a broadcast row or column) needs the strided path.
template <class T>
bool flat_operand(const TapeRecord<T>& operand, std::size_t n, FlatOperand<T>& out) {
  out = {static_cast<const T*>(operand.value), operand.size != n};
  return operand.size == n || operand.size == 1;
}

/// Writes grad_formula(a, b, y, dy) into the gradient of `target` (a or b), summing over the
/// axes along which `target` was broadcast. Operands with the output's layout or a single
/// value read as flat vectors; others broadcast through xtensor, into the output node's
/// scratch buffer when a sum is needed.
template <class T, class Formula>
void binary_grad(Tape<T>& tape, TapeRecord<T>& self, const Var<T>& a, const Var<T>& b, const Var<T>& target,
                 const Formula& formula) {
  const TapeRecord<T>& na = tape.node(a);
  const TapeRecord<T>& nb = tape.node(b);
  FlatOperand<T> fa, fb;
  if (tape.node(target).size == self.size && flat_operand(na, self.size, fa) && flat_operand(nb, self.size, fb)) {
    const GradTarget<T> g = tape.grad_target(target);
    assign_flat(g.data, self.size, g.accumulate, formula,
                std::array<FlatOperand<T>, 4>{fa, fb, FlatOperand<T>{static_cast<const T*>(self.value)},
                                              FlatOperand<T>{static_cast<const T*>(self.grad)}});
    return;
  }
  const auto va = shaped(static_cast<const T*>(na.value), na.shape);
  const auto vb = shaped(static_cast<const T*>(nb.value), nb.shape);
  const auto vy = shaped(static_cast<const T*>(self.value), self.shape);
  const auto vg = shaped(static_cast<const T*>(self.grad), self.shape);
  write_grad_summed_to_shape(tape, self, target, formula(va, vb, vy, vg));
}

/// y = forward(a, b) with NumPy broadcasting; da += sum-to-shape(grad_a(a, b, y, dy)), and
/// likewise for b. Used by every binary elementwise op.
template <class T, class Forward, class GradA, class GradB>
Var<T> binary_op(const char* name, const Var<T>& a, const Var<T>& b, Forward forward, GradA grad_a, GradB grad_b) {
  Tape<T>& tape = a.tape();
  tape.check_handle(name, a);
  tape.check_handle(name, b);
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  Var<T> y;
  if (sa == sb) {
    y = tape.make_node(name, sa, {a, b});
    assign_flat(tape.value_ptr(y), tape.node(y).size, false, forward, a.data(), b.data());
  } else {
    const Shape out_shape = broadcast_shapes(name, sa, sb);
    y = tape.make_node(name, out_shape, {a, b});
    const std::size_t n = tape.node(y).size;
    FlatOperand<T> fa, fb;
    if (flat_operand(tape.node(a), n, fa) && flat_operand(tape.node(b), n, fb)) {
      assign_flat(tape.value_ptr(y), n, false, forward, std::array<FlatOperand<T>, 2>{fa, fb});
    } else {
      const auto va = shaped(a.data(), sa);
      const auto vb = shaped(b.data(), sb);
      xt::noalias(shaped(tape.value_ptr(y), out_shape)) = forward(va, vb);
    }
  }
  tape.set_backward(y, [a, b, grad_a, grad_b](Tape<T>& t, TapeRecord<T>& self) {
    if (t.node(a).requires_grad) binary_grad(t, self, a, b, a, grad_a);
    if (t.node(b).requires_grad) binary_grad(t, self, a, b, b, grad_b);
  });
  return y;
}

/// Turns a scalar operand into a rank-0 constant on `like`'s tape.
template <class T>
Var<T> scalar_like(const Var<T>& like, T value) {
  return like.tape().constant(value);
}

}  // namespace vaelib::detail
