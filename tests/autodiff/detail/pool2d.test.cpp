#include "vaelib/autodiff/detail/pool2d.hpp"

#include <catch2/catch.hpp>

#include <optional>

TEST_CASE("pool2d geometry: output size, default stride and clipped windows", "[detail][pool]") {
  // 7 x 6 input, 3 x 2 kernel, default stride (the kernel), padding {1, 1}
  const vaelib::detail::PoolGeometry g =
      vaelib::detail::plan_pool2d("op", vaelib::Shape{2, 3, 7, 6}, {3, 2}, std::nullopt, {1, 1});
  CHECK(g.planes == 6);
  CHECK(g.sh == 3);
  CHECK(g.sw == 2);
  CHECK(g.out_h == (7 + 2 - 3) / 3 + 1);
  CHECK(g.out_w == (6 + 2 - 2) / 2 + 1);
  std::size_t first = 0, last = 0;
  g.rows(0, first, last);  // padded rows 0..2: input rows 0, 1
  CHECK(first == 0);
  CHECK(last == 2);
  g.rows(2, first, last);  // padded rows 6..8: input rows 5, 6
  CHECK(first == 5);
  CHECK(last == 7);
  g.cols(0, first, last);  // padded columns 0, 1: input column 0
  CHECK(first == 0);
  CHECK(last == 1);
  g.cols(3, first, last);  // padded columns 6, 7: input column 5
  CHECK(first == 5);
  CHECK(last == 6);
  // an explicit stride, no padding
  const vaelib::detail::PoolGeometry s =
      vaelib::detail::plan_pool2d("op", vaelib::Shape{1, 1, 5, 5}, {2, 2}, vaelib::Conv2dPair{1, 2}, {0, 0});
  CHECK(s.out_h == 4);
  CHECK(s.out_w == 2);
  s.cols(1, first, last);
  CHECK(first == 2);
  CHECK(last == 4);
  CHECK_THROWS_WITH(vaelib::detail::plan_pool2d("op", vaelib::Shape{1, 1, 5, 5}, {2, 2}, std::nullopt, {2, 0}),
                    "op: padding {2, 0} must be at most half the kernel {2, 2}");
}
