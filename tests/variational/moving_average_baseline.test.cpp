#include <catch2/catch.hpp>

#include "vaelib/vae.hpp"

using namespace vaelib;
using Catch::Matchers::Contains;

TEST_CASE("MovingAverageBaseline: zero-debiased running mean of earlier signals", "[variational]") {
  MovingAverageBaseline b(0.5);
  CHECK(b.value() == 0.0);
  b.update(-10.0);
  CHECK(b.value() == Approx(-10.0));  // debiased: not pulled towards the initial 0
  b.update(-20.0);
  // raw: 0.5 * (0.5 * -10) + 0.5 * -20 = -12.5; debias by 1 - 0.25
  CHECK(b.value() == Approx(-12.5 / 0.75));
  MovingAverageBaseline restored(0.5);
  restored.restore(b.raw_average(), b.updates());
  CHECK(restored.value() == b.value());
}

TEST_CASE("MovingAverageBaseline: refuses bad decay and non-finite signals", "[variational]") {
  CHECK_THROWS_WITH(MovingAverageBaseline(1.0), Contains("decay must be in [0, 1), got 1"));
  MovingAverageBaseline b;
  CHECK_THROWS_WITH(b.update(std::nan("")), Contains("the learning signal's mean is nan"));
  CHECK(b.updates() == 0);
}
