#pragma once
// upsample2d: 2-D upsampling of NCHW images by integer factors, nearest-neighbour or bilinear
// (PyTorch's align_corners = false).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "vaelib/autodiff/ops/conv2d.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

enum class UpsampleMode { nearest, bilinear };

namespace detail {

/// Bilinear, align_corners = false: output index o of a factor-s axis reads input positions
/// i0 and i1 with weights w0 and w1 (source o / s + 1 / (2 s) - 1 / 2, clamped at 0; i1 = i0
/// at the last input index).
struct UpsampleTap {
  std::size_t i0, i1;
  double w0, w1;
};
inline UpsampleTap upsample_bilinear_tap(std::size_t o, std::size_t s, std::size_t n) {
  const double src = std::max(0.0, (static_cast<double>(o) + 0.5) / static_cast<double>(s) - 0.5);
  const auto i0 = static_cast<std::size_t>(src);  // floor: src >= 0
  const std::size_t i1 = i0 + 1 < n ? i0 + 1 : i0;
  const double w1 = src - static_cast<double>(i0);
  return {i0, i1, 1 - w1, w1};
}

}  // namespace detail

/// Upsampling by integer factors (sh, sw): x [N, C, H, W] -> y [N, C, H sh, W sw].
///   nearest:  y[n, c, i, j] = x[n, c, i / sh, j / sw] (integer division)
///   bilinear: y[n, c, i, j] = sum over the two rows a and two columns b around the source
///             point ((i + 1/2) / sh - 1/2, (j + 1/2) / sw - 1/2) (clamped to the image, as
///             PyTorch's align_corners = false) of wa_i wb_j x[n, c, a, b]
/// forward:  as above
/// backward: nearest: dx[a, b] += sum of dy over its sh x sw block;
///           bilinear: dx[a, b] += wa_i wb_j dy[i, j] for every output (i, j) reading (a, b)
template <class T>
Var<T> upsample2d(const Var<T>& x, Conv2dPair scale, UpsampleMode mode = UpsampleMode::nearest) {
  constexpr const char* op = "upsample2d";
  Tape<T>& tape = x.tape();
  tape.check_handle(op, x);
  if (scale.h == 0 || scale.w == 0) {
    throw ArgumentError(std::string(op) + ": expected scale factors >= 1; got " + detail::conv_pair(scale));
  }
  const Shape& sx = x.shape();
  if (sx.size() != 4 || sx[2] == 0 || sx[3] == 0) {
    throw ShapeError(std::string(op) + ": x has shape " + to_string(sx) + "; expected x [N, C, H, W] with H, W >= 1");
  }
  const std::size_t planes = sx[0] * sx[1], h = sx[2], w = sx[3], sh = scale.h, sw = scale.w;
  const std::size_t oh = h * sh, ow = w * sw;
  const Var<T> y = tape.make_node(op, Shape{sx[0], sx[1], oh, ow}, {x});
  const T* const xv = x.data();
  T* const yv = tape.value_ptr(y);
  for (std::size_t p = 0; p < planes; ++p) {
    const T* in = xv + p * h * w;
    T* out = yv + p * oh * ow;
    if (mode == UpsampleMode::nearest) {
      for (std::size_t i = 0; i < oh; ++i)
        for (std::size_t j = 0; j < ow; ++j) out[i * ow + j] = in[(i / sh) * w + j / sw];
    } else {
      for (std::size_t i = 0; i < oh; ++i) {
        const detail::UpsampleTap r = detail::upsample_bilinear_tap(i, sh, h);
        for (std::size_t j = 0; j < ow; ++j) {
          const detail::UpsampleTap c = detail::upsample_bilinear_tap(j, sw, w);
          const double v = r.w0 * (c.w0 * in[r.i0 * w + c.i0] + c.w1 * in[r.i0 * w + c.i1]) +
                           r.w1 * (c.w0 * in[r.i1 * w + c.i0] + c.w1 * in[r.i1 * w + c.i1]);
          out[i * ow + j] = static_cast<T>(v);
        }
      }
    }
  }
  tape.set_backward(y, [x, planes, h, w, sh, sw, mode](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t oh = h * sh, ow = w * sw;
    T* const dx = t.grad_target_zeroed(x);  // every output adds into the taps it read
    for (std::size_t p = 0; p < planes; ++p) {
      const T* dy = self.grad + p * oh * ow;
      T* d = dx + p * h * w;
      if (mode == UpsampleMode::nearest) {
        for (std::size_t i = 0; i < oh; ++i)
          for (std::size_t j = 0; j < ow; ++j) d[(i / sh) * w + j / sw] += dy[i * ow + j];
      } else {
        for (std::size_t i = 0; i < oh; ++i) {
          const detail::UpsampleTap r = detail::upsample_bilinear_tap(i, sh, h);
          for (std::size_t j = 0; j < ow; ++j) {
            const detail::UpsampleTap c = detail::upsample_bilinear_tap(j, sw, w);
            const double g = dy[i * ow + j];
            d[r.i0 * w + c.i0] += static_cast<T>(r.w0 * c.w0 * g);
            d[r.i0 * w + c.i1] += static_cast<T>(r.w0 * c.w1 * g);
            d[r.i1 * w + c.i0] += static_cast<T>(r.w1 * c.w0 * g);
            d[r.i1 * w + c.i1] += static_cast<T>(r.w1 * c.w1 * g);
          }
        }
      }
    }
  });
  return y;
}

}  // namespace vaelib
