#pragma once
// ExpConcrete (ZhuSuan's): the logarithm y = log x of a Concrete (Gumbel-softmax) sample x,
// which keeps the digits that a Concrete sample loses at low temperatures (a coordinate of x
// underflowing to 0 is a finite, very negative y). Maddison, Mnih and Teh, "The Concrete
// Distribution" (ICLR 2017), appendix C. Reparameterised: samples are differentiable in the
// logits. With temperature tau > 0 and logits l over k classes:
//
//   sample:   y = z - logsumexp(z),  z = (l + g) / tau,  g_i ~ Gumbel(0, 1)
//   log p(y) = log((k-1)!) + (k-1) log tau + sum_i (l_i - tau y_i) - k logsumexp_i(l_i - tau y_i)
//
// y lies on the manifold logsumexp(y) = 0; the density is with respect to the measure
// dy_1 ... dy_{k-1} / exp(y_k) on it (the same for whichever coordinate is dropped), so that
// log p(y) = log p_Concrete(exp(y)) + sum_i y_i; the ratio of two ExpConcrete densities, what
// a variational bound uses, does not depend on that choice. value_shape [k].
//
// support() is the default, the reals over the last axis: no support kind names the manifold,
// and a latent ExpConcrete is used through its reparameterised samples, not a transform.
//
// log_prob is computed in double as one node. A value off the manifold (|logsumexp(y)| beyond
// detail::constraint_tolerance<T>(): 3.4e-4 in float, 1e-6 in double) or with an infinite
// coordinate gives -inf, a NaN coordinate NaN.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/detail/event_log_density.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class ExpConcrete final : public Distribution<T> {
 public:
  /// ExpConcrete(temperature, logits): temperature a positive finite scalar (checked), logits
  /// [..., k] (k >= 1, every logit finite). batch_shape = logits.shape[:-1], value_shape = [k].
  ExpConcrete(T temperature, const Var<T>& logits, DistributionOptions options = {})
      : Distribution<T>(logits.tape(), detail::categorical_batch_shape("ExpConcrete", logits.shape()),
                        Shape{logits.shape().empty() ? 0 : logits.shape().back()}, options),
        m_temperature(temperature),
        m_logits(logits) {
    if (!(temperature > T(0) && std::isfinite(temperature))) {
      throw ArgumentError("ExpConcrete: temperature must be positive and finite, got " + std::to_string(temperature));
    }
    this->check_values(logits, "logits", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "ExpConcrete"; }
  bool is_reparameterized() const override { return true; }

  std::size_t n_categories() const { return m_logits.shape().back(); }
  T temperature() const { return m_temperature; }
  Var<T> logits() const { return m_logits; }
  /// softmax(logits): the class probabilities of the categorical variable being relaxed.
  Var<T> probs() const { return exp(detail::log_softmax_last_axis(m_logits)); }

  /// "logits", "probs", or "temperature" (a rank-0 constant).
  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "probs") return probs();
    if (parameter_name == "temperature") return m_logits.tape().constant(m_temperature);
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(y) = lgamma(k) + (k-1) log tau + sum_i (l_i - tau y_i) - k logsumexp_i(l_i - tau y_i);
  /// with s = softmax(l - tau y): d/dy_i = tau (k s_i - 1),  d/dl_i = 1 - k s_i
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Shape batch = detail::event_output_batch("ExpConcrete.log_prob", given.shape(), 1, this->batch_shape());
    const std::array<Var<T>, 2> inputs{detail::expand_to_batch(given, batch, 1),
                                       detail::expand_to_batch(this->maybe_detached(m_logits, detach_parameters), batch, 1)};
    const double tau = static_cast<double>(m_temperature);
    const double tolerance = detail::constraint_tolerance<T>();
    return detail::event_log_density("ExpConcrete.log_prob", inputs, batch, [tau, tolerance](const auto& events,
                                                                                             const auto& partials) {
      constexpr double inf = std::numeric_limits<double>::infinity();
      const std::span<const double> y = events[0], l = events[1];
      const std::size_t k = y.size();
      double largest_y = -inf, largest_term = -inf;
      for (std::size_t i = 0; i < k; ++i) {
        if (std::isnan(y[i])) return y[i];  // NaN in, NaN out (not "outside")
        if (std::isinf(y[i])) return -inf;
        largest_y = std::max(largest_y, y[i]);
        largest_term = std::max(largest_term, l[i] - tau * y[i]);
      }
      double total_y = 0, total_term = 0, linear = 0;
      for (std::size_t i = 0; i < k; ++i) {
        total_y += std::exp(y[i] - largest_y);
        total_term += std::exp(l[i] - tau * y[i] - largest_term);
        linear += l[i] - tau * y[i];
      }
      if (!(std::abs(largest_y + std::log(total_y)) <= tolerance)) return -inf;
      const double log_total = largest_term + std::log(total_term);
      const double n = static_cast<double>(k);
      for (std::size_t i = 0; i < k; ++i) {
        const double s = std::exp(l[i] - tau * y[i] - log_total);
        partials[0][i] = tau * (n * s - 1);
        partials[1][i] = 1 - n * s;
      }
      return std::lgamma(n) + (n - 1) * std::log(tau) + linear - n * log_total;
    });
  }

  /// y = z - logsumexp(z),  z = (l + g) / tau,  g ~ Gumbel(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> g = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = detail::standard_gumbel<T>(rng);
    });
    return detail::log_softmax_last_axis((m_logits + g) / m_temperature);
  }

 private:
  T m_temperature;
  Var<T> m_logits;
};

}  // namespace vaelib
