#include "support/gradients.hpp"

using namespace vaelib;
using Catch::Matchers::Contains;

TEST_CASE("shape: size, printing and broadcasting", "[shape]") {
  CHECK(shape_size(Shape{}) == 1);
  CHECK(shape_size(Shape{2, 0, 3}) == 0);
  CHECK(to_string(Shape{}) == "[]");
  CHECK(to_string(Shape{128, 784}) == "[128, 784]");
  CHECK(broadcast_shapes("op", Shape{3, 1}, Shape{1, 4}) == Shape{3, 4});
  CHECK(broadcast_shapes("op", Shape{}, Shape{2, 2}) == Shape{2, 2});
  CHECK(broadcast_shapes("op", Shape{5, 1, 4}, Shape{3, 1}) == Shape{5, 3, 4});
  REQUIRE_THROWS_WITH(broadcast_shapes("add", Shape{2, 3}, Shape{4}),
                      "add: cannot broadcast shapes [2, 3] and [4] (axis -1: 3 vs 4; sizes must be equal or 1)");
  CHECK(checked_shape_size("op", Shape{2, 3, 4}) == 24);
  CHECK(checked_shape_size("op", Shape{}) == 1);
  // a zero anywhere makes an empty shape, however large the other dimensions
  CHECK(checked_shape_size("op", Shape{SIZE_MAX, SIZE_MAX, 0}) == 0);
  CHECK(checked_shape_size("op", Shape{SIZE_MAX, 1}) == SIZE_MAX);
  REQUIRE_THROWS_WITH(checked_shape_size("reshape", Shape{std::size_t{1} << 32, std::size_t{1} << 32}),
                      "reshape: shape [4294967296, 4294967296] has more elements than fit in size_t");
  CHECK(broadcasts_to(Shape{1, 4}, Shape{3, 4}));
  CHECK_FALSE(broadcasts_to(Shape{3, 4}, Shape{4}));
}

TEST_CASE("shape: axes", "[shape]") {
  CHECK(normalize_axis("op", -1, 3) == 2);
  CHECK(normalize_axis("op", 0, 3) == 0);
  REQUIRE_THROWS_AS(normalize_axis("sum", 3, 3), ArgumentError);
  REQUIRE_THROWS_WITH(normalize_axis("sum", -4, 3),
                      "sum: axis -4 is out of range for a tensor of rank 3 (expected -3 <= axis < 3)");
  const AxisSet set = normalize_axes("op", std::vector<int>{0, -1}, 3);
  CHECK(set.contains(0));
  CHECK_FALSE(set.contains(1));
  CHECK(set.contains(2));
  CHECK(reduced_shape(Shape{2, 3, 4}, set, false) == Shape{3});
  CHECK(reduced_shape(Shape{2, 3, 4}, set, true) == Shape{1, 3, 1});
  REQUIRE_THROWS_WITH(normalize_axes("sum", std::vector<int>{1, 1}, 3), Contains("axis 1 is listed twice"));
}
