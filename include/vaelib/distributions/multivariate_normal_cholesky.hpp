#pragma once
// MultivariateNormalCholesky: the d-dimensional normal N(mean, L L^T), parameterised by the
// mean [..., d] and the lower-triangular Cholesky factor L = cov_tril [..., d, d] of the
// covariance (positive diagonal). value_shape = [d]; the batch axes of both parameters
// broadcast. Reparameterised: x = mean + L eps, eps ~ N(0, I).

#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <vector>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class MultivariateNormalCholesky final : public Distribution<T> {
 public:
  /// N(mean, cov_tril cov_tril^T) for mean [..., d] (d >= 1) and cov_tril [..., d, d], whose
  /// strict upper triangle must be zero, whose diagonal must be positive and finite and whose
  /// lower triangle must be finite (all checked: a full covariance matrix passed by mistake is
  /// refused, and so is a NaN or inf, which would make every log_prob NaN); mean finite.
  /// batch_shape is the broadcast of mean.shape[:-1] and cov_tril.shape[:-2].
  MultivariateNormalCholesky(const Var<T>& mean, const Var<T>& cov_tril, DistributionOptions options = {})
      : Distribution<T>(mean.tape(), batch_shape_of(mean, cov_tril), Shape{mean.rank() > 0 ? mean.shape().back() : 0},
                        options),
        m_mean(mean),
        m_cov_tril(cov_tril) {
    this->check_values(mean, "mean", "finite", [](T v) { return std::isfinite(v); });
    const Shape& s = cov_tril.shape();
    const std::size_t d = s.back();
    const std::size_t count = shape_size(s) / (d * d);
    const T* l = cov_tril.data();
    for (std::size_t q = 0; q < count; ++q) {
      for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t j = 0; j < d; ++j) {
          const T v = l[(q * d + i) * d + j];
          const bool ok = j > i ? v == T(0) : j < i ? std::isfinite(v) : v > T(0) && std::isfinite(v);
          if (!ok) {
            throw ArgumentError(std::string("MultivariateNormalCholesky: ") +
                                (j > i   ? "cov_tril must be lower-triangular (zero above the diagonal)"
                                 : j < i ? "cov_tril must be finite below the diagonal"
                                         : "the diagonal of cov_tril must be positive and finite") +
                                ", got " + std::to_string(v) + " at [" + std::to_string(i) + ", " + std::to_string(j) +
                                "] of matrix " + std::to_string(q) + " of cov_tril shape " + to_string(s));
          }
        }
      }
    }
  }

  std::string_view name() const override { return "MultivariateNormalCholesky"; }
  bool is_reparameterized() const override { return true; }

  /// The dimension d of one draw.
  std::size_t dim() const { return this->value_shape()[0]; }
  /// E[x] = mean, broadcast to batch_shape + [d].
  Var<T> mean() const override {
    Shape shape = this->batch_shape();
    shape.push_back(dim());
    return broadcast_to(m_mean, shape);
  }
  /// Var[x_i] = (L L^T)_ii = sum_j L_ij^2, broadcast to batch_shape + [d].
  Var<T> variance() const override {
    Shape shape = this->batch_shape();
    shape.push_back(dim());
    return broadcast_to(sum(square(m_cov_tril), {-1}), shape);
  }
  Var<T> cov_tril() const { return m_cov_tril; }
  /// The covariance L L^T, of cov_tril's shape.
  Var<T> covariance() const { return matmul(m_cov_tril, m_cov_tril, {.transpose_b = true}); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "mean") return m_mean;
    if (parameter_name == "cov_tril") return m_cov_tril;
    if (parameter_name == "covariance") return covariance();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = -d/2 log(2 pi) - sum_i log L_ii - 1/2 |z|^2,  z = L^{-1} (x - mean)
  /// (z by triangular_solve, differentiable in x, mean and L)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> m = this->maybe_detached(m_mean, detach_parameters);
    const Var<T> l = this->maybe_detached(m_cov_tril, detach_parameters);
    const Var<T> diff = given - m;
    std::vector<std::ptrdiff_t> column(diff.shape().begin(), diff.shape().end());
    column.push_back(1);
    const Var<T> z = triangular_solve(l, reshape(diff, column));  // [..., d, 1]
    const T c = static_cast<T>(-0.5 * static_cast<double>(dim()) * std::log(2 * std::numbers::pi));
    return (c - sum_log_diagonal(l)) - T(0.5) * sum(square(z), {-2, -1});
  }

  /// mean + L eps, eps ~ N(0, I) of shape [n] + batch_shape + [d]; L eps is computed as
  /// sum_j L[..., i, j] eps[..., j] (a broadcast product, summed over the last axis)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> eps = this->noise(this->sample_shape(n),
                                   [&](T* data, std::size_t size) { rng.fill_normal(std::span<T>(data, size)); });
    const Var<T> rows = reshape(eps, with_axis_before_last(eps.shape()));  // [n, ..., 1, d]
    return m_mean + sum(m_cov_tril * rows, {-1});
  }

  /// d/2 (1 + log(2 pi)) + sum_i log L_ii
  Var<T> entropy_impl() const override {
    const T c = static_cast<T>(0.5 * static_cast<double>(dim()) * (1 + std::log(2 * std::numbers::pi)));
    return broadcast_to(sum_log_diagonal(m_cov_tril) + c, this->batch_shape());
  }

 private:
  /// Checks the parameter shapes and returns the batch shape.
  static Shape batch_shape_of(const Var<T>& mean, const Var<T>& cov_tril) {
    mean.tape().check_handle("MultivariateNormalCholesky", cov_tril);
    const Shape& sm = mean.shape();
    const Shape& sl = cov_tril.shape();
    const bool ok = !sm.empty() && sm.back() > 0 && sl.size() >= 2 && sl[sl.size() - 1] == sm.back() &&
                    sl[sl.size() - 2] == sm.back();
    if (!ok) {
      throw ShapeError("MultivariateNormalCholesky: mean has shape " + to_string(sm) + " and cov_tril has shape " +
                       to_string(sl) + " (expected mean [..., d] and cov_tril [..., d, d] with the same d >= 1)");
    }
    return broadcast_parameter_shapes("MultivariateNormalCholesky",
                                      {Shape(sm.begin(), sm.end() - 1), Shape(sl.begin(), sl.end() - 2)});
  }

  /// `shape` with an axis of size 1 inserted before the last, as reshape dimensions.
  static std::vector<std::ptrdiff_t> with_axis_before_last(const Shape& shape) {
    std::vector<std::ptrdiff_t> dims(shape.begin(), shape.end());
    dims.insert(dims.end() - 1, 1);
    return dims;
  }

  /// sum_i log L[..., i, i]: the diagonal is every (d + 1)-th element of the flattened matrix.
  Var<T> sum_log_diagonal(const Var<T>& l) const {
    const auto d = static_cast<std::ptrdiff_t>(dim());
    std::vector<std::ptrdiff_t> dims(l.shape().begin(), l.shape().end() - 2);
    dims.push_back(d * d);
    return sum(log(slice(reshape(l, dims), -1, 0, d * d, d + 1)), {-1});
  }

  Var<T> m_mean;
  Var<T> m_cov_tril;
};

}  // namespace vaelib
