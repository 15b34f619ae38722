#pragma once
// Normal: the univariate normal distribution N(mean, std^2), parameterised by std or by
// log-std (the usual output of a network head). Reparameterised.

#include <cmath>
#include <numbers>
#include <string>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class Normal final : public Distribution<T> {
 public:
  enum class Scale { std, logstd };

  /// N(mean, std^2) for std > 0 (checked); batch_shape is the broadcast of both shapes.
  static Normal with_std(const Var<T>& mean, const Var<T>& std, DistributionOptions options = {}) {
    return Normal(mean, std, Scale::std, options);
  }
  /// N(mean, exp(logstd)^2).
  static Normal with_logstd(const Var<T>& mean, const Var<T>& logstd, DistributionOptions options = {}) {
    return Normal(mean, logstd, Scale::logstd, options);
  }

  Normal(const Var<T>& mean, const Var<T>& scale, Scale kind, DistributionOptions options = {})
      : Distribution<T>(mean.tape(), broadcast_parameter_shapes("Normal", {mean.shape(), scale.shape()}), Shape{},
                        options),
        m_mean(mean),
        m_scale(scale),
        m_kind(kind) {
    mean.tape().check_handle("Normal", scale);
    if (kind == Scale::std) this->check_values(scale, "std", "positive", [](T v) { return v > T(0); });
  }

  std::string_view name() const override { return "Normal"; }
  bool is_reparameterized() const override { return true; }

  Var<T> mean() const override { return broadcast_to(m_mean, this->batch_shape()); }
  /// std (computed from log-std when that is the parameter).
  Var<T> std() const { return m_kind == Scale::std ? m_scale : exp(m_scale); }
  Var<T> logstd() const { return m_kind == Scale::logstd ? m_scale : log(m_scale); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "mean") return m_mean;
    if (parameter_name == "std") return std();
    if (parameter_name == "logstd") return logstd();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log N(x | m, s) = -0.5 log(2 pi) - log s - 0.5 ((x - m) / s)^2
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> m = this->maybe_detached(m_mean, detach_parameters);
    const Var<T> scale = this->maybe_detached(m_scale, detach_parameters);
    const T half_log_2pi = static_cast<T>(0.5 * std::log(2 * std::numbers::pi));
    if (m_kind == Scale::logstd) {
      const Var<T> z = (given - m) * exp(-scale);
      return (-half_log_2pi - scale) - T(0.5) * square(z);
    }
    const Var<T> z = (given - m) / scale;
    return (-half_log_2pi - log(scale)) - T(0.5) * square(z);
  }

  /// mean + std * eps, eps ~ N(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> eps = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      rng.fill_normal(std::span<T>(data, size));
    });
    return m_mean + std() * eps;
  }

  /// 0.5 log(2 pi e) + log std
  Var<T> entropy_impl() const override {
    const T c = static_cast<T>(0.5 * std::log(2 * std::numbers::pi * std::numbers::e));
    return broadcast_to(logstd() + c, this->batch_shape());
  }

 private:
  Var<T> m_mean;
  Var<T> m_scale;
  Scale m_kind;
};

}  // namespace vaelib
