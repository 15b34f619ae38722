#pragma once
// LowerCholeskyTransform: R^{n(n+1)/2} onto the n x n lower-triangular matrices with a
// positive diagonal (Cholesky factors of covariance matrices), on the last axis. x fills the
// lower triangle row by row (L_00; L_10, L_11; L_20, ...), the diagonal through exp.

#include <algorithm>
#include <cmath>
#include <string>

#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// n with n(n+1)/2 = m, or ShapeError naming the operation.
inline std::size_t triangle_side(const std::string& op, std::size_t m, std::size_t offset) {
  // n(n + 1 - 2 offset)/2 = m: offset 0 counts a triangle with its diagonal, 1 without.
  std::size_t n = offset;
  while (n * (n + 1 - 2 * offset) / 2 < m) ++n;
  if (n * (n + 1 - 2 * offset) / 2 != m) {
    throw ShapeError(op + ": a last axis of size " + std::to_string(m) + " fills no triangle (expected " +
                     (offset == 0 ? "n(n+1)/2: 1, 3, 6, 10, ..." : "n(n-1)/2: 0, 1, 3, 6, ...") + ")");
  }
  return n;
}

/// Refuses anything but a batch of square matrices.
template <class T>
std::size_t square_side(const std::string& op, const Var<T>& y) {
  const Shape& s = y.shape();
  if (s.size() < 2 || s[s.size() - 1] != s[s.size() - 2] || s.back() == 0) {
    throw ShapeError(op + ": y has shape " + to_string(s) + " (expected [..., n, n] with n >= 1)");
  }
  return s.back();
}

/// forward:  L_ij = x_{i(i+1)/2 + j} for j < i, L_ii = exp(x_{i(i+1)/2 + i}), 0 above
/// backward: dx_{i(i+1)/2 + j} += dL_ij (times L_ii on the diagonal)
template <class T>
Var<T> lower_cholesky_forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("LowerCholeskyTransform.forward", x);
  const std::size_t m = last_axis_size(std::string("LowerCholeskyTransform.forward"), "x", x, 1);
  const std::size_t n = triangle_side("LowerCholeskyTransform.forward", m, 0);
  Shape out_shape = x.shape();
  out_shape.back() = n;
  out_shape.push_back(n);
  const Var<T> y = tape.make_node("lower_cholesky", out_shape, {x});
  const std::size_t rows = x.size() / m;
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = in + r * m;
    T* yr = out + r * n * n;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        yr[i * n + j] = j < i ? xr[i * (i + 1) / 2 + j] : j == i ? std::exp(xr[i * (i + 1) / 2 + i]) : T(0);
  }
  tape.set_backward(y, [x, n](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t m = n * (n + 1) / 2;
    const std::size_t rows = self.size / (n * n);
    const GradTarget<T> g = t.grad_target(x);
    for (std::size_t r = 0; r < rows; ++r) {
      const T* yr = self.value + r * n * n;
      const T* dyr = self.grad + r * n * n;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j)
          put_grad(g, r * m + i * (i + 1) / 2 + j, j < i ? dyr[i * n + j] : dyr[i * n + i] * yr[i * n + i]);
    }
  });
  return y;
}

/// forward:  x_{i(i+1)/2 + j} = L_ij for j < i, log L_ii on the diagonal (above it is ignored)
/// backward: dL_ij += dx (divided by L_ii on the diagonal); 0 above the diagonal
template <class T>
Var<T> lower_cholesky_inverse(const Var<T>& y) {
  Tape<T>& tape = y.tape();
  tape.check_handle("LowerCholeskyTransform.inverse", y);
  const std::size_t n = square_side("LowerCholeskyTransform.inverse", y);
  const std::size_t m = n * (n + 1) / 2;
  Shape out_shape(y.shape().begin(), y.shape().end() - 1);
  out_shape.back() = m;
  const Var<T> x = tape.make_node("lower_cholesky_inverse", out_shape, {y});
  const std::size_t rows = y.size() / (n * n);
  const T* in = y.data();
  T* out = tape.value_ptr(x);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) {
        const T v = in[r * n * n + i * n + j];
        out[r * m + i * (i + 1) / 2 + j] = j < i ? v : std::log(v);
      }
  tape.set_backward(x, [y, n](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t m = n * (n + 1) / 2;
    const std::size_t rows = self.size / m;
    const T* yv = t.node(y).value;
    const GradTarget<T> g = t.grad_target(y);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          const std::size_t at = r * n * n + i * n + j;
          const T dx = j <= i ? self.grad[r * m + i * (i + 1) / 2 + j] : T(0);
          put_grad(g, at, j == i ? dx / yv[at] : dx);
        }
  });
  return x;
}

}  // namespace detail

/// forward: x (n(n+1)/2 numbers) onto L (n x n);  inverse: the lower triangle of L read back,
/// log of the diagonal;  log|det J| (x onto the lower triangle) = sum_i log L_ii = the sum of
/// the x's that land on the diagonal.
template <class T>
class LowerCholeskyTransform final : public Transform<T> {
 public:
  std::string name() const override { return "LowerCholeskyTransform"; }
  std::size_t domain_event_rank() const override { return 1; }
  std::size_t codomain_event_rank() const override { return 2; }
  Support<T> codomain() const override { return Support<T>::lower_cholesky(); }
  Shape forward_shape(const Shape& x) const override {
    if (x.empty() || x.back() == 0)
      throw ShapeError(name() + ".forward_shape: shape " + to_string(x) + " (expected [..., n(n+1)/2])");
    const std::size_t n = detail::triangle_side(name() + ".forward_shape", x.back(), 0);
    Shape y = x;
    y.back() = n;
    y.push_back(n);
    return y;
  }
  Shape inverse_shape(const Shape& y) const override {
    if (y.size() < 2 || y[y.size() - 1] != y[y.size() - 2] || y.back() == 0)
      throw ShapeError(name() + ".inverse_shape: shape " + to_string(y) + " (expected [..., n, n] with n >= 1)");
    Shape x(y.begin(), y.end() - 1);
    x.back() = y.back() * (y.back() + 1) / 2;
    return x;
  }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return detail::lower_cholesky_forward(x); }
  Var<T> inverse_impl(const Var<T>& y) const override { return detail::lower_cholesky_inverse(y); }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    const std::size_t m = detail::last_axis_size(name() + ".log_abs_det_jacobian", "x", x, 1);
    const std::size_t n = detail::triangle_side(name() + ".log_abs_det_jacobian", m, 0);
    const Var<T> on_diagonal = detail::filled_constant(x.tape(), Shape{m}, [n](T* d, std::size_t size) {
      std::fill_n(d, size, T(0));
      for (std::size_t i = 0; i < n; ++i) d[i * (i + 1) / 2 + i] = T(1);
    });
    return sum(x * on_diagonal, {-1});
  }
};

}  // namespace vaelib
