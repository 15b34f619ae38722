#pragma once
// cumsum: running sums along one axis (ordered cut-points, stick lengths, cumulative hazards).

#include <algorithm>
#include <cstddef>

#include "vaelib/autodiff/detail/axis_view.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y_j = sum_{k <= j} x_k along `axis` (same shape as x)
/// backward: dx_j += sum_{k >= j} dy_k  (the running sum of dy from the end)
template <class T>
Var<T> cumsum(const Var<T>& x, std::ptrdiff_t axis) {
  Tape<T>& tape = x.tape();
  tape.check_handle("cumsum", x);
  const std::size_t ax = normalize_axis("cumsum", axis, x.rank());
  const Var<T> y = tape.make_node("cumsum", x.shape(), {x});
  const detail::AxisView v = detail::axis_view(x.shape(), ax);
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t o = 0; o < v.outer; ++o) {
    const std::size_t base = o * v.n * v.inner;
    for (std::size_t j = 0; j < v.n; ++j)
      for (std::size_t i = 0; i < v.inner; ++i) {
        const std::size_t at = base + j * v.inner + i;
        out[at] = j == 0 ? in[at] : out[at - v.inner] + in[at];
      }
  }
  tape.set_backward(y, [x, ax](Tape<T>& t, TapeRecord<T>& self) {
    const detail::AxisView w = detail::axis_view(self.shape, ax);
    const GradTarget<T> g = t.grad_target(x);
    T* running = self.scratch.ensure(w.inner);
    for (std::size_t o = 0; o < w.outer; ++o) {
      const std::size_t base = o * w.n * w.inner;
      std::fill_n(running, w.inner, T(0));
      for (std::size_t j = w.n; j-- > 0;)
        for (std::size_t i = 0; i < w.inner; ++i) {
          const std::size_t at = base + j * w.inner + i;
          running[i] += self.grad[at];
          g.data[at] = g.accumulate ? g.data[at] + running[i] : running[i];
        }
    }
  });
  return y;
}

}  // namespace vaelib
