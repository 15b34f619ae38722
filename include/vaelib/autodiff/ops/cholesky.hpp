#pragma once
// cholesky: the lower Cholesky factor L of a symmetric positive-definite matrix A = L L^T, over
// leading batch axes ([..., n, n]). Like LAPACK's potrf('L') it reads only the lower triangle
// of A, diagonal included, so the gradient goes to that triangle only: a caller who builds A
// symmetric (A = B B^T + D) gets the right gradient for B and D either way.

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>

#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  L lower-triangular with a positive diagonal and L L^T = A, for A [..., n, n]
///           (Cholesky-Banachiewicz, row by row); the strict upper triangle of L is 0.
///           A pivot that is not positive and finite throws ArgumentError naming the batch
///           element, the pivot and its value.
/// backward: with dL' = tril(dL), P = tril(L^T dL') with its diagonal halved and
///           S = L^{-T} P L^{-1} (two triangular solves):
///           dA_ij += S_ij + S_ji (i > j),  dA_ii += S_ii,  dA_ij += 0 (i < j)
///           (Murray, "Differentiation of the Cholesky decomposition", 2016: from
///           L^{-1} dA L^{-T} = X + X^T with X = L^{-1} dL lower-triangular)
template <class T>
Var<T> cholesky(const Var<T>& a) {
  Tape<T>& tape = a.tape();
  tape.check_handle("cholesky", a);
  const Shape& shape = a.shape();
  if (shape.size() < 2 || shape[shape.size() - 1] != shape[shape.size() - 2]) {
    throw ShapeError("cholesky: a has shape " + to_string(shape) + " (expected a square matrix [..., n, n])");
  }
  const std::size_t n = shape.back();
  const std::size_t count = n == 0 ? 0 : shape_size(shape) / (n * n);
  const Var<T> y = tape.make_node("cholesky", shape, {a});
  const T* av = a.data();
  T* lv = tape.value_ptr(y);
  for (std::size_t q = 0; q < count; ++q) {
    const T* aq = av + q * n * n;
    T* l = lv + q * n * n;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j <= i; ++j) {
        T s = aq[i * n + j];
        for (std::size_t k = 0; k < j; ++k) s -= l[i * n + k] * l[j * n + k];
        if (i > j) {
          l[i * n + j] = s / l[j * n + j];
          continue;
        }
        if (!(s > 0) || std::isinf(s)) {  // also NaN
          std::ostringstream m;
          m << "cholesky: a of shape " << to_string(shape) << " is not positive definite";
          if (count > 1) m << " at batch element " << q;
          m << ": pivot " << i << " (a[" << i << ", " << i << "] less the squares before it) is " << s
            << " (expected a finite value > 0)";
          throw DomainError(m.str());  // a sampler rejects the point (Stan's cholesky_decompose)
        }
        l[i * n + i] = std::sqrt(s);
      }
      for (std::size_t j = i + 1; j < n; ++j) l[i * n + j] = 0;
    }
  }
  tape.set_backward(y, [a](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t d = self.shape.back();
    const std::size_t batch = d == 0 ? 0 : self.size / (d * d);
    const GradTarget<T> g = t.grad_target(a);
    T* x = self.scratch.ensure(2 * d * d);  // P, then X = L^{-T} P in place; then S
    T* s = x + d * d;
    for (std::size_t q = 0; q < batch; ++q) {
      const T* l = self.value + q * d * d;
      const T* dl = self.grad + q * d * d;
      // P = tril(L^T tril(dL)), diagonal halved: (L^T dL)_ij = sum_{k >= i} L_ki dL_kj for i >= j.
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) {
          T v = 0;
          if (j <= i)
            for (std::size_t k = i; k < d; ++k) v += l[k * d + i] * dl[k * d + j];
          x[i * d + j] = i == j ? v / 2 : v;
        }
      // X = L^{-T} P: back substitution on L^T X = P, all columns at once.
      for (std::size_t i = d; i-- > 0;) {
        for (std::size_t k = i + 1; k < d; ++k)
          for (std::size_t c = 0; c < d; ++c) x[i * d + c] -= l[k * d + i] * x[k * d + c];
        for (std::size_t c = 0; c < d; ++c) x[i * d + c] /= l[i * d + i];
      }
      // S = X L^{-1}: per row r, S_r L = X_r, back substitution over the columns.
      for (std::size_t r = 0; r < d; ++r)
        for (std::size_t j = d; j-- > 0;) {
          T v = x[r * d + j];
          for (std::size_t k = j + 1; k < d; ++k) v -= s[r * d + k] * l[k * d + j];
          s[r * d + j] = v / l[j * d + j];
        }
      T* ga = g.data + q * d * d;
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) {
          const T contribution = j < i ? s[i * d + j] + s[j * d + i] : j == i ? s[i * d + i] : T(0);
          ga[i * d + j] = g.accumulate ? ga[i * d + j] + contribution : contribution;
        }
    }
  });
  return y;
}

}  // namespace vaelib
