#pragma once
// Strided loops over contiguous row-major buffers, for the three data movements that
// broadcasting needs: expanding a small tensor to a big shape, summing a big tensor back
// into a small one (the gradient of a broadcast), and copying through permuted strides.
// No allocation: index state lives in fixed arrays.

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "vaelib/autodiff/shape.hpp"
#include "vaelib/detail/simd.hpp"
#include "vaelib/error.hpp"

namespace vaelib::detail {

inline constexpr std::size_t max_loop_rank = 32;

/// A loop nest over `rank` dimensions with two operands (0 = destination, 1 = source);
/// strides are in elements, 0 for a broadcast dimension. Dimensions that are contiguous for
/// both operands are merged, so the innermost loop is as long as possible.
struct LoopNest {
  std::size_t rank = 0;
  std::array<std::size_t, max_loop_rank> extent{};
  std::array<std::size_t, max_loop_rank> stride0{};
  std::array<std::size_t, max_loop_rank> stride1{};

  void push_outer(std::size_t n, std::size_t s0, std::size_t s1) {
    if (rank == max_loop_rank) throw ArgumentError("strided loop: rank above 32 is not supported");
    extent[rank] = n;
    stride0[rank] = s0;
    stride1[rank] = s1;
    ++rank;
  }

  /// Built innermost-first by `push_outer`; merges then reverses to outermost-first.
  void finish() {
    std::size_t out = 0;
    for (std::size_t k = 0; k < rank; ++k) {
      if (extent[k] == 1) continue;  // size-1 dims move nothing
      if (out > 0 && stride0[k] == stride0[out - 1] * extent[out - 1] && stride1[k] == stride1[out - 1] * extent[out - 1]) {
        extent[out - 1] *= extent[k];
        continue;
      }
      extent[out] = extent[k];
      stride0[out] = stride0[k];
      stride1[out] = stride1[k];
      ++out;
    }
    if (out == 0) {
      extent[0] = 1;
      stride0[0] = stride1[0] = 0;
      out = 1;
    }
    rank = out;
    std::reverse(extent.begin(), extent.begin() + rank);
    std::reverse(stride0.begin(), stride0.begin() + rank);
    std::reverse(stride1.begin(), stride1.begin() + rank);
  }

  /// Calls inner(offset0, offset1, n, s0, s1) for each run of the innermost dimension.
  template <class Inner>
  void run(Inner&& inner) const {
    const std::size_t last = rank - 1;
    for (std::size_t k = 0; k < last; ++k)
      if (extent[k] == 0) return;
    if (extent[last] == 0) return;
    std::array<std::size_t, max_loop_rank> index{};
    std::size_t off0 = 0;
    std::size_t off1 = 0;
    while (true) {
      inner(off0, off1, extent[last], stride0[last], stride1[last]);
      std::size_t k = last;
      while (k-- > 0) {
        ++index[k];
        off0 += stride0[k];
        off1 += stride1[k];
        if (index[k] < extent[k]) break;
        off0 -= stride0[k] * extent[k];
        off1 -= stride1[k] * extent[k];
        index[k] = 0;
      }
      if (k == static_cast<std::size_t>(-1)) return;
    }
  }
};

/// Loop over `big` with operand 0 contiguous in `big` and operand 1 the broadcast of `small`.
inline LoopNest broadcast_nest(const Shape& big, const Shape& small) {
  LoopNest nest;
  std::size_t big_stride = 1;
  std::size_t small_stride = 1;
  for (std::size_t i = 0; i < big.size(); ++i) {
    const std::size_t n = big[big.size() - 1 - i];
    const std::size_t m = i < small.size() ? small[small.size() - 1 - i] : 1;
    nest.push_outer(n, big_stride, m == 1 ? 0 : small_stride);
    big_stride *= n;
    small_stride *= m;
  }
  nest.finish();
  return nest;
}

/// dst[i] (+)= src[broadcast(i)]: expands `src` of shape `small` into `dst` of shape `big`.
template <class T>
void expand_into(T* dst, const Shape& big, const T* src, const Shape& small, bool accumulate) {
  const LoopNest nest = broadcast_nest(big, small);
  nest.run([&](std::size_t o0, std::size_t o1, std::size_t n, std::size_t s0, std::size_t s1) {
    T* d = dst + o0;
    const T* s = src + o1;
    (void)s0;  // operand 0 is contiguous in `big`: its innermost stride is 1
    if (s1 == 0) {
      const T v = *s;
      if (accumulate)
        for (std::size_t j = 0; j < n; ++j) d[j] += v;
      else
        std::fill_n(d, n, v);
    } else if (accumulate) {
      for (std::size_t j = 0; j < n; ++j) d[j] += s[j];
    } else {
      std::copy_n(s, n, d);
    }
  });
}

/// dst[broadcast(i)] (+)= sum src[i]: sums `src` of shape `big` into `dst` of shape `small`.
template <class T>
void reduce_sum_into(T* dst, const Shape& small, const T* src, const Shape& big, bool accumulate) {
  if (!accumulate) std::fill_n(dst, shape_size(small), T(0));
  const LoopNest nest = broadcast_nest(big, small);
  nest.run([&](std::size_t o0, std::size_t o1, std::size_t n, std::size_t, std::size_t s1) {
    const T* s = src + o0;
    T* d = dst + o1;
    if (s1 == 0) {
      *d += simd::sum(n, s);  // a contiguous run into one element (a sum over the last axes)
    } else {
      for (std::size_t j = 0; j < n; ++j) d[j] += s[j];
    }
  });
}

/// dst (+)= src viewed through `src_strides` (elements) in the order of `dst_shape`:
/// dst is contiguous. Used for permute and its gradient.
template <class T, class Strides>
void strided_copy(T* dst, const Shape& dst_shape, const T* src, const Strides& src_strides, bool accumulate) {
  LoopNest nest;
  std::size_t dst_stride = 1;
  for (std::size_t i = 0; i < dst_shape.size(); ++i) {
    const std::size_t k = dst_shape.size() - 1 - i;
    nest.push_outer(dst_shape[k], dst_stride, src_strides[k]);
    dst_stride *= dst_shape[k];
  }
  nest.finish();
  nest.run([&](std::size_t o0, std::size_t o1, std::size_t n, std::size_t, std::size_t s1) {
    T* d = dst + o0;
    const T* s = src + o1;
    if (accumulate)
      for (std::size_t j = 0; j < n; ++j) d[j] += s[j * s1];
    else
      for (std::size_t j = 0; j < n; ++j) d[j] = s[j * s1];
  });
}

/// Row-major strides (in elements) of a shape.
inline Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size(), 1);
  std::size_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

}  // namespace vaelib::detail
