#pragma once
// FoldNormal: |y| for y ~ N(mean, std^2) (ZhuSuan's FoldNormal), parameterised by std or by
// log-std: density (phi((x - mean) / std) + phi((x + mean) / std)) / std on x >= 0.
// Reparameterised. A value below 0 or infinite gives log_prob -inf, a NaN value NaN.

#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class FoldNormal final : public Distribution<T> {
 public:
  enum class Scale { std, logstd };

  /// |N(mean, std^2)| for finite mean and std > 0 finite (checked).
  static FoldNormal with_std(const Var<T>& mean, const Var<T>& std, DistributionOptions options = {}) {
    return FoldNormal(mean, std, Scale::std, options);
  }
  /// |N(mean, exp(logstd)^2)| for finite mean and logstd (checked).
  static FoldNormal with_logstd(const Var<T>& mean, const Var<T>& logstd, DistributionOptions options = {}) {
    return FoldNormal(mean, logstd, Scale::logstd, options);
  }

  FoldNormal(const Var<T>& mean, const Var<T>& scale, Scale kind, DistributionOptions options = {})
      : Distribution<T>(mean.tape(), broadcast_parameter_shapes("FoldNormal", {mean.shape(), scale.shape()}), Shape{},
                        options),
        m_mean(mean),
        m_scale(scale),
        m_kind(kind) {
    mean.tape().check_handle("FoldNormal", scale);
    this->check_values(mean, "mean", "finite", [](T v) { return std::isfinite(v); });
    if (kind == Scale::std)
      this->check_values(scale, "std", "positive and finite",
                         [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
    else
      this->check_values(scale, "logstd", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "FoldNormal"; }
  Support<T> support() const override { return Support<T>::positive(); }
  bool is_reparameterized() const override { return true; }

  /// The mean of the normal before folding (E[x] is mean()).
  Var<T> normal_mean() const { return m_mean; }
  /// E|y| = mu erf(mu / (s sqrt 2)) + s sqrt(2 / pi) exp(-mu^2 / (2 s^2)).
  Var<T> mean() const override {
    const Var<T> s = std();
    const Var<T> r = m_mean / s;
    const T root2 = static_cast<T>(std::numbers::sqrt2), root2_over_pi = static_cast<T>(std::sqrt(2.0 / std::numbers::pi));
    return broadcast_to(m_mean * erf(r / root2) + s * root2_over_pi * exp(square(r) * static_cast<T>(-0.5)),
                        this->batch_shape());
  }
  /// Var[y] = E[y^2] - E[y]^2 = s^2 - d (2 |mu| + d),  d = E[y] - |mu|
  ///   = s (sqrt(2 / pi) exp(-r^2 / 2) - r erfc(r / sqrt 2)),  r = |mu| / s,
  /// which keeps the digits that mu^2 + s^2 - E[y]^2 would cancel when |mu| >> s
  Var<T> variance() const override {
    const Var<T> s = std();
    const Var<T> abs_mean = abs(m_mean);
    const Var<T> r = abs_mean / s;
    const T root2 = static_cast<T>(std::numbers::sqrt2), root2_over_pi = static_cast<T>(std::sqrt(2.0 / std::numbers::pi));
    const Var<T> d = s * (exp(square(r) * T(-0.5)) * root2_over_pi - r * erfc(r / root2));
    return broadcast_to(square(s) - d * (abs_mean * T(2) + d), this->batch_shape());
  }
  Var<T> std() const { return m_kind == Scale::std ? m_scale : exp(m_scale); }
  Var<T> logstd() const { return m_kind == Scale::logstd ? m_scale : log(m_scale); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "mean") return m_mean;
    if (parameter_name == "std") return std();
    if (parameter_name == "logstd") return logstd();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// With m = |mean| and c = 2 x m / std^2 >= 0 (the two normal terms' log-ratio),
  /// log p(x) = -log(2 pi) / 2 - log std - ((x - m) / std)^2 / 2 + log1p(exp(-c)),  x >= 0
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_mean, detach_parameters),
                                       this->maybe_detached(m_scale, detach_parameters)};
    const bool logstd = m_kind == Scale::logstd;
    return detail::scalar_log_density("FoldNormal.log_prob", inputs, [logstd](const std::array<double, 3>& a) {
      const double x = a[0], mean = a[1];
      if (x < 0 || std::isinf(x)) return detail::outside_support<3>();
      const double s = logstd ? std::exp(a[2]) : a[2];
      const double log_s = logstd ? a[2] : std::log(a[2]);
      const double m = std::abs(mean);
      const double z = (x - m) / s;
      const double c = 2 * x * (m / s) / s;
      const double r = 1 / (1 + std::exp(c));  // exp(-c) / (1 + exp(-c))
      const double value = -0.5 * std::log(2 * std::numbers::pi) - log_s - 0.5 * z * z + std::log1p(std::exp(-c));
      const double d_x = -z / s - r * 2 * (m / s) / s;
      const double d_m = z / s - r * 2 * (x / s) / s;
      const double d_s = (z * z - 1 + 2 * r * c) / s;  // d/d std
      return detail::ScalarLogDensity<3>{value, {d_x, mean < 0 ? -d_m : d_m, logstd ? d_s * s : d_s}};
    });
  }

  /// |mean + std e|,  e ~ N(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> e = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      rng.fill_normal(std::span<T>(data, size));
    });
    return abs(m_mean + std() * e);
  }

 private:
  Var<T> m_mean;
  Var<T> m_scale;
  Scale m_kind;
};

}  // namespace vaelib
