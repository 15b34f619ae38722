#pragma once
// MatrixVariateNormalCholesky (ZhuSuan's): a random n x p matrix X ~ MN(M, U, V), the normal
// whose rows have covariance U (n x n) and columns covariance V (p x p): vec(X) ~
// N(vec(M), V kron U). Parameterised by the mean M [..., n, p] and the lower-triangular
// Cholesky factors u_tril [..., n, n] of U and v_tril [..., p, p] of V (positive diagonals).
// value_shape [n, p]; the batch axes of the three parameters broadcast. Reparameterised:
// X = M + L_U E L_V^T, E [n, p] standard normal.
//
//   log p(X) = -(n p / 2) log(2 pi) - p sum_i log (L_U)_ii - n sum_j log (L_V)_jj
//              - 1/2 || L_U^{-1} (X - M) L_V^{-T} ||_F^2
//
// Built from differentiable ops (triangular_solve, matmul) like MultivariateNormalCholesky,
// so log_prob is in T (not double) and differentiable in X, M and both factors.

#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <vector>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class MatrixVariateNormalCholesky final : public Distribution<T> {
 public:
  /// MN(mean, u_tril u_tril^T, v_tril v_tril^T) for mean [..., n, p] (n, p >= 1, finite),
  /// u_tril [..., n, n] and v_tril [..., p, p], each zero above the diagonal, positive and
  /// finite on it and finite below (all checked).
  MatrixVariateNormalCholesky(const Var<T>& mean, const Var<T>& u_tril, const Var<T>& v_tril,
                              DistributionOptions options = {})
      : Distribution<T>(mean.tape(), batch_shape_of(mean, u_tril, v_tril), value_shape_of(mean), options),
        m_mean(mean),
        m_u_tril(u_tril),
        m_v_tril(v_tril) {
    this->check_values(mean, "mean", "finite", [](T v) { return std::isfinite(v); });
    check_factor(u_tril, "u_tril");
    check_factor(v_tril, "v_tril");
  }

  std::string_view name() const override { return "MatrixVariateNormalCholesky"; }
  bool is_reparameterized() const override { return true; }

  std::size_t n_rows() const { return this->value_shape()[0]; }
  std::size_t n_columns() const { return this->value_shape()[1]; }
  /// E[X] = mean, broadcast to batch_shape + [n, p].
  Var<T> mean() const override { return broadcast_to(m_mean, full_shape(this->batch_shape(), m_mean.shape())); }
  /// Var[X_ij] = U_ii V_jj (vec(X) has covariance V kron U), U_ii = sum_k (L_U)_ik^2 and
  /// V_jj likewise; broadcast to batch_shape + [n, p].
  Var<T> variance() const override {
    const Var<T> u = sum(square(m_u_tril), {-1});  // [..., n]
    const Var<T> v = sum(square(m_v_tril), {-1});  // [..., p]
    std::vector<std::ptrdiff_t> column(u.shape().begin(), u.shape().end()), row(v.shape().begin(), v.shape().end());
    column.push_back(1);
    row.insert(row.end() - 1, 1);
    return broadcast_to(reshape(u, column) * reshape(v, row), full_shape(this->batch_shape(), m_mean.shape()));
  }
  Var<T> u_tril() const { return m_u_tril; }
  Var<T> v_tril() const { return m_v_tril; }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "mean") return m_mean;
    if (parameter_name == "u_tril") return m_u_tril;
    if (parameter_name == "v_tril") return m_v_tril;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(X) = -(n p / 2) log 2 pi - p sum log diag L_U - n sum log diag L_V - |Z|_F^2 / 2,
  /// Z = L_V^{-1} (L_U^{-1} (X - M))^T by two triangular solves
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> m = this->maybe_detached(m_mean, detach_parameters);
    const Var<T> lu = this->maybe_detached(m_u_tril, detach_parameters);
    const Var<T> lv = this->maybe_detached(m_v_tril, detach_parameters);
    const Var<T> rows_solved = triangular_solve(lu, given - m);          // [..., n, p]
    const Var<T> z = triangular_solve(lv, transpose(rows_solved));       // [..., p, n]
    const double n = static_cast<double>(n_rows()), p = static_cast<double>(n_columns());
    const T c = static_cast<T>(-0.5 * n * p * std::log(2 * std::numbers::pi));
    const Var<T> log_det = T(p) * sum_log_diagonal(lu) + T(n) * sum_log_diagonal(lv);
    return (c - log_det) - T(0.5) * sum(square(z), {-2, -1});
  }

  /// M + L_U E L_V^T, E ~ N(0, I) of shape [n] + batch_shape + [n_rows, n_columns]
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Shape shape = this->sample_shape(n);
    const Var<T> e = this->noise(shape, [&](T* data, std::size_t size) { rng.fill_normal(std::span<T>(data, size)); });
    const Shape outer(shape.begin(), shape.end() - 2);
    const Var<T> lu = broadcast_to(m_u_tril, full_shape(outer, m_u_tril.shape()));
    const Var<T> lv = broadcast_to(m_v_tril, full_shape(outer, m_v_tril.shape()));
    return m_mean + matmul(matmul(lu, e), lv, {.transpose_b = true});
  }

 private:
  /// `outer` + the last two axes of `matrix`.
  static Shape full_shape(const Shape& outer, const Shape& matrix) {
    Shape s = outer;
    s.insert(s.end(), matrix.end() - 2, matrix.end());
    return s;
  }

  static Shape value_shape_of(const Var<T>& mean) {
    const Shape& s = mean.shape();
    return s.size() >= 2 ? Shape{s[s.size() - 2], s.back()} : Shape{0, 0};
  }

  static Shape batch_shape_of(const Var<T>& mean, const Var<T>& u_tril, const Var<T>& v_tril) {
    mean.tape().check_handle("MatrixVariateNormalCholesky", u_tril);
    mean.tape().check_handle("MatrixVariateNormalCholesky", v_tril);
    const Shape& sm = mean.shape();
    const Shape& su = u_tril.shape();
    const Shape& sv = v_tril.shape();
    const bool ok = sm.size() >= 2 && sm[sm.size() - 2] > 0 && sm.back() > 0 && su.size() >= 2 && sv.size() >= 2 &&
                    su[su.size() - 1] == sm[sm.size() - 2] && su[su.size() - 2] == sm[sm.size() - 2] &&
                    sv[sv.size() - 1] == sm.back() && sv[sv.size() - 2] == sm.back();
    if (!ok) {
      throw ShapeError("MatrixVariateNormalCholesky: mean has shape " + to_string(sm) + ", u_tril " + to_string(su) +
                       " and v_tril " + to_string(sv) +
                       " (expected mean [..., n, p], u_tril [..., n, n] and v_tril [..., p, p] with n, p >= 1)");
    }
    return broadcast_parameter_shapes("MatrixVariateNormalCholesky", {Shape(sm.begin(), sm.end() - 2),
                                                                      Shape(su.begin(), su.end() - 2),
                                                                      Shape(sv.begin(), sv.end() - 2)});
  }

  /// Zero above the diagonal, positive and finite on it, finite below; names the entry.
  void check_factor(const Var<T>& l, const char* parameter_name) const {
    const Shape& s = l.shape();
    const std::size_t d = s.back();
    const std::size_t count = shape_size(s) / (d * d);
    for (std::size_t q = 0; q < count; ++q) {
      for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t j = 0; j < d; ++j) {
          const T v = l.data()[(q * d + i) * d + j];
          const bool ok = j > i ? v == T(0) : j < i ? std::isfinite(v) : v > T(0) && std::isfinite(v);
          if (!ok) {
            throw ArgumentError(std::string("MatrixVariateNormalCholesky: ") + parameter_name +
                                (j > i   ? " must be lower-triangular (zero above the diagonal)"
                                 : j < i ? " must be finite below the diagonal"
                                         : " must have a positive and finite diagonal") +
                                ", got " + std::to_string(v) + " at [" + std::to_string(i) + ", " + std::to_string(j) +
                                "] of matrix " + std::to_string(q) + " of shape " + to_string(s));
          }
        }
      }
    }
  }

  /// sum_i log L[..., i, i]: the diagonal is every (d + 1)-th element of the flattened matrix.
  static Var<T> sum_log_diagonal(const Var<T>& l) {
    const auto d = static_cast<std::ptrdiff_t>(l.shape().back());
    std::vector<std::ptrdiff_t> dims(l.shape().begin(), l.shape().end() - 2);
    dims.push_back(d * d);
    return sum(log(slice(reshape(l, dims), -1, 0, d * d, d + 1)), {-1});
  }

  Var<T> m_mean;
  Var<T> m_u_tril;
  Var<T> m_v_tril;
};

}  // namespace vaelib
