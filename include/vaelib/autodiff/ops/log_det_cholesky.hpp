#pragma once
// log_det_cholesky: log det(L L^T) = 2 sum_i log L_ii from a Cholesky factor L [..., n, n], the
// log-determinant of a covariance matrix without forming it (Gaussian log-densities, LKJ
// priors). Reads the diagonal of L only; a diagonal that is not positive gives NaN (a negative
// entry) or -inf (a zero), as log does.

#include <cmath>
#include <cstddef>

#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y = 2 sum_i log L_ii per batch element: shape [...] for L [..., n, n]
/// backward: dL_ii += 2 dy / L_ii; the off-diagonal entries get no gradient
template <class T>
Var<T> log_det_cholesky(const Var<T>& l) {
  Tape<T>& tape = l.tape();
  tape.check_handle("log_det_cholesky", l);
  const Shape& shape = l.shape();
  if (shape.size() < 2 || shape[shape.size() - 1] != shape[shape.size() - 2]) {
    throw ShapeError("log_det_cholesky: l has shape " + to_string(shape) +
                     " (expected a square Cholesky factor [..., n, n])");
  }
  const std::size_t n = shape.back();
  const Var<T> y = tape.make_node("log_det_cholesky", Shape(shape.begin(), shape.end() - 2), {l});
  const T* lv = l.data();
  T* out = tape.value_ptr(y);
  for (std::size_t q = 0, count = tape.node(y).size; q < count; ++q) {
    T s = 0;
    for (std::size_t i = 0; i < n; ++i) s += std::log(lv[q * n * n + i * n + i]);
    out[q] = 2 * s;
  }
  tape.set_backward(y, [l](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& in = t.node(l);
    const std::size_t d = in.shape.back();
    T* g = t.grad_target_zeroed(l);
    for (std::size_t q = 0; q < self.size; ++q)
      for (std::size_t i = 0; i < d; ++i) {
        const std::size_t at = q * d * d + i * d + i;
        g[at] += 2 * self.grad[q] / in.value[at];
      }
  });
  return y;
}

}  // namespace vaelib
