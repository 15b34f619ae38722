#pragma once
// Standard noise for the sampling of distributions: uniforms strictly inside (0, 1) and the
// standard Gumbel, logistic and Laplace variates built from them by inverse CDF. Each draws
// from the Rng in order, so a seed fixes the draw.

#include <cmath>

#include "vaelib/random/rng.hpp"

namespace vaelib::detail {

/// u ~ U(0, 1) with both ends excluded (log u and log(1 - u) are finite): Rng::uniform is
/// in [0, 1) with its largest value below 1, and the rare exact 0 is drawn again.
template <class T>
T open_uniform(Rng& rng) {
  T u = rng.uniform<T>();
  while (u == T(0)) u = rng.uniform<T>();
  return u;
}

/// g ~ Gumbel(0, 1):  g = -log(-log u)
template <class T>
T standard_gumbel(Rng& rng) {
  return -std::log(-std::log(open_uniform<T>(rng)));
}

/// e ~ Logistic(0, 1):  e = log u - log(1 - u)
template <class T>
T standard_logistic(Rng& rng) {
  const T u = open_uniform<T>(rng);
  return std::log(u) - std::log1p(-u);
}

/// e ~ Laplace(0, 1):  e = -sign(v) log(1 - 2|v|),  v = u - 1/2
template <class T>
T standard_laplace(Rng& rng) {
  const T v = open_uniform<T>(rng) - T(0.5);
  const T magnitude = -std::log1p(T(-2) * std::abs(v));
  return v < T(0) ? -magnitude : magnitude;
}

}  // namespace vaelib::detail
