#include "support/files.hpp"

using namespace vaelib;
using Catch::Matchers::Contains;

namespace {

/// Three 2x3 images with every byte value class: 0, 255 and values between.
data::ByteImageSet three_byte_images() {
  data::ByteImageSet set;
  set.rows = 2;
  set.cols = 3;
  set.bytes = {0, 1, 2, 127, 128, 255, 10, 20, 30, 40, 50, 60, 255, 254, 253, 0, 9, 99};
  set.labels = {4, 7, 1};
  return set;
}

}  // namespace

TEST_CASE("ByteImageSet: sizes, float values pixel / 255, head", "[data]") {
  const data::ByteImageSet set = three_byte_images();
  CHECK(set.size() == 3);
  CHECK(set.pixels() == 6);
  const data::ImageSet floats = data::to_image_set(set);
  REQUIRE(floats.images.shape() == std::vector<std::size_t>{3, 6});
  for (std::size_t i = 0; i < set.bytes.size(); ++i)
    CHECK(floats.images.data()[i] == static_cast<float>(set.bytes[i]) / 255.0f);
  CHECK(floats.images(0, 0) == 0.0f);
  CHECK(floats.images(0, 5) == 1.0f);
  CHECK(floats.labels == set.labels);
  CHECK(floats.rows == 2);
  CHECK(floats.cols == 3);
  const data::ByteImageSet two = data::head(set, 2);
  CHECK(two.size() == 2);
  CHECK(two.labels == std::vector<std::uint8_t>{4, 7});
  CHECK(data::head(set, 0).size() == 3);
  CHECK(data::head(set, 10).size() == 3);
  CHECK(data::ByteImageSet{}.size() == 0);
}

TEST_CASE("ByteImageSet: gather gives the floats the ImageSet gather gives; bad indices are refused", "[data]") {
  const data::ByteImageSet set = three_byte_images();
  const data::ImageSet floats = data::to_image_set(set);
  const std::vector<std::size_t> indices = {2, 0, 2};
  std::vector<float> from_bytes(18), from_floats(18);
  data::gather(set, indices, from_bytes);
  data::gather(floats, indices, from_floats);
  CHECK(from_bytes == from_floats);
  const std::vector<std::size_t> bad = {1, 3};
  CHECK_THROWS_WITH(data::gather(set, bad, from_bytes), "gather: index 3 is out of range for a set of 3 images");
  CHECK_THROWS_WITH(data::gather(set, indices, std::span<float>(from_bytes).first(17)),
                    Contains("the output buffer holds 17 values, 3 images of 6 pixels need 18"));
}

TEST_CASE("ByteImageSet: a batch-sized gather (split over threads) matches the ImageSet gather", "[data]") {
  data::ByteImageSet set;
  set.rows = set.cols = 28;
  set.bytes.resize(300 * 784);
  for (std::size_t i = 0; i < set.bytes.size(); ++i) set.bytes[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 24);
  set.labels.assign(300, 0);
  const data::ImageSet floats = data::to_image_set(set);
  std::vector<std::size_t> indices(128);
  for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = (i * 37) % 300;
  std::vector<float> from_bytes(128 * 784), from_floats(128 * 784);
  data::gather(set, indices, from_bytes);
  data::gather(floats, indices, from_floats);
  CHECK(from_bytes == from_floats);
}
