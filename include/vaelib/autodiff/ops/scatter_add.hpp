#pragma once
// scatter_add: values added into a zero tensor at positions along one axis given by an array of
// integer indices, the adjoint of gather (and its backward): per-group sums (sum of the
// observations' terms in each group), histogram-like pooling. Repeated indices add up.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <string>
#include <vector>

#include "vaelib/autodiff/ops/gather.hpp"

namespace vaelib {

/// forward:  y = zeros [O..., size, I...];  y[o..., index[j...], i...] += values[o..., j..., i...]
///           for values [O..., J..., I...] whose axes from `axis` on start with index's shape
///           [J...] (integer entries in [0, size)); `axis` counts in values' (and y's) leading
///           axes O. An index outside [0, size) throws ArgumentError naming it and size.
/// backward: dvalues[o..., j..., i...] += dy[o..., index[j...], i...]  (a gather of dy)
template <class T, class E>
requires std::integral<typename E::value_type> Var<T> scatter_add(const Var<T>& values, std::ptrdiff_t axis,
                                                                  const xt::xexpression<E>& index, std::size_t size) {
  Tape<T>& tape = values.tape();
  tape.check_handle("scatter_add", values);
  const auto& idx = index.derived_cast();
  const Shape index_shape(idx.shape().begin(), idx.shape().end());
  const Shape& vs = values.shape();
  // axis is where index's axes start in values; axis == rank is allowed for a rank-0 index.
  const auto rank = static_cast<std::ptrdiff_t>(vs.size());
  const std::ptrdiff_t start = axis < 0 ? axis + rank : axis;
  if (start < 0 || start + static_cast<std::ptrdiff_t>(index_shape.size()) > rank ||
      !std::equal(index_shape.begin(), index_shape.end(), vs.begin() + start)) {
    throw ShapeError("scatter_add: values of shape " + to_string(vs) + " do not have the index's shape " +
                     to_string(index_shape) + " at axis " + std::to_string(axis) +
                     " (expected values [O..., J..., I...] with index [J...] starting at the axis)");
  }
  const auto ax = static_cast<std::size_t>(start);
  detail::check_indices("scatter_add", idx, axis, size);
  const Shape out_shape = detail::splice_shape(vs, ax, index_shape.size(), Shape{size});
  const Var<T> y = tape.make_node("scatter_add", out_shape, {values});
  const std::vector<std::size_t>& kept = detail::keep_indices(tape.node(y), idx);
  const detail::AxisView v = detail::axis_view(out_shape, ax);
  const std::size_t m = kept.size();
  const T* in = values.data();
  T* out = tape.value_ptr(y);
  std::fill_n(out, tape.node(y).size, T(0));
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t j = 0; j < m; ++j) {
      const T* src = in + (o * m + j) * v.inner;
      T* dst = out + (o * v.n + kept[j]) * v.inner;
      for (std::size_t i = 0; i < v.inner; ++i) dst[i] += src[i];
    }
  tape.set_backward(y, [values, ax](Tape<T>& t, TapeRecord<T>& self) {
    const std::vector<std::size_t>& at = op_cache<detail::IndexCache>(self).index;
    const detail::AxisView w = detail::axis_view(self.shape, ax);
    const std::size_t count = at.size();
    const GradTarget<T> g = t.grad_target(values);
    for (std::size_t o = 0; o < w.outer; ++o)
      for (std::size_t j = 0; j < count; ++j) {
        const T* src = self.grad + (o * w.n + at[j]) * w.inner;
        T* dst = g.data + (o * count + j) * w.inner;
        for (std::size_t i = 0; i < w.inner; ++i) dst[i] = g.accumulate ? dst[i] + src[i] : src[i];
      }
  });
  return y;
}

}  // namespace vaelib
