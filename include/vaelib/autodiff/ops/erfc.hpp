#pragma once
// erfc: the complementary error function 1 - erf(x), elementwise. Keeps its relative accuracy
// for large x, where 1 - erf(x) would round to 0 (erfc(10) = 2.1e-45).

#include <cmath>
#include <numbers>

#include "vaelib/autodiff/tape.hpp"

// Scalar std:: calls, not xt::erfc: xsimd's vectorised erfc is off by up to 6e-9 relative in
// the tail (erfc(26) in double), std's by an ulp or two.
namespace vaelib {

/// forward:  y = erfc(x) = 1 - erf(x)
/// backward: dx += -2/sqrt(pi) exp(-x^2) dy
template <class T>
Var<T> erfc(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("erfc", x);
  const Var<T> y = tape.make_node("erfc", x.shape(), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t i = 0, n = tape.node(y).size; i < n; ++i) out[i] = std::erfc(in[i]);
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    const T* xv = t.value_ptr(x);
    for (std::size_t i = 0; i < self.size; ++i) {
      const T contribution = T(-2 * std::numbers::inv_sqrtpi) * std::exp(-xv[i] * xv[i]) * self.grad[i];
      g.data[i] = g.accumulate ? g.data[i] + contribution : contribution;
    }
  });
  return y;
}

}  // namespace vaelib
