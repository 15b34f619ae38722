#pragma once
// LKJCholesky: the lower Cholesky factor L of a d x d correlation matrix R = L L^T drawn from
// the LKJ distribution (Lewandowski, Kurowicka and Joe, "Generating random correlation
// matrices based on vines and extended onion method", J. Multivariate Analysis 100, 2009),
// p(R) proportional to det(R)^(concentration - 1): concentration eta > 0, 1 the uniform
// distribution over correlation matrices, larger values concentrating near the identity.
// value_shape [d, d], batch_shape concentration.shape. Not reparameterised.
//
// The density of L with respect to the Lebesgue measure of its strictly lower entries is
//   log p(L) = sum_{i=1}^{d-1} [ (d - i + 2 eta - 3) log L_ii + lgamma(i/2) - (i/2) log pi
//                               - log B(i/2, beta_i) ],   beta_i = eta + (d - 1 - i) / 2
// (rows 0-based): row i's off-diagonal part w is sqrt(y) times a uniform unit vector, y ~
// Beta(i/2, beta_i), L_ii = sqrt(1 - y) (the onion method, which is also the sampler).
// Equal to det(R)^(eta-1) |dR/dL| / c_d(eta) with LKJ's normalising constant (eq. 16); the
// reference script checks both forms against each other and integrates the density to 1.
//
// log_prob is computed in double as one node. A matrix that is not such a factor (nonzero
// above the diagonal, a diagonal entry <= 0, a non-finite entry, or a row whose squared norm is
// further than detail::constraint_tolerance<T>() from 1: 3.4e-4 in float, 1e-6 in double)
// gives -inf; a NaN entry NaN. Gradients flow to the diagonal of L and to eta.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/binomial.hpp"
#include "vaelib/distributions/detail/event_log_density.hpp"
#include "vaelib/distributions/detail/log_beta.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class LKJCholesky final : public Distribution<T> {
 public:
  /// LKJCholesky(dimension, concentration) for dimension >= 1 and concentration positive and
  /// finite (checked); batch_shape = concentration.shape.
  LKJCholesky(std::size_t dimension, const Var<T>& concentration, DistributionOptions options = {})
      : Distribution<T>(concentration.tape(), concentration.shape(), Shape{dimension, dimension}, options),
        m_dimension(dimension),
        m_concentration(concentration) {
    if (dimension == 0) throw ArgumentError("LKJCholesky: dimension must be at least 1, got 0");
    this->check_values(concentration, "concentration", "positive and finite",
                       [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  std::string_view name() const override { return "LKJCholesky"; }
  bool is_reparameterized() const override { return false; }

  std::size_t dimension() const { return m_dimension; }
  Var<T> concentration() const { return m_concentration; }

  Support<T> support() const override { return Support<T>::correlation_cholesky(); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "concentration") return m_concentration;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(L) as in the header comment;
  /// d/dL_ii = (d - i + 2 eta - 3) / L_ii,  d/deta = sum_i [2 log L_ii - digamma(beta_i) + digamma(i/2 + beta_i)]
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Shape batch = detail::event_output_batch("LKJCholesky.log_prob", given.shape(), 2, this->batch_shape());
    const std::array<Var<T>, 2> inputs{
        detail::expand_to_batch(given, batch, 2),
        detail::expand_to_batch(this->maybe_detached(m_concentration, detach_parameters), batch, 0)};
    const std::size_t d = m_dimension;
    const double tolerance = detail::constraint_tolerance<T>();
    return detail::event_log_density("LKJCholesky.log_prob", inputs, batch, [d, tolerance](const auto& events,
                                                                                           const auto& partials) {
      constexpr double inf = std::numeric_limits<double>::infinity();
      const std::span<const double> l = events[0];
      const double eta = events[1][0];
      for (const double v : l)
        if (std::isnan(v)) return v;  // NaN in, NaN out (not "outside")
      for (std::size_t i = 0; i < d; ++i) {
        double norm2 = 0;
        for (std::size_t j = 0; j < d; ++j) {
          const double v = l[i * d + j];
          if ((j > i && v != 0) || std::isinf(v)) return -inf;
          norm2 += v * v;
        }
        if (!(l[i * d + i] > 0) || !(std::abs(norm2 - 1) <= tolerance)) return -inf;
      }
      const double log_pi = std::log(std::numbers::pi);
      double value = 0, d_eta = 0;
      for (std::size_t i = 1; i < d; ++i) {
        const double half_i = 0.5 * static_cast<double>(i);
        const double beta = eta + 0.5 * static_cast<double>(d - 1 - i);
        const double exponent = static_cast<double>(d - i) + 2 * eta - 3;
        const double diagonal = l[i * d + i];
        const double log_diagonal = std::log(diagonal);
        value += exponent * log_diagonal + std::lgamma(half_i) - half_i * log_pi - detail::log_beta(half_i, beta);
        partials[0][i * d + i] = exponent / diagonal;
        d_eta += 2 * log_diagonal - detail::digamma(beta) + detail::digamma(half_i + beta);
      }
      partials[1][0] = d_eta;
      return value;
    });
  }

  /// The onion method: row 0 is e_0; row i has off-diagonal part sqrt(y) u, u a uniform unit
  /// vector of R^i (normalised normals), y ~ Beta(i/2, beta_i) (detail::sample_beta_pair, which
  /// also gives 1 - y without cancellation), and diagonal sqrt(1 - y)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const std::size_t d = m_dimension;
    const std::size_t batch = shape_size(this->batch_shape());
    std::vector<double> u(d);
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      std::fill_n(data, size, T(0));
      for (std::size_t m = 0; m < size / (d * d); ++m) {
        T* l = data + m * d * d;
        const double eta = static_cast<double>(m_concentration.data()[m % batch]);
        l[0] = T(1);
        for (std::size_t i = 1; i < d; ++i) {
          const detail::BetaDraw y =
              detail::sample_beta_pair(0.5 * static_cast<double>(i), eta + 0.5 * static_cast<double>(d - 1 - i), rng);
          double norm2 = 0;
          for (std::size_t j = 0; j < i; ++j) {
            u[j] = rng.normal<double>();
            norm2 += u[j] * u[j];
          }
          const double scale = std::sqrt(y.x / norm2);
          for (std::size_t j = 0; j < i; ++j) l[i * d + j] = static_cast<T>(scale * u[j]);
          l[i * d + i] = static_cast<T>(std::sqrt(y.one_minus_x));
        }
      }
    });
  }

 private:
  std::size_t m_dimension;
  Var<T> m_concentration;
};

}  // namespace vaelib
