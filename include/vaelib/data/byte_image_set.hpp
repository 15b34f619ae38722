#pragma once
// ByteImageSet: images kept as their 8-bit pixels, a quarter of the memory of ImageSet's
// floats (47 MB instead of 188 MB for MNIST's training set). A training loop gathers float
// batches from it (data::gather), with exactly the values ImageSet holds (pixel / 255).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vaelib/data/image_set.hpp"
#include "vaelib/error.hpp"

namespace vaelib::data {

struct ByteImageSet {
  std::vector<std::uint8_t> bytes;    // n * channels * rows * cols pixels, 0..255, image after image
  std::vector<std::uint8_t> labels;   // n labels (empty when the set has none)
  std::size_t rows = 0, cols = 0;
  std::size_t channels = 1;           // each image's channels one after the other, as in ImageSet

  /// Values per image (every channel's pixels).
  std::size_t pixels() const noexcept { return channels * rows * cols; }
  std::size_t size() const noexcept { return pixels() == 0 ? 0 : bytes.size() / pixels(); }
};

/// The value ImageSet holds for a pixel byte.
inline float pixel_value(std::uint8_t byte) noexcept { return static_cast<float>(byte) / 255.0f; }

/// The same images as floats in [0, 1].
inline ImageSet to_image_set(const ByteImageSet& set) {
  ImageSet out;
  out.rows = set.rows;
  out.cols = set.cols;
  out.channels = set.channels;
  out.images = xt::xarray<float>::from_shape({set.size(), set.pixels()});
  float* values = out.images.data();
  for (std::size_t i = 0; i < set.bytes.size(); ++i) values[i] = pixel_value(set.bytes[i]);
  out.labels = set.labels;
  return out;
}

/// The first n images (all when n is 0 or larger than the set).
inline ByteImageSet head(ByteImageSet set, std::size_t n) {
  if (n == 0 || n >= set.size()) return set;
  set.bytes.resize(n * set.pixels());
  if (!set.labels.empty()) set.labels.resize(n);
  return set;
}

}  // namespace vaelib::data
