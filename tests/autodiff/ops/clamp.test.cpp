#include "support/unary_op_checks.hpp"

#include <algorithm>
#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("clamp: value, gradient, float and stale handle (shared checks)", "[ops]") {
  // clamp to [-0.5, 1.0]; gradient inputs kept 0.05 away from both bounds.
  check_unary_op(
      "clamp", [](const auto& x) { return vaelib::clamp(x, -0.5, 1.0); },
      [](auto v) { return std::min(std::max(v, decltype(v)(-0.5)), decltype(v)(1.0)); }, -2.0, 2.0, 1,
      {.kinks = {-0.5, 1.0}});
}

TEST_CASE("clamp: value", "[ops]") {
  Tape<double> tape;
  const auto y = clamp(tape.constant(xt::xarray<double>{-2.0, -0.7, -0.5, -0.3, 0.0, 0.9, 1.0, 1.2, 3.0}), -0.5, 1.0);
  CHECK(std::string(y.op()) == "clamp");
  require_close(y.value(), xt::xarray<double>{-0.5, -0.5, -0.5, -0.3, 0.0, 0.9, 1.0, 1.0, 1.0});
  const auto x = random_array({2, 3, 4}, -3, 3, 2);
  xt::xarray<double> expected = x;
  for (double& v : expected) v = std::min(std::max(v, -1.0), 0.5);
  require_close(clamp(tape.constant(x), -1.0, 0.5).value(), expected);
  // lo == hi is allowed: every element becomes that value.
  require_close(clamp(tape.constant(x), 0.25, 0.25).value(), xt::xarray<double>(0.25 * xt::ones<double>({2, 3, 4})));
}

TEST_CASE("clamp: the gradient passes inside [lo, hi] and is zero outside", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{-2.0, -0.7, -0.5, -0.3, 0.0, 0.9, 1.0, 1.2, 3.0});
  tape.backward(sum(clamp(x, -0.5, 1.0) * tape.constant(xt::xarray<double>{1, 2, 3, 4, 5, 6, 7, 8, 9})));
  // Inside (and at the bounds, as documented): dy; outside: 0.
  require_close(x.grad(), xt::xarray<double>{0, 0, 3, 4, 5, 6, 7, 0, 0});
}

TEST_CASE("clamp: gradient check away from the bounds", "[ops]") {
  const auto x = away_from(random_array({4, 5}, -2, 2, 1), {-0.5, 1.0});
  // Make sure the inputs exercise both sides of both bounds.
  CHECK(xt::any(x < -0.5));
  CHECK(xt::any(x > 1.0));
  CHECK(xt::any(x > -0.5 && x < 1.0));
  require_gradient([](Tape<double>&, const Vars& v) { return clamp(v[0], -0.5, 1.0); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return clamp(v[0] * v[0], 0.5, 2.0); },
                   {away_from(random_array({3, 3}, -2, 2, 2), {-0.7071, 0.7071, -1.41421, 1.41421})});
}

TEST_CASE("clamp: errors", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}));
  REQUIRE_THROWS_AS(clamp(x, 2.0, 1.0), ArgumentError);
  REQUIRE_THROWS_WITH(clamp(x, 2.0, 1.0), "clamp: lower bound 2.000000 is above upper bound 1.000000");
  REQUIRE_THROWS_WITH(clamp(x, 0.5, -0.5), Contains("clamp") && Contains("above upper bound"));
  tape.clear();
  REQUIRE_THROWS_AS(clamp(x, 0.0, 1.0), TapeError);
  REQUIRE_THROWS_WITH(clamp(x, 0.0, 1.0), Contains("stale"));
}
