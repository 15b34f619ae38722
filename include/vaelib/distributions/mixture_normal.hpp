#pragma once
// MixtureNormal: a mixture of K diagonal Gaussians over d dimensions (a GMM),
//   p(x) = sum_k pi_k prod_j N(x_j | mean_kj, std_kj^2),  pi = softmax(logits),
// with logits [..., K], means [..., K, d] and stds or log-stds [..., K, d]. value_shape = [d];
// the batch axes (all but the component and value axes) of the three parameters broadcast.
// Log-probabilities are computed in log space (log_softmax and logsumexp), never through
// the weights or densities; each component's log-density in double, stable at extreme
// log-stds (detail::normal_log_density). An infinite value gives -inf, a NaN value NaN.
// Not reparameterised: samples are constants.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/normal.hpp"

namespace vaelib {

template <class T>
class MixtureNormal final : public Distribution<T> {
 public:
  enum class Scale { std, logstd };

  /// The mixture with component standard deviations stds > 0 (checked).
  MixtureNormal(const Var<T>& logits, const Var<T>& means, const Var<T>& stds, DistributionOptions options = {})
      : MixtureNormal(logits, means, stds, Scale::std, options) {}

  /// The same as MixtureNormal(logits, means, stds, options).
  static MixtureNormal with_std(const Var<T>& logits, const Var<T>& means, const Var<T>& stds,
                                DistributionOptions options = {}) {
    return MixtureNormal(logits, means, stds, Scale::std, options);
  }
  /// The mixture with component standard deviations exp(logstds).
  static MixtureNormal with_logstd(const Var<T>& logits, const Var<T>& means, const Var<T>& logstds,
                                   DistributionOptions options = {}) {
    return MixtureNormal(logits, means, logstds, Scale::logstd, options);
  }

  /// logits [..., K] (K >= 1; each finite or -inf, a component switched off; not all -inf),
  /// means and scales [..., K, d] (d >= 1).
  MixtureNormal(const Var<T>& logits, const Var<T>& means, const Var<T>& scale, Scale kind,
                DistributionOptions options = {})
      : Distribution<T>(logits.tape(), batch_shape_of(logits, means, scale, kind),
                        Shape{means.rank() > 0 ? means.shape().back() : 0}, options),
        m_logits(logits),
        m_means(means),
        m_scale(scale),
        m_kind(kind) {
    this->check_values(logits, "logits", "finite or -inf", [](T v) { return v < std::numeric_limits<T>::infinity(); });
    const std::size_t k = n_components();
    const T* l = logits.data();
    for (std::size_t row = 0; row < logits.size() / k; ++row) {
      if (std::all_of(l + row * k, l + (row + 1) * k, [](T v) { return v == -std::numeric_limits<T>::infinity(); })) {
        throw ArgumentError("MixtureNormal: logits must not all be -inf, got a row of " + std::to_string(k) +
                            " -inf at flat index " + std::to_string(row * k) + " of shape " +
                            to_string(logits.shape()));
      }
    }
    if (kind == Scale::std)
      this->check_values(scale, "stds", "positive and finite",
                         [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  std::string_view name() const override { return "MixtureNormal"; }
  bool is_reparameterized() const override { return false; }

  std::size_t n_components() const { return m_logits.shape().back(); }
  std::size_t dim() const { return this->value_shape()[0]; }
  Var<T> logits() const { return m_logits; }
  /// log pi = log_softmax(logits) over the components, [..., K].
  Var<T> log_weights() const { return vaelib::log_softmax(m_logits); }
  Var<T> means() const { return m_means; }
  Var<T> stds() const { return m_kind == Scale::std ? m_scale : exp(m_scale); }
  Var<T> logstds() const { return m_kind == Scale::logstd ? m_scale : log(m_scale); }

  /// E[x] = sum_k pi_k mean_k, broadcast to batch_shape + [d].
  Var<T> mean() const override {
    const Var<T> weights = exp(log_weights());  // [..., K]
    std::vector<std::ptrdiff_t> dims(weights.shape().begin(), weights.shape().end());
    dims.push_back(1);
    Shape shape = this->batch_shape();
    shape.push_back(dim());
    return broadcast_to(sum(reshape(weights, dims) * m_means, {-2}), shape);
  }
  /// Var[x_j] = sum_k pi_k (s_kj^2 + (mean_kj - E[x_j])^2) (the law of total variance, as a sum
  /// of nonnegative terms), broadcast to batch_shape + [d].
  Var<T> variance() const override {
    const Var<T> weights = exp(log_weights());  // [..., K]
    std::vector<std::ptrdiff_t> dims(weights.shape().begin(), weights.shape().end());
    dims.push_back(1);
    const Var<T> m = mean();  // [..., d]
    std::vector<std::ptrdiff_t> mean_dims(m.shape().begin(), m.shape().end());
    mean_dims.insert(mean_dims.end() - 1, 1);
    const Var<T> second = (m_kind == Scale::std ? square(m_scale) : exp(m_scale * T(2))) +
                          square(m_means - reshape(m, mean_dims));
    Shape shape = this->batch_shape();
    shape.push_back(dim());
    return broadcast_to(sum(reshape(weights, dims) * second, {-2}), shape);
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "means") return m_means;
    if (parameter_name == "stds") return stds();
    if (parameter_name == "logstds") return logstds();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = logsumexp_k (log_softmax(logits)_k + sum_j log N(x_j | mean_kj, std_kj)),
  /// log N(x | m, s) = -0.5 log(2 pi) - log s - 0.5 ((x - m) / s)^2
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> l = this->maybe_detached(m_logits, detach_parameters);
    const Var<T> m = this->maybe_detached(m_means, detach_parameters);
    const Var<T> scale = this->maybe_detached(m_scale, detach_parameters);
    std::vector<std::ptrdiff_t> dims(given.shape().begin(), given.shape().end());
    dims.insert(dims.end() - 1, 1);
    const Var<T> x = reshape(given, dims);  // [..., 1, d]: against every component
    // [..., K, d], in double and stable at extreme log-stds (see Normal)
    const Var<T> component = detail::normal_log_density("MixtureNormal.log_prob", x, m, scale, m_kind == Scale::logstd);
    return logsumexp(vaelib::log_softmax(l) + sum(component, {-1}), -1);
  }

  /// Per draw and batch element: a component k with probability softmax(logits)_k (inverse
  /// CDF on one uniform), then mean_k + std_k eps with eps ~ N(0, I_d)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Shape& batch = this->batch_shape();
    const std::size_t batch_size = shape_size(batch);
    const std::size_t k = n_components();
    const std::size_t d = dim();
    const Shape& sl = m_logits.shape();
    const Shape& sm = m_means.shape();
    const Shape& ss = m_scale.shape();
    const T* logits = m_logits.data();
    const T* means = m_means.data();
    const T* scale = m_scale.data();
    const bool log_scale = m_kind == Scale::logstd;
    const std::size_t rank = batch.size();
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size / d; ++i) {
        const std::size_t b = i % batch_size;
        const T* row = logits + k * detail::broadcast_source_index(b, batch, rank, sl, sl.size() - 1);
        const T* mu = means + k * d * detail::broadcast_source_index(b, batch, rank, sm, sm.size() - 2);
        const T* sc = scale + k * d * detail::broadcast_source_index(b, batch, rank, ss, ss.size() - 2);
        const std::size_t c = draw_component(row, k, rng);
        for (std::size_t j = 0; j < d; ++j) {
          const double s =
              log_scale ? std::exp(static_cast<double>(sc[c * d + j])) : static_cast<double>(sc[c * d + j]);
          data[i * d + j] = static_cast<T>(static_cast<double>(mu[c * d + j]) + s * rng.normal<double>());
        }
      }
    });
  }

 private:
  /// Checks the parameter shapes (and the tape) and returns the batch shape.
  static Shape batch_shape_of(const Var<T>& logits, const Var<T>& means, const Var<T>& scale, Scale kind) {
    logits.tape().check_handle("MixtureNormal", means);
    logits.tape().check_handle("MixtureNormal", scale);
    const Shape& sl = logits.shape();
    const Shape& sm = means.shape();
    const Shape& ss = scale.shape();
    const bool ok = !sl.empty() && sl.back() > 0 && sm.size() >= 2 && ss.size() >= 2 && sm.back() > 0 &&
                    sm[sm.size() - 2] == sl.back() && ss[ss.size() - 2] == sl.back() && ss.back() == sm.back();
    if (!ok) {
      throw ShapeError("MixtureNormal: logits have shape " + to_string(sl) + ", means " + to_string(sm) + " and " +
                       (kind == Scale::std ? "stds " : "logstds ") + to_string(ss) +
                       " (expected logits [..., K], means and scales [..., K, d] with the same K >= 1 and d >= 1)");
    }
    return broadcast_parameter_shapes(
        "MixtureNormal",
        {Shape(sl.begin(), sl.end() - 1), Shape(sm.begin(), sm.end() - 2), Shape(ss.begin(), ss.end() - 2)});
  }


  /// A component index with probability softmax(row)_c: the first c whose cumulative weight
  /// exceeds u * total (the last component of positive weight if rounding leaves none).
  static std::size_t draw_component(const T* row, std::size_t k, Rng& rng) {
    const double top = static_cast<double>(*std::max_element(row, row + k));
    double total = 0;
    for (std::size_t c = 0; c < k; ++c) total += std::exp(static_cast<double>(row[c]) - top);
    const double target = rng.uniform<double>() * total;
    double cumulative = 0;
    std::size_t last_positive = 0;
    for (std::size_t c = 0; c < k; ++c) {
      const double w = std::exp(static_cast<double>(row[c]) - top);
      if (w > 0) last_positive = c;
      cumulative += w;
      if (target < cumulative) return c;
    }
    return last_positive;
  }

  Var<T> m_logits;
  Var<T> m_means;
  Var<T> m_scale;
  Scale m_kind;
};

}  // namespace vaelib
