#include "support/gradients.hpp"

#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("slice: value along each axis, negative bounds and steps", "[ops]") {
  Tape<double> tape;
  const auto r = tape.constant(xt::xarray<double>{0, 1, 2, 3, 4, 5, 6});
  const auto y = slice(r, 0, 1, 4);
  CHECK(std::string(y.op()) == "slice");
  require_close(y.value(), xt::xarray<double>{1, 2, 3});
  require_close(slice(r, 0, 0, 7, 2).value(), xt::xarray<double>{0, 2, 4, 6});
  require_close(slice(r, 0, 1, 7, 3).value(), xt::xarray<double>{1, 4});
  require_close(slice(r, 0, -3, -1).value(), xt::xarray<double>{4, 5});
  require_close(slice(r, 0, -7, 7, 3).value(), xt::xarray<double>{0, 3, 6});
  require_close(slice(r, -1, 2, -2, 2).value(), xt::xarray<double>{2, 4});
  CHECK(slice(r, 0, 3, 3).shape() == Shape{0});

  const auto x = random_array({5, 6, 4}, -2, 2, 1);
  const auto c = tape.constant(x);
  require_close(slice(c, 0, 0, 5, 2).value(), xt::xarray<double>(xt::view(x, xt::range(0, 5, 2))));
  require_close(slice(c, 0, -4, -1).value(), xt::xarray<double>(xt::view(x, xt::range(1, 4))));
  require_close(slice(c, 1, -4, -1).value(), xt::xarray<double>(xt::view(x, xt::all(), xt::range(2, 5))));
  require_close(slice(c, 1, 1, 6, 3).value(), xt::xarray<double>(xt::view(x, xt::all(), xt::range(1, 6, 3))));
  require_close(slice(c, -2, 0, 6, 2).value(), xt::xarray<double>(xt::view(x, xt::all(), xt::range(0, 6, 2))));
  require_close(slice(c, 2, 1, 3).value(), xt::xarray<double>(xt::view(x, xt::all(), xt::all(), xt::range(1, 3))));
  require_close(slice(c, -1, 0, 4, 3).value(),
                xt::xarray<double>(xt::view(x, xt::all(), xt::all(), xt::range(0, 4, 3))));
  require_close(slice(c, 2, -3, 4, 2).value(),
                xt::xarray<double>(xt::view(x, xt::all(), xt::all(), xt::range(1, 4, 2))));
  CHECK(slice(c, 1, 1, 6, 3).shape() == Shape{5, 2, 4});
  require_close(slice(c, 1, 0, 6).value(), x);
}

TEST_CASE("slice: gradient along each axis; zero outside the slice", "[ops]") {
  const auto x = random_array({5, 6, 4}, -2, 2, 1);
  require_gradient([](Tape<double>&, const Vars& v) { return slice(v[0], 0, 0, 5, 2); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return slice(v[0], 0, -4, -1); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return slice(v[0], 1, -4, -1); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return slice(v[0], 1, 1, 6, 3); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return slice(v[0], 2, -3, 4, 2); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return slice(v[0], -1, 0, 4, 3); }, {x});
  // Overlapping slices of one input accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return slice(v[0], 1, 0, 4) * slice(v[0], 1, 2, 6); }, {x});

  Tape<double> tape;
  const auto w = tape.variable(xt::xarray<double>{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}});
  tape.backward(sum(slice(w, 1, -5, 5, 2) * tape.constant(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}})));
  require_close(w.grad(), xt::xarray<double>{{1, 0, 2, 0, 3}, {4, 0, 5, 0, 6}});
}

TEST_CASE("slice: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({4, 6}));
  require_close(slice(tape.constant(x), 1, -5, 6, 2).value(),
                xt::xarray<float>(xt::view(x, xt::all(), xt::range(1, 6, 2))), 0);
}

TEST_CASE("slice: out-of-range bounds, a bad step and a bad axis throw ArgumentError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({5, 6, 4}));
  REQUIRE_THROWS_AS(slice(x, 0, 0, 7), ArgumentError);
  REQUIRE_THROWS_WITH(slice(x, 0, 0, 7),
                      "slice: range 0:7:1 is invalid for axis 0 of shape [5, 6, 4] (expected 0 <= start <= stop <= 5 "
                      "after counting negatives from the end, and step >= 1)");
  REQUIRE_THROWS_WITH(slice(x, -2, -7, 2), Contains("slice: range -7:2:1 is invalid for axis 1 of shape [5, 6, 4]"));
  REQUIRE_THROWS_WITH(slice(x, 1, 4, 2), Contains("slice: range 4:2:1 is invalid"));
  REQUIRE_THROWS_WITH(slice(x, 2, 0, 4, 0), Contains("slice: range 0:4:0 is invalid"));
  REQUIRE_THROWS_AS(slice(x, 2, 0, 4, -1), ArgumentError);
  REQUIRE_THROWS_AS(slice(x, 3, 0, 1), ArgumentError);
  REQUIRE_THROWS_WITH(slice(x, 3, 0, 1),
                      "slice: axis 3 is out of range for a tensor of rank 3 (expected -3 <= axis < 3)");
  tape.clear();
  REQUIRE_THROWS_AS(slice(x, 0, 0, 1), TapeError);
  REQUIRE_THROWS_WITH(slice(x, 0, 0, 1), Contains("stale"));
}

TEST_CASE("slice: huge steps and bounds neither overflow nor read out of bounds (issue 20)", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{1, 2, 3, 4, 5});
  const auto huge = std::numeric_limits<std::ptrdiff_t>::max();
  // (stop - start + step - 1) once overflowed for a huge step
  require_close(slice(x, 0, 1, 5, huge).value(), xt::xarray<double>{2});
  CHECK(slice(x, 0, 5, 5, huge).shape() == Shape{0});
  REQUIRE_THROWS_AS(slice(x, 0, 0, huge), ArgumentError);
  REQUIRE_THROWS_AS(slice(x, 0, std::numeric_limits<std::ptrdiff_t>::min(), 2), ArgumentError);
}

TEST_CASE("slice: an empty tensor with a huge axis is sliced at once, forward and backward (issue 20)", "[ops]") {
  Tape<double> tape;
  // [2^62, 0] once looped over its 2^62 rows copying nothing; plain buffers, since xtensor's
  // strides overflow for such shapes
  const Shape shape{std::size_t(1) << 62, 0};
  double value = 0, grad = 0;
  const auto x = tape.external(&value, &grad, shape);
  const auto y = slice(x, 1, 0, 0);
  CHECK(y.shape() == shape);
  const auto rows = slice(x, 0, 1, 1000, 3);
  CHECK(rows.shape() == Shape{333, 0});
  tape.backward(sum(y) + sum(rows));
  CHECK(grad == 0);
}
