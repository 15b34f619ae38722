#include <cmath>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("kl bernoulli: Monte Carlo, KL(p || p) = 0, logits far apart stay finite, group_ndims",
          "[distributions][kl]") {
  // (the mpmath reference and the gradient are in tests/distributions/kl.test.cpp)
  Tape<double> tape;
  const Bernoulli<double> p(tape.constant(xt::xarray<double>{0.4, -2.0, 3.0}));
  const Bernoulli<double> q(tape.constant(xt::xarray<double>{-1.0, 0.5, 2.0}));
  require_kl_matches_monte_carlo(p, q, 40000, 91);
  for (double v : kl_values_of(kl_divergence<double>(p, p))) CHECK(v == 0.0);

  Tape<float> tf;
  const Bernoulli<float> far_p(tf.constant(xt::xarray<float>{3e38f, -3e38f, 1e30f}));
  const Bernoulli<float> far_q(tf.constant(xt::xarray<float>{-3e38f, 3e38f, 0.0f}));
  const auto kl = kl_divergence<float>(far_p, far_q);
  CHECK(kl.data()[0] == Approx(3e38f).epsilon(1e-6));
  CHECK(kl.data()[1] == Approx(3e38f).epsilon(1e-6));
  CHECK(kl.data()[2] == Approx(std::log(2.0)).epsilon(1e-6));

  const Bernoulli<double> grouped_p(tape.constant(kl_column({0.0, 1.0})), {.group_ndims = 1});
  const auto grouped = kl_divergence<double>(grouped_p, q);
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    const double a = 1 / (1 + std::exp(-(i == 0 ? 0.0 : 1.0)));
    double row = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      const double b = 1 / (1 + std::exp(-q.logits().value()(j)));
      row += a * std::log(a / b) + (1 - a) * std::log((1 - a) / (1 - b));
    }
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-13));
  }
}
