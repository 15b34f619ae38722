#pragma once
// KL(Poisson || Poisson), one node in double per element:
//   KL(Poisson(l1) || Poisson(l2)) = l1 log(l1 / l2) - l1 + l2 = l1 (expm1(d) - d),  d = log(l2 / l1)
// from the parameter each distribution holds: rates (d by log1p of their relative difference
// when they are close) or log-rates (d = their difference, exact), so that nearby rates of
// 1e6 keep their small KL in float. +inf only beyond range.
//   dKL/dl1 = -d,  dKL/dl2 = -expm1(-d)              (rates)
//   dKL/dlog l1 = -l1 d,  dKL/dlog l2 = l1 expm1(d)  (log-rates)

#include <array>
#include <cmath>
#include <utility>

#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/kl/numerics.hpp"
#include "vaelib/distributions/poisson.hpp"

namespace vaelib::detail {

/// The parameter a Poisson holds (its log-rate or its rate, Poisson::holds_log_rate), and
/// whether it is the log-rate.
template <class T>
std::pair<Var<T>, bool> poisson_held_parameter(const Poisson<T>& p) {
  if (p.holds_log_rate()) return {p.log_rate(), true};
  return {p.rate(), false};
}

/// KL(Poisson || Poisson) and its partials from (rate or log-rate) of p and of q.
inline ScalarLogDensity<2> poisson_poisson_kl(double p_parameter, bool p_log, double q_parameter, bool q_log) {
  const double rate_p = p_log ? std::exp(p_parameter) : p_parameter;
  const double d = p_log && q_log     ? q_parameter - p_parameter
                   : !p_log && !q_log ? log_ratio(q_parameter, p_parameter)
                   : p_log            ? std::log(q_parameter) - p_parameter
                                      : q_parameter - std::log(p_parameter);
  // l1 (expm1(d) - d), through logs where e^d alone would overflow (double only)
  const double log_rate_p = p_log ? p_parameter : std::log(p_parameter);
  const double value = d > 700 ? std::exp(d + log_rate_p) - rate_p * (1 + d) : rate_p * expm1_minus_identity(d);
  const double grow = std::expm1(d);
  // d/drate_p = -d, d/drate_q = 1 - rate_p / rate_q = -expm1(-d); per log-rate: times the rate
  const double d_p = p_log ? -rate_p * d : -d;
  const double d_q = q_log ? rate_p * grow : -std::expm1(-d);
  return {value, {d_p, d_q}};
}

template <class T>
Var<T> kl_poisson_poisson(const Poisson<T>& p, const Poisson<T>& q) {
  const auto [p_parameter, p_log] = poisson_held_parameter(p);
  const auto [q_parameter, q_log] = poisson_held_parameter(q);
  const std::array<Var<T>, 2> inputs{p_parameter, q_parameter};
  const char* name = "kl_divergence(Poisson || Poisson)";
  if (p_log && q_log)
    return scalar_log_density(
        name, inputs, [](const std::array<double, 2>& a) { return poisson_poisson_kl(a[0], true, a[1], true); });
  if (p_log)
    return scalar_log_density(
        name, inputs, [](const std::array<double, 2>& a) { return poisson_poisson_kl(a[0], true, a[1], false); });
  if (q_log)
    return scalar_log_density(
        name, inputs, [](const std::array<double, 2>& a) { return poisson_poisson_kl(a[0], false, a[1], true); });
  return scalar_log_density(
      name, inputs, [](const std::array<double, 2>& a) { return poisson_poisson_kl(a[0], false, a[1], false); });
}

}  // namespace vaelib::detail
