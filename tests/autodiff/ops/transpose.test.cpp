#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("transpose: value, default last two axes and explicit axes", "[ops]") {
  Tape<double> tape;
  require_close(transpose(tape.constant(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}})).value(),
                xt::xarray<double>{{1, 4}, {2, 5}, {3, 6}});

  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  const auto c = tape.constant(x);
  require_close(transpose(c).value(), xt::xarray<double>(xt::transpose(x, {0, 2, 1})));
  require_close(transpose(c, 0, 2).value(), xt::xarray<double>(xt::transpose(x, {2, 1, 0})));
  require_close(transpose(c, -3, -2).value(), xt::xarray<double>(xt::transpose(x, {1, 0, 2})));
  require_close(transpose(c, 1, 1).value(), x);
  CHECK(transpose(c).shape() == Shape{2, 4, 3});

  const auto x4 = random_array({2, 3, 4, 5}, -2, 2, 2);
  const auto c4 = tape.constant(x4);
  require_close(transpose(c4).value(), xt::xarray<double>(xt::transpose(x4, {0, 1, 3, 2})));
  require_close(transpose(c4, 0, 3).value(), xt::xarray<double>(xt::transpose(x4, {3, 1, 2, 0})));
  require_close(transpose(c4, -3, 2).value(), xt::xarray<double>(xt::transpose(x4, {0, 2, 1, 3})));
  require_close(transpose(transpose(c4, 1, 3), 1, 3).value(), x4);
}

TEST_CASE("transpose: gradient, rank 2, 3 and 4", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return transpose(v[0]); }, {random_array({3, 4}, -2, 2, 1)});
  const auto x = random_array({2, 3, 4}, -2, 2, 2);
  require_gradient([](Tape<double>&, const Vars& v) { return transpose(v[0]); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return transpose(v[0], 0, 2); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return transpose(v[0], -3, 1); }, {x});
  const auto x4 = random_array({2, 3, 4, 5}, -2, 2, 3);
  require_gradient([](Tape<double>&, const Vars& v) { return transpose(v[0]); }, {x4});
  require_gradient([](Tape<double>&, const Vars& v) { return transpose(v[0], 0, 3); }, {x4});
  require_gradient([](Tape<double>&, const Vars& v) { return transpose(v[0], 1, 2); }, {x4});
}

TEST_CASE("transpose: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}));
  require_close(transpose(tape.constant(x)).value(), xt::xarray<float>(xt::transpose(x)), 0);
}

TEST_CASE("transpose: errors", "[ops]") {
  Tape<double> tape;
  const auto v = tape.variable(random_array({3}));
  REQUIRE_THROWS_AS(transpose(v), ShapeError);
  REQUIRE_THROWS_WITH(transpose(v), "transpose: expected a tensor of rank >= 2, got shape [3]");
  REQUIRE_THROWS_WITH(transpose(tape.constant(xt::xarray<double>(1.0))),
                      "transpose: expected a tensor of rank >= 2, got shape []");
  const auto m = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(transpose(m, 0, 2), ArgumentError);
  REQUIRE_THROWS_WITH(transpose(m, 0, 2),
                      "transpose: axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_WITH(transpose(m, -3, 0), Contains("transpose: axis -3 is out of range"));
  tape.clear();
  REQUIRE_THROWS_AS(transpose(m), TapeError);
  REQUIRE_THROWS_WITH(transpose(m), Contains("stale"));
}
