#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "vaelib/distributions/logistic.hpp"

#include <cmath>
#include <limits>
#include <vector>
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Message;

// Reference values below were computed independently with python3's mpmath at 30 digits
// (the fourth central moment 7 pi^4 s^4 / 15 also checked there by quadrature).
namespace {
const xt::xarray<double> kLogisticLoc{0.3, -1.2};
const xt::xarray<double> kLogisticScale{0.7, 2.0};

}  // namespace

TEST_CASE("Logistic: log_prob is -z - log s - 2 softplus(-z), z = (x - loc) / s", "[distributions]") {
  Tape<double> tape;
  const Logistic<double> d(tape.constant(kLogisticLoc), tape.constant(kLogisticScale));
  CHECK(d.name() == "Logistic");
  CHECK(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{2});
  CHECK(d.value_shape() == Shape{});
  require_values(d.log_prob(tape.constant(xt::xarray<double>{1.0, -4.0})), {-1.2698484310977133, -2.5339820003968472});
  // At the location: -log(4 s).
  require_values(d.log_prob(tape.constant(kLogisticLoc)), {-std::log(2.8), -std::log(8.0)});
  // A leading axis, broadcast against the batch.
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{{1.0, -4.0}, {1.0, -4.0}, {1.0, -4.0}}));
  CHECK(lp.shape() == Shape{3, 2});
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(lp.data()[2 * i] == Approx(-1.2698484310977133).epsilon(1e-10));
    CHECK(lp.data()[2 * i + 1] == Approx(-2.5339820003968472).epsilon(1e-10));
  }
}

TEST_CASE("Logistic: log_prob is stable far in the tails", "[distributions]") {
  Tape<double> tape;
  const Logistic<double> d(tape.constant(0.0), tape.constant(1.0));
  // log p(x) = -|x| - 2 log(1 + exp(-|x|)) -> -|x| for large |x|: no overflow, no NaN.
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-800.0, 800.0, 40.0}));
  CHECK(lp.data()[0] == Approx(-800.0).epsilon(1e-15));
  CHECK(lp.data()[1] == Approx(-800.0).epsilon(1e-15));
  CHECK(lp.data()[2] == Approx(-40.0 - 2 * std::log1p(std::exp(-40.0))).epsilon(1e-15));
  // Symmetric about loc.
  const Logistic<double> e(tape.constant(kLogisticLoc), tape.constant(kLogisticScale));
  require_values(e.log_prob(tape.constant(xt::xarray<double>(kLogisticLoc + 0.9))),
                 values(e.log_prob(tape.constant(xt::xarray<double>(kLogisticLoc - 0.9)))), 1e-14);
}

TEST_CASE("Logistic: entropy, mean and parameters", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.constant(kLogisticLoc);
  const auto scale = tape.constant(kLogisticScale);
  const Logistic<double> d(loc, scale);
  require_values(d.entropy(), {1.6433250560612676, 2.6931471805599453});
  require_values(Logistic<double>(loc, scale, {.group_ndims = 1}).entropy(), {1.6433250560612676 + 2.6931471805599453});
  require_values(d.mean(), {0.3, -1.2});
  const Logistic<double> b(tape.constant(0.0), scale);  // scalar loc broadcast
  CHECK(b.mean().shape() == Shape{2});
  CHECK(d.parameter("loc").index() == loc.index());
  CHECK(d.parameter("scale").index() == scale.index());
  REQUIRE_THROWS_MATCHES(d.parameter("std"), ArgumentError, Message("Logistic: no parameter 'std'"));
}

TEST_CASE("Logistic: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  const Logistic<double> d(tape.variable(xt::xarray<double>{0.5}), tape.variable(xt::xarray<double>{1.3}));
  Rng rng(8080);
  const auto s = d.sample(rng, 20000);
  CHECK(s.shape() == Shape{20000, 1});
  CHECK(s.requires_grad());
  // variance s^2 pi^2 / 3, fourth central moment 7 pi^4 s^4 / 15
  require_sample_moments(values(s), 0.5, 5.5598771459470054, 129.83138228770004);
  // Symmetric about loc: the fraction above it is 1/2.
  double above = 0;
  for (double v : values(s)) above += v > 0.5;
  CHECK(std::abs(above / 20000 - 0.5) <= 4 * std::sqrt(0.25 / 20000));
}

TEST_CASE("Logistic: reparameterised samples and log_prob have finite-difference gradients", "[distributions]") {
  const auto loc = random_array({2, 3}, -1, 1, 81);
  const auto scale = random_array({2, 3}, 0.5, 2, 82);
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(11);  // a fresh generator each time: the same noise for every evaluation
        return Logistic<double>(v[0], v[1]).sample(rng, 4);
      },
      {loc, scale});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(12);
        return Logistic<double>(v[0], v[1]).sample(rng);
      },
      {random_array({3}, -1, 1, 83), random_array({2, 1}, 0.5, 2, 84)});
  xt::xarray<double> given = loc + xt::xarray<double>{{1.5, -2.0, 0.7}, {-0.8, 1.1, -1.4}};
  require_gradient([](Tape<double>&, const Vars& v) { return Logistic<double>(v[0], v[1]).log_prob(v[2]); },
                   {loc, scale, given});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Logistic<double>(v[0], v[1], {.group_ndims = 2}).log_prob(v[2]); },
      {loc, scale, given});
  require_gradient([](Tape<double>&, const Vars& v) { return Logistic<double>(v[0], v[1]).entropy(); }, {loc, scale});
  Tape<double> tape;
  CHECK_FALSE(Logistic<double>(tape.variable(loc), tape.variable(scale), {.use_path_derivative = true})
                  .log_prob(tape.constant(given))
                  .requires_grad());
}

TEST_CASE("Logistic: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.variable(random_array({2, 1}, -1, 1, 3));
  const auto scale = tape.variable(random_array({3}, 0.5, 2, 4));
  check_distribution_shapes([&](std::size_t g) { return Logistic<double>(loc, scale, {.group_ndims = g}); }, {2, 3}, {},
                            {.entropy = true});
}

TEST_CASE("Logistic: bad parameters give clear errors", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.constant(kLogisticLoc);
  REQUIRE_THROWS_MATCHES(Logistic<double>(loc, tape.constant(xt::xarray<double>{0.5, -1.0})), ArgumentError,
                         Message("Logistic: scale must be positive and finite, got -1.000000 at flat index 1 of shape [2]"));
  // an infinite scale is refused, not turned into NaN log-probabilities (and NaN with it)
  REQUIRE_THROWS_MATCHES(Logistic<double>(loc, tape.constant(std::numeric_limits<double>::infinity())), ArgumentError,
                         Message("Logistic: scale must be positive and finite, got inf at flat index 0 of shape []"));
  Tape<float> float_tape;
  REQUIRE_THROWS_MATCHES(Logistic<float>(float_tape.constant(0.0f), float_tape.constant(std::nanf(""))), ArgumentError,
                         Message("Logistic: scale must be positive and finite, got nan at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(Logistic<double>(loc, tape.constant(0.0)), ArgumentError,
                         Message("Logistic: scale must be positive and finite, got 0.000000 at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(Logistic<double>(loc, tape.constant(xt::xarray<double>{1.0, 1.0, 1.0})), ShapeError,
                         Message("Logistic parameters: cannot broadcast shapes [2] and [3] (axis -1: 2 vs 3; sizes "
                                 "must be equal or 1)"));
  const Logistic<double> d(loc, tape.constant(kLogisticScale));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{{0.0, 1.0, 2.0}})), ShapeError,
                         Message("Logistic.log_prob: given has shape [1, 3], which does not broadcast with batch_shape "
                                 "[2] + value_shape [] (expected [...] + value_shape, the rest broadcasting)"));
}

TEST_CASE("Logistic: float", "[distributions]") {
  Tape<float> tape;
  const Logistic<float> d(tape.constant(xt::xarray<float>{0.3f, -1.2f}), tape.constant(xt::xarray<float>{0.7f, 2.0f}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{1.0f, -4.0f}));
  CHECK(lp.data()[0] == Approx(-1.2698484310977133).epsilon(1e-6));
  CHECK(lp.data()[1] == Approx(-2.5339820003968472).epsilon(1e-6));
  Rng rng(3);
  const auto s = d.sample(rng, 1000);
  for (std::size_t i = 0; i < s.size(); ++i) REQUIRE(std::isfinite(s.data()[i]));
}

TEMPLATE_TEST_CASE("logistic: log_prob matches the mpmath reference, ordinary and extreme", "[distributions]", double,
                   float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kLogistic, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Logistic<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1]))).log_prob(tape.constant(T(c.x))).item();
  });
}
