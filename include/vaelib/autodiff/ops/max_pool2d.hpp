#pragma once
// max_pool2d: 2-D max pooling, NCHW. The forward keeps each window's argmax in the node, so
// the backward routes dy without searching again.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vaelib/autodiff/detail/pool2d.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// max_pool2d()'s options (PyTorch's MaxPool2d, floor mode, no dilation).
struct MaxPool2dOptions {
  std::optional<Conv2dPair> stride{};  // default: the kernel (non-overlapping windows)
  Conv2dPair padding{0, 0};          // on each side, at most half the kernel; never the max
};

namespace detail {

struct MaxPoolCache {
  PoolGeometry geo;
  std::vector<std::uint32_t> argmax;  // per output element, the offset of its max in its input plane
};

}  // namespace detail

/// Max pooling over kH x kW windows: x [N, C, H, W] -> y [N, C, OH, OW],
///   OH = (H + 2 pad_h - kH) / stride_h + 1 (likewise OW);
///   y[n, c, i, j] = max over the window's taps inside x (padding never wins), window rows
///   [i stride_h - pad_h, i stride_h - pad_h + kH), columns likewise. Ties go to the first tap
///   in row-major order; a NaN in the window is the max (as PyTorch).
/// forward:  the window maxima, their positions kept in the node
/// backward: dx[argmax(i, j)] += dy[i, j]
template <class T>
Var<T> max_pool2d(const Var<T>& x, Conv2dPair kernel, const MaxPool2dOptions& options = {}) {
  constexpr const char* op = "max_pool2d";
  Tape<T>& tape = x.tape();
  tape.check_handle(op, x);
  const detail::PoolGeometry g = detail::plan_pool2d(op, x.shape(), kernel, options.stride, options.padding);
  if (g.in_plane() > std::size_t{UINT32_MAX}) {
    throw ShapeError(std::string(op) + ": x has shape " + to_string(x.shape()) +
                     "; expected H W < 2^32 (argmax offsets are 32-bit)");
  }
  const Shape& sx = x.shape();
  const Var<T> y = tape.make_node(op, Shape{sx[0], sx[1], g.out_h, g.out_w}, {x});
  TapeRecord<T>& node = tape.node(y);
  std::uint32_t* arg = nullptr;
  if (node.requires_grad) {
    detail::MaxPoolCache& c = op_cache<detail::MaxPoolCache>(node);
    c.geo = g;
    c.argmax.resize(g.planes * g.out_plane());  // no allocation once a step has had this size
    arg = c.argmax.data();
  }
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
        // padding <= kernel / 2 puts a tap of x in every window: start from the first
        std::size_t best_at = r0 * g.w + c0;
        T best = in[best_at];
        for (std::size_t a = r0; a < r1 && !std::isnan(best); ++a)
          for (std::size_t b = c0; b < c1; ++b) {
            const T v = in[a * g.w + b];
            if (v > best || std::isnan(v)) {  // strict: the first of equal values stays
              best = v, best_at = a * g.w + b;
              if (std::isnan(v)) break;
            }
          }
        const std::size_t k = i * g.out_w + j;
        out[k] = best;
        if (arg != nullptr) arg[p * g.out_plane() + k] = static_cast<std::uint32_t>(best_at);
      }
    }
  }
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const detail::MaxPoolCache& c = op_cache<detail::MaxPoolCache>(self);
    const detail::PoolGeometry& g = c.geo;
    T* const dx = t.grad_target_zeroed(x);
    for (std::size_t p = 0; p < g.planes; ++p) {
      const T* dy = self.grad + p * g.out_plane();
      const std::uint32_t* arg = c.argmax.data() + p * g.out_plane();
      T* d = dx + p * g.in_plane();
      for (std::size_t k = 0; k < g.out_plane(); ++k) d[arg[k]] += dy[k];
    }
  });
  return y;
}

}  // namespace vaelib
