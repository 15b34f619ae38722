#pragma once
// transpose: swap two axes (by default the last two, the matrix transpose).

#include <cstddef>
#include <string>
#include <array>
#include <span>
#include <utility>

#include "vaelib/autodiff/ops/permute.hpp"

namespace vaelib {

/// forward:  y = x with axes `axis1` and `axis2` swapped (default: the last two)
/// backward: dx += dy with the same two axes swapped back
template <class T>
Var<T> transpose(const Var<T>& x, std::ptrdiff_t axis1 = -2, std::ptrdiff_t axis2 = -1) {
  x.tape().check_handle("transpose", x);
  const std::size_t rank = x.rank();
  if (rank < 2) {
    throw ShapeError("transpose: expected a tensor of rank >= 2, got shape " + to_string(x.shape()));
  }
  const std::size_t a = normalize_axis("transpose", axis1, rank);
  const std::size_t b = normalize_axis("transpose", axis2, rank);
  std::array<std::ptrdiff_t, detail::Permutation::max_rank> axes{};
  if (rank > axes.size()) throw ArgumentError("transpose: rank above 16 is not supported");
  for (std::size_t i = 0; i < rank; ++i) axes[i] = static_cast<std::ptrdiff_t>(i);
  std::swap(axes[a], axes[b]);
  return permute(x, std::span<const std::ptrdiff_t>(axes.data(), rank));
}

}  // namespace vaelib
