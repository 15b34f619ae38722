#include "support/gradients.hpp"

#include <algorithm>
#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// Values moved at least `margin` away from the kink at 0.
xt::xarray<double> away_from_zero(xt::xarray<double> x, double margin = 0.05) {
  for (double& v : x)
    if (std::abs(v) < margin) v = v < 0 ? -margin : margin;
  return x;
}
}  // namespace

TEST_CASE("relu: value", "[ops]") {
  Tape<double> tape;
  const auto y = relu(tape.constant(xt::xarray<double>{{-2.0, -0.5, 0.0}, {0.25, 3.0, -1e-300}}));
  CHECK(std::string(y.op()) == "relu");
  require_close(y.value(), xt::xarray<double>{{0.0, 0.0, 0.0}, {0.25, 3.0, 0.0}});
  const auto x = random_array({2, 3, 4}, -3, 3, 2);
  xt::xarray<double> expected = x;
  for (double& v : expected) v = std::max(v, 0.0);
  require_close(relu(tape.constant(x)).value(), expected);
}

TEST_CASE("relu: gradient away from the kink; 0 at and below 0", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return relu(v[0]); },
                   {away_from_zero(random_array({3, 4}, -2, 2, 1))});
  require_gradient([](Tape<double>&, const Vars& v) { return relu(v[0]); },
                   {away_from_zero(random_array({2, 3, 2}, -2, 2, 3))});
  require_gradient([](Tape<double>&, const Vars& v) { return relu(v[0]) * v[0]; },
                   {away_from_zero(random_array({7}, -2, 2, 4))});

  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{-2.0, -0.5, 0.0, 0.25, 3.0});
  tape.backward(sum(relu(x)));
  require_close(x.grad(), xt::xarray<double>{0.0, 0.0, 0.0, 1.0, 1.0});
}

TEST_CASE("relu: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}));
  xt::xarray<float> expected = x;
  for (float& v : expected) v = std::max(v, 0.0f);
  require_close(relu(tape.constant(x)).value(), expected, 1e-5);
}

TEST_CASE("relu: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}));
  tape.clear();
  REQUIRE_THROWS_AS(relu(x), TapeError);
  REQUIRE_THROWS_WITH(relu(x), Contains("stale"));
}
