#pragma once
// conv2d and conv_transpose2d: 2-D convolution and transposed convolution (stride, padding,
// dilation, groups), NCHW, by im2col + GEMM.
//
// Why NCHW and im2col: on this CPU (2 cores, AVX-512 or Zen) a convolution at a VAE's sizes
// (tens of channels, images up to 64 x 64) is bound by its multiply-adds, and OpenBLAS's GEMM
// runs those near peak. With NCHW an image's channels are the rows of a row-major matrix
// [C, H*W], the weight is [C_out, C_in*kH*kW], and unfolding costs a pass over the columns,
// about 1/C_out of the GEMM's work.
//
// Why slots and chunks: one image's GEMMs are small (a 7 x 7 plane is 49 columns), and
// OpenBLAS then spends more on packing W than on the products, while one layer's GEMM at the
// whole batch's shape leaves the columns too large for the caches, so unfolding them and
// reading them back costs memory traffic. So the batch's images are split into one range
// per BLAS thread ("slot", each with its own buffers and single-threaded GEMMs), and each
// slot unfolds its images a few at a time ("chunk"), side by side in one column matrix
// [C_in*kH*kW, images*OH*OW] sized for the cache (conv_chunk_elements): one GEMM per chunk
// and group. The price is a copy of the output (and of dy) between NCHW and the chunk's
// [C_out, images*OH*OW], a pass over the output, small beside the columns. Slots and chunks
// follow from the shapes and the thread count alone, so results are reproducible.
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
#include "vaelib/detail/simd.hpp"

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

/// A chunk's columns hold at most this many elements (1 MB of floats), unless one image's
/// take more: 10 to 64 of a slot's 64 images in vae_conv's layers, whose columns the GEMM
/// then reads from the cache (docs/performance.md, "Convolutions", has the figures that chose it).
inline constexpr std::size_t conv_chunk_elements = std::size_t{1} << 18;

/// What conv2d / conv_transpose2d keep in their tape record (op_cache) for the backward.
struct ConvPlan {
  ConvGeometry geo;          // conv2d: x unfolded to y's size; conv_transpose2d: y unfolded to x's
  std::size_t batch = 0;     // N
  std::size_t groups = 1;
  std::size_t maps = 0;      // channels on the columns' side: conv2d's C_out, conv_transpose2d's C_in
  std::size_t slots = 1;     // image ranges run in parallel, each with its own buffers
  std::size_t chunk = 1;     // images unfolded side by side per GEMM in a slot
  bool cols_kept = false;    // conv2d: the forward kept every image's columns for dW (scratch's head)

  /// Sizes of a whole chunk's buffers: its columns [Kg*G, chunk*plane] and its maps
  /// [maps, chunk*plane] (conv2d's output, conv_transpose2d's input).
  std::size_t chunk_cols() const { return chunk * geo.col_size(); }
  std::size_t chunk_maps() const { return chunk * maps * geo.plane(); }
  std::size_t weight_size() const { return maps * (geo.channels / groups * geo.kh * geo.kw); }
};

/// The chunk length of a slot of up to `images` images of `col_size` column elements each:
/// the fewest chunks under conv_chunk_elements, of equal length but the last. A 1 x 1
/// kernel's columns are the image itself, one image at a time.
inline std::size_t conv_chunk(std::size_t images, std::size_t col_size, bool identity) {
  if (identity || images <= 1) return 1;
  const std::size_t fit = std::clamp<std::size_t>(conv_chunk_elements / std::max<std::size_t>(col_size, 1), 1, images);
  const std::size_t chunks = (images + fit - 1) / fit;
  return (images + chunks - 1) / chunks;
}

/// Whether conv2d's backward unfolds x again: for dW, unless the forward kept the columns or
/// they are x itself.
inline bool conv2d_backward_unfolds(const ConvPlan& p, bool need_w) {
  return need_w && !p.cols_kept && !p.geo.identity();
}

/// conv2d's backward scratch per slot: dy's chunk, x's columns (when unfolded again), their
/// gradient (for dx), and a dW partial (when several slots add into dW).
inline std::size_t conv2d_backward_per_slot(const ConvPlan& p, bool need_x, bool need_w) {
  return p.chunk_maps() + (conv2d_backward_unfolds(p, need_w) ? p.chunk_cols() : 0) + (need_x ? p.chunk_cols() : 0) +
         (need_w && p.slots > 1 ? p.weight_size() : 0);
}

/// conv_transpose2d's scratch per slot, forward and backward alike: the chunk's columns, x's
/// (or dx's) chunk, and a dW partial (when several slots add into dW).
inline std::size_t conv_transpose2d_per_slot(const ConvPlan& p, bool need_w) {
  return p.chunk_cols() + p.chunk_maps() + (need_w && p.slots > 1 ? p.weight_size() : 0);
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
/// The column matrix's rows are `ld` apart (a chunk's images sit side by side in them).
template <class Row, class Zero>
void conv_for_each_tap(const ConvGeometry& g, std::size_t ld, const Row& row, const Zero& zero) {
  const std::size_t plane = g.plane();
  for (std::size_t c = 0; c < g.channels; ++c)
    for (std::size_t i = 0; i < g.kh; ++i) {
      const auto row_offset = static_cast<std::ptrdiff_t>(i * g.dh) - static_cast<std::ptrdiff_t>(g.ph);
      std::size_t oh_first = 0, oh_last = 0;
      conv_valid_range(row_offset, g.sh, g.height, g.out_h, oh_first, oh_last);
      for (std::size_t j = 0; j < g.kw; ++j) {
        const std::size_t base = ((c * g.kh + i) * g.kw + j) * ld;
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

/// col = the columns of `image` (see ConvGeometry), in rows `ld` apart.
template <class T>
void im2col(const ConvGeometry& g, const T* image, T* col, std::size_t ld) {
  conv_with_stride(g.sw, [&](auto constant) {
    const std::size_t sw = decltype(constant)::value != 0 ? decltype(constant)::value : g.sw;
    conv_for_each_tap(
        g, ld,
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

/// image += the fold of `col` (each column entry added back where im2col took it from), in
/// rows `ld` apart.
template <class T>
void col2im_add(const ConvGeometry& g, const T* col, std::size_t ld, T* image) {
  conv_with_stride(g.sw, [&](auto constant) {
    const std::size_t sw = decltype(constant)::value != 0 ? decltype(constant)::value : g.sw;
    conv_for_each_tap(
        g, ld,
        [&](std::size_t image_at, std::size_t col_at, std::size_t first, std::size_t last) {
          T* out = image + image_at;
          const T* in = col + col_at + first;
          for (std::size_t o = 0; o < last - first; ++o) out[o * sw] += in[o];
        },
        [](std::size_t, std::size_t, std::size_t) {});
  });
}

/// Images [0, batch) split into `slots` contiguous ranges, each run in chunks of at most
/// p.chunk images: body(slot, first, count, starts_slot) for each chunk of images [first,
/// first + count), or once with count 0 for a slot with no images. The slots run over the
/// BLAS's threads when there are several (each with its own buffers; GEMMs inside run
/// single-threaded). The split depends on the slot count only, so the results do not depend
/// on where it ran. In a SerialRegion the slots run here, one after the other: the GEMMs
/// inside may then split themselves (parallel_for_with_serial_blas must not be entered twice
/// on one thread).
template <class Body>
void conv_for_each_chunk(const ConvPlan& p, const Body& body) {
  const auto run = [&](std::size_t s) {
    const std::size_t first = s * p.batch / p.slots, last = (s + 1) * p.batch / p.slots;
    if (first == last) body(s, first, std::size_t{0}, true);
    for (std::size_t n = first; n < last; n += p.chunk) body(s, n, std::min(p.chunk, last - n), n == first);
  };
  if (p.slots > 1 && !parallel_impl::in_serial_region() && parallel_for_with_serial_blas(
                         p.slots, 1,
                         [&](std::size_t begin, std::size_t end) {
                           for (std::size_t s = begin; s < end; ++s) run(s);
                         },
                         1))
    return;
  for (std::size_t s = 0; s < p.slots; ++s) run(s);
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
  p.slots = conv_slots(p.batch);
  p.chunk = conv_chunk((p.batch + p.slots - 1) / p.slots, g.col_size(), !transposed && g.identity());
  return p;
}

/// chunk [channels, count*plane] = images [count, channels, plane] (NCHW): image b's plane at
/// columns [b*plane, (b+1)*plane).
template <class T>
void images_to_chunk(const T* images, std::size_t count, std::size_t channels, std::size_t plane, T* chunk) {
  const std::size_t ld = count * plane;
  for (std::size_t b = 0; b < count; ++b)
    for (std::size_t c = 0; c < channels; ++c)
      std::copy_n(images + (b * channels + c) * plane, plane, chunk + c * ld + b * plane);
}

/// images [count, channels, plane] = chunk [channels, count*plane] + bias[channel] (bias may
/// be null), added to what the images hold when `accumulate`.
template <class T>
void chunk_to_images(const T* chunk, std::size_t count, std::size_t channels, std::size_t plane, const T* bias,
                     bool accumulate, T* images) {
  const std::size_t ld = count * plane;
  for (std::size_t b = 0; b < count; ++b)
    for (std::size_t c = 0; c < channels; ++c) {
      const T* in = chunk + c * ld + b * plane;
      T* out = images + (b * channels + c) * plane;
      const T add = bias != nullptr ? bias[c] : T(0);
      if (accumulate) {
        for (std::size_t i = 0; i < plane; ++i) out[i] += in[i] + add;
      } else {
        for (std::size_t i = 0; i < plane; ++i) out[i] = in[i] + add;
      }
    }
}

/// bias gradient: per-channel sums of dy [N, C, plane] (assigned or added), channels over the
/// BLAS's threads, each channel's sum in an order that depends on the shapes alone.
template <class T>
void conv_bias_grad(const T* dy, std::size_t batch, std::size_t channels, std::size_t plane, GradTarget<T> g) {
  parallel_for(
      channels, grain_for(batch * plane),
      [&](std::size_t first, std::size_t last) {
        for (std::size_t c = first; c < last; ++c) {
          T s = 0;
          for (std::size_t n = 0; n < batch; ++n) s += simd::sum(plane, dy + (n * channels + c) * plane);
          g.data[c] = g.accumulate ? g.data[c] + s : s;
        }
      },
      1);
}

/// The weight gradient of a backward run in slots: with several slots each writes a partial
/// of its own (`per_slot` apart from `partials` on), summed in slot order after; with one the
/// target directly.
template <class T>
struct ConvWeightGradient {
  GradTarget<T> target;
  T* partials = nullptr;
  std::size_t per_slot = 0, size = 0;

  /// dW_k (+)= a_k [m, span] b_k^T [span, kg] for each group k, into slot s's destination:
  /// assigned by the slot's first chunk (unless the target accumulates and is written
  /// directly), added after; a slot with no images (count 0) zeroes a destination it assigns.
  void add_products(std::size_t s, bool starts_slot, std::size_t groups, std::size_t m, std::size_t kg,
                    std::size_t span, const T* a, const T* b) const {
    T* const dw = partials != nullptr ? partials + s * per_slot : target.data;
    const bool adds = !starts_slot || (partials == nullptr && target.accumulate);
    if (span == 0) {
      if (!adds) std::fill_n(dw, size, T(0));
      return;
    }
    for (std::size_t k = 0; k < groups; ++k)
      gemm_stored(false, true, m, kg, span, a + k * m * span, b + k * kg * span, adds ? T(1) : T(0), dw + k * m * kg);
  }
  void sum_partials(std::size_t slots) const {
    if (partials == nullptr) return;
    for (std::size_t i = 0; i < size; ++i) {
      T sum = target.accumulate ? target.data[i] : T(0);
      for (std::size_t k = 0; k < slots; ++k) sum += partials[k * per_slot + i];
      target.data[i] = sum;
    }
  }
};

template <class T>
Var<T> conv2d_impl(const Var<T>& x, const Var<T>& w, const Var<T>* b, const Conv2dOptions& o) {
  constexpr const char* op = "conv2d";
  Tape<T>& tape = x.tape();
  tape.check_handle(op, x);
  tape.check_handle(op, w);
  if (b != nullptr) tape.check_handle(op, *b);
  Shape out_shape;
  ConvPlan p = plan_conv2d(op, false, x.shape(), w.shape(), b != nullptr ? &b->shape() : nullptr, o.stride,
                           o.padding, o.dilation, o.groups, Conv2dPair{}, out_shape);
  const Var<T> y = b != nullptr ? tape.make_node(op, out_shape, {x, w, *b}) : tape.make_node(op, out_shape, {x, w});
  TapeRecord<T>& node = tape.node(y);
  const ConvGeometry& g = p.geo;
  const std::size_t plane = g.plane(), cg_out = p.maps / p.groups, kg = g.channels / p.groups * g.kh * g.kw;
  const std::size_t x_size = g.image_size(), y_size = p.maps * plane, col = g.col_size();
  T* const yv = tape.value_ptr(y);
  const T* const xv = x.data();
  const T* const wv = w.data();
  const T* const bias = b != nullptr ? b->data() : nullptr;
  // When W's gradient will be wanted, every image's columns are kept for the backward (they
  // are dW's right factor) rather than unfolded again there: the scratch holds them, then the
  // slots' areas, sized for the backward too because a scratch that grows loses its contents.
  p.cols_kept = node.requires_grad && tape.node(w).requires_grad && !g.identity();
  const std::size_t kept = p.cols_kept ? p.batch * col : 0;
  const std::size_t forward_per_slot = p.chunk_maps() + (p.cols_kept || g.identity() ? 0 : p.chunk_cols());
  const std::size_t per_slot =
      p.cols_kept ? std::max(forward_per_slot, conv2d_backward_per_slot(p, tape.node(x).requires_grad, true))
                  : forward_per_slot;
  T* const scratch = node.scratch.ensure(kept + p.slots * per_slot);
  conv_for_each_chunk(p, [&](std::size_t s, std::size_t first, std::size_t count, bool) {
    const std::size_t span = count * plane;  // the chunk's columns
    T* const out = scratch + kept + s * per_slot;
    const T* cols = xv + first * x_size;  // a 1 x 1 kernel's columns are the image (chunks of one)
    if (!g.identity()) {
      T* const unfolded = p.cols_kept ? scratch + first * col : out + p.chunk_maps();
      for (std::size_t i = 0; i < count; ++i) im2col(g, xv + (first + i) * x_size, unfolded + i * plane, span);
      cols = unfolded;
    }
    for (std::size_t k = 0; k < p.groups && count > 0; ++k)  // out_k [C_out/G, span] = W_k [C_out/G, Kg] cols_k
      gemm_stored(false, false, cg_out, span, kg, wv + k * cg_out * kg, cols + k * kg * span, T(0), out + k * cg_out * span);
    chunk_to_images(static_cast<const T*>(out), count, p.maps, plane, bias, false, yv + first * y_size);
  });
  if (node.requires_grad) op_cache<ConvPlan>(node) = p;
  const bool has_bias = b != nullptr;
  const Var<T> bias_var = has_bias ? *b : Var<T>();
  tape.set_backward(y, [x, w, bias_var, has_bias](Tape<T>& t, TapeRecord<T>& self) {
    const ConvPlan& p = op_cache<ConvPlan>(self);
    const ConvGeometry& g = p.geo;
    const std::size_t plane = g.plane(), cg_out = p.maps / p.groups, kg = g.channels / p.groups * g.kh * g.kw;
    const std::size_t x_size = g.image_size(), y_size = p.maps * plane, col = g.col_size();
    const T* const dy = self.grad;
    if (has_bias && t.node(bias_var).requires_grad)
      conv_bias_grad(dy, p.batch, p.maps, plane, t.grad_target(bias_var));
    const bool need_x = t.node(x).requires_grad, need_w = t.node(w).requires_grad;
    if (!need_x && !need_w) return;
    const GradTarget<T> gx = need_x ? t.grad_target(x) : GradTarget<T>{nullptr, false};
    const std::size_t kept = p.cols_kept ? p.batch * col : 0;  // the forward's columns, chunk after chunk
    const std::size_t per_slot = conv2d_backward_per_slot(p, need_x, need_w);
    const bool unfolds = conv2d_backward_unfolds(p, need_w);
    T* const kept_cols = self.scratch.data();
    T* const scratch = self.scratch.ensure(kept + p.slots * per_slot) + kept;
    if (p.cols_kept && self.scratch.data() != kept_cols) throw std::logic_error("conv2d: the kept columns were lost");
    const std::size_t w_size = p.maps * kg;
    const ConvWeightGradient<T> gw{need_w ? t.grad_target(w) : GradTarget<T>{nullptr, false},
                                   need_w && p.slots > 1 ? scratch + per_slot - w_size : nullptr, per_slot, w_size};
    const T* const xv = t.value_ptr(x);
    const T* const wv = t.value_ptr(w);
    conv_for_each_chunk(p, [&](std::size_t s, std::size_t first, std::size_t count, bool starts_slot) {
      const std::size_t span = count * plane;
      // the slot's area: dy's chunk, x's columns (unless kept), their gradient (for dx)
      T* const dyc = scratch + s * per_slot;
      T* const unfolded = dyc + p.chunk_maps();
      T* const dcols = unfolded + (unfolds ? p.chunk_cols() : 0);
      images_to_chunk(dy + first * y_size, count, p.maps, plane, dyc);
      if (need_w) {  // dW_k (+)= dY_k [C_out/G, span] cols_k^T [span, Kg]
        const T* cols = xv + first * x_size;
        if (p.cols_kept) {
          cols = kept_cols + first * col;
        } else if (unfolds) {
          for (std::size_t i = 0; i < count; ++i) im2col(g, xv + (first + i) * x_size, unfolded + i * plane, span);
          cols = unfolded;
        }
        gw.add_products(s, starts_slot, p.groups, cg_out, kg, span, dyc, cols);
      }
      if (need_x && count > 0) {  // dcols_k = W_k^T dY_k, folded back into dx
        for (std::size_t k = 0; k < p.groups; ++k)
          gemm_stored(true, false, kg, span, cg_out, wv + k * cg_out * kg, dyc + k * cg_out * span, T(0),
                      dcols + k * kg * span);
        for (std::size_t i = 0; i < count; ++i) {
          T* dxn = gx.data + (first + i) * x_size;
          if (!gx.accumulate) std::fill_n(dxn, x_size, T(0));
          col2im_add(g, static_cast<const T*>(dcols + i * plane), span, dxn);
        }
      }
    });
    gw.sum_partials(p.slots);
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
  const std::size_t x_size = p.maps * plane, y_size = g.image_size(), y_plane = g.height * g.width;
  T* const yv = tape.value_ptr(y);
  const T* const xv = x.data();
  const T* const wv = w.data();
  const T* const bias = b != nullptr ? b->data() : nullptr;
  // per slot (forward and backward alike): the chunk's columns, x's (or dx's) chunk, a dW partial
  const std::size_t per_slot = conv_transpose2d_per_slot(p, node.requires_grad && tape.node(w).requires_grad);
  T* const scratch = node.scratch.ensure(p.slots * per_slot);
  conv_for_each_chunk(p, [&](std::size_t s, std::size_t first, std::size_t count, bool) {
    const std::size_t span = count * plane;
    T* const cols = scratch + s * per_slot;
    T* const xc = cols + p.chunk_cols();
    images_to_chunk(xv + first * x_size, count, p.maps, plane, xc);
    // cols_k [Kg, span] = W_k^T [Kg, C_in/G] x_k [C_in/G, span], folded into y (from the bias)
    for (std::size_t k = 0; k < p.groups && count > 0; ++k)
      gemm_stored(true, false, kg, span, cg_in, wv + k * cg_in * kg, xc + k * cg_in * span, T(0), cols + k * kg * span);
    for (std::size_t i = 0; i < count; ++i) {
      T* yn = yv + (first + i) * y_size;
      for (std::size_t c = 0; c < g.channels; ++c) std::fill_n(yn + c * y_plane, y_plane, bias != nullptr ? bias[c] : T(0));
      col2im_add(g, static_cast<const T*>(cols + i * plane), span, yn);
    }
  });
  if (node.requires_grad) op_cache<ConvPlan>(node) = p;
  const bool has_bias = b != nullptr;
  const Var<T> bias_var = has_bias ? *b : Var<T>();
  tape.set_backward(y, [x, w, bias_var, has_bias](Tape<T>& t, TapeRecord<T>& self) {
    const ConvPlan& p = op_cache<ConvPlan>(self);
    const ConvGeometry& g = p.geo;
    const std::size_t plane = g.plane(), cg_in = p.maps / p.groups, kg = g.channels / p.groups * g.kh * g.kw;
    const std::size_t x_size = p.maps * plane, y_size = g.image_size();
    const T* const dy = self.grad;
    if (has_bias && t.node(bias_var).requires_grad)
      conv_bias_grad(dy, p.batch, g.channels, g.height * g.width, t.grad_target(bias_var));
    const bool need_x = t.node(x).requires_grad, need_w = t.node(w).requires_grad;
    if (!need_x && !need_w) return;
    const GradTarget<T> gx = need_x ? t.grad_target(x) : GradTarget<T>{nullptr, false};
    const std::size_t per_slot = conv_transpose2d_per_slot(p, need_w);
    T* const scratch = self.scratch.ensure(p.slots * per_slot);
    const std::size_t w_size = p.maps * kg;
    const ConvWeightGradient<T> gw{need_w ? t.grad_target(w) : GradTarget<T>{nullptr, false},
                                   need_w && p.slots > 1 ? scratch + per_slot - w_size : nullptr, per_slot, w_size};
    const T* const xv = t.value_ptr(x);
    const T* const wv = t.value_ptr(w);
    conv_for_each_chunk(p, [&](std::size_t s, std::size_t first, std::size_t count, bool starts_slot) {
      const std::size_t span = count * plane;
      T* const cols = scratch + s * per_slot;  // dy's columns, shared by dx and dW
      T* const xc = cols + p.chunk_cols();     // dx's chunk, then x's
      for (std::size_t i = 0; i < count; ++i) im2col(g, dy + (first + i) * y_size, cols + i * plane, span);
      if (need_x && count > 0) {  // dx_k [C_in/G, span] = W_k [C_in/G, Kg] cols_k [Kg, span]: the convolution
        for (std::size_t k = 0; k < p.groups; ++k)
          gemm_stored(false, false, cg_in, span, kg, wv + k * cg_in * kg, cols + k * kg * span, T(0), xc + k * cg_in * span);
        chunk_to_images(static_cast<const T*>(xc), count, p.maps, plane, static_cast<const T*>(nullptr), gx.accumulate,
                        gx.data + first * x_size);
      }
      if (need_w) {  // dW_k (+)= x_k [C_in/G, span] cols_k^T [span, Kg]
        images_to_chunk(xv + first * x_size, count, p.maps, plane, xc);
        gw.add_products(s, starts_slot, p.groups, cg_in, kg, span, xc, cols);
      }
    });
    gw.sum_partials(p.slots);
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
