#pragma once
// normal_cdf: Phi(x), the standard normal distribution function, elementwise. Computed through
// erfc so that the left tail keeps its relative accuracy (Phi(-30) = 4.9e-198, not 0); for
// log Phi use log_normal_cdf, which stays finite where Phi underflows.

#include <cmath>
#include <numbers>

#include "vaelib/autodiff/tape.hpp"

// Scalar std:: calls, not xt::erfc: xsimd's vectorised erfc is off by up to 6e-9 relative in
// the tail (erfc(26) in double), std's by an ulp or two.
namespace vaelib {

/// forward:  y = Phi(x) = erfc(-x / sqrt(2)) / 2
/// backward: dx += phi(x) dy,  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
template <class T>
Var<T> normal_cdf(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("normal_cdf", x);
  const Var<T> y = tape.make_node("normal_cdf", x.shape(), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t i = 0, n = tape.node(y).size; i < n; ++i)
    out[i] = T(0.5) * std::erfc(in[i] * T(-std::numbers::sqrt2 / 2));
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    const T* xv = t.value_ptr(x);
    for (std::size_t i = 0; i < self.size; ++i) {
      const T contribution =
          T(0.5 * std::numbers::sqrt2 * std::numbers::inv_sqrtpi) * std::exp(T(-0.5) * xv[i] * xv[i]) * self.grad[i];
      g.data[i] = g.accumulate ? g.data[i] + contribution : contribution;
    }
  });
  return y;
}

}  // namespace vaelib
