#pragma once
// avg_pool2d: 2-D average pooling, NCHW.

#include <cstddef>
#include <optional>

#include "vaelib/autodiff/detail/pool2d.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// avg_pool2d()'s options (PyTorch's AvgPool2d, floor mode).
struct AvgPool2dOptions {
  std::optional<Conv2dPair> stride{};  // default: the kernel (non-overlapping windows)
  Conv2dPair padding{0, 0};          // on each side, at most half the kernel
  // false: a window's padding is left out of its average (divide by the taps inside x);
  // true: PyTorch's default, divide by kH kW whatever the window covers.
  bool count_include_pad = false;
};

namespace detail {

struct AvgPoolCache {
  PoolGeometry geo;
  bool count_include_pad = false;
};

/// The divisor of output (oh, ow)'s window, given its clipped rows and columns.
inline std::size_t avg_pool_count(const PoolGeometry& g, bool include_pad, std::size_t r0, std::size_t r1,
                                  std::size_t c0, std::size_t c1) {
  return include_pad ? g.kh * g.kw : (r1 - r0) * (c1 - c0);
}

}  // namespace detail

/// Average pooling over kH x kW windows: x [N, C, H, W] -> y [N, C, OH, OW],
///   OH = (H + 2 pad_h - kH) / stride_h + 1 (likewise OW);
///   y[n, c, i, j] = (1 / count) sum over the window's taps inside x of x[n, c, a, b],
///   window rows a in [i stride_h - pad_h, i stride_h - pad_h + kH), columns likewise;
///   count = the taps inside x (count_include_pad = false, the default) or kH kW (true).
/// forward:  the window sums divided by count
/// backward: dx[n, c, a, b] += dy[n, c, i, j] / count for every window (i, j) holding (a, b)
template <class T>
Var<T> avg_pool2d(const Var<T>& x, Conv2dPair kernel, const AvgPool2dOptions& options = {}) {
  constexpr const char* op = "avg_pool2d";
  Tape<T>& tape = x.tape();
  tape.check_handle(op, x);
  const detail::PoolGeometry g = detail::plan_pool2d(op, x.shape(), kernel, options.stride, options.padding);
  const Shape& sx = x.shape();
  const Var<T> y = tape.make_node(op, Shape{sx[0], sx[1], g.out_h, g.out_w}, {x});
  const bool include_pad = options.count_include_pad;
  const T* const xv = x.data();
  T* const yv = tape.value_ptr(y);
  for (std::size_t p = 0; p < g.planes; ++p) {
    const T* in = xv + p * g.in_plane();
    T* out = yv + p * g.out_plane();
    for (std::size_t i = 0; i < g.out_h; ++i) {
      std::size_t r0 = 0, r1 = 0;
      g.rows(i, r0, r1);
      for (std::size_t j = 0; j < g.out_w; ++j) {
        std::size_t c0 = 0, c1 = 0;
        g.cols(j, c0, c1);
        T s = 0;
        for (std::size_t a = r0; a < r1; ++a)
          for (std::size_t b = c0; b < c1; ++b) s += in[a * g.w + b];
        out[i * g.out_w + j] = s / static_cast<T>(detail::avg_pool_count(g, include_pad, r0, r1, c0, c1));
      }
    }
  }
  TapeRecord<T>& node = tape.node(y);
  if (node.requires_grad) op_cache<detail::AvgPoolCache>(node) = {g, include_pad};
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const detail::AvgPoolCache& c = op_cache<detail::AvgPoolCache>(self);
    const detail::PoolGeometry& g = c.geo;
    T* const dx = t.grad_target_zeroed(x);  // windows may skip or overlap taps: scatter-add
    for (std::size_t p = 0; p < g.planes; ++p) {
      const T* dy = self.grad + p * g.out_plane();
      T* d = dx + p * g.in_plane();
      for (std::size_t i = 0; i < g.out_h; ++i) {
        std::size_t r0 = 0, r1 = 0;
        g.rows(i, r0, r1);
        for (std::size_t j = 0; j < g.out_w; ++j) {
          std::size_t c0 = 0, c1 = 0;
          g.cols(j, c0, c1);
          const T share = dy[i * g.out_w + j] /
                          static_cast<T>(detail::avg_pool_count(g, c.count_include_pad, r0, r1, c0, c1));
          for (std::size_t a = r0; a < r1; ++a)
            for (std::size_t b = c0; b < c1; ++b) d[a * g.w + b] += share;
        }
      }
    }
  });
  return y;
}

}  // namespace vaelib
