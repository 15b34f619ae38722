#pragma once
// sum: over the given axes (all axes when none are given), with an option to keep them.

#include <cstddef>
#include <initializer_list>

#include "vaelib/autodiff/detail/strided.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {
namespace detail {

/// y = scale * sum over `axes` of x; dx += scale * broadcast(dy). Shared by sum and mean.
template <class T>
Var<T> scaled_sum(const char* name, const Var<T>& x, AxisSet axes, bool keep_dims, bool divide_by_count) {
  Tape<T>& tape = x.tape();
  const Shape& in_shape = x.shape();
  const Shape kept = reduced_shape(in_shape, axes, true);
  std::size_t count = 1;  // elements summed into each output
  for (std::size_t i = 0; i < in_shape.size(); ++i)
    if (axes.contains(i)) count *= in_shape[i];
  const T scale = divide_by_count && count > 0 ? T(1) / static_cast<T>(count) : T(1);
  const Var<T> y = tape.make_node(name, reduced_shape(in_shape, axes, keep_dims), {x});
  T* out = tape.value_ptr(y);
  reduce_sum_into(out, kept, x.data(), in_shape, false);
  if (divide_by_count)
    for (std::size_t i = 0, n = shape_size(kept); i < n; ++i) out[i] *= scale;
  tape.set_backward(y, [x, axes, scale, divide_by_count](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& in = t.node(x);
    const Shape kept_shape = reduced_shape(in.shape, axes, true);
    const GradTarget<T> g = t.grad_target(x);
    if (!divide_by_count) {
      expand_into(g.data, in.shape, static_cast<const T*>(self.grad), kept_shape, g.accumulate);
      return;
    }
    T* scaled = self.scratch.ensure(self.size);
    for (std::size_t i = 0; i < self.size; ++i) scaled[i] = scale * self.grad[i];
    expand_into(g.data, in.shape, static_cast<const T*>(scaled), kept_shape, g.accumulate);
  });
  return y;
}

}  // namespace detail

/// forward:  y = sum of x over `axes` (every axis if none); reduced axes are dropped, or kept
///           with size 1 when keep_dims is true
/// backward: dx += dy broadcast back over the reduced axes
template <class T, class Axes = std::initializer_list<std::ptrdiff_t>>
Var<T> sum(const Var<T>& x, const Axes& axes = {}, bool keep_dims = false) {
  x.tape().check_handle("sum", x);
  return detail::scaled_sum("sum", x, normalize_axes("sum", axes, x.rank()), keep_dims, false);
}

}  // namespace vaelib
