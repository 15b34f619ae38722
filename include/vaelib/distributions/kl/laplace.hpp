#pragma once
// KL(Laplace || Laplace) and KL(Normal || Laplace), one node in double per element.
//
// KL(Laplace(m1, b1) || Laplace(m2, b2)) = log(b2 / b1) + |m1 - m2| / b2 + (b1 / b2) e^{-|m1 - m2| / b1} - 1
//   = phi(rho - u) + u expm1(rho),   rho = log(b1 / b2),  u = |m1 - m2| / b1,  phi(x) = expm1(x) - x
// (phi has no cancellation at close scales; u expm1(rho) = |m1 - m2| (1/b2 - 1/b1) none at close
// scales either). With E = exp(rho - u), s = sign(m1 - m2), v = |m1 - m2| / b2:
//   dKL/dm1 = s (1/b2 - E/b1) = -dKL/dm2,   dKL/db1 = (expm1(rho - u) + E u) / b1,
//   dKL/db2 = -(expm1(rho - u) + v) / b2
// An infinite scale or location gives +inf (the limit), with no gradient; so in the pair below.
//
// KL(Normal(m, s) || Laplace(l, b)) = log(2 b / s) - log(2 pi e)/2 + E|x - l| / b,
//   E|x - l| = s sqrt(2/pi) exp(-z^2/2) + (m - l) erf(z / sqrt 2),  z = (m - l) / s
//   dKL/dm = erf(z / sqrt 2) / b = -dKL/dl,   dKL/dlog s = s sqrt(2/pi) exp(-z^2/2) / b - 1,
//   dKL/db = (1 - E|x - l| / b) / b
// from the Normal's log-std (s sqrt(2/pi) exp(-z^2/2) / b as one exp of a sum of logs).

#include <array>
#include <cmath>
#include <limits>
#include <numbers>

#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/kl/numerics.hpp"
#include "vaelib/distributions/laplace.hpp"
#include "vaelib/distributions/normal.hpp"

namespace vaelib::detail {

/// KL(Laplace(m1, b1) || Laplace(m2, b2)) with its partials (m1, b1, m2, b2), in double.
inline ScalarLogDensity<4> laplace_laplace_kl(const std::array<double, 4>& in) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double m1 = in[0], b1 = in[1], m2 = in[2], b2 = in[3];
  if (std::isnan(m1) || std::isnan(b1) || std::isnan(m2) || std::isnan(b2)) return {m1 + b1 + m2 + b2, {}};
  if (std::isinf(m1) || std::isinf(b1) || std::isinf(m2) || std::isinf(b2)) return {inf, {}};
  const double diff = m1 - m2;
  const double dist = std::abs(diff);
  const double rho = log_ratio(b1, b2);
  const double u = dist / b1, v = dist / b2;
  const double shift = rho > 1 ? v - u : u * std::expm1(rho);  // |m1 - m2| (1/b2 - 1/b1)
  const double value = expm1_minus_identity(rho - u) + shift;
  const double e = std::exp(rho - u);
  const double sign = diff > 0 ? 1.0 : diff < 0 ? -1.0 : 0.0;
  const double d_m1 = sign * (1 / b2 - e / b1);
  return {value, {d_m1, (std::expm1(rho - u) + e * u) / b1, -d_m1, -(std::expm1(rho - u) + v) / b2}};
}

/// KL(Normal(m, exp(log_s)) || Laplace(l, b)) with its partials (m, log_s, l, b), in double.
inline ScalarLogDensity<4> normal_laplace_kl(const std::array<double, 4>& in) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double m = in[0], log_s = in[1], l = in[2], b = in[3];
  if (std::isnan(m) || std::isnan(log_s) || std::isnan(l) || std::isnan(b)) return {m + log_s + l + b, {}};
  if (std::isinf(m) || std::isinf(log_s) || std::isinf(l) || std::isinf(b)) return {inf, {}};  // the limits
  // log(2/pi)/2 and log(2) - log(2 pi e)/2
  constexpr double half_log_2_over_pi = -0.22579135264472743236;
  constexpr double constant = 0.69314718055994530942 - 1.41893853320467274178;
  const double diff = m - l;
  const double h = std::exp(-log_s / 2);
  const double z = standardised_by_root(m, l, h);
  const double log_b = std::log(b);
  const double spread = std::exp(log_s - log_b + half_log_2_over_pi - z * z / 2);  // s sqrt(2/pi) e^{-z^2/2} / b
  const double erf_z = std::erf(z / std::numbers::sqrt2);
  const double mean_term = diff == 0 ? 0.0 : diff / b * erf_z;  // (m - l) erf / b
  const double expected_abs_over_b = spread + mean_term;
  const double value = constant + log_b - log_s + expected_abs_over_b;
  return {value, {erf_z / b, spread - 1, -erf_z / b, (1 - expected_abs_over_b) / b}};
}

template <class T>
Var<T> kl_laplace_laplace(const Laplace<T>& p, const Laplace<T>& q) {
  const std::array<Var<T>, 4> inputs{p.loc(), p.scale(), q.loc(), q.scale()};
  return scalar_log_density("kl_divergence(Laplace || Laplace)", inputs, laplace_laplace_kl);
}

template <class T>
Var<T> kl_normal_laplace(const Normal<T>& p, const Laplace<T>& q) {
  const std::array<Var<T>, 4> inputs{p.parameter("mean"), p.logstd(), q.loc(), q.scale()};
  return scalar_log_density("kl_divergence(Normal || Laplace)", inputs, normal_laplace_kl);
}

}  // namespace vaelib::detail
