#pragma once
// reshape: the same elements in row-major order under a new shape.

#include <cstddef>
#include <initializer_list>
#include <string>

#include "vaelib/autodiff/tape.hpp"

namespace vaelib {
namespace detail {

/// Resolves one -1 entry and checks the element count; throws ShapeError naming both shapes.
template <class Dims>
Shape resolve_reshape(const Shape& from, const Dims& dims) {
  Shape out;
  std::ptrdiff_t infer = -1;
  std::size_t known = 1;
  auto requested = [&] {  // built only for an error message
    std::string s = "[";
    for (auto d : dims) s += (s.size() > 1 ? ", " : "") + std::to_string(d);
    return s + "]";
  };
  for (auto d_in : dims) {
    const auto d = static_cast<std::ptrdiff_t>(d_in);
    if (d == -1) {
      if (infer >= 0) throw ShapeError("reshape: more than one -1 in the new shape");
      infer = static_cast<std::ptrdiff_t>(out.size());
      out.push_back(1);
    } else if (d < 0) {
      throw ShapeError("reshape: negative size " + std::to_string(d) + " in the new shape");
    } else {
      out.push_back(static_cast<std::size_t>(d));
    }
  }
  // the -1 entry counts as 1 here; a product past size_t once wrapped round to a size that matched
  known = checked_shape_size("reshape", out);
  const std::size_t total = shape_size(from);
  if (infer >= 0) {
    if (known == 0 || total % known != 0) {
      throw ShapeError("reshape: cannot reshape " + to_string(from) + " (" + std::to_string(total) + " elements) to " +
                       requested());
    }
    out[static_cast<std::size_t>(infer)] = total / known;
  } else if (known != total) {
    throw ShapeError("reshape: cannot reshape " + to_string(from) + " (" + std::to_string(total) + " elements) to " +
                     requested() + " (" + std::to_string(known) + " elements)");
  }
  return out;
}

}  // namespace detail

/// forward:  y = x with shape `dims` (one entry may be -1: inferred); no copy
/// backward: dx += dy read in x's shape (same row-major order)
template <class T, class Dims = std::initializer_list<std::ptrdiff_t>>
Var<T> reshape(const Var<T>& x, const Dims& dims) {
  Tape<T>& tape = x.tape();
  tape.check_handle("reshape", x);
  const Var<T> y = tape.make_alias("reshape", x, detail::resolve_reshape(x.shape(), dims), /*differentiable=*/true);
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    if (g.accumulate)
      for (std::size_t i = 0; i < self.size; ++i) g.data[i] += self.grad[i];
    else
      std::copy_n(self.grad, self.size, g.data);
  });
  return y;
}

}  // namespace vaelib
