#pragma once
// matmul: matrix product through CBLAS GEMM, with transpose flags and leading batch axes.

#include <cstddef>
#include <string>

#include "vaelib/autodiff/tape.hpp"
#include "vaelib/detail/blas.hpp"

namespace vaelib {

struct MatmulOptions {
  bool transpose_a = false;  // use a's last two axes transposed (no copy: a GEMM flag)
  bool transpose_b = false;
};

namespace detail {

/// How one matmul maps onto GEMM calls: `batch` products of op(A) [m, k] by op(B) [k, n];
/// an operand with stride 0 is shared by every product of the batch.
struct MatmulPlan {
  std::size_t batch = 1, m = 0, n = 0, k = 0;
  std::size_t stride_a = 0, stride_b = 0;
  bool transpose_a = false, transpose_b = false;
};

inline MatmulPlan plan_matmul(const Shape& sa, const Shape& sb, MatmulOptions opt, Shape& out_shape) {
  auto describe = [&] {
    return "a has shape " + to_string(sa) + (opt.transpose_a ? " (transposed)" : "") + ", b has shape " + to_string(sb) +
           (opt.transpose_b ? " (transposed)" : "");
  };
  if (sa.size() < 2 || sb.size() < 2) throw ShapeError("matmul: expected operands of rank >= 2; " + describe());
  MatmulPlan p;
  p.transpose_a = opt.transpose_a;
  p.transpose_b = opt.transpose_b;
  const std::size_t ra = sa[sa.size() - 2], ca = sa[sa.size() - 1];
  const std::size_t rb = sb[sb.size() - 2], cb = sb[sb.size() - 1];
  p.m = opt.transpose_a ? ca : ra;
  p.k = opt.transpose_a ? ra : ca;
  const std::size_t kb = opt.transpose_b ? cb : rb;
  p.n = opt.transpose_b ? rb : cb;
  if (p.k != kb) {
    throw ShapeError("matmul: inner dimensions differ (" + std::to_string(p.k) + " vs " + std::to_string(kb) + "); " +
                     describe() + "; expected a [..., m, k] times b [..., k, n]");
  }
  const Shape batch_a(sa.begin(), sa.end() - 2);
  const Shape batch_b(sb.begin(), sb.end() - 2);
  if (batch_b.empty() && !opt.transpose_a) {  // fold a's leading axes into the rows: one GEMM
    p.m = shape_size(Shape(sa.begin(), sa.end() - 1));
    out_shape = Shape(sa.begin(), sa.end() - 1);
  } else if (batch_a.empty() || batch_b.empty() || batch_a == batch_b) {
    const Shape& batch = batch_a.empty() ? batch_b : batch_a;
    p.batch = shape_size(batch);
    p.stride_a = batch_a.empty() ? 0 : ra * ca;
    p.stride_b = batch_b.empty() ? 0 : rb * cb;
    out_shape = batch;
    out_shape.push_back(p.m);
  } else {
    throw ShapeError("matmul: batch dimensions " + to_string(batch_a) + " and " + to_string(batch_b) + " differ; " +
                     describe() + "; expected equal batch dimensions, or one operand of rank 2");
  }
  out_shape.push_back(p.n);
  return p;
}

}  // namespace detail

/// forward:  C = op(A) op(B) per batch element (op = transpose when its flag is set)
/// backward: dA += dC op(B)^T (stored as op(B) dC^T when A is transposed),
///           dB += op(A)^T dC (stored as dC^T op(A) when B is transposed);
///           GEMMs accumulate straight into the gradient buffers (beta = 1)
template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b, MatmulOptions options = {}) {
  Tape<T>& tape = a.tape();
  tape.check_handle("matmul", a);
  tape.check_handle("matmul", b);
  Shape out_shape;
  const detail::MatmulPlan p = detail::plan_matmul(a.shape(), b.shape(), options, out_shape);
  const Var<T> y = tape.make_node("matmul", out_shape, {a, b});
  T* c = tape.value_ptr(y);
  for (std::size_t i = 0; i < p.batch; ++i) {
    detail::gemm_stored(p.transpose_a, p.transpose_b, p.m, p.n, p.k, a.data() + i * p.stride_a,
                        b.data() + i * p.stride_b, T(0), c + i * p.m * p.n);
  }
  tape.set_backward(y, [a, b, p](Tape<T>& t, TapeRecord<T>& self) {
    const T* av = t.value_ptr(a);
    const T* bv = t.value_ptr(b);
    const T* dc = self.grad;
    if (t.node(a).requires_grad) {
      const GradTarget<T> g = t.grad_target(a);
      for (std::size_t i = 0; i < p.batch; ++i) {
        const T beta = (g.accumulate || (p.stride_a == 0 && i > 0)) ? T(1) : T(0);
        const T* bi = bv + i * p.stride_b;
        const T* dci = dc + i * p.m * p.n;
        T* dai = g.data + i * p.stride_a;
        if (!p.transpose_a)
          detail::gemm_stored(false, !p.transpose_b, p.m, p.k, p.n, dci, bi, beta, dai);
        else
          detail::gemm_stored(p.transpose_b, true, p.k, p.m, p.n, bi, dci, beta, dai);
      }
    }
    if (t.node(b).requires_grad) {
      const GradTarget<T> g = t.grad_target(b);
      for (std::size_t i = 0; i < p.batch; ++i) {
        const T beta = (g.accumulate || (p.stride_b == 0 && i > 0)) ? T(1) : T(0);
        const T* ai = av + i * p.stride_a;
        const T* dci = dc + i * p.m * p.n;
        T* dbi = g.data + i * p.stride_b;
        if (!p.transpose_b)
          detail::gemm_stored(!p.transpose_a, false, p.k, p.n, p.m, ai, dci, beta, dbi);
        else
          detail::gemm_stored(true, p.transpose_a, p.n, p.k, p.m, dci, ai, beta, dbi);
      }
    }
  });
  return y;
}

}  // namespace vaelib
