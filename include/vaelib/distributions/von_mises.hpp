#pragma once
// VonMises: an angle x in [-pi, pi] concentrated around loc, the circular analogue of the
// normal: p(x) = exp(kappa cos(x - loc)) / (2 pi I0(kappa)), concentration kappa > 0 (I0 the
// modified Bessel function of the first kind). Not reparameterised; draws by Best and Fisher's
// rejection sampler ("Efficient simulation of the von Mises distribution", Applied Statistics
// 28, 1979), wrapped into [-pi, pi].
//
// log_prob is computed in double (also on a float tape) as
//   -2 kappa sin^2((x - loc) / 2) - log(2 pi) - log(exp(-kappa) I0(kappa)),
// with the exponentially scaled I0 (detail::scaled_bessel_i01), so that nothing of size kappa
// cancels or overflows: finite to kappa = 1e300. The support is [-pi, pi] (with float's
// rounding of pi, 3.14159274, included, so that a float draw at the edge scores): a value
// beyond, or infinite, gives -inf; a NaN value NaN.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {
namespace detail {

/// exp(-x) I0(x) and exp(-x) I1(x) for x >= 0, relative error ~1e-15: the power series
/// I_nu(x) = sum_m (x/2)^(2m + nu) / (m! (m + nu)!) (positive terms) below 30, above it the
/// asymptotic series exp(-x) I_nu(x) ~ (2 pi x)^(-1/2) sum_m (-1)^m prod_{j <= m} (4 nu^2 -
/// (2j - 1)^2) / (m! (8x)^m), whose terms fall below 1e-17 before they start to grow.
struct ScaledBesselI01 {
  double i0e, i1e;
};

inline ScaledBesselI01 scaled_bessel_i01(double x) {
  if (x < 30) {
    const double q = x * x / 4;
    double term0 = 1, sum0 = 1, term1 = x / 2, sum1 = x / 2;
    for (int m = 1; m < 500; ++m) {
      term0 *= q / (double(m) * m);
      term1 *= q / (double(m) * (m + 1));
      sum0 += term0;
      sum1 += term1;
      if (term0 <= 1e-17 * sum0 && term1 <= 1e-17 * sum1) break;
    }
    const double scale = std::exp(-x);
    return {sum0 * scale, sum1 * scale};
  }
  double term0 = 1, sum0 = 1, term1 = 1, sum1 = 1;
  for (int m = 1; m < 60; ++m) {
    const double odd2 = (2.0 * m - 1) * (2.0 * m - 1);
    term0 *= odd2 / (8.0 * m * x);         // -(0 - (2m-1)^2) / (8 m x)
    term1 *= -(4 - odd2) / (8.0 * m * x);  // -(4 - (2m-1)^2) / (8 m x)
    sum0 += term0;
    sum1 += term1;
    if (std::abs(term0) <= 1e-17 * sum0 && std::abs(term1) <= 1e-17 * sum1) break;
  }
  const double scale = 1 / std::sqrt(2 * std::numbers::pi * x);
  return {sum0 * scale, sum1 * scale};
}

/// An angle of VonMises(loc, kappa) in [-pi, pi] by Best and Fisher's rejection sampler, its
/// constants in forms that neither cancel at small kappa nor lose the angle at large kappa:
/// rho = 2 kappa / (tau + sqrt(2 tau)), tau = 1 + sqrt(1 + 4 kappa^2); r = (1 + rho^2) / (2 rho);
/// per trial z = cos(pi u1), f = (1 + r z) / (r + z) with 1 - f = (r - 1)(1 - z) / (r + z) and
/// 1 - z = 2 sin^2(pi u1 / 2); c = kappa (r - f); accept if c (2 - c) > u2 or
/// log(c / u2) + 1 - c >= 0; the angle is +-acos(f) = +-2 asin(sqrt((1 - f) / 2)), the sign
/// from u3. Where kappa is so small that rho underflows, the uniform angle (the limit).
inline double sample_von_mises(double loc, double kappa, Rng& rng) {
  constexpr double pi = std::numbers::pi;
  const double tau = 1 + std::sqrt(1 + 4 * kappa * kappa);
  const double rho = 2 * kappa / (tau + std::sqrt(2 * tau));
  const double r = (1 + rho * rho) / (2 * rho);
  if (!(r < 1e300)) return pi * (2 * rng.uniform<double>() - 1);
  const double r_minus_1 = (1 - rho) * (1 - rho) / (2 * rho);
  while (true) {
    const double u1 = rng.uniform<double>();
    const double u2 = 1 - rng.uniform<double>();  // (0, 1]: log(c / u2) is finite
    const double u3 = rng.uniform<double>();
    const double half_sin = std::sin(pi * u1 / 2);
    const double one_minus_z = 2 * half_sin * half_sin;
    const double z = std::cos(pi * u1);
    const double one_minus_f = r_minus_1 * one_minus_z / (r + z);
    const double c = kappa * (r_minus_1 + one_minus_f);
    if (c * (2 - c) > u2 || std::log(c / u2) + 1 - c >= 0) {
      const double theta = 2 * std::asin(std::sqrt(std::min(one_minus_f / 2, 1.0)));
      return std::remainder(loc + (u3 < 0.5 ? -theta : theta), 2 * pi);
    }
  }
}

}  // namespace detail

template <class T>
class VonMises final : public Distribution<T> {
 public:
  /// VonMises(loc, concentration): loc finite, concentration positive and finite (both
  /// checked); batch_shape is the broadcast of the two shapes.
  VonMises(const Var<T>& loc, const Var<T>& concentration, DistributionOptions options = {})
      : Distribution<T>(loc.tape(), broadcast_parameter_shapes("VonMises", {loc.shape(), concentration.shape()}),
                        Shape{}, options),
        m_loc(loc),
        m_concentration(concentration) {
    loc.tape().check_handle("VonMises", concentration);
    this->check_values(loc, "loc", "finite", [](T v) { return std::isfinite(v); });
    this->check_values(concentration, "concentration", "positive and finite",
                       [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  std::string_view name() const override { return "VonMises"; }
  bool is_reparameterized() const override { return false; }

  /// The circular mean (loc itself, not wrapped; not the mean of x on [-pi, pi], which is not
  /// loc in general: mean() has no closed form and throws).
  Var<T> loc() const { return m_loc; }
  Var<T> concentration() const { return m_concentration; }

  /// [-pi, pi]
  Support<T> support() const override {
    return Support<T>::interval(-std::numbers::pi_v<T>, std::numbers::pi_v<T>);
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "loc") return m_loc;
    if (parameter_name == "concentration") return m_concentration;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = kappa (cos(x - loc) - 1) - log(2 pi) - log(I0e(kappa)),  |x| <= pi;
  /// d/dx = -kappa sin(x - loc) = -d/dloc,  d/dkappa = cos(x - loc) - I1(kappa) / I0(kappa)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_loc, detach_parameters),
                                       this->maybe_detached(m_concentration, detach_parameters)};
    return detail::scalar_log_density("VonMises.log_prob", inputs, [](const std::array<double, 3>& a) {
      constexpr double log_2pi = 1.83787706640934548356;
      constexpr double bound = static_cast<double>(std::numbers::pi_v<float>);  // pi rounded up in float
      const double x = a[0], loc = a[1], kappa = a[2];
      if (std::isnan(x)) return detail::ScalarLogDensity<3>{x, {}};  // NaN in, NaN out (not "outside")
      if (!(std::abs(x) <= bound)) return detail::outside_support<3>();
      const double d = x - loc;
      const double half_sin = std::sin(d / 2);
      const detail::ScaledBesselI01 bessel = detail::scaled_bessel_i01(kappa);
      const double value = -2 * kappa * half_sin * half_sin - log_2pi - std::log(bessel.i0e);
      const double d_x = -kappa * std::sin(d);
      return detail::ScalarLogDensity<3>{value, {d_x, -d_x, std::cos(d) - bessel.i1e / bessel.i0e}};
    });
  }

  /// detail::sample_von_mises (Best-Fisher), one angle per element
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Shape& batch = this->batch_shape();
    const std::size_t batch_size = shape_size(batch);
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        const std::size_t j = i % batch_size;
        const double loc = static_cast<double>(m_loc.data()[detail::broadcast_source_index(j, batch, m_loc.shape())]);
        const double kappa = static_cast<double>(
            m_concentration.data()[detail::broadcast_source_index(j, batch, m_concentration.shape())]);
        data[i] = static_cast<T>(detail::sample_von_mises(loc, kappa, rng));
      }
    });
  }

 private:
  Var<T> m_loc;
  Var<T> m_concentration;
};

}  // namespace vaelib
