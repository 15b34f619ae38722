#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "vaelib/distributions/laplace.hpp"

#include <cmath>
#include <limits>
#include <vector>
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Message;

// Reference values below were computed independently with python3's mpmath at 30 digits
// (the fourth central moment 24 b^4 also checked there by quadrature).
namespace {
const xt::xarray<double> kLoc{0.3, -1.2};
const xt::xarray<double> kScale{0.7, 2.0};

}  // namespace

TEST_CASE("Laplace: log_prob is -log(2 b) - |x - loc| / b", "[distributions]") {
  Tape<double> tape;
  const Laplace<double> d(tape.constant(kLoc), tape.constant(kScale));
  CHECK(d.name() == "Laplace");
  CHECK(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{2});
  CHECK(d.value_shape() == Shape{});
  require_values(d.log_prob(tape.constant(xt::xarray<double>{1.0, -4.0})), {-1.3364722366212129, -2.7862943611198906});
  // At the location: -log(2 b).
  require_values(d.log_prob(tape.constant(kLoc)), {-std::log(1.4), -std::log(4.0)});
  // A leading axis, broadcast against the batch.
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{{1.0, -4.0}, {1.0, -4.0}, {1.0, -4.0}}));
  CHECK(lp.shape() == Shape{3, 2});
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(lp.data()[2 * i] == Approx(-1.3364722366212129).epsilon(1e-10));
    CHECK(lp.data()[2 * i + 1] == Approx(-2.7862943611198906).epsilon(1e-10));
  }
}

TEST_CASE("Laplace: entropy, mean and parameters", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.constant(kLoc);
  const auto scale = tape.constant(kScale);
  const Laplace<double> d(loc, scale);
  require_values(d.entropy(), {1.3364722366212129, 2.3862943611198906});
  require_values(Laplace<double>(loc, scale, {.group_ndims = 1}).entropy(), {1.3364722366212129 + 2.3862943611198906});
  require_values(d.mean(), {0.3, -1.2});
  const Laplace<double> b(tape.constant(0.0), scale);  // scalar loc broadcast
  CHECK(b.mean().shape() == Shape{2});
  CHECK(d.parameter("loc").index() == loc.index());
  CHECK(d.parameter("scale").index() == scale.index());
  REQUIRE_THROWS_MATCHES(d.parameter("std"), ArgumentError, Message("Laplace: no parameter 'std'"));
}

TEST_CASE("Laplace: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  const Laplace<double> d(tape.variable(xt::xarray<double>{0.5}), tape.variable(xt::xarray<double>{1.3}));
  Rng rng(8080);
  const auto s = d.sample(rng, 20000);
  CHECK(s.shape() == Shape{20000, 1});
  CHECK(s.requires_grad());
  // variance 2 b^2 = 3.38, fourth central moment 24 b^4 = 68.5464
  require_sample_moments(values(s), 0.5, 3.38, 68.5464);
  // Symmetric about loc: the fraction above it is 1/2.
  double above = 0;
  for (double v : values(s)) above += v > 0.5;
  CHECK(std::abs(above / 20000 - 0.5) <= 4 * std::sqrt(0.25 / 20000));
}

TEST_CASE("Laplace: reparameterised samples and log_prob have finite-difference gradients", "[distributions]") {
  const auto loc = random_array({2, 3}, -1, 1, 81);
  const auto scale = random_array({2, 3}, 0.5, 2, 82);
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(11);  // a fresh generator each time: the same noise for every evaluation
        return Laplace<double>(v[0], v[1]).sample(rng, 4);
      },
      {loc, scale});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(12);
        return Laplace<double>(v[0], v[1]).sample(rng);
      },
      {random_array({3}, -1, 1, 83), random_array({2, 1}, 0.5, 2, 84)});
  // The value kept away from the kink at x = loc.
  xt::xarray<double> given = loc + xt::xarray<double>{{1.5, -2.0, 0.7}, {-0.8, 1.1, -1.4}};
  require_gradient([](Tape<double>&, const Vars& v) { return Laplace<double>(v[0], v[1]).log_prob(v[2]); },
                   {loc, scale, given});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Laplace<double>(v[0], v[1], {.group_ndims = 2}).log_prob(v[2]); },
      {loc, scale, given});
  require_gradient([](Tape<double>&, const Vars& v) { return Laplace<double>(v[0], v[1]).entropy(); }, {loc, scale});
  Tape<double> tape;
  CHECK_FALSE(Laplace<double>(tape.variable(loc), tape.variable(scale), {.use_path_derivative = true})
                  .log_prob(tape.constant(given))
                  .requires_grad());
}

TEST_CASE("Laplace: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.variable(random_array({2, 1}, -1, 1, 3));
  const auto scale = tape.variable(random_array({3}, 0.5, 2, 4));
  check_distribution_shapes([&](std::size_t g) { return Laplace<double>(loc, scale, {.group_ndims = g}); }, {2, 3}, {},
                            {.entropy = true});
}

TEST_CASE("Laplace: bad parameters give clear errors", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.constant(kLoc);
  REQUIRE_THROWS_MATCHES(Laplace<double>(loc, tape.constant(xt::xarray<double>{0.5, -1.0})), ArgumentError,
                         Message("Laplace: scale must be positive and finite, got -1.000000 at flat index 1 of shape [2]"));
  // an infinite scale is refused, not turned into NaN log-probabilities (and NaN with it)
  REQUIRE_THROWS_MATCHES(Laplace<double>(loc, tape.constant(std::numeric_limits<double>::infinity())), ArgumentError,
                         Message("Laplace: scale must be positive and finite, got inf at flat index 0 of shape []"));
  Tape<float> float_tape;
  REQUIRE_THROWS_MATCHES(Laplace<float>(float_tape.constant(0.0f), float_tape.constant(std::nanf(""))), ArgumentError,
                         Message("Laplace: scale must be positive and finite, got nan at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(Laplace<double>(loc, tape.constant(0.0)), ArgumentError,
                         Message("Laplace: scale must be positive and finite, got 0.000000 at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(Laplace<double>(loc, tape.constant(xt::xarray<double>{1.0, 1.0, 1.0})), ShapeError,
                         Message("Laplace parameters: cannot broadcast shapes [2] and [3] (axis -1: 2 vs 3; sizes "
                                 "must be equal or 1)"));
  const Laplace<double> d(loc, tape.constant(kScale));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{{0.0, 1.0, 2.0}})), ShapeError,
                         Message("Laplace.log_prob: given has shape [1, 3], which does not broadcast with batch_shape "
                                 "[2] + value_shape [] (expected [...] + value_shape, the rest broadcasting)"));
}

TEST_CASE("Laplace: float", "[distributions]") {
  Tape<float> tape;
  const Laplace<float> d(tape.constant(xt::xarray<float>{0.3f, -1.2f}), tape.constant(xt::xarray<float>{0.7f, 2.0f}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{1.0f, -4.0f}));
  CHECK(lp.data()[0] == Approx(-1.3364722366212129).epsilon(1e-6));
  CHECK(lp.data()[1] == Approx(-2.7862943611198906).epsilon(1e-6));
  Rng rng(3);
  const auto s = d.sample(rng, 1000);
  for (std::size_t i = 0; i < s.size(); ++i) REQUIRE(std::isfinite(s.data()[i]));
}

TEMPLATE_TEST_CASE("laplace: log_prob matches the mpmath reference, ordinary and extreme", "[distributions]", double,
                   float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kLaplace, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Laplace<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1]))).log_prob(tape.constant(T(c.x))).item();
  });
}
