#pragma once
// The event checks and axis bookkeeping shared by the flows on R^D: each acts on the last
// axis of its input, of size D, and treats every leading axis as a batch.

#include <cstddef>
#include <string>

#include "vaelib/autodiff/ops/reshape.hpp"
#include "vaelib/error.hpp"

namespace vaelib::detail {

/// Throws ShapeError unless `shape` is a batch of vectors of size `dim`, naming the flow, the
/// method, the operand, its shape and the size expected.
inline void check_flow_event(const std::string& flow, const char* method, const char* operand, const Shape& shape,
                             std::size_t dim) {
  if (shape.empty()) {  // Transform's own rank check, in the same words, for the overrides it does not cover
    throw ShapeError(flow + "." + method + ": " + operand +
                     " has shape [], but the transform acts on its last 1 axes (expected rank >= 1)");
  }
  if (shape.back() != dim) {
    throw ShapeError(flow + "." + method + ": " + operand + " has shape " + to_string(shape) +
                     ", but the flow acts on vectors of size " + std::to_string(dim) +
                     " (expected a last axis of size " + std::to_string(dim) + ")");
  }
}

/// v [..., 1] seen as [...] (no copy): a per-event value computed with the event axis kept.
template <class T>
Var<T> drop_unit_last_axis(const Var<T>& v) {
  const Shape& s = v.shape();
  return reshape(v, Shape(s.begin(), s.end() - 1));
}

}  // namespace vaelib::detail
