#pragma once
// The geometry shared by avg_pool2d and max_pool2d (NCHW): checks the operand and options
// and gives the output size, PyTorch's floor mode.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>

#include "vaelib/autodiff/ops/conv2d.hpp"

namespace vaelib::detail {

/// One pooling: windows of kh x kw taps at (oh sh - ph, ow sw - pw) over planes of h x w.
struct PoolGeometry {
  std::size_t planes = 0;  // N * C
  std::size_t h = 0, w = 0, kh = 0, kw = 0, sh = 1, sw = 1, ph = 0, pw = 0;
  std::size_t out_h = 0, out_w = 0;

  std::size_t in_plane() const { return h * w; }
  std::size_t out_plane() const { return out_h * out_w; }
  /// The rows [first, last) of the window of output row o (clipped to the input).
  void rows(std::size_t o, std::size_t& first, std::size_t& last) const { clip(o, sh, ph, kh, h, first, last); }
  void cols(std::size_t o, std::size_t& first, std::size_t& last) const { clip(o, sw, pw, kw, w, first, last); }

 private:
  static void clip(std::size_t o, std::size_t s, std::size_t p, std::size_t k, std::size_t n, std::size_t& first,
                   std::size_t& last) {
    const std::size_t start = o * s;  // in padded coordinates
    first = start < p ? 0 : start - p;
    last = start + k < p ? 0 : std::min(n, start + k - p);
  }
};

/// Checks x [N, C, H, W], the kernel, stride (default: the kernel) and padding (at most half
/// the kernel, as PyTorch requires, so that every window holds an input element).
inline PoolGeometry plan_pool2d(const char* op, const Shape& sx, Conv2dPair kernel, std::optional<Conv2dPair> stride_opt,
                                Conv2dPair padding) {
  const Conv2dPair stride = stride_opt.value_or(kernel);
  if (kernel.h == 0 || kernel.w == 0 || stride.h == 0 || stride.w == 0) {
    throw ArgumentError(std::string(op) + ": expected kernel and stride >= 1; got kernel " + conv_pair(kernel) +
                        ", stride " + conv_pair(stride));
  }
  if (2 * padding.h > kernel.h || 2 * padding.w > kernel.w) {
    throw ArgumentError(std::string(op) + ": padding " + conv_pair(padding) + " must be at most half the kernel " +
                        conv_pair(kernel));
  }
  if (sx.size() != 4 || sx[2] == 0 || sx[3] == 0) {
    throw ShapeError(std::string(op) + ": x has shape " + to_string(sx) + "; expected x [N, C, H, W] with H, W >= 1");
  }
  const std::size_t h = sx[2], w = sx[3];
  if (h + 2 * padding.h < kernel.h || w + 2 * padding.w < kernel.w) {
    throw ShapeError(std::string(op) + ": x has shape " + to_string(sx) + "; the kernel (" + std::to_string(kernel.h) +
                     " x " + std::to_string(kernel.w) + ") is larger than the padded input (" +
                     std::to_string(h + 2 * padding.h) + " x " + std::to_string(w + 2 * padding.w) +
                     " with padding " + conv_pair(padding) + ")");
  }
  PoolGeometry g;
  g.planes = sx[0] * sx[1];
  g.h = h, g.w = w, g.kh = kernel.h, g.kw = kernel.w, g.sh = stride.h, g.sw = stride.w;
  g.ph = padding.h, g.pw = padding.w;
  g.out_h = (h + 2 * padding.h - kernel.h) / stride.h + 1;
  g.out_w = (w + 2 * padding.w - kernel.w) / stride.w + 1;
  return g;
}

}  // namespace vaelib::detail
