#include <cstdint>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("scatter_add: sums values into their index's slot; repeated indices add up", "[ops]") {
  Tape<double> tape;
  const auto y = scatter_add(tape.constant(xt::xarray<double>{1, 2, 3, 4, 5}), 0, xt::xarray<int>{2, 0, 2, 2, 1}, 4);
  CHECK(std::string(y.op()) == "scatter_add");
  require_close(y.value(), xt::xarray<double>{2, 5, 8, 0}, 0.0);
  // Along axis 1 of [2, 3, 2] with a rank-1 index of 3: the output is [2, size, 2].
  const xt::xarray<double> values{{{1, 2}, {3, 4}, {5, 6}}, {{7, 8}, {9, 10}, {11, 12}}};
  require_close(scatter_add(tape.constant(values), 1, xt::xarray<std::int64_t>{1, 1, 0}, 2).value(),
                xt::xarray<double>{{{5, 6}, {4, 6}}, {{11, 12}, {16, 18}}}, 0.0);
  // A rank-2 index covers two axes of values.
  require_close(scatter_add(tape.constant(values), -3, xt::xarray<int>{{0, 1, 0}, {1, 1, 1}}, 2).value(),
                xt::xarray<double>{{6, 8}, {30, 34}}, 0.0);
  Tape<float> tf;
  require_close(scatter_add(tf.constant(xt::xarray<float>{0.5f, 0.25f}), 0, xt::xarray<int>{1, 1}, 3).value(),
                xt::xarray<float>{0.0f, 0.75f, 0.0f}, 0.0);
}

TEST_CASE("scatter_add: gradient by finite differences; the adjoint of gather", "[ops]") {
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return scatter_add(v[0], 1, xt::xarray<int>{3, 0, 3, 3, 1}, 4);
      },
      {random_array({2, 5, 3}, -1, 1, 2)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return scatter_add(v[0] * v[0], 0, xt::xarray<int>{{1, 0}, {1, 1}}, 3);
      },
      {random_array({2, 2}, -1, 1, 3)});
  // <gather(x, index), w> = <x, scatter_add(w, index, n)> for every x and w.
  Tape<double> tape;
  const xt::xarray<int> index{{4, 0, 4}, {2, 2, 1}};
  const auto x = random_array({3, 5, 2}, -1, 1, 4);
  const auto w = random_array({3, 2, 3, 2}, -1, 1, 5);
  const double left = sum(gather(tape.constant(x), 1, index) * tape.constant(w)).item();
  const double right = sum(tape.constant(x) * scatter_add(tape.constant(w), 1, index, 5)).item();
  CHECK(left == Approx(right).epsilon(1e-14));
}

TEST_CASE("scatter_add: an index out of range or values without the index's shape are refused", "[ops]") {
  Tape<double> tape;
  const auto values = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(scatter_add(values, 1, xt::xarray<int>{0, 1, 4}, 4), ArgumentError);
  REQUIRE_THROWS_WITH(scatter_add(values, 1, xt::xarray<int>{0, 1, 4}, 4),
                      "scatter_add: index 4 (at flat position 2 of the index array) is out of range for axis 1 of "
                      "size 4 (expected 0 <= index < 4)");
  REQUIRE_THROWS_AS(scatter_add(values, 0, xt::xarray<int>{0, 1, 1}, 4), ShapeError);
  REQUIRE_THROWS_WITH(scatter_add(values, 0, xt::xarray<int>{0, 1, 1}, 4),
                      "scatter_add: values of shape [2, 3] do not have the index's shape [3] at axis 0 (expected "
                      "values [O..., J..., I...] with index [J...] starting at the axis)");
  REQUIRE_THROWS_AS(scatter_add(values, 2, xt::xarray<int>{0}, 4), ShapeError);
  tape.clear();
  REQUIRE_THROWS_WITH(scatter_add(values, 0, xt::xarray<int>{0, 0}, 1),
                      Contains("scatter_add: an operand is a stale handle"));
}
