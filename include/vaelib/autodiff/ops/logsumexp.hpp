#pragma once
// logsumexp: log(sum(exp(x))) along one axis, computed with the maximum subtracted.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "vaelib/autodiff/detail/axis_view.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y = m + log(sum_j exp(x_j - m)),  m = max_j x_j  (y = m when m is +-inf)
/// backward: dx_j += dy * exp(x_j - y)  (the softmax; 0 where y = -inf; where y = +inf, dy
///           is shared equally by the +inf entries)
template <class T>
Var<T> logsumexp(const Var<T>& x, std::ptrdiff_t axis, bool keep_dims = false) {
  Tape<T>& tape = x.tape();
  tape.check_handle("logsumexp", x);
  const std::size_t ax = normalize_axis("logsumexp", axis, x.rank());
  const detail::AxisView v = detail::axis_view(x.shape(), ax);
  if (v.n == 0) {
    throw ShapeError("logsumexp: axis " + std::to_string(axis) + " of shape " + to_string(x.shape()) +
                     " is empty (expected at least one element to reduce)");
  }
  const Var<T> y = tape.make_node("logsumexp", detail::without_axis(x.shape(), ax, keep_dims), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t o = 0; o < v.outer; ++o) {
    const T* block = in + o * v.n * v.inner;
    T* res = out + o * v.inner;
    for (std::size_t i = 0; i < v.inner; ++i) res[i] = block[i];
    for (std::size_t j = 1; j < v.n; ++j)
      for (std::size_t i = 0; i < v.inner; ++i) res[i] = std::max(res[i], block[j * v.inner + i]);
    for (std::size_t i = 0; i < v.inner; ++i) {
      const T m = res[i];
      if (std::isinf(m)) continue;  // all -inf, or a +inf present: the answer is m itself
      T s = 0;
      for (std::size_t j = 0; j < v.n; ++j) s += std::exp(block[j * v.inner + i] - m);
      res[i] = m + std::log(s);
    }
  }
  tape.set_backward(y, [x, ax](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& in_node = t.node(x);
    const detail::AxisView w = detail::axis_view(in_node.shape, ax);
    const GradTarget<T> g = t.grad_target(x);
    for (std::size_t o = 0; o < w.outer; ++o) {
      const T* xb = in_node.value + o * w.n * w.inner;
      T* gb = g.data + o * w.n * w.inner;
      const T* yb = self.value + o * w.inner;
      const T* dyb = self.grad + o * w.inner;
      constexpr T inf = std::numeric_limits<T>::infinity();
      for (std::size_t i = 0; i < w.inner; ++i) {
        const T yv = yb[i];
        T infinite_share = 0;  // only used when y = +inf
        if (yv == inf) {
          std::size_t count = 0;
          for (std::size_t j = 0; j < w.n; ++j) count += xb[j * w.inner + i] == inf;
          infinite_share = dyb[i] / static_cast<T>(count);
        }
        for (std::size_t j = 0; j < w.n; ++j) {
          const T xv = xb[j * w.inner + i];
          const T contrib = yv == -inf  ? T(0)
                            : yv == inf ? (xv == inf ? infinite_share : T(0))
                                        : dyb[i] * std::exp(xv - yv);
          gb[j * w.inner + i] = g.accumulate ? gb[j * w.inner + i] + contrib : contrib;
        }
      }
    }
  });
  return y;
}

}  // namespace vaelib
