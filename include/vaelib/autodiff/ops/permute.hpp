#pragma once
// permute: reorder the axes of a tensor (a copy in the new row-major order).

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "vaelib/autodiff/detail/strided.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {
namespace detail {

/// An axis permutation small enough to be captured by a backward closure.
struct Permutation {
  static constexpr std::size_t max_rank = 16;
  std::array<std::uint8_t, max_rank> axes{};
  std::size_t rank = 0;
};

template <class Axes>
Permutation make_permutation(const Shape& shape, const Axes& axes) {
  Permutation p;
  std::array<bool, Permutation::max_rank> seen{};
  auto fail = [&](const std::string& problem) {  // builds the message only on failure
    std::string listed;
    for (auto a : axes) listed += (listed.empty() ? "" : ", ") + std::to_string(a);
    throw ArgumentError("permute: axes [" + listed + "] " + problem + " for shape " + to_string(shape) +
                        " (expected each axis 0.." + std::to_string(shape.size()) + "-1 once)");
  };
  if (shape.size() > Permutation::max_rank) throw ArgumentError("permute: rank above 16 is not supported");
  for (auto a_in : axes) {
    if (p.rank == shape.size()) fail("are too many");
    const std::size_t a = normalize_axis("permute", static_cast<std::ptrdiff_t>(a_in), shape.size());
    if (seen[a]) fail("repeat axis " + std::to_string(a));
    seen[a] = true;
    p.axes[p.rank++] = static_cast<std::uint8_t>(a);
  }
  if (p.rank != shape.size()) fail("are too few");
  return p;
}

/// y = x with axes reordered by p (y's axis i is x's axis p[i]); accumulate adds into y.
template <class T>
void permute_copy(T* y, const T* x, const Shape& x_shape, const Permutation& p, bool accumulate) {
  const Shape x_strides = contiguous_strides(x_shape);
  Shape y_shape(p.rank, 0);
  Shape src_strides(p.rank, 0);
  for (std::size_t i = 0; i < p.rank; ++i) {
    y_shape[i] = x_shape[p.axes[i]];
    src_strides[i] = x_strides[p.axes[i]];
  }
  strided_copy(y, y_shape, x, src_strides, accumulate);
}

}  // namespace detail

/// forward:  y[i_0, ..., i_n] = x[j] with j[axes[k]] = i_k (y's axis k is x's axis axes[k])
/// backward: dx += dy permuted back by the inverse permutation
template <class T, class Axes = std::initializer_list<std::ptrdiff_t>>
Var<T> permute(const Var<T>& x, const Axes& axes) {
  Tape<T>& tape = x.tape();
  tape.check_handle("permute", x);
  const detail::Permutation p = detail::make_permutation(x.shape(), axes);
  Shape out_shape(p.rank, 0);
  for (std::size_t i = 0; i < p.rank; ++i) out_shape[i] = x.shape()[p.axes[i]];
  const Var<T> y = tape.make_node("permute", out_shape, {x});
  detail::permute_copy(tape.value_ptr(y), x.data(), x.shape(), p, false);
  tape.set_backward(y, [x, p](Tape<T>& t, TapeRecord<T>& self) {
    detail::Permutation inverse;
    inverse.rank = p.rank;
    for (std::size_t i = 0; i < p.rank; ++i) inverse.axes[p.axes[i]] = static_cast<std::uint8_t>(i);
    const GradTarget<T> g = t.grad_target(x);
    detail::permute_copy(g.data, static_cast<const T*>(self.grad), self.shape, inverse, g.accumulate);
  });
  return y;
}

}  // namespace vaelib
