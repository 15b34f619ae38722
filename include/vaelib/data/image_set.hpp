#pragma once
// ImageSet: images as rows of floats in [0, 1] (pixel / 255) with their labels: what the
// loaders return and the models consume. An image with several channels (CIFAR-10's RGB) is
// one row of channels * rows * cols values, channel after channel (NCHW when the rows are
// stacked), so the dense models see it as they see MNIST's 1-channel images; to_nchw gives
// the [n, channels, rows, cols] array a convolution takes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vaelib/detail/xtensor.hpp"
#include "vaelib/error.hpp"

namespace vaelib::data {

struct ImageSet {
  xt::xarray<float> images;           // [n, channels * rows * cols], values in [0, 1]
  std::vector<std::uint8_t> labels;   // n labels (empty when the set has none)
  std::size_t rows = 0, cols = 0;
  std::size_t channels = 1;           // 1 for MNIST and Fashion-MNIST, 3 (R, G, B) for CIFAR-10

  std::size_t size() const noexcept { return images.shape().empty() ? 0 : images.shape()[0]; }
  /// Values per image (every channel's pixels): the width of a row of `images`.
  std::size_t pixels() const noexcept { return channels * rows * cols; }
};

/// The images as [n, channels, rows, cols] (a copy; the rows hold them in this order already).
inline xt::xarray<float> to_nchw(const ImageSet& set) {
  if (set.images.size() != set.size() * set.pixels()) {
    throw ArgumentError("to_nchw: the set's " + std::to_string(set.images.size()) + " values are not " +
                        std::to_string(set.size()) + " images of " + std::to_string(set.channels) + " x " +
                        std::to_string(set.rows) + " x " + std::to_string(set.cols));
  }
  xt::xarray<float> out = xt::xarray<float>::from_shape({set.size(), set.channels, set.rows, set.cols});
  std::copy_n(set.images.data(), set.images.size(), out.data());
  return out;
}

/// The images at `indices`, in that order.
inline ImageSet subset(const ImageSet& set, const std::vector<std::size_t>& indices) {
  ImageSet out;
  out.rows = set.rows;
  out.cols = set.cols;
  out.channels = set.channels;
  const std::size_t d = set.pixels();
  out.images = xt::xarray<float>::from_shape({indices.size(), d});
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= set.size()) {
      throw ArgumentError("subset: index " + std::to_string(indices[i]) + " is out of range for a set of " +
                          std::to_string(set.size()) + " images");
    }
    std::copy_n(set.images.data() + indices[i] * d, d, out.images.data() + i * d);
    if (!set.labels.empty()) out.labels.push_back(set.labels[indices[i]]);
  }
  return out;
}

/// The first n images (all when n is 0 or larger than the set).
inline ImageSet head(const ImageSet& set, std::size_t n) {
  if (n == 0 || n >= set.size()) return set;
  std::vector<std::size_t> indices(n);
  for (std::size_t i = 0; i < n; ++i) indices[i] = i;
  return subset(set, indices);
}

}  // namespace vaelib::data
