#pragma once
// Concrete: the continuous relaxation of a one-hot categorical variable on the simplex, also
// called Gumbel-softmax or RelaxedOneHotCategorical (Maddison, Mnih and Teh, "The Concrete
// Distribution", ICLR 2017; Jang, Gu and Poole, "Categorical Reparameterization with
// Gumbel-Softmax", ICLR 2017). Reparameterised: samples are differentiable in the logits.
//
// With temperature tau > 0 and logits l (log alpha, defined up to a constant) over k classes,
//
//   sample:   x = softmax((l + g) / tau),  g_i ~ Gumbel(0, 1) i.i.d. (g = -log(-log u))
//   density (Maddison et al., definition 1, with respect to the Lebesgue measure of the
//   first k - 1 coordinates of the simplex):
//     p(x) = (k-1)! tau^(k-1) prod_i [ alpha_i x_i^(-tau-1) / sum_j alpha_j x_j^(-tau) ]
//     log p(x) = log((k-1)!) + (k-1) log tau + sum_i (l_i - (tau+1) log x_i)
//                - k logsumexp_i(l_i - tau log x_i)
//
// As tau -> 0 the samples approach one-hot vectors distributed as OnehotCategorical(l).
// At low temperatures a coordinate of a sample can underflow to exactly 0, where the log
// density is not finite: keep tau moderate (the papers use 0.1 to 1).

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class Concrete final : public Distribution<T> {
 public:
  /// Concrete(temperature, logits): temperature a positive finite scalar (checked), logits
  /// [..., k] (k >= 1, every logit finite). batch_shape = logits.shape[:-1], value_shape = [k].
  Concrete(T temperature, const Var<T>& logits, DistributionOptions options = {})
      : Distribution<T>(logits.tape(), detail::categorical_batch_shape("Concrete", logits.shape()),
                        Shape{logits.shape().empty() ? 0 : logits.shape().back()}, options),
        m_temperature(temperature),
        m_logits(logits) {
    if (!(temperature > T(0) && std::isfinite(temperature))) {
      throw ArgumentError("Concrete: temperature must be positive and finite, got " + std::to_string(temperature));
    }
    this->check_values(logits, "logits", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "Concrete"; }
  Support<T> support() const override { return Support<T>::simplex(); }
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
  /// log p(x) = log((k-1)!) + (k-1) log tau + sum_i (l_i - (tau+1) log x_i)
  ///            - k logsumexp_i(l_i - tau log x_i)
  /// (x on the open simplex; not checked)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> l = this->maybe_detached(m_logits, detach_parameters);
    const auto k = static_cast<T>(n_categories());
    const T tau = m_temperature;
    const T log_normalizer = static_cast<T>(std::lgamma(static_cast<double>(k)) +
                                            (static_cast<double>(k) - 1) * std::log(static_cast<double>(tau)));
    const Var<T> log_x = log(given);
    return (log_normalizer + sum(l - (tau + T(1)) * log_x, {-1})) - k * logsumexp(l - tau * log_x, -1);
  }

  /// x = softmax((l + g) / tau) = exp(z - logsumexp(z)),  z = (l + g) / tau,  g ~ Gumbel(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> g = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = detail::standard_gumbel<T>(rng);
    });
    const Var<T> z = (m_logits + g) / m_temperature;
    return exp(detail::log_softmax_last_axis(z));
  }

 private:
  T m_temperature;
  Var<T> m_logits;
};

}  // namespace vaelib
