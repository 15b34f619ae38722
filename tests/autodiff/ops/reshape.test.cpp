#include "support/gradients.hpp"

#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("reshape: value keeps the row-major order", "[ops]") {
  Tape<double> tape;
  const auto c = tape.constant(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}});
  const auto y = reshape(c, {3, 2});
  CHECK(std::string(y.op()) == "reshape");
  CHECK(y.shape() == Shape{3, 2});
  require_close(y.value(), xt::xarray<double>{{1, 2}, {3, 4}, {5, 6}});
  require_close(reshape(c, {6}).value(), xt::xarray<double>{1, 2, 3, 4, 5, 6});
  require_close(reshape(c, {1, 6, 1}).value(),
                xt::xarray<double>(xt::xtensor<double, 3>{{{1}, {2}, {3}, {4}, {5}, {6}}}));
  require_close(reshape(tape.constant(xt::xarray<double>{5.0}), std::vector<int>{}).value(), xt::xarray<double>(5.0));
  require_close(reshape(tape.constant(xt::xarray<double>(5.0)), {1, 1}).value(),
                xt::xarray<double>(xt::xtensor<double, 2>{{5.0}}));
}

TEST_CASE("reshape: -1 is inferred", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  const auto c = tape.constant(x);
  CHECK(reshape(c, {4, -1}).shape() == Shape{4, 6});
  CHECK(reshape(c, {-1}).shape() == Shape{24});
  CHECK(reshape(c, {2, -1, 2}).shape() == Shape{2, 6, 2});
  CHECK(reshape(c, {-1, 1}).shape() == Shape{24, 1});
  require_close(reshape(c, {-1, 12}).value(), xt::xarray<double>(xt::reshape_view(x, {2, 12})));
  require_close(reshape(reshape(c, {-1}), {2, 3, 4}).value(), x);
}

TEST_CASE("reshape: gradient", "[ops]") {
  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  require_gradient([](Tape<double>&, const Vars& v) { return reshape(v[0], {4, -1}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return reshape(v[0], {-1}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return reshape(v[0], {3, 2, 2, 2}); }, {x});
  // Elementwise ops on the reshaped view, and the view used twice.
  require_gradient([](Tape<double>&, const Vars& v) { return reshape(v[0], {6, 4}) * reshape(v[0], {6, 4}); }, {x});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return reshape(v[0], {3, 8}) + reshape(v[1], {-1, 8}); },
      {random_array({6, 4}, -2, 2, 2), random_array({4, 6}, -2, 2, 3)});
}

TEST_CASE("reshape: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({2, 6}));
  require_close(reshape(tape.constant(x), {3, -1}).value(), xt::xarray<float>(xt::reshape_view(x, {3, 4})), 0);
}

TEST_CASE("reshape: errors", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(reshape(x, {4, 2}), ShapeError);
  REQUIRE_THROWS_WITH(reshape(x, {4, 2}), "reshape: cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)");
  REQUIRE_THROWS_WITH(reshape(x, {4, -1}), "reshape: cannot reshape [2, 3] (6 elements) to [4, -1]");
  REQUIRE_THROWS_AS(reshape(x, {-1, -1}), ShapeError);
  REQUIRE_THROWS_WITH(reshape(x, {-1, -1}), "reshape: more than one -1 in the new shape");
  REQUIRE_THROWS_WITH(reshape(x, {-2, -3}), "reshape: negative size -2 in the new shape");
  REQUIRE_THROWS_WITH(reshape(x, {0, -1}), Contains("cannot reshape [2, 3]"));
  tape.clear();
  REQUIRE_THROWS_AS(reshape(x, {6}), TapeError);
  REQUIRE_THROWS_WITH(reshape(x, {6}), Contains("stale"));
}

TEST_CASE("reshape: sizes whose product overflows size_t are refused (issue 20)", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({4}));
  // (2^62 + 1) * 4 wraps to 4: once accepted, and a later slice read far past the 4 elements
  const auto big = static_cast<std::ptrdiff_t>((std::size_t{1} << 62) + 1);
  REQUIRE_THROWS_AS(reshape(x, std::vector<std::ptrdiff_t>{big, 4}), ShapeError);
  REQUIRE_THROWS_WITH(reshape(x, std::vector<std::ptrdiff_t>{big, 4}),
                      Contains("reshape: shape [4611686018427387905, 4] has more elements than fit in size_t"));
  // the same through the -1 inference: the known sizes alone overflow
  REQUIRE_THROWS_WITH(reshape(x, std::vector<std::ptrdiff_t>{big, -1, 4}), Contains("more elements than fit in size_t"));
  // a zero among huge sizes is an empty shape, not an overflow
  const auto e = tape.variable(xt::xarray<double>::from_shape({0}));
  CHECK(reshape(e, std::vector<std::ptrdiff_t>{big, 0, big}).shape() == Shape{std::size_t(big), 0, std::size_t(big)});
}
