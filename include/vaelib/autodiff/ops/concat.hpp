#pragma once
// concat: join tensors along an existing axis.

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>

#include "vaelib/autodiff/detail/axis_view.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// forward:  y = [x_0, x_1, ...] joined along `axis` (other axes must agree)
/// backward: dx_i += the slice of dy that x_i filled
template <class T>
Var<T> concat(std::span<const Var<T>> xs, std::ptrdiff_t axis) {
  if (xs.empty()) throw ArgumentError("concat: expected at least one tensor, got none");
  Tape<T>& tape = xs[0].tape();
  for (const Var<T>& x : xs) tape.check_handle("concat", x);
  const Shape& first = xs[0].shape();
  const std::size_t ax = normalize_axis("concat", axis, first.size());
  Shape out_shape = first;
  out_shape[ax] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    bool ok = s.size() == first.size();
    for (std::size_t d = 0; ok && d < s.size(); ++d) ok = d == ax || s[d] == first[d];
    if (!ok) {
      throw ShapeError("concat: operand " + std::to_string(i) + " has shape " + to_string(s) + ", operand 0 has " +
                       to_string(first) + " (expected the same rank and equal sizes except on axis " +
                       std::to_string(ax) + ")");
    }
    out_shape[ax] += s[ax];
  }
  const Var<T> y = tape.make_node("concat", out_shape, xs);
  const detail::AxisView out_view = detail::axis_view(out_shape, ax);
  T* out = tape.value_ptr(y);
  std::size_t offset = 0;  // along the axis, in elements of one outer block
  for (const Var<T>& x : xs) {
    const std::size_t block = x.shape()[ax] * out_view.inner;
    const T* in = x.data();
    for (std::size_t o = 0; o < out_view.outer; ++o)
      std::copy_n(in + o * block, block, out + o * out_view.n * out_view.inner + offset);
    offset += block;
  }
  tape.set_backward(y, [ax](Tape<T>& t, TapeRecord<T>& self) {
    const detail::AxisView v = detail::axis_view(self.shape, ax);
    std::size_t offset = 0;
    for (std::uint32_t index : self.inputs) {
      const Var<T> x = t.handle(index);
      const TapeRecord<T>& in = t.node(x);
      const std::size_t block = in.shape[ax] * v.inner;
      if (in.requires_grad) {
        const GradTarget<T> g = t.grad_target(x);
        for (std::size_t o = 0; o < v.outer; ++o) {
          const T* src = self.grad + o * v.n * v.inner + offset;
          T* dst = g.data + o * block;
          if (g.accumulate)
            for (std::size_t j = 0; j < block; ++j) dst[j] += src[j];
          else
            std::copy_n(src, block, dst);
        }
      }
      offset += block;
    }
  });
  return y;
}

template <class T>
Var<T> concat(std::initializer_list<Var<T>> xs, std::ptrdiff_t axis) {
  return concat(std::span<const Var<T>>(xs.begin(), xs.size()), axis);
}

}  // namespace vaelib
