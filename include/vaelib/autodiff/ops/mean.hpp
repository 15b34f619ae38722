#pragma once
// mean: over the given axes (all axes when none are given), with an option to keep them.

#include <cstddef>
#include <initializer_list>

#include "vaelib/autodiff/ops/sum.hpp"

namespace vaelib {

/// forward:  y = sum of x over `axes` / number of elements summed
/// backward: dx += dy / count, broadcast back over the reduced axes
template <class T, class Axes = std::initializer_list<std::ptrdiff_t>>
Var<T> mean(const Var<T>& x, const Axes& axes = {}, bool keep_dims = false) {
  x.tape().check_handle("mean", x);
  const AxisSet set = normalize_axes("mean", axes, x.rank());
  std::size_t count = 1;
  for (std::size_t i = 0; i < x.rank(); ++i)
    if (set.contains(i)) count *= x.shape()[i];
  if (count == 0 && shape_size(reduced_shape(x.shape(), set, false)) > 0) {
    throw ShapeError("mean: cannot average over an empty axis of shape " + to_string(x.shape()) +
                     " (the mean of no elements is undefined)");
  }
  return detail::scaled_sum("mean", x, set, keep_dims, true);
}

}  // namespace vaelib
