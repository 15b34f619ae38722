#pragma once
// broadcast_source_index: where an element of a broadcast result reads a smaller operand.
// Used by ops that loop over batches themselves (triangular_solve) and by samplers that read
// broadcast parameters element by element. No allocation. repeats_along_leading_axes: when
// that index is simply i mod the operand's size.

#include <algorithm>
#include <cstddef>

#include "vaelib/autodiff/shape.hpp"

namespace vaelib::detail {

/// broadcast_source_index over the first `out_rank` axes of `out` and the first `in_rank`
/// axes of `in` only (the batch axes of stacks of matrices), without building those shapes.
inline std::size_t broadcast_source_index(std::size_t i, const Shape& out, std::size_t out_rank, const Shape& in,
                                          std::size_t in_rank) {
  std::size_t index = 0;
  std::size_t stride = 1;
  const std::size_t lead = out_rank - in_rank;
  for (std::size_t k = out_rank; k-- > 0;) {
    const std::size_t coordinate = i % out[k];
    i /= out[k];
    if (k < lead) continue;
    const std::size_t n = in[k - lead];
    if (n != 1) index += coordinate * stride;
    stride *= n;
  }
  return index;
}

/// The flat (row-major) index into a tensor of shape `in` of the element that NumPy
/// broadcasting maps to flat index `i` of shape `out`. `in` must broadcast to `out`
/// (broadcasts_to(in, out)); axes where `in` has size 1, or that `in` lacks, read index 0.
inline std::size_t broadcast_source_index(std::size_t i, const Shape& out, const Shape& in) {
  return broadcast_source_index(i, out, out.size(), in, in.size());
}

/// Whether `in` broadcast to `out` is `in` repeated whole along out's leading axes: `in`
/// without its leading 1s is a suffix of `out` (the same shape, one value, [batch, d] under
/// [particles, batch, d]). Element i of `out` then reads element i mod size(in) of `in`.
inline bool repeats_along_leading_axes(const Shape& in, const Shape& out) {
  std::size_t first = 0;
  while (first < in.size() && in[first] == 1) ++first;
  const std::size_t rank = in.size() - first;
  return rank <= out.size() && std::equal(in.begin() + static_cast<std::ptrdiff_t>(first), in.end(),
                                          out.end() - static_cast<std::ptrdiff_t>(rank));
}

}  // namespace vaelib::detail
