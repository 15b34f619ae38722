#pragma once
// conv2d and conv_transpose2d: 2-D convolution and transposed convolution (stride, padding,
// dilation, groups), NCHW, by im2col + GEMM.
//
// Why NCHW and im2col: on this CPU (2 cores, AVX-512 or Zen) a convolution at a VAE's sizes
// (tens of channels, images up to 64 x 64) is bound by its multiply-adds, and OpenBLAS's GEMM
// runs those near peak. With NCHW an image's channels are the rows of a row-major matrix
// [C, H*W]: the unfolded columns [C*kH*kW, OH*OW] of one image times the weight [C_out,
// C_in*kH*kW] land straight in the output image, with no transposition on either side, and
// the backward's three products (W^T dY, dY col^T, row sums) are GEMMs on the same buffers.
// Unfolding costs a pass over the column buffer, about 1/C_out of the GEMM's work. Images
// are split over the BLAS's threads (each with its own column buffer and single-threaded
// GEMMs): one image's GEMMs are too small for OpenBLAS to thread well.
//
// The transposed convolution is the convolution's backward-data: its forward is col2im of
// W^T x and its backward-data is the convolution's forward (im2col of dy, then W times it).

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "vaelib/autodiff/tape.hpp"
#include "vaelib/detail/blas.hpp"
#include "vaelib/detail/parallel.hpp"

namespace vaelib {

/// A (height, width) pair of conv2d's options.
struct Conv2dPair {
  std::size_t h = 0;
  std::size_t w = 0;
};

/// conv2d()'s options, as PyTorch's Conv2d has them.
struct Conv2dOptions {
  Conv2dPair stride{1, 1};
  Conv2dPair padding{0, 0};   // zeros on each side
  Conv2dPair dilation{1, 1};  // spacing between kernel taps
  std::size_t groups = 1;     // C_in and C_out split into this many independent convolutions
};

/// conv_transpose2d()'s options: those of the convolution it transposes, plus output_padding
/// (rows and columns added at the bottom and right of the output, to pick among the input
/// sizes a strided convolution maps to the same output size).
struct ConvTranspose2dOptions {
  Conv2dPair stride{1, 1};
  Conv2dPair padding{0, 0};
  Conv2dPair output_padding{0, 0};
  Conv2dPair dilation{1, 1};
  std::size_t groups = 1;
};

namespace detail {

/// The unfolding of an image [channels, height, width] into columns [channels*kh*kw,
/// out_h*out_w]: row (c, i, j) holds image[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (zero
/// outside the image) at column (oh, ow).
struct ConvGeometry {
  std::size_t channels = 0, height = 0, width = 0;
  std::size_t kh = 0, kw = 0, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  std::size_t out_h = 0, out_w = 0;

  std::size_t image_size() const { return channels * height * width; }
  std::size_t plane() const { return out_h * out_w; }
  std::size_t col_size() const { return channels * kh * kw * plane(); }
  /// The columns are the image itself (1 x 1 kernel, stride 1, no padding): no unfolding.
  bool identity() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && out_h == height && out_w == width;
  }
};

/// What conv2d / conv_transpose2d keep in their tape record (op_cache) for the backward.
struct ConvPlan {
  ConvGeometry geo;          // conv2d: x unfolded to y's size; conv_transpose2d: y unfolded to x's
  std::size_t batch = 0;     // N
  std::size_t groups = 1;
  std::size_t maps = 0;      // channels on the columns' side: conv2d's C_out, conv_transpose2d's C_in
  std::size_t slots = 1;     // image ranges run in parallel, each with its own buffers
  bool cols_kept = false;    // conv2d: the forward kept every image's columns for dW (scratch's head)
};

/// conv2d's backward scratch: per slot the columns (for dW, unless the forward kept them),
/// their gradient (for dx) and a dW partial (when several slots add into dW).
inline std::size_t conv2d_backward_per_slot(const ConvPlan& p, bool need_x, bool need_w) {
  const std::size_t col = p.geo.identity() ? 0 : p.geo.col_size();
  const std::size_t w_size = p.maps * (p.geo.channels / p.groups * p.geo.kh * p.geo.kw);
  const std::size_t partial = need_w && p.slots > 1 ? w_size : 0;
  return (need_w && !p.cols_kept ? col : 0) + (need_x ? col : 0) + partial;
}

/// The output positions o in [0, count) whose tap o*stride + offset falls in [0, size).
inline void conv_valid_range(std::ptrdiff_t offset, std::size_t stride, std::size_t size, std::size_t count,
                             std::size_t& first, std::size_t& last) {
  const auto s = static_cast<std::ptrdiff_t>(stride);
  const auto n = static_cast<std::ptrdiff_t>(size);
  const std::ptrdiff_t lo = offset >= 0 ? 0 : (-offset + s - 1) / s;
  const std::ptrdiff_t hi = offset >= n ? 0 : (n - offset + s - 1) / s;
  last = std::min(count, static_cast<std::size_t>(hi));
  first = std::min(last, static_cast<std::size_t>(lo));
}

/// Calls row(image_at, col_at, first, last) for each kernel tap and output row whose input
/// row lies in the image (output columns [first, last) read the image from image_at on), and
/// zero(col_at, begin, end) for the column stretches that fall in the padding: whole padded
/// rows in one call, so that the per-row work is the copy alone (rows are short: 7 to 28).
template <class Row, class Zero>
void conv_for_each_tap(const ConvGeometry& g, const Row& row, const Zero& zero) {
  const std::size_t plane = g.plane();
  for (std::size_t c = 0; c < g.channels; ++c)
    for (std::size_t i = 0; i < g.kh; ++i) {
      const auto row_offset = static_cast<std::ptrdiff_t>(i * g.dh) - static_cast<std::ptrdiff_t>(g.ph);
      std::size_t oh_first = 0, oh_last = 0;
      conv_valid_range(row_offset, g.sh, g.height, g.out_h, oh_first, oh_last);
      for (std::size_t j = 0; j < g.kw; ++j) {
        const std::size_t base = ((c * g.kh + i) * g.kw + j) * plane;
        const auto col_offset = static_cast<std::ptrdiff_t>(j * g.dw) - static_cast<std::ptrdiff_t>(g.pw);
        std::size_t first = 0, last = 0;
        conv_valid_range(col_offset, g.sw, g.width, g.out_w, first, last);
        if (first == last) {
          zero(base, std::size_t{0}, plane);
          continue;
        }
        zero(base, std::size_t{0}, oh_first * g.out_w);
        zero(base + oh_last * g.out_w, std::size_t{0}, (g.out_h - oh_last) * g.out_w);
        const bool edges = first > 0 || last < g.out_w;
        for (std::size_t oh = oh_first; oh < oh_last; ++oh) {
          const std::size_t col_at = base + oh * g.out_w;
          if (edges) {
            zero(col_at, std::size_t{0}, first);
            zero(col_at, last, g.out_w);
          }
          // image offset of output column `first`'s tap (non-negative by construction)
          const auto ih = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(oh * g.sh) + row_offset);
          const std::size_t image_at = (c * g.height + ih) * g.width +
                                       static_cast<std::size_t>(static_cast<std::ptrdiff_t>(first * g.sw) + col_offset);
          row(image_at, col_at, first, last);
        }
      }
    }
}

/// Calls body(std::integral_constant<std::size_t, S>) with S = the stride when it is 1 or 2
/// (the copies' inner loops then compile with a constant step), else with S = 0.
template <class Body>
void conv_with_stride(std::size_t stride, const Body& body) {
  if (stride == 1) {
    body(std::integral_constant<std::size_t, 1>{});
  } else if (stride == 2) {
    body(std::integral_constant<std::size_t, 2>{});
  } else {
    body(std::integral_constant<std::size_t, 0>{});
  }
}

/// col = the columns of `image` (see ConvGeometry).
template <class T>
void im2col(const ConvGeometry& g, const T* image, T* col) {
  conv_with_stride(g.sw, [&](auto constant) {
    const std::size_t sw = decltype(constant)::value != 0 ? decltype(constant)::value : g.sw;
    conv_for_each_tap(
        g,
        [&](std::size_t image_at, std::size_t col_at, std::size_t first, std::size_t last) {
          const T* in = image + image_at;
          T* out = col + col_at + first;
          for (std::size_t o = 0; o < last - first; ++o) out[o] = in[o * sw];
        },
        [&](std::size_t col_at, std::size_t begin, std::size_t end) {
          std::fill(col + col_at + begin, col + col_at + end, T(0));
        });
  });
}

/// image += the fold of `col` (each column entry added back where im2col took it from).
template <class T>
void col2im_add(const ConvGeometry& g, const T* col, T* image) {
  conv_with_stride(g.sw, [&](auto constant) {
    const std::size_t sw = decltype(constant)::value != 0 ? decltype(constant)::value : g.sw;
    conv_for_each_tap(
        g,
        [&](std::size_t image_at, std::size_t col_at, std::size_t first, std::size_t last) {
          T* out = image + image_at;
          const T* in = col + col_at + first;
          for (std::size_t o = 0; o < last - first; ++o) out[o * sw] += in[o];
        },
        [](std::size_t, std::size_t, std::size_t) {});
  });
}

/// Images [0, batch) split into `slots` contiguous ranges; body(slot, first, last) for each,
/// over the BLAS's threads when there are several slots (GEMMs inside run single-threaded).
/// The split depends on the slot count only, so the results do not depend on where it ran.
/// In a SerialRegion the slots run here, one after the other: the GEMMs inside may then split
/// themselves (parallel_for_with_serial_blas must not be entered twice on one thread).
template <class Body>
void conv_for_each_slot(std::size_t batch, std::size_t slots, const Body& body) {
  const auto run = [&](std::size_t s) { body(s, s * batch / slots, (s + 1) * batch / slots); };
  if (slots > 1 && !parallel_impl::in_serial_region() && parallel_for_with_serial_blas(
                       slots, 1,
                       [&](std::size_t first, std::size_t last) {
                         for (std::size_t s = first; s < last; ++s) run(s);
                       },
                       1))
    return;
  for (std::size_t s = 0; s < slots; ++s) run(s);
}

inline std::size_t conv_slots(std::size_t batch) {
  return std::max<std::size_t>(1, std::min<std::size_t>(batch, static_cast<std::size_t>(parallel_threads())));
}

inline std::string conv_pair(Conv2dPair p) { return "{" + std::to_string(p.h) + ", " + std::to_string(p.w) + "}"; }

/// "op: x has shape [..], weight has shape [..][, bias has shape [..]]": the start of every
/// shape message (built on the error path only).
inline std::string conv_describe(const char* op, const Shape& sx, const Shape& sw, const Shape* sb) {
  return std::string(op) + ": x has shape " + to_string(sx) + ", weight has shape " + to_string(sw) +
         (sb != nullptr ? ", bias has shape " + to_string(*sb) : std::string());
}

/// Checks conv2d's (transposed == false) or conv_transpose2d's operands and options and
/// returns its plan and output shape.
inline ConvPlan plan_conv2d(const char* op, bool transposed, const Shape& sx, const Shape& sw, const Shape* sb,
                            Conv2dPair stride, Conv2dPair padding, Conv2dPair dilation, std::size_t groups,
                            Conv2dPair output_padding, Shape& out_shape) {
  if (stride.h == 0 || stride.w == 0 || dilation.h == 0 || dilation.w == 0 || groups == 0) {
    throw ArgumentError(std::string(op) + ": expected stride, dilation and groups >= 1; got stride " +
                        conv_pair(stride) + ", dilation " + conv_pair(dilation) + ", groups " + std::to_string(groups));
  }
  if (transposed && !((output_padding.h < stride.h || output_padding.h < dilation.h) &&
                      (output_padding.w < stride.w || output_padding.w < dilation.w))) {
    throw ArgumentError(std::string(op) + ": output_padding " + conv_pair(output_padding) +
                        " must be smaller than the stride " + conv_pair(stride) + " or the dilation " +
                        conv_pair(dilation) + " in each dimension");
  }
  const char* weight_layout = transposed ? "weight [C_in, C_out / groups, kH, kW]" : "weight [C_out, C_in / groups, kH, kW]";
  if (sx.size() != 4 || sw.size() != 4 || (sb != nullptr && sb->size() != 1) || sx[2] == 0 || sx[3] == 0 ||
      sw[2] == 0 || sw[3] == 0) {
    throw ShapeError(conv_describe(op, sx, sw, sb) + "; expected x [N, C_in, H, W] with H, W >= 1, " + weight_layout +
                     " with kH, kW >= 1" + (sb != nullptr ? ", bias [C_out]" : ""));
  }
  const std::size_t c_in = sx[1];
  // conv2d's weight is [C_out, C_in / groups, ..]; conv_transpose2d's [C_in, C_out / groups, ..]
  const std::size_t c_out = transposed ? sw[1] * groups : sw[0];
  const std::size_t weight_c_in = transposed ? sw[0] : sw[1] * groups;
  if (c_in % groups != 0 || c_out % groups != 0) {
    throw ShapeError(conv_describe(op, sx, sw, sb) + "; expected C_in (" + std::to_string(c_in) + ") and C_out (" +
                     std::to_string(c_out) + ") divisible by groups (" + std::to_string(groups) + ")");
  }
  if (weight_c_in != c_in) {
    throw ShapeError(conv_describe(op, sx, sw, sb) + "; expected " + weight_layout + " with " +
                     (transposed ? "C_in = " + std::to_string(c_in)
                                 : "C_in / groups = " + std::to_string(c_in / groups)) +
                     " (groups " + std::to_string(groups) + ")");
  }
  if (sb != nullptr && (*sb)[0] != c_out) {
    throw ShapeError(conv_describe(op, sx, sw, sb) + "; expected bias [C_out] = [" + std::to_string(c_out) + "]");
  }
  const std::size_t h = sx[2], w = sx[3], kh = sw[2], kw = sw[3];
  const std::size_t span_h = dilation.h * (kh - 1) + 1, span_w = dilation.w * (kw - 1) + 1;
  ConvPlan p;
  p.batch = sx[0];
  p.groups = groups;
  p.slots = conv_slots(p.batch);
  ConvGeometry& g = p.geo;
  g.kh = kh, g.kw = kw, g.sh = stride.h, g.sw = stride.w, g.ph = padding.h, g.pw = padding.w;
  g.dh = dilation.h, g.dw = dilation.w;
  if (!transposed) {
    if (h + 2 * padding.h < span_h || w + 2 * padding.w < span_w) {
      throw ShapeError(conv_describe(op, sx, sw, sb) + "; the kernel (" + std::to_string(span_h) + " x " +
                       std::to_string(span_w) + " with dilation " + conv_pair(dilation) +
                       ") is larger than the padded input (" + std::to_string(h + 2 * padding.h) + " x " +
                       std::to_string(w + 2 * padding.w) + " with padding " + conv_pair(padding) + ")");
    }
    g.channels = c_in, g.height = h, g.width = w;
    g.out_h = (h + 2 * padding.h - span_h) / stride.h + 1;
    g.out_w = (w + 2 * padding.w - span_w) / stride.w + 1;
    p.maps = c_out;
    out_shape = {p.batch, c_out, g.out_h, g.out_w};
  } else {
    // the output is the input of the convolution this one transposes
    const auto out_size = [](std::size_t in, std::size_t s, std::size_t pad, std::size_t span, std::size_t extra) {
      return static_cast<std::ptrdiff_t>((in - 1) * s + span + extra) - static_cast<std::ptrdiff_t>(2 * pad);
    };
    const std::ptrdiff_t oh = out_size(h, stride.h, padding.h, span_h, output_padding.h);
    const std::ptrdiff_t ow = out_size(w, stride.w, padding.w, span_w, output_padding.w);
    if (oh <= 0 || ow <= 0) {
      throw ShapeError(conv_describe(op, sx, sw, sb) + "; the output size (" + std::to_string(oh) + " x " +
                       std::to_string(ow) + ") is not positive with stride " + conv_pair(stride) + ", padding " +
                       conv_pair(padding) + ", output_padding " + conv_pair(output_padding) + ", dilation " +
                       conv_pair(dilation));
    }
    g.channels = c_out, g.height = static_cast<std::size_t>(oh), g.width = static_cast<std::size_t>(ow);
    g.out_h = h, g.out_w = w;
    p.maps = c_in;
    out_shape = {p.batch, c_out, g.height, g.width};
  }
  return p;
}

/// y[n, c, :, :] = bias[c] for every image and channel.
template <class T>
void conv_fill_bias(const T* bias, std::size_t batch, std::size_t channels, std::size_t plane, T* y) {
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t c = 0; c < channels; ++c) std::fill_n(y + (n * channels + c) * plane, plane, bias[c]);
}

/// bias gradient: per-channel sums of dy [N, C, plane] (assigned or added).
template <class T>
void conv_bias_grad(const T* dy, std::size_t batch, std::size_t channels, std::size_t plane, GradTarget<T> g) {
  for (std::size_t c = 0; c < channels; ++c) {
    T s = 0;
    for (std::size_t n = 0; n < batch; ++n) {
      const T* row = dy + (n * channels + c) * plane;
      for (std::size_t i = 0; i < plane; ++i) s += row[i];
    }
    g.data[c] = g.accumulate ? g.data[c] + s : s;
  }
}

template <class T>
Var<T> conv2d_impl(const Var<T>& x, const Var<T>& w, const Var<T>* b, const Conv2dOptions& o) {
  constexpr const char* op = "conv2d";
  Tape<T>& tape = x.tape();
  tape.check_handle(op, x);
  tape.check_handle(op, w);
  if (b != nullptr) tape.check_handle(op, *b);
  Shape out_shape;
  const ConvPlan p = plan_conv2d(op, false, x.shape(), w.shape(), b != nullptr ? &b->shape() : nullptr, o.stride,
                                 o.padding, o.dilation, o.groups, Conv2dPair{}, out_shape);
  const Var<T> y = b != nullptr ? tape.make_node(op, out_shape, {x, w, *b}) : tape.make_node(op, out_shape, {x, w});
  TapeRecord<T>& node = tape.node(y);
  const ConvGeometry& g = p.geo;
  const std::size_t plane = g.plane(), cg_out = p.maps / p.groups, kg = g.channels / p.groups * g.kh * g.kw;
  const std::size_t x_size = g.image_size(), y_size = p.maps * plane;
  T* const yv = tape.value_ptr(y);
  const T* const xv = x.data();
  const T* const wv = w.data();
  if (b != nullptr) conv_fill_bias(b->data(), p.batch, p.maps, plane, yv);
  const T beta = b != nullptr ? T(1) : T(0);
  // When W's gradient will be wanted, every image's columns are kept for the backward (they
  // are dW's right factor) rather than unfolded again there: the scratch holds them, then the
  // backward's own area, reserved now because a scratch that grows loses its contents.
  ConvPlan plan = p;
  plan.cols_kept = node.requires_grad && tape.node(w).requires_grad && !g.identity();
  const std::size_t kept = plan.cols_kept ? p.batch * g.col_size() : 0;
  T* const cols = g.identity() ? nullptr
                  : plan.cols_kept
                      ? node.scratch.ensure(kept + p.slots * conv2d_backward_per_slot(plan, tape.node(x).requires_grad, true))
                      : node.scratch.ensure(p.slots * g.col_size());
  conv_for_each_slot(p.batch, p.slots, [&](std::size_t s, std::size_t first, std::size_t last) {
    for (std::size_t n = first; n < last; ++n) {
      T* col = cols == nullptr ? nullptr : cols + (plan.cols_kept ? n : s) * g.col_size();
      const T* c = xv + n * x_size;
      if (col != nullptr) im2col(g, c, col), c = col;
      for (std::size_t k = 0; k < p.groups; ++k)  // y_k [C_out/G, plane] = W_k [C_out/G, Kg] col_k [Kg, plane]
        gemm_stored(false, false, cg_out, plane, kg, wv + k * cg_out * kg, c + k * kg * plane, beta,
                    yv + n * y_size + k * cg_out * plane);
    }
  });
  if (node.requires_grad) op_cache<ConvPlan>(node) = plan;
  const bool has_bias = b != nullptr;
  const Var<T> bias = has_bias ? *b : Var<T>();
  tape.set_backward(y, [x, w, bias, has_bias](Tape<T>& t, TapeRecord<T>& self) {
    const ConvPlan& p = op_cache<ConvPlan>(self);
    const ConvGeometry& g = p.geo;
    const std::size_t plane = g.plane(), cg_out = p.maps / p.groups, kg = g.channels / p.groups * g.kh * g.kw;
    const std::size_t x_size = g.image_size(), y_size = p.maps * plane, w_size = p.maps * kg;
    const T* const dy = self.grad;
    if (has_bias && t.node(bias).requires_grad) conv_bias_grad(dy, p.batch, p.maps, plane, t.grad_target(bias));
    const bool need_x = t.node(x).requires_grad, need_w = t.node(w).requires_grad;
    if (!need_x && !need_w) return;
    const GradTarget<T> gx = need_x ? t.grad_target(x) : GradTarget<T>{nullptr, false};
    const GradTarget<T> gw = need_w ? t.grad_target(w) : GradTarget<T>{nullptr, false};
    const std::size_t col = g.identity() ? 0 : g.col_size();
    const std::size_t partial = need_w && p.slots > 1 ? w_size : 0;
    const std::size_t per_slot = conv2d_backward_per_slot(p, need_x, need_w);
    const std::size_t kept = p.cols_kept ? p.batch * col : 0;  // the forward's columns, image after image
    T* const kept_cols = self.scratch.data();
    T* const scratch = self.scratch.ensure(kept + p.slots * per_slot) + kept;
    if (p.cols_kept && self.scratch.data() != kept_cols) throw std::logic_error("conv2d: the kept columns were lost");
    const T* const xv = t.value_ptr(x);
    const T* const wv = t.value_ptr(w);
    conv_for_each_slot(p.batch, p.slots, [&](std::size_t s, std::size_t first, std::size_t last) {
      T* at = scratch + s * per_slot;
      T* cols = need_w && !p.cols_kept ? at : nullptr;
      T* dcols = need_x ? at + (cols != nullptr ? col : 0) : nullptr;
      T* dw = partial > 0 ? at + per_slot - partial : gw.data;
      bool dw_written = partial == 0 && gw.accumulate;  // one slot adds straight into an accumulating target
      if (need_w && first == last && !dw_written) std::fill_n(dw, w_size, T(0));
      for (std::size_t n = first; n < last; ++n) {
        const T* xn = xv + n * x_size;
        const T* dyn = dy + n * y_size;
        if (need_w) {  // dW_k += dY_k [C_out/G, plane] col_k^T [plane, Kg]
          const T* c = xn;
          if (p.cols_kept) {
            c = kept_cols + n * col;
          } else if (col > 0) {
            im2col(g, xn, cols), c = cols;
          }
          for (std::size_t k = 0; k < p.groups; ++k)
            gemm_stored(false, true, cg_out, kg, plane, dyn + k * cg_out * plane, c + k * kg * plane,
                        dw_written ? T(1) : T(0), dw + k * cg_out * kg);
          dw_written = true;
        }
        if (need_x) {  // dcol_k = W_k^T dY_k, folded back into dx
          T* dxn = gx.data + n * x_size;
          if (col == 0) {
            for (std::size_t k = 0; k < p.groups; ++k)
              gemm_stored(true, false, kg, plane, cg_out, wv + k * cg_out * kg, dyn + k * cg_out * plane,
                          gx.accumulate ? T(1) : T(0), dxn + k * kg * plane);
          } else {
            for (std::size_t k = 0; k < p.groups; ++k)
              gemm_stored(true, false, kg, plane, cg_out, wv + k * cg_out * kg, dyn + k * cg_out * plane, T(0),
                          dcols + k * kg * plane);
            if (!gx.accumulate) std::fill_n(dxn, x_size, T(0));
            col2im_add(g, static_cast<const T*>(dcols), dxn);
          }
        }
      }
    });
    if (partial > 0) {
      T* const partials = scratch + per_slot - partial;  // slot k's partial is per_slot further on each time
      for (std::size_t i = 0; i < w_size; ++i) {
        T sum = gw.accumulate ? gw.data[i] : T(0);
        for (std::size_t k = 0; k < p.slots; ++k) sum += partials[k * per_slot + i];
        gw.data[i] = sum;
      }
    }
  });
  return y;
}

template <class T>
Var<T> conv_transpose2d_impl(const Var<T>& x, const Var<T>& w, const Var<T>* b, const ConvTranspose2dOptions& o) {
  constexpr const char* op = "conv_transpose2d";
  Tape<T>& tape = x.tape();
  tape.check_handle(op, x);
  tape.check_handle(op, w);
  if (b != nullptr) tape.check_handle(op, *b);
  Shape out_shape;
  const ConvPlan p = plan_conv2d(op, true, x.shape(), w.shape(), b != nullptr ? &b->shape() : nullptr, o.stride,
                                 o.padding, o.dilation, o.groups, o.output_padding, out_shape);
  const Var<T> y = b != nullptr ? tape.make_node(op, out_shape, {x, w, *b}) : tape.make_node(op, out_shape, {x, w});
  TapeRecord<T>& node = tape.node(y);
  // the geometry unfolds y (g.channels = C_out) into columns of x's size (plane = H*W)
  const ConvGeometry& g = p.geo;
  const std::size_t plane = g.plane(), cg_in = p.maps / p.groups, kg = g.channels / p.groups * g.kh * g.kw;
  const std::size_t x_size = p.maps * plane, y_size = g.image_size();
  T* const yv = tape.value_ptr(y);
  const T* const xv = x.data();
  const T* const wv = w.data();
  if (b != nullptr) {
    conv_fill_bias(b->data(), p.batch, g.channels, g.height * g.width, yv);
  } else {
    std::fill_n(yv, p.batch * y_size, T(0));
  }
  T* const cols = g.identity() ? nullptr : node.scratch.ensure(p.slots * g.col_size());
  conv_for_each_slot(p.batch, p.slots, [&](std::size_t s, std::size_t first, std::size_t last) {
    T* col = cols == nullptr ? nullptr : cols + s * g.col_size();
    for (std::size_t n = first; n < last; ++n) {
      const T* xn = xv + n * x_size;
      T* yn = yv + n * y_size;
      // col_k [Kg, plane] = W_k^T [Kg, C_in/G] x_k [C_in/G, plane], folded into y (or straight
      // into y, already holding the bias, when the columns are y itself)
      for (std::size_t k = 0; k < p.groups; ++k)
        gemm_stored(true, false, kg, plane, cg_in, wv + k * cg_in * kg, xn + k * cg_in * plane,
                    col == nullptr ? T(1) : T(0), (col == nullptr ? yn : col) + k * kg * plane);
      if (col != nullptr) col2im_add(g, static_cast<const T*>(col), yn);
    }
  });
  if (node.requires_grad) op_cache<ConvPlan>(node) = p;
  const bool has_bias = b != nullptr;
  const Var<T> bias = has_bias ? *b : Var<T>();
  tape.set_backward(y, [x, w, bias, has_bias](Tape<T>& t, TapeRecord<T>& self) {
    const ConvPlan& p = op_cache<ConvPlan>(self);
    const ConvGeometry& g = p.geo;
    const std::size_t plane = g.plane(), cg_in = p.maps / p.groups, kg = g.channels / p.groups * g.kh * g.kw;
    const std::size_t x_size = p.maps * plane, y_size = g.image_size(), w_size = p.maps * kg;
    const T* const dy = self.grad;
    if (has_bias && t.node(bias).requires_grad)
      conv_bias_grad(dy, p.batch, g.channels, g.height * g.width, t.grad_target(bias));
    const bool need_x = t.node(x).requires_grad, need_w = t.node(w).requires_grad;
    if (!need_x && !need_w) return;
    const GradTarget<T> gx = need_x ? t.grad_target(x) : GradTarget<T>{nullptr, false};
    const GradTarget<T> gw = need_w ? t.grad_target(w) : GradTarget<T>{nullptr, false};
    // scratch: per slot dy's columns (shared by dx and dW) and a dW partial
    const std::size_t col = g.identity() ? 0 : g.col_size();
    const std::size_t partial = need_w && p.slots > 1 ? w_size : 0;
    const std::size_t per_slot = col + partial;
    T* const scratch = self.scratch.ensure(p.slots * per_slot);
    const T* const xv = t.value_ptr(x);
    const T* const wv = t.value_ptr(w);
    conv_for_each_slot(p.batch, p.slots, [&](std::size_t s, std::size_t first, std::size_t last) {
      T* at = scratch + s * per_slot;
      T* dw = partial > 0 ? at + col : gw.data;
      bool dw_written = partial == 0 && gw.accumulate;
      if (need_w && first == last && !dw_written) std::fill_n(dw, w_size, T(0));
      for (std::size_t n = first; n < last; ++n) {
        const T* c = dy + n * y_size;
        if (col > 0) im2col(g, c, at), c = at;
        if (need_x) {  // dx_k [C_in/G, plane] = W_k [C_in/G, Kg] col_k [Kg, plane]: the convolution
          for (std::size_t k = 0; k < p.groups; ++k)
            gemm_stored(false, false, cg_in, plane, kg, wv + k * cg_in * kg, c + k * kg * plane,
                        gx.accumulate ? T(1) : T(0), gx.data + n * x_size + k * cg_in * plane);
        }
        if (need_w) {  // dW_k += x_k [C_in/G, plane] col_k^T [plane, Kg]
          for (std::size_t k = 0; k < p.groups; ++k)
            gemm_stored(false, true, cg_in, kg, plane, xv + n * x_size + k * cg_in * plane, c + k * kg * plane,
                        dw_written ? T(1) : T(0), dw + k * cg_in * kg);
          dw_written = true;
        }
      }
    });
    if (partial > 0) {
      const T* const partials = scratch + col;
      for (std::size_t i = 0; i < w_size; ++i) {
        T sum = gw.accumulate ? gw.data[i] : T(0);
        for (std::size_t k = 0; k < p.slots; ++k) sum += partials[k * per_slot + i];
        gw.data[i] = sum;
      }
    }
  });
  return y;
}

}  // namespace detail

/// 2-D convolution (cross-correlation, as PyTorch's), NCHW:
///   x [N, C_in, H, W], weight [C_out, C_in / G, kH, kW], bias [C_out] -> y [N, C_out, OH, OW],
///   OH = (H + 2 pad_h - dil_h (kH - 1) - 1) / stride_h + 1 (likewise OW);
///   y[n, o, i, j] = bias[o] + sum_{c in o's group, a, b} weight[o, c, a, b]
///                   x[n, c, i stride_h - pad_h + a dil_h, j stride_w - pad_w + b dil_w] (zero outside).
/// forward:  per image and group, y_g = W_g col_g, col = im2col(x) [C_in kH kW, OH OW]
/// backward: dW_g += dY_g col_g^T, dx += col2im(W_g^T dY_g), dbias += sums of dY over n, i, j
template <class T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dOptions& options = {}) {
  return detail::conv2d_impl(x, weight, &bias, options);
}

/// conv2d without a bias.
template <class T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Conv2dOptions& options = {}) {
  return detail::conv2d_impl<T>(x, weight, nullptr, options);
}

/// 2-D transposed convolution (PyTorch's ConvTranspose2d), NCHW: the adjoint of conv2d with
/// the same options, so <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>:
///   x [N, C_in, H, W], weight [C_in, C_out / G, kH, kW], bias [C_out] -> y [N, C_out, OH, OW],
///   OH = (H - 1) stride_h - 2 pad_h + dil_h (kH - 1) + output_pad_h + 1 (likewise OW);
///   each input pixel x[n, c, i, j] adds x[n, c, i, j] weight[c, o, a, b] to
///   y[n, o, i stride_h - pad_h + a dil_h, j stride_w - pad_w + b dil_w] (o in c's group; taps
///   outside y are dropped).
/// forward:  per image and group, y += col2im(W_g^T x_g) (conv2d's backward-data)
/// backward: dx_g = W_g im2col(dY)_g (conv2d's forward), dW_g += x_g im2col(dY)_g^T,
///           dbias += sums of dY over n, i, j
template <class T>
Var<T> conv_transpose2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias,
                        const ConvTranspose2dOptions& options = {}) {
  return detail::conv_transpose2d_impl(x, weight, &bias, options);
}

/// conv_transpose2d without a bias.
template <class T>
Var<T> conv_transpose2d(const Var<T>& x, const Var<T>& weight, const ConvTranspose2dOptions& options = {}) {
  return detail::conv_transpose2d_impl<T>(x, weight, nullptr, options);
}

}  // namespace vaelib
