#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "vaelib/data/channel_normalization.hpp"

using namespace vaelib;
using Catch::Matchers::Message;

namespace {

/// 4 images of 3 channels of 2 x 3 pixels, each channel with its own level and spread.
data::ByteImageSet chnorm_bytes() {
  data::ByteImageSet set;
  set.rows = 2;
  set.cols = 3;
  set.channels = 3;
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t p = 0; p < 6; ++p) set.bytes.push_back(static_cast<std::uint8_t>(20 + 80 * c + (i * 6 + p) * (c + 1)));
  return set;
}

}  // namespace

TEST_CASE("channel_statistics: each channel's mean and population standard deviation", "[data]") {
  const data::ByteImageSet bytes = chnorm_bytes();
  const data::ImageSet set = data::to_image_set(bytes);
  const data::ChannelStatistics stats = data::channel_statistics(set);
  REQUIRE(stats.channels() == 3);
  for (std::size_t c = 0; c < 3; ++c) {
    // direct: the 24 values of channel c, in long double
    long double sum = 0, sq = 0;
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t p = 0; p < 6; ++p) sum += set.images(i, c * 6 + p);
    const long double mean = sum / 24;
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t p = 0; p < 6; ++p) sq += (set.images(i, c * 6 + p) - mean) * (set.images(i, c * 6 + p) - mean);
    CHECK(stats.mean[c] == Approx(static_cast<double>(mean)).epsilon(1e-14));
    CHECK(stats.std[c] == Approx(static_cast<double>(std::sqrt(sq / 24))).epsilon(1e-13));
  }
  // channel c holds 20 + 80c + (c + 1) k for k = 0..23, over 255 (to float precision: the set
  // holds each value / 255 rounded to float)
  CHECK(stats.mean[1] == Approx((100 + 2 * 11.5) / 255.0).epsilon(1e-7));
  CHECK(stats.std[2] == Approx(3 * std::sqrt((24.0 * 24.0 - 1) / 12) / 255.0).epsilon(1e-7));
  // the byte set's statistics (from histograms) are the float set's
  const data::ChannelStatistics from_bytes = data::channel_statistics(bytes);
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(from_bytes.mean[c] == Approx(stats.mean[c]).epsilon(1e-14));
    CHECK(from_bytes.std[c] == Approx(stats.std[c]).epsilon(1e-13));
  }
}

TEST_CASE("normalize_channels: zero mean and unit variance per channel, and back", "[data]") {
  const data::ImageSet set = data::to_image_set(chnorm_bytes());
  const data::ChannelStatistics stats = data::channel_statistics(set);
  const data::ImageSet normalized = data::normalize_channels(set, stats);
  CHECK(normalized.channels == 3);
  const data::ChannelStatistics after = data::channel_statistics(normalized);
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(std::abs(after.mean[c]) < 1e-7);
    CHECK(after.std[c] == Approx(1.0).epsilon(1e-6));
  }
  // one value by hand: image 1, channel 2, pixel 4
  CHECK(normalized.images(1, 2 * 6 + 4) ==
        Approx((set.images(1, 2 * 6 + 4) - stats.mean[2]) / stats.std[2]).epsilon(1e-6));
  const data::ImageSet back = data::unnormalize_channels(normalized, stats);
  CHECK(xt::amax(xt::abs(back.images - set.images))() < 1e-6f);
  // in place on a batch (2 images of the set): the same values as the whole set's
  std::vector<float> batch(set.images.data() + 18, set.images.data() + 54);
  data::normalize_channels(batch, 3, 6, stats);
  bool same = true;
  for (std::size_t k = 0; k < batch.size(); ++k) same = same && batch[k] == normalized.images.data()[18 + k];
  CHECK(same);
  data::unnormalize_channels(batch, 3, 6, stats);
  for (std::size_t k = 0; k < batch.size(); ++k) CHECK(batch[k] == Approx(set.images.data()[18 + k]).margin(1e-6));
  // 1-channel sets (MNIST) have one statistic
  data::ImageSet gray;
  gray.rows = 1;
  gray.cols = 2;
  gray.images = xt::xarray<float>{{0.0f, 1.0f}, {0.5f, 0.5f}};
  const data::ChannelStatistics g = data::channel_statistics(gray);
  REQUIRE(g.channels() == 1);
  CHECK(g.mean[0] == 0.5);
  CHECK(g.std[0] == Approx(std::sqrt(0.125)).epsilon(1e-15));
}

TEST_CASE("channel normalisation: exact errors", "[data]") {
  const data::ImageSet set = data::to_image_set(chnorm_bytes());
  std::vector<float> v(10, 0.5f);
  REQUIRE_THROWS_MATCHES(data::channel_statistics(v, 3, 2), ArgumentError,
                         Message("channel_statistics: 10 values are not whole images of 3 channels x 2 pixels"));
  REQUIRE_THROWS_MATCHES(data::channel_statistics(v, 0, 2), ArgumentError,
                         Message("channel_statistics: an image needs at least one channel and one pixel (got 0 "
                                 "channels of 2 pixels)"));
  REQUIRE_THROWS_MATCHES(data::channel_statistics(std::span<const float>(), 3, 2), ArgumentError,
                         Message("channel_statistics: the set has no images"));
  REQUIRE_THROWS_MATCHES(data::channel_statistics(data::ByteImageSet{{}, {}, 2, 2, 3}), ArgumentError,
                         Message("channel_statistics: the set has no images"));
  const data::ChannelStatistics one{{0.5}, {0.1}};
  REQUIRE_THROWS_MATCHES(data::normalize_channels(set, one), ArgumentError,
                         Message("normalize_channels: the statistics have 1 means and 1 standard deviations for "
                                 "images of 3 channels"));
  // a constant channel: its standard deviation is 0
  const data::ChannelStatistics constant{{0.1, 0.2, 0.3}, {0.1, 0.0, 0.2}};
  REQUIRE_THROWS_MATCHES(data::normalize_channels(set, constant), ArgumentError,
                         Message("normalize_channels: channel 1's standard deviation is 0.000000 (must be positive "
                                 "and finite)"));
  const data::ChannelStatistics nan_mean{{0.1, NAN, 0.3}, {0.1, 0.1, 0.2}};
  REQUIRE_THROWS_MATCHES(data::unnormalize_channels(set, nan_mean), ArgumentError,
                         Message("unnormalize_channels: channel 1's mean is nan (must be finite)"));
  REQUIRE_THROWS_MATCHES(data::unnormalize_channels(v, 3, 2, one), ArgumentError,
                         Message("unnormalize_channels: 10 values are not whole images of 3 channels x 2 pixels"));
}
