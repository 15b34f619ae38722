#pragma once
// softmax: probabilities from logits along one axis, in one node: the exp of log_softmax's
// max-subtracted kernel (no overflow for large logits, no loss from subtracting a large
// log-sum-exp).

#include <cmath>
#include <cstddef>

#include "vaelib/autodiff/ops/log_softmax.hpp"

namespace vaelib {

/// forward:  y_j = exp(x_j - m) / sum_k exp(x_k - m), m = max_k x_k, along `axis` (default:
///           the last); sums to 1. -inf logits beside finite ones give 0; a slice of all -inf,
///           or holding +inf, gives NaN.
/// backward: dx_j += y_j (dy_j - sum_k y_k dy_k)
template <class T>
Var<T> softmax(const Var<T>& x, std::ptrdiff_t axis = -1) {
  Tape<T>& tape = x.tape();
  tape.check_handle("softmax", x);
  const std::size_t ax = detail::softmax_axis("softmax", axis, x.shape());
  const Var<T> y = tape.make_node("softmax", x.shape(), {x});
  T* out = tape.value_ptr(y);
  detail::log_softmax_into(x.data(), out, detail::axis_view(x.shape(), ax));
  for (std::size_t i = 0, n = tape.node(y).size; i < n; ++i) out[i] = std::exp(out[i]);
  tape.set_backward(y, [x, ax](Tape<T>& t, TapeRecord<T>& self) {
    const detail::AxisView w = detail::axis_view(self.shape, ax);
    const GradTarget<T> g = t.grad_target(x);
    detail::for_each_axis_slice(w, [&](std::size_t first, std::size_t stride) {
      T weighted = 0;
      for (std::size_t j = 0; j < w.n; ++j) weighted += self.value[first + j * stride] * self.grad[first + j * stride];
      for (std::size_t j = 0; j < w.n; ++j) {
        const std::size_t at = first + j * stride;
        const T contribution = self.value[at] * (self.grad[at] - weighted);
        g.data[at] = g.accumulate ? g.data[at] + contribution : contribution;
      }
    });
  });
  return y;
}

}  // namespace vaelib
