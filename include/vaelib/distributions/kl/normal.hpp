#pragma once
// KL(Normal || Normal), one node in double per element, from the log-stds:
//   KL(N(m1, s1) || N(m2, s2)) = log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2
//     = (expm1(r) - r) / 2 + z^2 / 2,   r = 2 (log s1 - log s2),  z = (m1 - m2) / s2
// never through the ratio of variances (which overflows in float once the log-stds differ by
// ~44): finite wherever the true value is, +inf only beyond range.
//   dKL/dm1 = z / s2 = -dKL/dm2,   dKL/dlog s1 = expm1(r),   dKL/dlog s2 = -expm1(r) - z^2

#include <array>
#include <cmath>

#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/kl/numerics.hpp"
#include "vaelib/distributions/normal.hpp"

namespace vaelib::detail {

/// KL(N(m1, exp(ls1)) || N(m2, exp(ls2))) with its partials (m1, ls1, m2, ls2), in double.
inline ScalarLogDensity<4> normal_normal_kl(const std::array<double, 4>& a) {
  const double r = 2 * (a[1] - a[3]);
  const double h = std::exp(-a[3] / 2);  // 1 / s2 = h^2
  const double z = standardised_by_root(a[0], a[2], h);
  const double dm = z == 0 ? 0.0 : (z * h) * h;  // z / s2
  const double grow = std::expm1(r);
  return {expm1_minus_identity(r) / 2 + z * z / 2, {dm, grow, -dm, -grow - z * z}};
}

template <class T>
Var<T> kl_normal_normal(const Normal<T>& p, const Normal<T>& q) {
  const std::array<Var<T>, 4> inputs{p.mean(), p.logstd(), q.mean(), q.logstd()};
  return scalar_log_density("kl_divergence(Normal || Normal)", inputs, normal_normal_kl);
}

}  // namespace vaelib::detail
