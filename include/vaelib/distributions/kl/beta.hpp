#pragma once
// KL(Beta || Beta) from the two pairs of parameters, one node in double per element. With
// lgamma_bregman(x2, x1) = lgamma(x2) - lgamma(x1) - (x2 - x1) digamma(x1) (the Bregman
// divergence of lgamma, free of cancellation at large parameters) and s = a + b:
//   KL(Beta(a1, b1) || Beta(a2, b2))
//     = log B(a2, b2) - log B(a1, b1) + (a1 - a2) digamma(a1) + (b1 - b2) digamma(b1)
//       + (s2 - s1) digamma(s1)
//     = lgamma_bregman(a2, a1) + lgamma_bregman(b2, b1) - lgamma_bregman(s2, s1)
// so that a float KL stays right to ~1e-7 relative for parameters up to 1e6 (the lgammas of
// the textbook form are ~1e7 each there).
//   dKL/da1 = (a1 - a2) trigamma(a1) + (s2 - s1) trigamma(s1)   (b1 likewise)
//   dKL/da2 = digamma(a2) - digamma(s2) - digamma(a1) + digamma(s1)   (b2 likewise)

#include <array>

#include "vaelib/distributions/beta.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/kl/numerics.hpp"

namespace vaelib::detail {

/// KL(Beta(a1, b1) || Beta(a2, b2)) with its partials (a1, b1, a2, b2), in double.
inline ScalarLogDensity<4> beta_beta_kl(const std::array<double, 4>& in) {
  const double a1 = in[0], b1 = in[1], a2 = in[2], b2 = in[3];
  const double s1 = a1 + b1, s2 = a2 + b2;
  const double value = lgamma_bregman(a2, a1) + lgamma_bregman(b2, b1) - lgamma_bregman(s2, s1);
  const double shift = (s2 - s1) * trigamma(s1);
  const double digamma_s = digamma(s1) - digamma(s2);
  return {value,
          {(a1 - a2) * trigamma(a1) + shift, (b1 - b2) * trigamma(b1) + shift, digamma(a2) - digamma(a1) + digamma_s,
           digamma(b2) - digamma(b1) + digamma_s}};
}

template <class T>
Var<T> kl_beta_beta(const Beta<T>& p, const Beta<T>& q) {
  const std::array<Var<T>, 4> inputs{p.alpha(), p.beta(), q.alpha(), q.beta()};
  return scalar_log_density("kl_divergence(Beta || Beta)", inputs, beta_beta_kl);
}

}  // namespace vaelib::detail
