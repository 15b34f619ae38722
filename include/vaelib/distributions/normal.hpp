#pragma once
// Normal: the univariate normal distribution N(mean, std^2), parameterised by std or by
// log-std (the usual output of a network head). Reparameterised.
//
// log_prob is one node computed in double (also on a float tape): with log-std s, the
// standardised value (x - mean) exp(-s) is formed without exp(-s) alone, which overflows
// below s = -88 in float (-709 in double) where the density is still finite. An infinite
// value gives -inf; a NaN value, mean or log-std gives NaN where it is and nowhere else
// (anomaly mode names it). A std must be positive and finite (checked).

#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {
namespace detail {

/// (x - mean) / sigma with 1 / sigma = h^2 (h = exp(-s / 2) for log-std s): 1 / sigma alone
/// may overflow where the product does not. Where x - mean itself overflows (double only),
/// it is formed as twice its half. 0 where x = mean or h = 0 (then |z| < 1e-300 anyway).
inline double standardised_by_root(double x, double mean, double h) {
  const double d = x - mean;
  if (d == 0 || h == 0) return 0;
  if (std::isinf(d)) return 2 * ((x / 2 - mean / 2) * h) * h;
  return (d * h) * h;
}

/// log N(x | mean, sigma) elementwise (broadcasting), sigma = scale or exp(scale), as one node
/// computed in double:
///   value  -log(2 pi)/2 - log sigma - z^2/2,  z = (x - mean) / sigma
///   d/dx = -z / sigma,  d/dmean = z / sigma,  d/dlogstd = z^2 - 1,  d/dstd = (z^2 - 1) / sigma
/// An infinite x gives -inf (no gradient); a NaN x gives NaN.
template <class T>
Var<T> normal_log_density(const char* name, const Var<T>& x, const Var<T>& mean, const Var<T>& scale,
                          bool scale_is_log) {
  constexpr double half_log_2pi = 0.91893853320467274178;  // log(2 pi) / 2
  const std::array<Var<T>, 3> inputs{x, mean, scale};
  if (scale_is_log) {
    return scalar_log_density(name, inputs, [](const std::array<double, 3>& a) {
      if (std::isinf(a[0])) return outside_support<3>();  // the density's limit, 0
      const double s = a[2];
      const double h = std::exp(-s / 2);
      const double z = standardised_by_root(a[0], a[1], h);
      const double dx = z == 0 ? 0.0 : -((z * h) * h);
      return ScalarLogDensity<3>{-half_log_2pi - s - z * z / 2, {dx, -dx, z * z - 1}};
    });
  }
  const auto kernel = [](const std::array<double, 3>& a, double log_sigma) {
    if (std::isinf(a[0])) return outside_support<3>();
    const double sigma = a[2];
    double z = (a[0] - a[1]) / sigma;
    if (std::isinf(a[0] - a[1])) z = 2 * ((a[0] / 2 - a[1] / 2) / sigma);
    const double dx = -z / sigma;
    return ScalarLogDensity<3>{-half_log_2pi - log_sigma - z * z / 2, {dx, -dx, (z * z - 1) / sigma}};
  };
  if (scale.size() == 1) {
    // One scale for every x (a regression's sigma): its log and reciprocal once, and products
    // instead of three divisions per element (within an ulp or two of them).
    const double sigma = static_cast<double>(scale.data()[0]);
    const double log_sigma = std::log(sigma);
    const double inv_sigma = 1 / sigma;
    const auto one_scale_kernel = [&](const std::array<double, 3>& a) {
      if (std::isinf(a[0])) return outside_support<3>();
      double z = (a[0] - a[1]) * inv_sigma;
      if (std::isinf(a[0] - a[1])) z = 2 * ((a[0] / 2 - a[1] / 2) / sigma);
      const double dx = -z * inv_sigma;
      return ScalarLogDensity<3>{-half_log_2pi - log_sigma - z * z / 2, {dx, -dx, (z * z - 1) * inv_sigma}};
    };
    // The same arithmetic as one_scale_kernel without its branches, which the compiler
    // vectorises (x and mean of the output's shape or single values: a regression's data and
    // linear predictor); any non-finite x - mean sends the whole node back to the kernel.
    const auto one_scale_bulk = [&](std::size_t n, const std::array<const T*, 3>& data, const std::array<bool, 3>& single,
                                    T* out, T* partials) {
      const double c = -half_log_2pi - log_sigma;
      const auto pass = [&](auto x_single, auto mean_single, auto with_partials) {
        const T* x = data[0];
        const T* m = data[1];
        bool finite = true;
        for (std::size_t i = 0; i < n; ++i) {
          const double d = static_cast<double>(x[x_single ? 0 : i]) - static_cast<double>(m[mean_single ? 0 : i]);
          finite &= std::abs(d) <= std::numeric_limits<double>::max();  // false for inf and NaN
          const double z = d * inv_sigma;
          out[i] = static_cast<T>(c - z * z / 2);
          if constexpr (decltype(with_partials)::value) {
            const double dx = -z * inv_sigma;
            partials[i] = static_cast<T>(dx);
            partials[n + i] = static_cast<T>(-dx);
            partials[2 * n + i] = static_cast<T>((z * z - 1) * inv_sigma);
          }
        }
        return finite;
      };
      const auto with_mean = [&](auto x_single, auto with_partials) {
        return single[1] ? pass(x_single, std::true_type{}, with_partials)
                         : pass(x_single, std::false_type{}, with_partials);
      };
      const auto with_x = [&](auto with_partials) {
        return single[0] ? with_mean(std::true_type{}, with_partials) : with_mean(std::false_type{}, with_partials);
      };
      return partials ? with_x(std::true_type{}) : with_x(std::false_type{});
    };
    return scalar_log_density(name, inputs, one_scale_kernel, one_scale_bulk);
  }
  return scalar_log_density(name, inputs, [&](const std::array<double, 3>& a) { return kernel(a, std::log(a[2])); });
}

}  // namespace detail

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
    if (kind == Scale::std)
      this->check_values(scale, "std", "positive and finite",
                         [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  std::string_view name() const override { return "Normal"; }
  bool is_reparameterized() const override { return true; }

  Var<T> mean() const override { return broadcast_to(m_mean, this->batch_shape()); }
  /// Var[x] = std^2 (exp(2 logstd) from log-std)
  Var<T> variance() const override {
    return broadcast_to(m_kind == Scale::std ? square(m_scale) : exp(m_scale * T(2)), this->batch_shape());
  }
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
  /// log N(x | m, s) = -0.5 log(2 pi) - log s - 0.5 ((x - m) / s)^2  (detail::normal_log_density)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    return detail::normal_log_density("Normal.log_prob", given, this->maybe_detached(m_mean, detach_parameters),
                                      this->maybe_detached(m_scale, detach_parameters), m_kind == Scale::logstd);
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
