#pragma once
// Per-channel normalisation: the mean and standard deviation of each channel over a set (every
// image, every pixel of that channel), and x -> (x - mean_c) / std_c and back. Statistics are
// computed on the training set and applied unchanged to the test set and to every batch;
// unnormalize turns a model's outputs back into [0, 1] pixel values for figures.
//
// Layout: rows of channels * rows * cols values, channel after channel (ImageSet's layout).
// The statistics are accumulated in double (two passes), so a set of 50,000 CIFAR-10 images
// (51 million values per channel) loses nothing to float rounding; the standard deviation is
// the population one (divided by the count, not count - 1).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vaelib/data/byte_image_set.hpp"
#include "vaelib/data/image_set.hpp"
#include "vaelib/error.hpp"

namespace vaelib::data {

/// One mean and one standard deviation per channel.
struct ChannelStatistics {
  std::vector<double> mean;
  std::vector<double> std;

  std::size_t channels() const noexcept { return mean.size(); }
};

}  // namespace vaelib::data

// in vaelib::detail, not data::detail: a data::detail would hide vaelib::detail from the
// data headers' own `detail::` calls
namespace vaelib::detail {

inline void check_channel_layout(const char* who, std::size_t values, std::size_t channels, std::size_t plane) {
  if (channels == 0 || plane == 0) {
    throw ArgumentError(std::string(who) + ": an image needs at least one channel and one pixel (got " +
                        std::to_string(channels) + " channels of " + std::to_string(plane) + " pixels)");
  }
  if (values % (channels * plane) != 0) {
    throw ArgumentError(std::string(who) + ": " + std::to_string(values) + " values are not whole images of " +
                        std::to_string(channels) + " channels x " + std::to_string(plane) + " pixels");
  }
}

inline void check_channel_statistics(const char* who, const data::ChannelStatistics& stats, std::size_t channels) {
  if (stats.mean.size() != channels || stats.std.size() != channels) {
    throw ArgumentError(std::string(who) + ": the statistics have " + std::to_string(stats.mean.size()) + " means and " +
                        std::to_string(stats.std.size()) + " standard deviations for images of " +
                        std::to_string(channels) + " channels");
  }
  for (std::size_t c = 0; c < channels; ++c) {
    if (!std::isfinite(stats.mean[c])) {
      throw ArgumentError(std::string(who) + ": channel " + std::to_string(c) + "'s mean is " +
                          std::to_string(stats.mean[c]) + " (must be finite)");
    }
    // a constant channel has std 0: dividing by it would give inf or NaN everywhere
    if (!(stats.std[c] > 0) || !std::isfinite(stats.std[c])) {
      throw ArgumentError(std::string(who) + ": channel " + std::to_string(c) + "'s standard deviation is " +
                          std::to_string(stats.std[c]) + " (must be positive and finite)");
    }
  }
}

}  // namespace vaelib::detail

namespace vaelib::data {

/// The mean and standard deviation of each channel of `values` (whole images of `channels`
/// planes of `plane` pixels).
inline ChannelStatistics channel_statistics(std::span<const float> values, std::size_t channels, std::size_t plane) {
  vaelib::detail::check_channel_layout("channel_statistics", values.size(), channels, plane);
  if (values.empty()) throw ArgumentError("channel_statistics: the set has no images");
  const std::size_t n = values.size() / (channels * plane);
  const double count = static_cast<double>(n * plane);
  ChannelStatistics stats{std::vector<double>(channels, 0.0), std::vector<double>(channels, 0.0)};
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < channels; ++c) {
      const float* p = values.data() + (i * channels + c) * plane;
      for (std::size_t j = 0; j < plane; ++j) stats.mean[c] += p[j];
    }
  for (double& m : stats.mean) m /= count;
  // second pass about the mean: no cancellation of E[x^2] - E[x]^2
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < channels; ++c) {
      const float* p = values.data() + (i * channels + c) * plane;
      for (std::size_t j = 0; j < plane; ++j) {
        const double d = p[j] - stats.mean[c];
        stats.std[c] += d * d;
      }
    }
  for (double& s : stats.std) s = std::sqrt(s / count);
  return stats;
}

/// Per-channel statistics of a set's images (values in [0, 1]).
inline ChannelStatistics channel_statistics(const ImageSet& set) {
  return channel_statistics(std::span<const float>(set.images.data(), set.images.size()), set.channels,
                            set.rows * set.cols);
}

/// Per-channel statistics of a byte set, of the values ImageSet holds (pixel / 255), from a
/// histogram of each channel (256 counts instead of a pass over the floats).
inline ChannelStatistics channel_statistics(const ByteImageSet& set) {
  const std::size_t channels = set.channels, plane = set.rows * set.cols;
  vaelib::detail::check_channel_layout("channel_statistics", set.bytes.size(), channels, plane);
  if (set.bytes.empty()) throw ArgumentError("channel_statistics: the set has no images");
  std::vector<std::uint64_t> counts(channels * 256, 0);
  const std::size_t n = set.size();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < channels; ++c) {
      const std::uint8_t* p = set.bytes.data() + (i * channels + c) * plane;
      std::uint64_t* h = counts.data() + c * 256;
      for (std::size_t j = 0; j < plane; ++j) ++h[p[j]];
    }
  const double count = static_cast<double>(n * plane);
  ChannelStatistics stats{std::vector<double>(channels, 0.0), std::vector<double>(channels, 0.0)};
  for (std::size_t c = 0; c < channels; ++c) {
    for (int b = 0; b < 256; ++b)
      stats.mean[c] += static_cast<double>(counts[c * 256 + b]) * pixel_value(static_cast<std::uint8_t>(b));
    stats.mean[c] /= count;
    for (int b = 0; b < 256; ++b) {
      const double d = pixel_value(static_cast<std::uint8_t>(b)) - stats.mean[c];
      stats.std[c] += static_cast<double>(counts[c * 256 + b]) * d * d;
    }
    stats.std[c] = std::sqrt(stats.std[c] / count);
  }
  return stats;
}

/// values <- (values - mean_c) / std_c, in place (a batch or a whole set).
inline void normalize_channels(std::span<float> values, std::size_t channels, std::size_t plane,
                               const ChannelStatistics& stats) {
  vaelib::detail::check_channel_layout("normalize_channels", values.size(), channels, plane);
  vaelib::detail::check_channel_statistics("normalize_channels", stats, channels);
  const std::size_t n = values.size() / (channels * plane);
  for (std::size_t c = 0; c < channels; ++c) {
    const double m = stats.mean[c], inv = 1.0 / stats.std[c];
    for (std::size_t i = 0; i < n; ++i) {
      float* p = values.data() + (i * channels + c) * plane;
      for (std::size_t j = 0; j < plane; ++j) p[j] = static_cast<float>((p[j] - m) * inv);
    }
  }
}

/// values <- values std_c + mean_c, in place: the inverse of normalize_channels.
inline void unnormalize_channels(std::span<float> values, std::size_t channels, std::size_t plane,
                                 const ChannelStatistics& stats) {
  vaelib::detail::check_channel_layout("unnormalize_channels", values.size(), channels, plane);
  vaelib::detail::check_channel_statistics("unnormalize_channels", stats, channels);
  const std::size_t n = values.size() / (channels * plane);
  for (std::size_t c = 0; c < channels; ++c) {
    const double m = stats.mean[c], s = stats.std[c];
    for (std::size_t i = 0; i < n; ++i) {
      float* p = values.data() + (i * channels + c) * plane;
      for (std::size_t j = 0; j < plane; ++j) p[j] = static_cast<float>(p[j] * s + m);
    }
  }
}

/// A copy of `set` with its channels normalised.
inline ImageSet normalize_channels(ImageSet set, const ChannelStatistics& stats) {
  normalize_channels(std::span<float>(set.images.data(), set.images.size()), set.channels, set.rows * set.cols, stats);
  return set;
}

/// A copy of `set` with its channels un-normalised.
inline ImageSet unnormalize_channels(ImageSet set, const ChannelStatistics& stats) {
  unnormalize_channels(std::span<float>(set.images.data(), set.images.size()), set.channels, set.rows * set.cols,
                       stats);
  return set;
}

}  // namespace vaelib::data
