#pragma once
// CorrelationCholeskyTransform: R^{n(n-1)/2} onto the Cholesky factors of n x n correlation
// matrices: lower-triangular L with a positive diagonal and rows of unit norm (so L L^T has
// a unit diagonal). On the last axis; x fills the strictly lower triangle row by row.
//
// Each x_ij becomes a partial correlation z_ij = tanh(x_ij) in (-1, 1), and row i is built by
// stick-breaking on the squared norm: L_ij = z_ij sqrt(1 - sum_{k<j} L_ik^2), the diagonal
// takes what is left. The remaining norm is the product of the sech(x_ik) = sqrt(1 - z_ik^2),
// kept in log space, so no 1 - z^2 is formed (it cancels once |x| is large).

#include <cmath>
#include <string>

#include "vaelib/autodiff/ops/abs.hpp"
#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/softplus.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/transforms/lower_cholesky.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// log sech(x) = -log cosh(x) = log 2 - |x| - log1p(exp(-2|x|)), finite for every x.
template <class T>
T log_sech(T x) {
  const T a = std::abs(x);
  return static_cast<T>(0.69314718055994530942) - a - std::log1p(std::exp(-2 * a));
}

/// forward:  row i: L_ij = tanh(x_ij) P_ij for j < i, L_ii = P_ii, with
///           P_ij = prod_{k<j} sech(x_ik); L_00 = 1, 0 above the diagonal
/// backward: dx_ik += dL_ik sech^2(x_ik) P_ik - tanh(x_ik) sum_{k<j<=i} dL_ij L_ij
template <class T>
Var<T> correlation_cholesky_forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("CorrelationCholeskyTransform.forward", x);
  const std::size_t m = x.shape().back();
  const std::size_t n = triangle_side("CorrelationCholeskyTransform.forward", m, 1);
  Shape out_shape = x.shape();
  out_shape.back() = n;
  out_shape.push_back(n);
  const Var<T> y = tape.make_node("correlation_cholesky", out_shape, {x});
  const std::size_t rows = shape_size(out_shape) / (n * n);
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = in + r * m;
    T* yr = out + r * n * n;
    for (std::size_t i = 0; i < n; ++i) {
      const T* xi = xr + (i == 0 ? 0 : i * (i - 1) / 2);
      T log_left = 0;  // log P_ij
      for (std::size_t j = 0; j < i; ++j) {
        yr[i * n + j] = std::tanh(xi[j]) * std::exp(log_left);
        log_left += log_sech(xi[j]);
      }
      yr[i * n + i] = std::exp(log_left);
      for (std::size_t j = i + 1; j < n; ++j) yr[i * n + j] = 0;
    }
  }
  tape.set_backward(y, [x, n](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t m = n * (n - 1) / 2;
    const std::size_t rows = self.size / (n * n);
    const T* xv = t.node(x).value;
    const GradTarget<T> g = t.grad_target(x);
    for (std::size_t r = 0; r < rows; ++r) {
      const T* yr = self.value + r * n * n;
      const T* dyr = self.grad + r * n * n;
      for (std::size_t i = 1; i < n; ++i) {
        const std::size_t row_start = r * m + i * (i - 1) / 2;
        const T* xi = xv + row_start;
        T later = dyr[i * n + i] * yr[i * n + i];  // sum_{k<j<=i} dL_ij L_ij
        T log_left = 0;
        for (std::size_t j = 0; j < i; ++j) log_left += log_sech(xi[j]);
        for (std::size_t k = i; k-- > 0;) {
          const T ls = log_sech(xi[k]);
          log_left -= ls;  // now log P_ik
          const T own = dyr[i * n + k] * std::exp(2 * ls + log_left);
          put_grad(g, row_start + k, own - std::tanh(xi[k]) * later);
          later += dyr[i * n + k] * yr[i * n + k];
        }
      }
    }
  });
  return y;
}

/// forward:  x_ij = atanh(L_ij / sqrt(R_ij)), R_ij = sum_{j<=k<=i} L_ik^2 (the row's norm
///           left, summed from the diagonal: accurate near |z| = 1), written
///           sign(L_ij) [log(sqrt(R_ij) + |L_ij|) - log(R_i,j+1) / 2] (no 1 - z cancels).
///           Only the rows' directions matter: a row need not have unit norm exactly.
/// backward: dL_ik += [k < i] dx_ik / sqrt(R_ik) - L_ik sum_{j<k} dx_ij L_ij / (sqrt(R_ij) R_i,j+1)
template <class T>
Var<T> correlation_cholesky_inverse(const Var<T>& y) {
  Tape<T>& tape = y.tape();
  tape.check_handle("CorrelationCholeskyTransform.inverse", y);
  const std::size_t n = square_side("CorrelationCholeskyTransform.inverse", y);
  const std::size_t m = n * (n - 1) / 2;
  Shape out_shape(y.shape().begin(), y.shape().end() - 1);
  out_shape.back() = m;
  const Var<T> x = tape.make_node("correlation_cholesky_inverse", out_shape, {y});
  const std::size_t rows = y.size() / (n * n);
  const T* in = y.data();
  T* out = tape.value_ptr(x);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t i = 1; i < n; ++i) {
      const T* li = in + r * n * n + i * n;
      T* xi = out + r * m + i * (i - 1) / 2;
      T rest = li[i] * li[i];  // R_i,j+1
      for (std::size_t j = i; j-- > 0;) {
        const T with_j = rest + li[j] * li[j];
        const T v = std::log(std::sqrt(with_j) + std::abs(li[j])) - std::log(rest) / 2;
        xi[j] = li[j] < 0 ? -v : v;
        rest = with_j;
      }
    }
  }
  tape.set_backward(x, [y, n](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t m = n * (n - 1) / 2;
    const std::size_t rows = t.node(y).size / (n * n);
    const T* yv = t.node(y).value;
    T* norm_left = self.scratch.ensure(n + 1);  // norm_left[j] = R_ij
    const GradTarget<T> g = t.grad_target(y);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t k = 0; k < n; ++k) put_grad(g, r * n * n + k, T(0));  // row 0 is L_00 = 1
      for (std::size_t i = 1; i < n; ++i) {
        const T* li = yv + r * n * n + i * n;
        const T* dxi = self.grad + r * m + i * (i - 1) / 2;
        norm_left[i] = li[i] * li[i];
        for (std::size_t j = i; j-- > 0;) norm_left[j] = norm_left[j + 1] + li[j] * li[j];
        T earlier = 0;  // sum_{j<k} dx_ij L_ij / (sqrt(R_ij) R_i,j+1)
        for (std::size_t k = 0; k < n; ++k) {
          T v = 0;
          if (k <= i) {
            v = (k < i ? dxi[k] / std::sqrt(norm_left[k]) : T(0)) - li[k] * earlier;
            if (k < i) earlier += dxi[k] * li[k] / (std::sqrt(norm_left[k]) * norm_left[k + 1]);
          }
          put_grad(g, r * n * n + i * n + k, v);
        }
      }
    }
  });
  return x;
}

}  // namespace detail

/// forward: x (n(n-1)/2 numbers) onto L (n x n, unit-norm rows);  inverse: x_ij = atanh of
/// L_ij over the norm left in its row;  log|det J| (x onto the strictly lower triangle) =
/// sum_{i>j} (i + 1 - j) log sech(x_ij): each x_ij's tanh' = sech^2, and the norm left
/// sqrt(1 - z^2) that multiplies the later entries of its row.
template <class T>
class CorrelationCholeskyTransform final : public Transform<T> {
 public:
  std::string name() const override { return "CorrelationCholeskyTransform"; }
  std::size_t domain_event_rank() const override { return 1; }
  std::size_t codomain_event_rank() const override { return 2; }
  Support<T> codomain() const override { return Support<T>::correlation_cholesky(); }
  Shape forward_shape(const Shape& x) const override {
    if (x.empty()) throw ShapeError(name() + ".forward_shape: shape [] (expected [..., n(n-1)/2])");
    const std::size_t n = detail::triangle_side(name() + ".forward_shape", x.back(), 1);
    Shape y = x;
    y.back() = n;
    y.push_back(n);
    return y;
  }
  Shape inverse_shape(const Shape& y) const override {
    if (y.size() < 2 || y[y.size() - 1] != y[y.size() - 2] || y.back() == 0)
      throw ShapeError(name() + ".inverse_shape: shape " + to_string(y) + " (expected [..., n, n] with n >= 1)");
    Shape x(y.begin(), y.end() - 1);
    x.back() = y.back() * (y.back() - 1) / 2;
    return x;
  }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return detail::correlation_cholesky_forward(x); }
  Var<T> inverse_impl(const Var<T>& y) const override { return detail::correlation_cholesky_inverse(y); }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    const std::size_t m = x.shape().back();
    const std::size_t n = detail::triangle_side(name() + ".log_abs_det_jacobian", m, 1);
    const Var<T> weights = detail::filled_constant(x.tape(), Shape{m}, [n](T* d, std::size_t) {
      for (std::size_t i = 1; i < n; ++i)
        for (std::size_t j = 0; j < i; ++j) d[i * (i - 1) / 2 + j] = static_cast<T>(i + 1 - j);
    });
    const Var<T> a = abs(x);
    const Var<T> log_sech = (static_cast<T>(0.69314718055994530942) - a) - softplus(a * T(-2));
    return sum(log_sech * weights, {-1});
  }
};

}  // namespace vaelib
