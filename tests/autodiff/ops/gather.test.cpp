#include <cstdint>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("gather: picks along an axis; index of any rank and integer type", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> x{{0, 1, 2, 3}, {10, 11, 12, 13}, {20, 21, 22, 23}};
  const auto v = tape.constant(x);
  const auto columns = gather(v, 1, xt::xarray<int>{2, 0, 2});
  CHECK(std::string(columns.op()) == "gather");
  require_close(columns.value(), xt::xarray<double>{{2, 0, 2}, {12, 10, 12}, {22, 20, 22}}, 0.0);
  require_close(gather(v, -2, xt::xarray<std::int64_t>{{2, 1}, {0, 0}}).value(),
                xt::xarray<double>{{{20, 21, 22, 23}, {10, 11, 12, 13}}, {{0, 1, 2, 3}, {0, 1, 2, 3}}}, 0.0);
  // A rank-0 index removes the axis; an empty one leaves it empty.
  require_close(gather(v, 0, xt::xarray<std::uint32_t>(1)).value(), xt::xarray<double>{10, 11, 12, 13}, 0.0);
  CHECK(gather(v, 1, xt::xarray<std::size_t>(xt::zeros<std::size_t>({0}))).shape() == Shape{3, 0});
  // A middle axis of a rank-3 tensor: y[o, j, i] = x[o, index[j], i].
  const auto x3 = random_array({2, 5, 3}, -1, 1, 1);
  const xt::xarray<short> index{4, 4, 0, 3};
  const auto y3 = gather(tape.constant(x3), 1, index);
  REQUIRE(y3.shape() == Shape{2, 4, 3});
  for (std::size_t o = 0; o < 2; ++o)
    for (std::size_t j = 0; j < 4; ++j)
      for (std::size_t i = 0; i < 3; ++i) CHECK(y3.value()(o, j, i) == x3(o, static_cast<std::size_t>(index(j)), i));

  Tape<float> tf;
  require_close(gather(tf.constant(xt::xarray<float>{1.5f, 2.5f, 3.5f}), 0, xt::xarray<int>{2, 2, 0}).value(),
                xt::xarray<float>{3.5f, 3.5f, 1.5f}, 0.0);
}

TEST_CASE("gather: gradient by finite differences, repeated indices add up", "[ops]") {
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return gather(v[0], 1, xt::xarray<int>{3, 0, 3, 3, 1});
      },
      {random_array({2, 4, 3}, -1, 1, 2)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return gather(v[0], -1, xt::xarray<int>{{1, 1}, {0, 2}});
      },
      {random_array({3, 3}, -1, 1, 3)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return gather(v[0], 0, xt::xarray<int>{0, 0}) * sum(v[0]);
      },
      {random_array({2}, -1, 1, 4)});
  // Entries never picked get a zero gradient.
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{1, 2, 3, 4});
  tape.backward(sum(gather(x, 0, xt::xarray<int>{3, 1, 3})));
  require_close(x.grad(), xt::xarray<double>{0, 1, 0, 2}, 0.0);
}

TEST_CASE("gather: an index out of range names the op, the index, its position and the axis size", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({3, 5}));
  REQUIRE_THROWS_AS(gather(x, 1, xt::xarray<int>{0, 5}), ArgumentError);
  REQUIRE_THROWS_WITH(gather(x, 1, xt::xarray<int>{0, 5}),
                      "gather: index 5 (at flat position 1 of the index array) is out of range for axis 1 of size 5 "
                      "(expected 0 <= index < 5)");
  REQUIRE_THROWS_WITH(gather(x, -2, xt::xarray<long>{1, -1}),
                      Contains("gather: index -1 (at flat position 1 of the index array) is out of range for axis -2 "
                               "of size 3"));
  REQUIRE_THROWS_WITH(gather(x, 2, xt::xarray<int>{0}), Contains("gather: axis 2 is out of range"));
  const std::size_t before = tape.size();
  CHECK_THROWS(gather(x, 0, xt::xarray<int>{7}));
  CHECK(tape.size() == before);  // a refusal records no node
  tape.clear();
  REQUIRE_THROWS_WITH(gather(x, 0, xt::xarray<int>{0}), Contains("gather: an operand is a stale handle"));
}
