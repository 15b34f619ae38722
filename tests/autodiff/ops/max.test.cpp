#include "support/gradients.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// Every element distinct, pairwise at least 0.25 apart, in shuffled order: no ties, so max
/// is smooth under the finite-difference step.
xt::xarray<double> distinct_values(const Shape& shape, std::uint32_t seed) {
  xt::xarray<double> a = xt::empty<double>(shape);
  std::vector<double> values(a.size());
  std::iota(values.begin(), values.end(), 0.0);
  std::shuffle(values.begin(), values.end(), std::mt19937(seed));
  std::size_t i = 0;
  for (double& v : a) v = 0.25 * (values[i++] - static_cast<double>(a.size()) / 2) + 0.125;
  return a;
}
}  // namespace

TEST_CASE("max: value along each axis, with and without keep_dims", "[ops]") {
  Tape<double> tape;
  const auto c = tape.constant(xt::xarray<double>{{1, 5, 3}, {4, 2, 6}});
  require_close(max(c, 0).value(), xt::xarray<double>{4, 5, 6});
  require_close(max(c, 1).value(), xt::xarray<double>{5, 6});
  require_close(max(c, -1, true).value(), xt::xarray<double>(xt::xtensor<double, 2>{{5}, {6}}));
  require_close(max(c, -2, true).value(), xt::xarray<double>{{4, 5, 6}});
  CHECK(std::string(max(c, 0).op()) == "max");

  const auto x = random_array({3, 4, 5}, -3, 3, 1);
  const auto v = tape.constant(x);
  for (std::ptrdiff_t axis = -3; axis < 3; ++axis) {
    const auto ax = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
    INFO("axis " << axis);
    require_close(max(v, axis).value(), xt::xarray<double>(xt::amax(x, {ax})));
    require_close(max(v, axis, true).value(), xt::xarray<double>(xt::amax(x, {ax}, xt::keep_dims)));
  }
  CHECK(max(v, 1, true).shape() == Shape{3, 1, 5});
}

TEST_CASE("max: gradient along each axis away from ties", "[ops]") {
  const auto x = distinct_values({3, 4, 5}, 2);
  for (std::ptrdiff_t axis : {0, 1, 2, -1, -2, -3}) {
    INFO("axis " << axis);
    require_gradient([axis](Tape<double>&, const Vars& v) { return max(v[0], axis); }, {x});
    require_gradient([axis](Tape<double>&, const Vars& v) { return max(v[0], axis, true); }, {x});
  }
  require_gradient([](Tape<double>&, const Vars& v) { return max(v[0], 0); }, {distinct_values({7}, 3)});

  // The gradient goes to the arg max only.
  Tape<double> tape;
  const auto w = tape.variable(xt::xarray<double>{{1, 5, 3}, {4, 2, 6}});
  tape.backward(sum(max(w, 1) * tape.constant(xt::xarray<double>{2.0, 3.0})));
  require_close(w.grad(), xt::xarray<double>{{0, 2, 0}, {0, 0, 3}});
}

TEST_CASE("max: ties send the gradient to the first winner; NaN propagates", "[ops]") {
  Tape<double> tape;
  const auto w = tape.variable(xt::xarray<double>{{3, 1, 3}, {2, 2, 2}});
  tape.backward(sum(max(w, 1)));
  require_close(w.grad(), xt::xarray<double>{{1, 0, 0}, {1, 0, 0}});

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto y = max(tape.constant(xt::xarray<double>{{1, nan, 2}, {nan, 0, 1}, {0, 1, nan}}), 1);
  CHECK(std::isnan(y.value()(0)));
  CHECK(std::isnan(y.value()(1)));
  CHECK(std::isnan(y.value()(2)));
  const double inf = std::numeric_limits<double>::infinity();
  require_close(max(tape.constant(xt::xarray<double>{-inf, -inf}), 0).value(), xt::xarray<double>(-inf));
}

TEST_CASE("max: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}));
  require_close(max(tape.constant(x), 1).value(), xt::xarray<float>(xt::amax(x, {1})), 1e-5);
}

TEST_CASE("max: errors", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(max(x, 2), ArgumentError);
  REQUIRE_THROWS_WITH(max(x, 2), "max: axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_WITH(max(x, -3), Contains("max: axis -3 is out of range"));
  const auto empty = tape.constant(xt::xarray<double>(xt::zeros<double>({0, 3})));
  REQUIRE_THROWS_AS(max(empty, 0), ShapeError);
  REQUIRE_THROWS_WITH(max(empty, 0), "max: axis 0 of shape [0, 3] is empty (expected at least one element to reduce)");
  tape.clear();
  REQUIRE_THROWS_WITH(max(x, 0), Contains("stale"));
}
