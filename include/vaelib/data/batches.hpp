#pragma once
// Mini-batches for training: a train/validation split, shuffled batch indices, and the
// binarisations of the VAE literature (binary MNIST): dynamic (a fresh Bernoulli draw of
// each training batch, every time it is seen) and static (one fixed-seed draw of the test
// set, so every evaluation sees the same binary images).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "vaelib/data/byte_image_set.hpp"
#include "vaelib/data/image_set.hpp"
#include "vaelib/detail/simd.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::detail {

/// The checks every gather makes before copying: `out` is large enough, every index is in
/// the set (an index past it would copy whatever memory follows).
inline void check_gather(std::size_t set_size, std::size_t pixels, std::span<const std::size_t> indices,
                         std::size_t out_size) {
  if (out_size < indices.size() * pixels) {
    throw ArgumentError("gather: the output buffer holds " + std::to_string(out_size) + " values, " +
                        std::to_string(indices.size()) + " images of " + std::to_string(pixels) + " pixels need " +
                        std::to_string(indices.size() * pixels));
  }
  for (std::size_t index : indices) {
    if (index >= set_size) {
      throw ArgumentError("gather: index " + std::to_string(index) + " is out of range for a set of " +
                          std::to_string(set_size) + " images");
    }
  }
}

}  // namespace vaelib::detail

namespace vaelib::data {

/// The first n - n_validation images for training, the last n_validation for validation
/// (the usual 50,000 / 10,000 split of MNIST's training set).
inline std::pair<ImageSet, ImageSet> split_train_validation(const ImageSet& set, std::size_t n_validation) {
  if (n_validation >= set.size()) {
    throw ArgumentError("split_train_validation: " + std::to_string(n_validation) + " validation images leave none of " +
                        std::to_string(set.size()) + " for training");
  }
  std::vector<std::size_t> train(set.size() - n_validation), validation(n_validation);
  std::iota(train.begin(), train.end(), std::size_t{0});
  std::iota(validation.begin(), validation.end(), set.size() - n_validation);
  return {subset(set, train), subset(set, validation)};
}

/// out[i] = 1 with probability in[i], else 0 (in must be in [0, 1]).
inline void binarize(std::span<const float> in, std::span<float> out, Rng& rng) {
  if (in.size() != out.size()) {
    throw ArgumentError("binarize: input and output sizes differ (" + std::to_string(in.size()) + " vs " +
                        std::to_string(out.size()) + ")");
  }
  // a NaN or out-of-range pixel would otherwise become a silent 0 or 1
  const auto is_probability = [](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    return (v >= V(0)) & (v <= V(1));
  };
  if (!detail::simd::all_of(in.size(), in.data(), is_probability)) {
    const std::size_t i = static_cast<std::size_t>(
        std::find_if_not(in.begin(), in.end(), [&](float v) { return static_cast<bool>(is_probability(v)); }) -
        in.begin());
    throw ArgumentError("binarize: input value " + std::to_string(in[i]) + " at index " + std::to_string(i) +
                        " is not a probability in [0, 1]");
  }
  // u < p with u = uniform<float>() = (word >> 8) 2^-24, word i of the stream for pixel i:
  // the words drawn in bulk, ranges of pixels on the BLAS's threads from their own place
  // in the stream (the same pixels whatever the split)
  detail::parallel_for(in.size(), detail::parallel_grain, [&](std::size_t from, std::size_t to) {
    constexpr std::size_t chunk = 1024;
    std::uint32_t words[chunk];
    Rng part = rng.ahead(from);
    for (std::size_t begin = from; begin < to; begin += chunk) {
      const std::size_t n = std::min(chunk, to - begin);
      part.fill_u32(std::span<std::uint32_t>(words, n));
      const float* p = in.data() + begin;
      float* o = out.data() + begin;
      for (std::size_t i = 0; i < n; ++i) o[i] = static_cast<float>(words[i] >> 8) * 0x1.0p-24f < p[i] ? 1.0f : 0.0f;
    }
  });
  rng.skip(in.size());
}

/// One fixed binarisation of a whole set (the same images for every seed-equal call).
inline ImageSet binarize_static(const ImageSet& set, std::uint64_t seed) {
  ImageSet out = set;
  Rng rng(seed);
  binarize(std::span<const float>(set.images.data(), set.images.size()),
           std::span<float>(out.images.data(), out.images.size()), rng);
  return out;
}

/// Shuffled mini-batches of indices into a set of n examples. The last, smaller batch is
/// dropped when drop_last is set (every step then has the same shapes, so the tape reuses
/// its buffers).
class BatchSampler {
 public:
  BatchSampler(std::size_t n, std::size_t batch_size, bool drop_last = true)
      : m_order(n), m_batch_size(batch_size), m_drop_last(drop_last) {
    if (batch_size == 0) throw ArgumentError("BatchSampler: batch_size must be at least 1");
    if (drop_last && n < batch_size) {
      throw ArgumentError("BatchSampler: " + std::to_string(n) + " examples do not fill one batch of " +
                          std::to_string(batch_size));
    }
    std::iota(m_order.begin(), m_order.end(), std::size_t{0});
  }

  /// A new random order (Fisher-Yates with `rng`). It starts from 0, 1, 2, ... each time, so
  /// the order depends on the RNG's state alone and not on earlier epochs: a run resumed
  /// from a checkpoint (which saves the RNG) sees the same orders as an uninterrupted one.
  void shuffle(Rng& rng) {
    std::iota(m_order.begin(), m_order.end(), std::size_t{0});
    for (std::size_t i = m_order.size(); i > 1; --i) std::swap(m_order[i - 1], m_order[rng.next_u64() % i]);
  }

  std::size_t batches() const noexcept {
    return m_drop_last ? m_order.size() / m_batch_size : (m_order.size() + m_batch_size - 1) / m_batch_size;
  }
  std::span<const std::size_t> batch(std::size_t b) const {
    if (b >= batches()) {  // past the end the span would read outside the order
      throw ArgumentError("BatchSampler: batch " + std::to_string(b) + " is out of range (" + std::to_string(batches()) +
                          " batches of " + std::to_string(m_batch_size) + " from " + std::to_string(m_order.size()) +
                          " examples)");
    }
    const std::size_t begin = b * m_batch_size;
    return std::span<const std::size_t>(m_order).subspan(begin, std::min(m_batch_size, m_order.size() - begin));
  }

 private:
  std::vector<std::size_t> m_order;
  std::size_t m_batch_size;
  bool m_drop_last;
};

/// Copies the images at `indices` into `out` (rows of set.pixels() floats), no allocation.
inline void gather(const ImageSet& set, std::span<const std::size_t> indices, std::span<float> out) {
  const std::size_t d = set.pixels();
  vaelib::detail::check_gather(set.size(), d, indices, out.size());
  for (std::size_t i = 0; i < indices.size(); ++i) std::copy_n(set.images.data() + indices[i] * d, d, out.data() + i * d);
}

/// The images at `indices` as floats in [0, 1] (pixel / 255, the values ImageSet holds),
/// into `out` (rows of set.pixels() floats), no allocation.
inline void gather(const ByteImageSet& set, std::span<const std::size_t> indices, std::span<float> out) {
  const std::size_t d = set.pixels();
  vaelib::detail::check_gather(set.size(), d, indices, out.size());
  // rows on the BLAS's threads (the conversion's time: docs/performance.md, "Figures behind
  // the code's choices")
  detail::parallel_for(
      indices.size(), detail::grain_for(d),
      [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) {
          const std::uint8_t* row = set.bytes.data() + indices[i] * d;
          float* o = out.data() + i * d;
          for (std::size_t j = 0; j < d; ++j) o[j] = pixel_value(row[j]);
        }
      },
      1);
}

}  // namespace vaelib::data
