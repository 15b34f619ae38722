#pragma once
// erf: the error function, elementwise.

#include <cmath>
#include <numbers>

#include "vaelib/autodiff/tape.hpp"

// Scalar std:: calls, not xt::erf, as in erfc.hpp (xsimd's vectorised erfc loses up to 6e-9
// relative in its tail; std's functions are good to an ulp or two).
namespace vaelib {

/// forward:  y = erf(x) = 2/sqrt(pi) int_0^x exp(-t^2) dt
/// backward: dx += 2/sqrt(pi) exp(-x^2) dy
template <class T>
Var<T> erf(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("erf", x);
  const Var<T> y = tape.make_node("erf", x.shape(), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t i = 0, n = tape.node(y).size; i < n; ++i) out[i] = std::erf(in[i]);
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    const T* xv = t.value_ptr(x);
    for (std::size_t i = 0; i < self.size; ++i) {
      const T contribution = T(2 * std::numbers::inv_sqrtpi) * std::exp(-xv[i] * xv[i]) * self.grad[i];
      g.data[i] = g.accumulate ? g.data[i] + contribution : contribution;
    }
  });
  return y;
}

}  // namespace vaelib
