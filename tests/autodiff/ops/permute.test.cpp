#include "support/gradients.hpp"

#include <array>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("permute: value, rank 2, 3 and 4", "[ops]") {
  Tape<double> tape;
  const auto m = permute(tape.constant(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}}), {1, 0});
  CHECK(std::string(m.op()) == "permute");
  require_close(m.value(), xt::xarray<double>{{1, 4}, {2, 5}, {3, 6}});

  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  const auto c = tape.constant(x);
  require_close(permute(c, {0, 1, 2}).value(), x);
  require_close(permute(c, {2, 0, 1}).value(), xt::xarray<double>(xt::transpose(x, {2, 0, 1})));
  require_close(permute(c, {1, 2, 0}).value(), xt::xarray<double>(xt::transpose(x, {1, 2, 0})));
  require_close(permute(c, {0, 2, 1}).value(), xt::xarray<double>(xt::transpose(x, {0, 2, 1})));
  require_close(permute(c, {-1, 0, -2}).value(), xt::xarray<double>(xt::transpose(x, {2, 0, 1})));
  CHECK(permute(c, {2, 0, 1}).shape() == Shape{4, 2, 3});
  // Element by element, y[i, j, k] = x[j, k, i] for axes {2, 0, 1}.
  const auto y = permute(c, {2, 0, 1}).value();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t k = 0; k < 3; ++k) CHECK(y(i, j, k) == x(j, k, i));

  const auto x4 = random_array({2, 3, 4, 5}, -2, 2, 2);
  const auto c4 = tape.constant(x4);
  require_close(permute(c4, {3, 1, 0, 2}).value(), xt::xarray<double>(xt::transpose(x4, {3, 1, 0, 2})));
  require_close(permute(c4, {1, 3, 2, 0}).value(), xt::xarray<double>(xt::transpose(x4, {1, 3, 2, 0})));
  require_close(permute(c4, std::vector<int>{0, 1, 3, 2}).value(), xt::xarray<double>(xt::transpose(x4, {0, 1, 3, 2})));
  // A size-1 axis moved around.
  const auto x1 = random_array({3, 1, 2}, -2, 2, 3);
  require_close(permute(tape.constant(x1), {1, 2, 0}).value(), xt::xarray<double>(xt::transpose(x1, {1, 2, 0})));
}

TEST_CASE("permute: gradient, rank 3 and 4", "[ops]") {
  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  require_gradient([](Tape<double>&, const Vars& v) { return permute(v[0], {2, 0, 1}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return permute(v[0], {1, 2, 0}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return permute(v[0], {0, 2, 1}); }, {x});
  const auto x4 = random_array({2, 3, 4, 5}, -2, 2, 2);
  require_gradient([](Tape<double>&, const Vars& v) { return permute(v[0], {3, 1, 0, 2}); }, {x4});
  require_gradient([](Tape<double>&, const Vars& v) { return permute(v[0], {1, 3, 2, 0}); }, {x4});
  // A permutation and its inverse compose to the identity; the gradient accumulates.
  require_gradient(
      [](Tape<double>&, const Vars& v) { return permute(permute(v[0], {2, 0, 1}), {1, 2, 0}) * v[0]; }, {x});
}

TEST_CASE("permute: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({2, 3, 4}));
  require_close(permute(tape.constant(x), {2, 0, 1}).value(), xt::xarray<float>(xt::transpose(x, {2, 0, 1})), 0);
}

TEST_CASE("permute: bad axes throw ArgumentError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3, 4}));
  REQUIRE_THROWS_AS(permute(x, {0, 1}), ArgumentError);
  REQUIRE_THROWS_WITH(permute(x, {0, 1}),
                      "permute: axes [0, 1] are too few for shape [2, 3, 4] (expected each axis 0..3-1 once)");
  REQUIRE_THROWS_WITH(permute(x, {0, 1, 2, 0}), Contains("permute: axes [0, 1, 2, 0] are too many"));
  REQUIRE_THROWS_AS(permute(x, {0, 0, 1}), ArgumentError);
  REQUIRE_THROWS_WITH(permute(x, {0, 0, 1}), Contains("permute: axes [0, 0, 1] repeat axis 0 for shape [2, 3, 4]"));
  REQUIRE_THROWS_WITH(permute(x, {2, -1, 0}), Contains("repeat axis 2"));
  REQUIRE_THROWS_AS(permute(x, {0, 1, 3}), ArgumentError);
  REQUIRE_THROWS_WITH(permute(x, {0, 1, 3}),
                      "permute: axis 3 is out of range for a tensor of rank 3 (expected -3 <= axis < 3)");
  tape.clear();
  REQUIRE_THROWS_AS(permute(x, {2, 1, 0}), TapeError);
  REQUIRE_THROWS_WITH(permute(x, {2, 1, 0}), Contains("stale"));
}
