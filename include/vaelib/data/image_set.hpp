#pragma once
// ImageSet: images as rows of floats in [0, 1] (pixel / 255) with their labels: what the
// loaders return and the models consume.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vaelib/detail/xtensor.hpp"
#include "vaelib/error.hpp"

namespace vaelib::data {

struct ImageSet {
  xt::xarray<float> images;           // [n, rows * cols], values in [0, 1]
  std::vector<std::uint8_t> labels;   // n labels (empty when the set has none)
  std::size_t rows = 0, cols = 0;

  std::size_t size() const noexcept { return images.shape().empty() ? 0 : images.shape()[0]; }
  std::size_t pixels() const noexcept { return rows * cols; }
};

/// The images at `indices`, in that order.
inline ImageSet subset(const ImageSet& set, const std::vector<std::size_t>& indices) {
  ImageSet out;
  out.rows = set.rows;
  out.cols = set.cols;
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
