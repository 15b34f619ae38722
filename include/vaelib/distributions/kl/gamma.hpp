#pragma once
// KL(Gamma || Gamma), KL(Exponential || Exponential) and the mixed pairs (Exponential is
// Gamma(1, rate)), from the shapes a and rates b, one node in double per element:
//   KL(Gamma(a1, b1) || Gamma(a2, b2))
//     = lgamma(a2) - lgamma(a1) + (a1 - a2) digamma(a1) + a2 log(b1 / b2) + a1 (b2 / b1 - 1)
//     = lgamma_bregman(a2, a1) + a1 (expm1(rho) - rho) + (a1 - a2) rho,   rho = log(b2 / b1)
// where lgamma_bregman has no cancellation at large shapes (Stirling's series) and
// expm1(rho) - rho none at close rates: a float KL is right to float rounding for shapes up to
// 1e6 and rates 1e30 apart, +inf only where the true value is beyond T's range.
//   dKL/da1 = (a1 - a2) trigamma(a1) + expm1(rho),   dKL/da2 = digamma(a2) - digamma(a1) - rho
//   dKL/db1 = (a2 - a1 b2 / b1) / b1,                dKL/db2 = a1 / b1 - a2 / b2

#include <array>
#include <cmath>

#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/exponential.hpp"
#include "vaelib/distributions/gamma.hpp"
#include "vaelib/distributions/kl/numerics.hpp"

namespace vaelib::detail {

/// KL(Gamma(a1, b1) || Gamma(a2, b2)) with its partials (a1, b1, a2, b2), in double.
inline ScalarLogDensity<4> gamma_gamma_kl(const std::array<double, 4>& in) {
  const double a1 = in[0], b1 = in[1], a2 = in[2], b2 = in[3];
  const double rho = log_ratio(b2, b1);
  // a1 (expm1(rho) - rho), through logs where e^rho alone would overflow (double only)
  const double rate_term = rho > 700 ? std::exp(rho + std::log(a1)) - a1 * (1 + rho) : a1 * expm1_minus_identity(rho);
  const double value = lgamma_bregman(a2, a1) + rate_term + (a1 - a2) * rho;
  const double grow = std::expm1(rho);
  return {value,
          {(a1 - a2) * trigamma(a1) + grow, (a2 - a1 * (b2 / b1)) / b1, digamma(a2) - digamma(a1) - rho,
           a1 / b1 - a2 / b2}};
}

template <class T>
Var<T> kl_gamma_gamma(const Gamma<T>& p, const Gamma<T>& q) {
  const std::array<Var<T>, 4> inputs{p.alpha(), p.beta(), q.alpha(), q.beta()};
  return scalar_log_density("kl_divergence(Gamma || Gamma)", inputs, gamma_gamma_kl);
}

/// KL(Exponential(l1) || Exponential(l2)) = expm1(rho) - rho, rho = log(l2 / l1)
template <class T>
Var<T> kl_exponential_exponential(const Exponential<T>& p, const Exponential<T>& q) {
  const std::array<Var<T>, 2> inputs{p.rate(), q.rate()};
  return scalar_log_density("kl_divergence(Exponential || Exponential)", inputs, [](const std::array<double, 2>& a) {
    const ScalarLogDensity<4> r = gamma_gamma_kl({1.0, a[0], 1.0, a[1]});
    return ScalarLogDensity<2>{r.value, {r.partials[1], r.partials[3]}};
  });
}

/// KL(Exponential(l) || Gamma(a, b)) = KL(Gamma(1, l) || Gamma(a, b))
template <class T>
Var<T> kl_exponential_gamma(const Exponential<T>& p, const Gamma<T>& q) {
  const std::array<Var<T>, 3> inputs{p.rate(), q.alpha(), q.beta()};
  return scalar_log_density("kl_divergence(Exponential || Gamma)", inputs, [](const std::array<double, 3>& a) {
    const ScalarLogDensity<4> r = gamma_gamma_kl({1.0, a[0], a[1], a[2]});
    return ScalarLogDensity<3>{r.value, {r.partials[1], r.partials[2], r.partials[3]}};
  });
}

/// KL(Gamma(a, b) || Exponential(l)) = KL(Gamma(a, b) || Gamma(1, l))
template <class T>
Var<T> kl_gamma_exponential(const Gamma<T>& p, const Exponential<T>& q) {
  const std::array<Var<T>, 3> inputs{p.alpha(), p.beta(), q.rate()};
  return scalar_log_density("kl_divergence(Gamma || Exponential)", inputs, [](const std::array<double, 3>& a) {
    const ScalarLogDensity<4> r = gamma_gamma_kl({a[0], a[1], 1.0, a[2]});
    return ScalarLogDensity<3>{r.value, {r.partials[0], r.partials[1], r.partials[3]}};
  });
}

}  // namespace vaelib::detail
