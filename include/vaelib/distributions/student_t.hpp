#pragma once
// StudentT: Student's t distribution with df > 0 degrees of freedom, location loc and scale
// > 0, density Gamma((df+1)/2) / (Gamma(df/2) sqrt(df pi) scale) (1 + z^2/df)^(-(df+1)/2),
// z = (x - loc) / scale. Heavy-tailed (df = 1 is the Cauchy). Reparameterised in all three
// parameters: a draw is loc + scale e / sqrt(2 g / df) with e standard normal and g a
// Gamma(df/2, 1) draw, whose implicit-reparameterisation gradient (as Gamma's) carries the
// draw's gradient to df.
//
// log_prob is computed in double (also on a float tape) with lgamma((df+1)/2) - lgamma(df/2)
// taken without cancellation at large df; an infinite value gives -inf, a NaN value NaN.

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/gamma_cdf_gradient.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/detail/scalar_sample.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/gamma.hpp"

namespace vaelib {

template <class T>
class StudentT final : public Distribution<T> {
 public:
  /// StudentT(df, loc, scale) for df > 0 and scale > 0, all finite (checked); batch_shape is
  /// the broadcast of the three shapes.
  StudentT(const Var<T>& df, const Var<T>& loc, const Var<T>& scale, DistributionOptions options = {})
      : Distribution<T>(df.tape(), broadcast_parameter_shapes("StudentT", {df.shape(), loc.shape(), scale.shape()}),
                        Shape{}, options),
        m_df(df),
        m_loc(loc),
        m_scale(scale) {
    df.tape().check_handle("StudentT", loc);
    df.tape().check_handle("StudentT", scale);
    const auto positive_finite = [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); };
    this->check_values(df, "df", "positive and finite", positive_finite);
    this->check_values(loc, "loc", "finite", [](T v) { return std::isfinite(v); });
    this->check_values(scale, "scale", "positive and finite", positive_finite);
  }

  std::string_view name() const override { return "StudentT"; }
  bool is_reparameterized() const override { return true; }

  Var<T> df() const { return m_df; }
  Var<T> loc() const { return m_loc; }
  Var<T> scale() const { return m_scale; }

  /// E[x] = loc, defined for df > 1 only: ArgumentError naming the first df <= 1 otherwise.
  Var<T> mean() const override {
    this->check_values(m_df, "df", "above 1 for the mean to exist", [](T v) { return v > T(1); });
    return broadcast_to(m_loc, this->batch_shape());
  }
  /// Var[x] = scale^2 df / (df - 2) for df > 2, +inf for 1 < df <= 2; undefined for df <= 1
  /// (ArgumentError naming the first such df, as for the mean)
  Var<T> variance() const override {
    this->check_values(m_df, "df", "above 1 for the variance to exist", [](T v) { return v > T(1); });
    const Var<T> finite = this->mask(m_df, [](T v) { return v > T(2); });
    const Var<T> df = where(finite, m_df, this->tape().constant(T(3)));  // no 1 / 0 in the unused branch
    const Var<T> v = where(finite, square(m_scale) * (df / (df - T(2))),
                           this->tape().constant(std::numeric_limits<T>::infinity()));
    return broadcast_to(v, this->batch_shape());
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "df") return m_df;
    if (parameter_name == "loc") return m_loc;
    if (parameter_name == "scale") return m_scale;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = lgamma((df+1)/2) - lgamma(df/2) - log(df pi)/2 - log scale - (df+1)/2 log1p(z^2/df)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 4> inputs{given, this->maybe_detached(m_df, detach_parameters),
                                       this->maybe_detached(m_loc, detach_parameters),
                                       this->maybe_detached(m_scale, detach_parameters)};
    return detail::scalar_log_density("StudentT.log_prob", inputs, [](const std::array<double, 4>& a) {
      const double x = a[0], df = a[1], loc = a[2], scale = a[3];
      if (std::isinf(x)) return detail::outside_support<4>();  // the density's limit, 0
      const double z = (x - loc) / scale;
      const double z2 = z * z;
      const double w = 1 / (1 + df / z2);            // z^2 / (df + z^2), 1 where z^2 overflows
      const double dz = -(df + 1) * (z / (df + z2));  // d log p / dz (0 where z^2 overflows)
      const double value = detail::log_gamma_half_ratio(df / 2) - 0.5 * std::log(df * std::numbers::pi) -
                           std::log(scale) - (df + 1) / 2 * std::log1p(z2 / df);
      const double d_df = 0.5 * detail::digamma_half_ratio(df / 2) - 0.5 / df - 0.5 * std::log1p(z2 / df) +
                          (df + 1) * w / (2 * df);
      return detail::ScalarLogDensity<4>{value, {dz / scale, d_df, -dz / scale, ((df + 1) * w - 1) / scale}};
    });
  }

  /// loc + scale t,  t = e / sqrt(c / df),  e ~ N(0, 1),  c = 2 g ~ chi-squared(df),
  /// g ~ Gamma(df/2, 1) (detail::sample_log_standard_gamma, in logs: finite for tiny df),
  /// computed in double and capped at T's largest finite number. Reparameterised in all three
  /// parameters: dx/dloc = 1, dx/dscale = t, and, through the implicit gradient of the Gamma
  /// draw (its quantile at fixed CDF level, detail/gamma_cdf_gradient.hpp),
  ///   dx/ddf = scale t (1 / (2 df) - (d log g / d alpha) / 4),  alpha = df / 2
  /// (log |t| = log |e| + (log(df / 2) - log g) / 2). No gradient where t overflows double.
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const std::array<Var<T>, 3> parameters{m_df, m_loc, m_scale};
    return detail::scalar_sample(
        "StudentT.sample", this->sample_shape(n), parameters, [&rng](const std::array<double, 3>& p, bool want_partials) {
          const double nu = p[0], loc = p[1], scale = p[2];
          const double log_g = detail::sample_log_standard_gamma(nu / 2, rng);
          const double e = rng.normal<double>();
          const double magnitude = std::exp(std::log(std::abs(e)) + 0.5 * (std::log(nu / 2) - log_g));
          const double t = e < 0 ? -magnitude : magnitude;
          constexpr double largest = static_cast<double>(std::numeric_limits<T>::max());
          const T value = static_cast<T>(std::clamp(loc + scale * t, -largest, largest));
          if (!want_partials || !std::isfinite(t)) return detail::ScalarDraw<T, 3>{value, {}};
          const double dt_dnu = t * (0.5 / nu - 0.25 * detail::standard_gamma_log_draw_alpha_derivative(log_g, nu / 2));
          return detail::ScalarDraw<T, 3>{value, {scale * dt_dnu, 1, t}};
        });
  }

 private:
  Var<T> m_df;
  Var<T> m_loc;
  Var<T> m_scale;
};

}  // namespace vaelib
