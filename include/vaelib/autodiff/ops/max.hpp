#pragma once
// max: the largest element along one axis.

#include <algorithm>
#include <cstddef>
#include <string>

#include "vaelib/autodiff/detail/axis_view.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y = max_j x_j along `axis`
/// backward: dx_j += dy at the first j where x_j == y (one winner, as argmax picks); 0 elsewhere
template <class T>
Var<T> max(const Var<T>& x, std::ptrdiff_t axis, bool keep_dims = false) {
  Tape<T>& tape = x.tape();
  tape.check_handle("max", x);
  const std::size_t ax = normalize_axis("max", axis, x.rank());
  const detail::AxisView v = detail::axis_view(x.shape(), ax);
  if (v.n == 0) {
    throw ShapeError("max: axis " + std::to_string(axis) + " of shape " + to_string(x.shape()) +
                     " is empty (expected at least one element to reduce)");
  }
  const Var<T> y = tape.make_node("max", detail::without_axis(x.shape(), ax, keep_dims), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t o = 0; o < v.outer; ++o) {
    const T* block = in + o * v.n * v.inner;
    T* res = out + o * v.inner;
    std::copy_n(block, v.inner, res);
    for (std::size_t j = 1; j < v.n; ++j)
      for (std::size_t i = 0; i < v.inner; ++i) {
        const T c = block[j * v.inner + i];
        if (c > res[i] || c != c) res[i] = c;  // NaN wins, so it is not hidden
      }
  }
  tape.set_backward(y, [x, ax](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& in_node = t.node(x);
    const detail::AxisView w = detail::axis_view(in_node.shape, ax);
    T* g = t.grad_target_zeroed(x);
    for (std::size_t o = 0; o < w.outer; ++o) {
      for (std::size_t i = 0; i < w.inner; ++i) {
        const T* xb = in_node.value + o * w.n * w.inner + i;
        const T yv = self.value[o * w.inner + i];
        std::size_t j = 0;
        while (j + 1 < w.n && !(xb[j * w.inner] == yv)) ++j;  // a NaN max falls to the last one
        g[o * w.n * w.inner + j * w.inner + i] += self.grad[o * w.inner + i];
      }
    }
  });
  return y;
}

}  // namespace vaelib
