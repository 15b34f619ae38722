#pragma once
// A tensor seen as [outer, n, inner] around one axis: the layout every single-axis op
// (logsumexp, max, concat, slice) loops over.

#include <cstddef>

#include "vaelib/autodiff/shape.hpp"

namespace vaelib::detail {

struct AxisView {
  std::size_t outer = 1;
  std::size_t n = 1;
  std::size_t inner = 1;
};

inline AxisView axis_view(const Shape& shape, std::size_t axis) {
  AxisView v;
  for (std::size_t i = 0; i < axis; ++i) v.outer *= shape[i];
  v.n = shape[axis];
  for (std::size_t i = axis + 1; i < shape.size(); ++i) v.inner *= shape[i];
  return v;
}

/// `shape` with `axis` removed (keep_dims false) or set to 1 (keep_dims true).
inline Shape without_axis(const Shape& shape, std::size_t axis, bool keep_dims) {
  Shape out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != axis)
      out.push_back(shape[i]);
    else if (keep_dims)
      out.push_back(1);
  }
  return out;
}

}  // namespace vaelib::detail
