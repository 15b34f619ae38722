#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "vaelib/distributions/bin_concrete.hpp"

#include <cmath>
#include <limits>
#include <vector>
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Message;

// Reference values below were computed independently in python3 (mpmath, 30 digits) from the
// density as Maddison et al. state it, with a = exp(l):
//   p(x) = tau a x^(-tau-1) (1-x)^(-tau-1) / (a x^(-tau) + (1-x)^(-tau))^2,
// and its moments by mpmath's quadrature over (0, 1) (which also gives 1 for the integral of p;
// a 400000-draw simulation of sigmoid((l + log u - log(1-u)) / tau) agrees with the mean).
namespace {
const xt::xarray<double> kLogits{0.8, -1.2, 2.0};
const xt::xarray<double> kGiven{0.1, 0.35, 0.9};
constexpr double kTau = 0.6;

}  // namespace

TEST_CASE("BinConcrete: log_prob matches the binary Concrete density", "[distributions]") {
  Tape<double> tape;
  const BinConcrete<double> d(kTau, tape.constant(kLogits));
  CHECK(d.name() == "BinConcrete");
  CHECK(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{3});
  CHECK(d.value_shape() == Shape{});
  CHECK(d.temperature() == kTau);
  const auto lp = d.log_prob(tape.constant(kGiven));
  CHECK(lp.shape() == Shape{3});
  require_values(lp, {-0.44828580029869066, -0.5834535633871131, 0.39684056324066359});

  // Near both ends of (0, 1), at another temperature.
  const BinConcrete<double> d2(1.5, tape.constant(-0.3));
  require_values(d2.log_prob(tape.constant(xt::xarray<double>{0.999, 1e-4})),
                 {-3.3459582038248228, -3.8994577654998943}, 1e-9);
}

TEST_CASE("BinConcrete: the density integrates to 1 over (0, 1)", "[distributions]") {
  SECTION("in logit space, for small and large temperatures") {
    // x = sigmoid(y), dx = x (1 - x) dy: a smooth, exponentially decaying integrand. Only
    // y <= 0 is used, where x <= 1/2 and 1 - x are both exact enough in double: the half
    // x > 1/2 is folded onto it by the symmetry p(1 - x | l) = p(x | -l). The folded
    // integrand has zero odd derivatives at y = 0, so the trapezoid rule (weight 1/2 there)
    // keeps its spectral accuracy.
    const double h = 0.01, width = 150;
    const std::size_t m = static_cast<std::size_t>(width / h) + 1;
    xt::xarray<double> x = xt::zeros<double>({m});
    for (std::size_t i = 0; i < m; ++i) {
      const double y = -h * static_cast<double>(i);
      x(i) = std::exp(y) / (1 + std::exp(y));
    }
    for (double tau : {0.3, 0.6, 1.5}) {
      for (double l : {-2.0, 0.0, 0.8}) {
        INFO("temperature " << tau << ", logit " << l);
        Tape<double> tape;
        const auto lp = BinConcrete<double>(tau, tape.constant(xt::xarray<double>{l, -l})).log_prob(
            tape.constant(xt::xarray<double>(xt::view(x, xt::all(), xt::newaxis()))));
        REQUIRE(lp.shape() == Shape{m, 2});
        double integral = 0;
        for (std::size_t i = 0; i < m; ++i) {
          const double f = (std::exp(lp.data()[2 * i]) + std::exp(lp.data()[2 * i + 1])) * x(i) * (1 - x(i));
          integral += i == 0 ? f / 2 : f;
        }
        CHECK(integral * h == Approx(1.0).epsilon(1e-9));
      }
    }
  }
  SECTION("directly in x, where the density is bounded (temperature >= 1)") {
    const std::size_t m = 200000;  // midpoint rule
    xt::xarray<double> x = xt::zeros<double>({m});
    for (std::size_t i = 0; i < m; ++i) x(i) = (static_cast<double>(i) + 0.5) / static_cast<double>(m);
    for (double tau : {1.5, 2.0}) {
      INFO("temperature " << tau);
      Tape<double> tape;
      const auto lp = BinConcrete<double>(tau, tape.constant(-0.3)).log_prob(tape.constant(x));
      double integral = 0;
      for (std::size_t i = 0; i < m; ++i) integral += std::exp(lp.data()[i]);
      CHECK(integral / static_cast<double>(m) == Approx(1.0).epsilon(1e-6));
    }
  }
}

TEST_CASE("BinConcrete: sample mean and variance", "[distributions]") {
  struct Case {
    double tau, logit, mean, variance, mu4;
  };
  for (const Case& c : {Case{0.6, 0.8, 0.6582842831167482, 0.11367034492834317, 0.025916177723991339},
                        Case{1.5, -0.3, 0.46057582924849281, 0.052068515921112281, 0.0060007306954422251}}) {
    INFO("temperature " << c.tau << ", logit " << c.logit);
    Tape<double> tape;
    const BinConcrete<double> d(c.tau, tape.variable(xt::xarray<double>{c.logit}));
    Rng rng(4242);
    const auto s = d.sample(rng, 20000);
    CHECK(s.shape() == Shape{20000, 1});
    CHECK(s.requires_grad());
    for (double v : values(s)) REQUIRE((v > 0 && v < 1));
    require_sample_moments(values(s), c.mean, c.variance, c.mu4);
  }
}

TEST_CASE("BinConcrete: reparameterised samples have finite-difference gradients", "[distributions]") {
  const auto logits = random_array({2, 3}, -1.5, 1.5, 51);
  for (double tau : {0.5, 1.3}) {
    INFO("temperature " << tau);
    require_gradient(
        [tau](Tape<double>&, const Vars& v) {
          Rng rng(99);  // a fresh generator each time: the same noise for every evaluation
          return BinConcrete<double>(tau, v[0]).sample(rng, 4);
        },
        {logits});
    require_gradient(
        [tau](Tape<double>&, const Vars& v) {
          Rng rng(100);
          const BinConcrete<double> d(tau, v[0]);
          return d.log_prob(d.sample(rng));
        },
        {logits});
  }
}

TEST_CASE("BinConcrete: log_prob gradients in the logits and in the value", "[distributions]") {
  require_gradient([](Tape<double>&, const Vars& v) { return BinConcrete<double>(kTau, v[0]).log_prob(v[1]); },
                   {random_array({3}, -1.5, 1.5, 61), kGiven});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return BinConcrete<double>(2.0, v[0], {.group_ndims = 1}).log_prob(v[1]); },
      {random_array({2, 3}, -1.5, 1.5, 62), random_array({2, 3}, 0.05, 0.95, 63)});
  Tape<double> tape;
  const auto l = tape.variable(kLogits);
  const BinConcrete<double> d(kTau, l, {.use_path_derivative = true});
  CHECK_FALSE(d.log_prob(tape.constant(kGiven)).requires_grad());
  CHECK(d.log_prob(tape.variable(kGiven)).requires_grad());
}

TEST_CASE("BinConcrete: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.variable(random_array({2, 3}, -1, 1, 3));
  check_distribution_shapes([&](std::size_t g) { return BinConcrete<double>(0.8, logits, {.group_ndims = g}); }, {2, 3},
                            {});
}

TEST_CASE("BinConcrete: parameters", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(kLogits);
  const BinConcrete<double> d(kTau, logits);
  CHECK(d.parameter("logits").index() == logits.index());
  CHECK(d.parameter("temperature").item() == kTau);
  require_close(d.parameter("probs").value(), xt::xarray<double>(1 / (1 + xt::exp(-kLogits))), 1e-15);
  REQUIRE_THROWS_MATCHES(d.parameter("mean"), ArgumentError, Message("BinConcrete: no parameter 'mean'"));
  REQUIRE_THROWS_MATCHES(d.entropy(), ArgumentError, Message("BinConcrete: no closed-form entropy"));
}

TEST_CASE("BinConcrete: bad parameters give clear errors", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(kLogits);
  REQUIRE_THROWS_MATCHES(BinConcrete<double>(-0.5, logits), ArgumentError,
                         Message("BinConcrete: temperature must be positive and finite, got -0.500000"));
  REQUIRE_THROWS_MATCHES(BinConcrete<double>(std::nan(""), logits), ArgumentError,
                         Message("BinConcrete: temperature must be positive and finite, got nan"));
  REQUIRE_THROWS_MATCHES(
      BinConcrete<double>(kTau, tape.constant(xt::xarray<double>{0.0, -std::numeric_limits<double>::infinity()})),
      ArgumentError, Message("BinConcrete: logits must be finite, got -inf at flat index 1 of shape [2]"));
  const BinConcrete<double> d(kTau, logits);
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{0.5, 0.5})), ShapeError,
                         Message("BinConcrete.log_prob: given has shape [2], which does not broadcast with batch_shape "
                                 "[3] + value_shape [] (expected [...] + value_shape, the rest broadcasting)"));
}

TEST_CASE("BinConcrete: float", "[distributions]") {
  Tape<float> tape;
  const BinConcrete<float> d(0.6f, tape.constant(xt::xarray<float>{0.8f, -1.2f, 2.0f}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{0.1f, 0.35f, 0.9f}));
  CHECK(lp.data()[0] == Approx(-0.44828580029869066).epsilon(1e-5));
  CHECK(lp.data()[1] == Approx(-0.5834535633871131).epsilon(1e-5));
  CHECK(lp.data()[2] == Approx(0.39684056324066359).epsilon(1e-5));
  Rng rng(3);
  const auto s = d.sample(rng, 1000);
  for (std::size_t i = 0; i < s.size(); ++i) REQUIRE((s.data()[i] >= 0 && s.data()[i] <= 1));
}

TEMPLATE_TEST_CASE("bin_concrete: log_prob matches the mpmath reference, ordinary and extreme", "[distributions]",
                   double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kBinConcrete, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return BinConcrete<T>(T(c.p[0]), tape.constant(T(c.p[1]))).log_prob(tape.constant(T(c.x))).item();
  });
}
