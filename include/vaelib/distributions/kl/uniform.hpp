#pragma once
// KL(Uniform || Uniform), one node in double per element:
//   KL(U(l1, h1) || U(l2, h2)) = log((h2 - l2) / (h1 - l1))  if l2 <= l1 and h1 <= h2,  else +inf
// (+inf where p puts mass outside q's support, with no gradient). The widths are formed from
// the halves (they may overflow T), and the log as log1p(excess / width of p), excess =
// (h2 - h1) + (l1 - l2) >= 0, so that nearly equal supports keep their small KL.
//   dKL/dl1 = 1 / (h1 - l1) = -dKL/dh1,   dKL/dh2 = 1 / (h2 - l2) = -dKL/dl2

#include <array>
#include <cmath>
#include <limits>

#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/uniform.hpp"

namespace vaelib::detail {

/// KL(U(l1, h1) || U(l2, h2)) with its partials (l1, h1, l2, h2), in double.
inline ScalarLogDensity<4> uniform_uniform_kl(const std::array<double, 4>& in) {
  const double l1 = in[0], h1 = in[1], l2 = in[2], h2 = in[3];
  if (!(l2 <= l1 && h1 <= h2)) return {std::numeric_limits<double>::infinity(), {}};
  const double half_p = h1 / 2 - l1 / 2, half_q = h2 / 2 - l2 / 2;
  const double excess = (h2 / 2 - h1 / 2) + (l1 / 2 - l2 / 2);  // half_q - half_p, both parts >= 0
  const double ratio = excess / half_p;
  const double value = std::isfinite(ratio) ? std::log1p(ratio) : std::log(half_q) - std::log(half_p);
  const double inv_p = 0.5 / half_p, inv_q = 0.5 / half_q;
  return {value, {inv_p, -inv_p, -inv_q, inv_q}};
}

template <class T>
Var<T> kl_uniform_uniform(const Uniform<T>& p, const Uniform<T>& q) {
  const std::array<Var<T>, 4> inputs{p.low(), p.high(), q.low(), q.high()};
  return scalar_log_density("kl_divergence(Uniform || Uniform)", inputs, uniform_uniform_kl);
}

}  // namespace vaelib::detail
