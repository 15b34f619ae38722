#pragma once
// Dirichlet: a point x of the probability simplex (x_i >= 0, sum_i x_i = 1) over the last axis,
// with concentration a = (a_1, ..., a_k), a_i > 0:
//   p(x) = prod_i x_i^(a_i - 1) / B(a),  B(a) = prod_i Gamma(a_i) / Gamma(sum_i a_i),
// a density with respect to the Lebesgue measure of the first k - 1 coordinates. value_shape
// [k], batch_shape concentration.shape[:-1].
//
// Reparameterised by implicit reparameterisation (as Gamma and Beta): a draw is x = softmax(log g),
// g_i ~ Gamma(a_i, 1), and each g_i moves with a_i at its own CDF level, d log g_i / d a_i = c_i
// (detail/gamma_cdf_gradient.hpp), so
//   dx_j / da_i = x_j (delta_ij - x_i) c_i,   d a_i += x_i c_i (dy_i - sum_j dy_j x_j).
//
// log_prob is computed in double (also on a float tape) as one node; log B(a) as a sum of
// two-argument log-Betas (detail::log_beta), each without internal cancellation. A point off
// the simplex (a negative coordinate, or a sum further than detail::constraint_tolerance<T>()
// from 1: 3.4e-4 in float, 1e-6 in double) gives -inf; on its boundary (x_i = 0) the density's
// limit (-inf for a_i > 1, +inf for a_i < 1), with no gradient; a NaN coordinate NaN.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/distributions/detail/event_log_density.hpp"
#include "vaelib/distributions/detail/gamma_cdf_gradient.hpp"
#include "vaelib/distributions/detail/log_beta.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/gamma.hpp"

namespace vaelib {
namespace detail {

/// log B(a) = sum_i lgamma(a_i) - lgamma(sum_i a_i) = sum_{j >= 1} log B(a_0 + ... + a_{j-1}, a_j)
/// (each term by detail::log_beta, without the cancellation of lgammas of large arguments).
inline double log_multivariate_beta(std::span<const double> a) {
  double value = 0, partial_sum = a[0];
  for (std::size_t j = 1; j < a.size(); ++j) {
    value += log_beta(partial_sum, a[j]);
    partial_sum += a[j];
  }
  return value;
}

/// One Dirichlet(a) draw into `out` (k values): g_i ~ Gamma(a_i, 1) in logs
/// (detail::sample_log_standard_gamma), x = softmax(log g), so that tiny concentrations (g
/// underflowing) still give a point of the simplex; coordinates below T's smallest normal
/// number are raised to it, so that log_prob of every draw is finite. With `weights`, also
/// w_i = x_i d log g_i / d a_i there (0 where that is beyond T's range), the draw unchanged.
template <class T>
void sample_dirichlet_row(const T* concentration, std::size_t k, Rng& rng, std::span<double> log_g, T* out,
                          T* weights = nullptr) {
  double largest = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < k; ++i) {
    log_g[i] = sample_log_standard_gamma(static_cast<double>(concentration[i]), rng);
    largest = std::max(largest, log_g[i]);
  }
  double total = 0;
  for (std::size_t i = 0; i < k; ++i) total += std::exp(log_g[i] - largest);
  for (std::size_t i = 0; i < k; ++i)
    out[i] = std::max(static_cast<T>(std::exp(log_g[i] - largest) / total), std::numeric_limits<T>::min());
  if (weights == nullptr) return;
  for (std::size_t i = 0; i < k; ++i) {
    const double x = std::exp(log_g[i] - largest) / total;  // unclamped: 0 where it underflows
    const double w =
        x == 0 ? 0 : x * standard_gamma_log_draw_alpha_derivative(log_g[i], static_cast<double>(concentration[i]));
    weights[i] = std::abs(w) <= static_cast<double>(std::numeric_limits<T>::max()) ? static_cast<T>(w) : T(0);
  }
}

/// forward:  rows of k Dirichlet(concentration row) draws over `shape` ([n] + concentration's
///           shape), row r from concentration row r mod (rows of concentration), in order, so
///           that a seed fixes the draw; when the node needs a gradient, w = x c beside them in
///           the node's scratch (sample_dirichlet_row)
/// backward: d a_i += w_i (dy_i - sum_j dy_j x_j) for each row, summed over the sample axis
template <class T>
Var<T> dirichlet_sample(const Shape& shape, const Var<T>& concentration, Rng& rng) {
  Tape<T>& tape = concentration.tape();
  const Var<T> y = tape.make_node("Dirichlet.sample", shape, std::span<const Var<T>>(&concentration, 1));
  TapeRecord<T>& node = tape.node(y);
  const std::size_t size = node.size, k = concentration.shape().back(), batch = concentration.size() / k;
  T* weights = node.requires_grad ? node.scratch.ensure(size) : nullptr;
  T* out = tape.value_ptr(y);
  std::vector<double> log_g(k);
  for (std::size_t row = 0; row < size / k; ++row)
    sample_dirichlet_row(concentration.data() + (row % batch) * k, k, rng, log_g, out + row * k,
                         weights == nullptr ? nullptr : weights + row * k);
  tape.set_backward(y, [concentration, k, batch](Tape<T>& t, TapeRecord<T>& self) {
    const T* w = self.scratch.ensure(self.size);
    T* gradient = t.grad_target_zeroed(concentration);
    for (std::size_t row = 0; row < self.size / k; ++row) {
      const T* dy = self.grad + row * k;
      const T* x = self.value + row * k;
      T mean_dy = 0;  // sum_j dy_j x_j
      for (std::size_t j = 0; j < k; ++j) mean_dy += dy[j] * x[j];
      T* da = gradient + (row % batch) * k;
      for (std::size_t i = 0; i < k; ++i) da[i] += w[row * k + i] * (dy[i] - mean_dy);
    }
  });
  return y;
}

}  // namespace detail

template <class T>
class Dirichlet final : public Distribution<T> {
 public:
  /// Dirichlet(concentration) with concentration [..., k] (k >= 1), positive and finite
  /// (checked).
  explicit Dirichlet(const Var<T>& concentration, DistributionOptions options = {})
      : Distribution<T>(concentration.tape(), batch_shape_of(concentration),
                        Shape{concentration.shape().back()}, options),
        m_concentration(concentration) {
    this->check_values(concentration, "concentration", "positive and finite",
                       [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  std::string_view name() const override { return "Dirichlet"; }
  bool is_reparameterized() const override { return true; }

  std::size_t n_categories() const { return m_concentration.shape().back(); }
  Var<T> concentration() const { return m_concentration; }
  /// E[x] = a / sum_i a_i, [..., k].
  Var<T> mean() const override { return m_concentration / sum(m_concentration, {-1}, /*keep_dims=*/true); }
  /// Var[x_i] = p_i (1 - p_i) / (a0 + 1), p = concentration / a0, a0 = sum of concentration
  Var<T> variance() const override {
    const Var<T> total = sum(m_concentration, {-1}, /*keep_dims=*/true);
    const Var<T> p = m_concentration / total;
    return p * (T(1) - p) / (total + T(1));
  }

  Support<T> support() const override { return Support<T>::simplex(); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "concentration") return m_concentration;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = sum_i (a_i - 1) log x_i - log B(a);
  /// d/dx_i = (a_i - 1) / x_i,  d/da_i = log x_i - digamma(a_i) + digamma(sum_j a_j)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Shape batch = detail::event_output_batch("Dirichlet.log_prob", given.shape(), 1, this->batch_shape());
    const std::array<Var<T>, 2> inputs{
        detail::expand_to_batch(given, batch, 1),
        detail::expand_to_batch(this->maybe_detached(m_concentration, detach_parameters), batch, 1)};
    const double tolerance = detail::constraint_tolerance<T>();
    return detail::event_log_density("Dirichlet.log_prob", inputs, batch, [tolerance](const auto& events,
                                                                                      const auto& partials) {
      constexpr double inf = std::numeric_limits<double>::infinity();
      const std::span<const double> x = events[0], a = events[1];
      double total = 0;
      bool on_boundary = false;
      for (const double v : x) {
        if (std::isnan(v)) return v;  // NaN in, NaN out (not "outside")
        if (!(v >= 0)) return -inf;
        on_boundary = on_boundary || v == 0;
        total += v;
      }
      if (!(std::abs(total - 1) <= tolerance)) return -inf;
      double value = -detail::log_multivariate_beta(a);
      if (on_boundary) {  // the density's limit there; no gradient
        double limit = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
          if (x[i] != 0) continue;
          if (a[i] > 1) return -inf;
          if (a[i] < 1) limit = inf;
        }
        if (limit == inf) return inf;
        for (std::size_t i = 0; i < x.size(); ++i)
          if (x[i] != 0) value += (a[i] - 1) * std::log(x[i]);
        return value;
      }
      double a_total = 0;
      for (const double v : a) a_total += v;
      const double digamma_total = detail::digamma(a_total);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double log_x = std::log(x[i]);
        value += (a[i] - 1) * log_x;
        partials[0][i] = (a[i] - 1) / x[i];
        partials[1][i] = log_x - detail::digamma(a[i]) + digamma_total;
      }
      return value;
    });
  }

  /// x = g / sum(g), g_i ~ Gamma(a_i, 1) (detail::sample_dirichlet_row), with its implicit
  /// gradient (detail::dirichlet_sample)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    return detail::dirichlet_sample(this->sample_shape(n), m_concentration, rng);
  }

 private:
  static Shape batch_shape_of(const Var<T>& concentration) {
    const Shape& s = concentration.shape();
    if (s.empty() || s.back() == 0) {
      throw ShapeError("Dirichlet: concentration must have shape [..., k] with k >= 1 on the last axis, got shape " +
                       to_string(s));
    }
    return Shape(s.begin(), s.end() - 1);
  }

  Var<T> m_concentration;
};

}  // namespace vaelib
