#include "support/gradients.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// Values moved at least `margin` away from the kink at `kink` (finite differences straddle
/// no kink: the step is 1e-6).
xt::xarray<double> away_from(xt::xarray<double> x, double kink, double margin = 0.05) {
  for (double& v : x)
    if (std::abs(v - kink) < margin) v = v < kink ? kink - margin : kink + margin;
  return x;
}
}  // namespace

TEST_CASE("abs: value", "[ops]") {
  Tape<double> tape;
  const auto y = abs(tape.constant(xt::xarray<double>{{-2.0, -0.5, 0.0}, {0.25, 3.0, -0.0}}));
  CHECK(std::string(y.op()) == "abs");
  require_close(y.value(), xt::xarray<double>{{2.0, 0.5, 0.0}, {0.25, 3.0, 0.0}});
  const auto x = random_array({2, 3, 4}, -3, 3, 2);
  xt::xarray<double> expected = x;
  for (double& v : expected) v = std::fabs(v);
  require_close(abs(tape.constant(x)).value(), expected);
}

TEST_CASE("abs: gradient away from the kink, and 0 at x = 0", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return abs(v[0]); },
                   {away_from(random_array({3, 4}, -2, 2, 1), 0.0)});
  require_gradient([](Tape<double>&, const Vars& v) { return abs(v[0]); },
                   {away_from(random_array({2, 3, 2}, -2, 2, 3), 0.0)});
  require_gradient([](Tape<double>&, const Vars& v) { return abs(v[0] - 1.0); },
                   {away_from(random_array({6}, -1, 3, 4), 1.0)});

  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{-2.0, -0.5, 0.0, 0.25, 3.0});
  tape.backward(sum(abs(x)));
  require_close(x.grad(), xt::xarray<double>{-1.0, -1.0, 0.0, 1.0, 1.0});
}

TEST_CASE("abs: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}));
  xt::xarray<float> expected = x;
  for (float& v : expected) v = std::fabs(v);
  require_close(abs(tape.constant(x)).value(), expected, 1e-5);
}

TEST_CASE("abs: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}));
  tape.clear();
  REQUIRE_THROWS_AS(abs(x), TapeError);
  REQUIRE_THROWS_WITH(abs(x), Contains("stale"));
}
