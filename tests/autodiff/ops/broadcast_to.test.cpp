#include "support/gradients.hpp"

#include <utility>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("broadcast_to: value", "[ops]") {
  Tape<double> tape;
  require_close(broadcast_to(tape.constant(xt::xarray<double>{1, 2, 3}), Shape{2, 3}).value(),
                xt::xarray<double>{{1, 2, 3}, {1, 2, 3}});
  require_close(broadcast_to(tape.constant(xt::xarray<double>(xt::xtensor<double, 2>{{1}, {2}})), Shape{2, 3}).value(),
                xt::xarray<double>{{1, 1, 1}, {2, 2, 2}});
  require_close(broadcast_to(tape.constant(xt::xarray<double>(7.0)), Shape{2, 2}).value(),
                xt::xarray<double>{{7, 7}, {7, 7}});
  const auto same = broadcast_to(tape.constant(xt::xarray<double>{{1, 2}}), Shape{1, 2});
  CHECK(std::string(same.op()) == "broadcast_to");
  require_close(same.value(), xt::xarray<double>{{1, 2}});

  const std::vector<std::pair<Shape, Shape>> cases{
      {{1, 4}, {2, 3, 4}}, {{3, 1, 2}, {2, 3, 4, 2}}, {{}, {3}}, {{2, 1, 1}, {2, 3, 4}}, {{4}, {2, 1, 4}}};
  for (const auto& [from, to] : cases) {
    INFO(to_string(from) << " -> " << to_string(to));
    const auto x = random_array(from, -2, 2, 3);
    const auto y = broadcast_to(tape.constant(x), to);
    CHECK(y.shape() == to);
    require_close(y.value(), xt::xarray<double>(xt::broadcast(x, to)));
  }
}

TEST_CASE("broadcast_to: gradient sums over the broadcast axes", "[ops]") {
  const std::vector<std::pair<Shape, Shape>> cases{{{3}, {2, 3}},       {{2, 1}, {2, 3}},          {{}, {2, 2}},
                                                  {{1, 4}, {2, 3, 4}}, {{3, 1, 2}, {2, 3, 4, 2}}, {{2, 3}, {2, 3}}};
  for (const auto& [from, to] : cases) {
    INFO(to_string(from) << " -> " << to_string(to));
    const Shape target = to;
    require_gradient([target](Tape<double>&, const Vars& v) { return broadcast_to(v[0], target); },
                     {random_array(from, -2, 2, 4)});
  }
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>(xt::xtensor<double, 2>{{1}, {2}}));
  tape.backward(sum(broadcast_to(x, Shape{3, 2, 4})));
  require_close(x.grad(), xt::xarray<double>(xt::xtensor<double, 2>{{12}, {12}}));
}

TEST_CASE("broadcast_to: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 1}));
  require_close(broadcast_to(tape.constant(x), Shape{2, 3, 4}).value(), xt::xarray<float>(xt::broadcast(x, {2, 3, 4})),
                1e-6);
}

TEST_CASE("broadcast_to: incompatible shapes throw ShapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({3}));
  REQUIRE_THROWS_AS(broadcast_to(x, Shape{4}), ShapeError);
  REQUIRE_THROWS_WITH(broadcast_to(x, Shape{4}),
                      "broadcast_to: cannot broadcast shape [3] to [4] (each axis must match or be 1 in the input)");
  REQUIRE_THROWS_WITH(broadcast_to(x, Shape{3, 2}), Contains("cannot broadcast shape [3] to [3, 2]"));
  // No shrinking of the rank.
  const auto m = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_WITH(broadcast_to(m, Shape{3}), Contains("broadcast_to") && Contains("[2, 3]") && Contains("[3]"));
  REQUIRE_THROWS_AS(broadcast_to(m, Shape{}), ShapeError);
  tape.clear();
  REQUIRE_THROWS_WITH(broadcast_to(x, Shape{2, 3}), Contains("stale"));
}
