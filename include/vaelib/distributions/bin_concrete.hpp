#pragma once
// BinConcrete: the binary Concrete distribution, a continuous relaxation of Bernoulli(sigmoid(l))
// on (0, 1), also called RelaxedBernoulli (Maddison, Mnih and Teh, "The Concrete
// Distribution", ICLR 2017, section 3.3 and appendix; the k = 2 Concrete seen through its
// first coordinate). Reparameterised: samples are differentiable in the logits.
//
// With temperature tau > 0, logits l and alpha = exp(l):
//
//   sample:   x = sigmoid((l + L) / tau),  L = log u - log(1 - u) ~ Logistic(0, 1), u ~ U(0, 1)
//   density:  p(x) = tau alpha x^(-tau-1) (1-x)^(-tau-1) / (alpha x^(-tau) + (1-x)^(-tau))^2
//
// Taking logs, with log(alpha x^(-tau) + (1-x)^(-tau)) = -tau log(1-x) + softplus(l - tau y)
// and y = log x - log(1-x) (the logit of x):
//
//   log p(x) = log tau + l - (tau+1) log x + (tau-1) log(1-x) - 2 softplus(l - tau y)
//
// (equivalently: y = logit(x) is Logistic(l / tau, 1 / tau), and log p(x) is its log density
// minus log x + log(1-x), the log-Jacobian of x -> y).
//
// At low temperatures a sample can round to exactly 0 or 1, where the log density is not
// finite: keep tau moderate (the papers use 0.1 to 1).

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class BinConcrete final : public Distribution<T> {
 public:
  /// BinConcrete(temperature, logits): temperature a positive finite scalar (checked),
  /// logits finite (checked). batch_shape = logits.shape, value_shape = [].
  BinConcrete(T temperature, const Var<T>& logits, DistributionOptions options = {})
      : Distribution<T>(logits.tape(), logits.shape(), Shape{}, options), m_temperature(temperature), m_logits(logits) {
    if (!(temperature > T(0) && std::isfinite(temperature))) {
      throw ArgumentError("BinConcrete: temperature must be positive and finite, got " + std::to_string(temperature));
    }
    this->check_values(logits, "logits", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "BinConcrete"; }
  Support<T> support() const override { return Support<T>::unit_interval(); }
  bool is_reparameterized() const override { return true; }

  T temperature() const { return m_temperature; }
  Var<T> logits() const { return m_logits; }
  /// sigmoid(logits): the probability of the Bernoulli variable being relaxed.
  Var<T> probs() const { return sigmoid(m_logits); }

  /// "logits", "probs", or "temperature" (a rank-0 constant).
  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "probs") return probs();
    if (parameter_name == "temperature") return m_logits.tape().constant(m_temperature);
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = log tau + l - (tau+1) log x + (tau-1) log(1-x) - 2 softplus(l - tau (log x - log(1-x)))
  /// (x in the open interval (0, 1); not checked)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> l = this->maybe_detached(m_logits, detach_parameters);
    const T tau = m_temperature;
    const Var<T> log_x = log(given);
    const Var<T> log_1mx = log1p(-given);
    const Var<T> base = (std::log(tau) + l) - (tau + T(1)) * log_x + (tau - T(1)) * log_1mx;
    return base - T(2) * softplus(l - tau * (log_x - log_1mx));
  }

  /// x = sigmoid((l + L) / tau),  L = log u - log(1 - u),  u ~ U(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> logistic = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = detail::standard_logistic<T>(rng);
    });
    return sigmoid((m_logits + logistic) / m_temperature);
  }

 private:
  T m_temperature;
  Var<T> m_logits;
};

}  // namespace vaelib
