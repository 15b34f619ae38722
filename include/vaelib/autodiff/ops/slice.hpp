#pragma once
// slice: the elements start, start + step, ... (< stop) along one axis.

#include <cstddef>
#include <limits>
#include <string>

#include "vaelib/autodiff/detail/axis_view.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y = x[..., start:stop:step, ...] along `axis` (negative start/stop count from
///           the end; after that 0 <= start <= stop <= size is required)
/// backward: dx[..., start + j*step, ...] += dy[..., j, ...]; zero elsewhere
template <class T>
Var<T> slice(const Var<T>& x, std::ptrdiff_t axis, std::ptrdiff_t start, std::ptrdiff_t stop, std::ptrdiff_t step = 1) {
  Tape<T>& tape = x.tape();
  tape.check_handle("slice", x);
  const std::size_t ax = normalize_axis("slice", axis, x.rank());
  if (x.shape()[ax] > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max())) {
    throw ShapeError("slice: axis " + std::to_string(ax) + " of shape " + to_string(x.shape()) + " is too long to index");
  }
  const auto n = static_cast<std::ptrdiff_t>(x.shape()[ax]);
  const std::ptrdiff_t b = start < 0 ? start + n : start;
  const std::ptrdiff_t e = stop < 0 ? stop + n : stop;
  if (step < 1 || b < 0 || e > n || b > e) {
    throw ArgumentError("slice: range " + std::to_string(start) + ":" + std::to_string(stop) + ":" + std::to_string(step) +
                        " is invalid for axis " + std::to_string(ax) + " of shape " + to_string(x.shape()) +
                        " (expected 0 <= start <= stop <= " + std::to_string(n) + " after counting negatives from the end, "
                        "and step >= 1)");
  }
  Shape out_shape = x.shape();
  // (e - b + step - 1) / step would overflow for a huge step
  out_shape[ax] = e == b ? 0 : static_cast<std::size_t>((e - b - 1) / step + 1);
  const auto first = static_cast<std::size_t>(b);
  const auto stride = static_cast<std::size_t>(step);
  const Var<T> y = tape.make_node("slice", out_shape, {x});
  const detail::AxisView in_v = detail::axis_view(x.shape(), ax);
  const std::size_t len = out_shape[ax];
  T* out = tape.value_ptr(y);
  const T* in = x.data();
  // an empty result copies nothing: its other axes may be huge ([2^62, 0]), so no loop runs
  if (tape.node(y).size != 0)
    for (std::size_t o = 0; o < in_v.outer; ++o)
      for (std::size_t j = 0; j < len; ++j)
        std::copy_n(in + (o * in_v.n + first + j * stride) * in_v.inner, in_v.inner, out + (o * len + j) * in_v.inner);
  tape.set_backward(y, [x, ax, first, stride](Tape<T>& t, TapeRecord<T>& self) {
    const detail::AxisView v = detail::axis_view(t.node(x).shape, ax);
    const std::size_t count = self.shape[ax];
    T* g = t.grad_target_zeroed(x);
    if (self.size == 0) return;  // nothing to add, however long the other axes
    for (std::size_t o = 0; o < v.outer; ++o)
      for (std::size_t j = 0; j < count; ++j) {
        T* dst = g + (o * v.n + first + j * stride) * v.inner;
        const T* src = self.grad + (o * count + j) * v.inner;
        for (std::size_t i = 0; i < v.inner; ++i) dst[i] += src[i];
      }
  });
  return y;
}

}  // namespace vaelib
