#pragma once
// triangular_solve: Y = L^{-1} B for lower-triangular L, by forward substitution, over
// broadcast batch axes (a stack of Cholesky factors against a stack of right-hand sides).

#include <algorithm>
#include <cstddef>
#include <string>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  Y = L^{-1} B per batch element, for L [..., d, d] lower-triangular and
///           B [..., d, m]; the batch axes (all but the last two) broadcast. Only the lower
///           triangle of L, diagonal included, is read; a zero on the diagonal gives inf/NaN
///           (as a division by zero does).
/// backward: dB += L^{-T} dY;  dL += -tril((L^{-T} dY) Y^T)  (the strict upper triangle gets
///           no gradient); both summed over the batch axes along which they were broadcast
template <class T>
Var<T> triangular_solve(const Var<T>& l, const Var<T>& b) {
  Tape<T>& tape = l.tape();
  tape.check_handle("triangular_solve", l);
  tape.check_handle("triangular_solve", b);
  const Shape& sl = l.shape();
  const Shape& sb = b.shape();
  const bool ranks_ok = sl.size() >= 2 && sb.size() >= 2;
  if (!ranks_ok || sl[sl.size() - 1] != sl[sl.size() - 2] || sb[sb.size() - 2] != sl[sl.size() - 1]) {
    throw ShapeError("triangular_solve: l has shape " + to_string(sl) + ", b has shape " + to_string(sb) +
                     " (expected l [..., d, d] and b [..., d, m])");
  }
  const Shape batch_l(sl.begin(), sl.end() - 2);
  const Shape batch_b(sb.begin(), sb.end() - 2);
  Shape out_shape;
  try {
    out_shape = broadcast_shapes("triangular_solve", batch_l, batch_b);
  } catch (const ShapeError&) {
    throw ShapeError("triangular_solve: the batch axes of l " + to_string(sl) + " and b " + to_string(sb) +
                     " do not broadcast (expected batch axes, all but the last two, that are equal or 1)");
  }
  const std::size_t d = sl[sl.size() - 1];
  const std::size_t m = sb[sb.size() - 1];
  const std::size_t batch = shape_size(out_shape);
  out_shape.push_back(d);
  out_shape.push_back(m);
  const Var<T> y = tape.make_node("triangular_solve", out_shape, {l, b});
  const T* lv = l.data();
  const T* bv = b.data();
  T* yv = tape.value_ptr(y);
  const std::size_t out_rank = out_shape.size() - 2;
  for (std::size_t q = 0; q < batch; ++q) {
    const T* lq = lv + d * d * detail::broadcast_source_index(q, out_shape, out_rank, sl, sl.size() - 2);
    const T* bq = bv + d * m * detail::broadcast_source_index(q, out_shape, out_rank, sb, sb.size() - 2);
    T* yq = yv + q * d * m;
    for (std::size_t i = 0; i < d; ++i) {  // row i: (b_i - sum_{k<i} L_ik y_k) / L_ii
      T* yi = yq + i * m;
      std::copy_n(bq + i * m, m, yi);
      for (std::size_t k = 0; k < i; ++k) {
        const T lik = lq[i * d + k];
        const T* yk = yq + k * m;
        for (std::size_t c = 0; c < m; ++c) yi[c] -= lik * yk[c];
      }
      const T inv = T(1) / lq[i * d + i];
      for (std::size_t c = 0; c < m; ++c) yi[c] *= inv;
    }
  }
  tape.set_backward(y, [l, b](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& nl = t.node(l);
    const TapeRecord<T>& nb = t.node(b);
    const std::size_t rank = self.shape.size() - 2;
    const std::size_t dd = self.shape[rank];
    const std::size_t mm = self.shape[rank + 1];
    const std::size_t count = shape_size(self.shape) / std::max<std::size_t>(dd * mm, 1);
    T* gl = nl.requires_grad ? t.grad_target_zeroed(l) : nullptr;
    T* gb = nb.requires_grad ? t.grad_target_zeroed(b) : nullptr;
    T* x = self.scratch.ensure(dd * mm);  // L^{-T} dY for one batch element
    for (std::size_t q = 0; q < count; ++q) {
      const std::size_t offset_l =
          dd * dd * detail::broadcast_source_index(q, self.shape, rank, nl.shape, nl.shape.size() - 2);
      const std::size_t offset_b =
          dd * mm * detail::broadcast_source_index(q, self.shape, rank, nb.shape, nb.shape.size() - 2);
      const T* lq = nl.value + offset_l;
      const T* dy = self.grad + q * dd * mm;
      const T* yq = self.value + q * dd * mm;
      for (std::size_t i = dd; i-- > 0;) {  // back substitution: L^T x = dy
        T* xi = x + i * mm;
        std::copy_n(dy + i * mm, mm, xi);
        for (std::size_t k = i + 1; k < dd; ++k) {
          const T lki = lq[k * dd + i];
          const T* xk = x + k * mm;
          for (std::size_t c = 0; c < mm; ++c) xi[c] -= lki * xk[c];
        }
        const T inv = T(1) / lq[i * dd + i];
        for (std::size_t c = 0; c < mm; ++c) xi[c] *= inv;
      }
      if (gb != nullptr) {
        T* g = gb + offset_b;
        for (std::size_t j = 0; j < dd * mm; ++j) g[j] += x[j];
      }
      if (gl != nullptr) {
        T* g = gl + offset_l;
        for (std::size_t i = 0; i < dd; ++i)
          for (std::size_t k = 0; k <= i; ++k) {
            T s = 0;
            for (std::size_t c = 0; c < mm; ++c) s += x[i * mm + c] * yq[k * mm + c];
            g[i * dd + k] -= s;
          }
      }
    }
  });
  return y;
}

}  // namespace vaelib
