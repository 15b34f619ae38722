#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "vaelib/distributions/uniform.hpp"

#include <cmath>
#include <limits>
#include <vector>
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Message;

// Reference values below were computed independently with python3's mpmath at 30 digits.
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
const xt::xarray<double> kLow{-1.0, 2.0};
const xt::xarray<double> kHigh{0.5, 5.5};

}  // namespace

TEST_CASE("Uniform: log_prob is -log(high - low) inside [low, high) and -inf outside", "[distributions]") {
  Tape<double> tape;
  const Uniform<double> d(tape.constant(kLow), tape.constant(kHigh));
  CHECK(d.name() == "Uniform");
  CHECK(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{2});
  CHECK(d.value_shape() == Shape{});
  const double inside0 = -0.40546510810816438, inside1 = -1.252762968495368;
  require_values(d.log_prob(tape.constant(xt::xarray<double>{0.0, 3.0})), {inside0, inside1});
  // low is inside, high is not; below low and above high are outside.
  require_values(d.log_prob(tape.constant(xt::xarray<double>{-1.0, 5.4999})), {inside0, inside1});
  require_values(d.log_prob(tape.constant(xt::xarray<double>{0.5, 5.5})), {-kInf, -kInf});
  require_values(d.log_prob(tape.constant(xt::xarray<double>{-1.0001, 1.999})), {-kInf, -kInf});
  require_values(d.prob(tape.constant(xt::xarray<double>{0.0, 6.0})), {1 / 1.5, 0.0});
  // A leading axis and a scalar given, broadcast against the batch.
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{{0.0, 3.0}, {1.0, 2.5}}));
  CHECK(lp.shape() == Shape{2, 2});
  require_values(lp, {inside0, inside1, -kInf, inside1});
  require_values(d.log_prob(tape.constant(0.25)), {inside0, -kInf});
}

TEST_CASE("Uniform: entropy, mean and parameters", "[distributions]") {
  Tape<double> tape;
  const auto low = tape.constant(kLow);
  const auto high = tape.constant(kHigh);
  const Uniform<double> d(low, high);
  require_values(d.entropy(), {0.40546510810816438, 1.252762968495368});
  require_values(Uniform<double>(low, high, {.group_ndims = 1}).entropy(), {0.40546510810816438 + 1.252762968495368});
  require_values(d.mean(), {-0.25, 3.75});
  // Scalar low broadcast against a batch of highs.
  const Uniform<double> b(tape.constant(0.0), tape.constant(xt::xarray<double>{1.0, 2.0, 4.0}));
  CHECK(b.batch_shape() == Shape{3});
  require_values(b.entropy(), {0.0, std::log(2.0), std::log(4.0)});
  require_values(b.mean(), {0.5, 1.0, 2.0});
  CHECK(d.parameter("low").index() == low.index());
  CHECK(d.parameter("high").index() == high.index());
  REQUIRE_THROWS_MATCHES(d.parameter("scale"), ArgumentError, Message("Uniform: no parameter 'scale'"));
}

TEST_CASE("Uniform: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  const Uniform<double> d(tape.variable(xt::xarray<double>{-1.0}), tape.variable(xt::xarray<double>{3.0}));
  Rng rng(31337);
  const auto s = d.sample(rng, 20000);
  CHECK(s.shape() == Shape{20000, 1});
  CHECK(s.requires_grad());
  for (double v : values(s)) REQUIRE((v >= -1.0 && v < 3.0));
  // width w = 4: variance w^2 / 12, fourth central moment w^4 / 80
  require_sample_moments(values(s), 1.0, 16.0 / 12.0, 256.0 / 80.0);
}

TEST_CASE("Uniform: reparameterised samples and log_prob have finite-difference gradients", "[distributions]") {
  const auto low = random_array({2, 3}, -2, -1, 71);
  const auto high = random_array({2, 3}, 1, 2, 72);
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(5);  // a fresh generator each time: the same noise for every evaluation
        return Uniform<double>(v[0], v[1]).sample(rng, 4);
      },
      {low, high});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(6);
        return Uniform<double>(v[0], v[1]).sample(rng);
      },
      {random_array({3}, -2, -1, 73), random_array({1}, 1, 2, 74)});
  const auto given = random_array({2, 3}, -0.5, 0.5, 75);
  require_gradient(
      [given](Tape<double>& tape, const Vars& v) { return Uniform<double>(v[0], v[1]).log_prob(tape.constant(given)); },
      {low, high});
  require_gradient(
      [given](Tape<double>& tape, const Vars& v) {
        return Uniform<double>(v[0], v[1], {.group_ndims = 2}).log_prob(tape.constant(given));
      },
      {low, high});

  // Outside the support the gradient is zero, not NaN.
  Tape<double> tape;
  const auto lo = tape.variable(kLow);
  const auto hi = tape.variable(kHigh);
  tape.backward(sum(Uniform<double>(lo, hi).log_prob(tape.constant(xt::xarray<double>{0.0, 10.0}))));
  require_close(lo.grad(), xt::xarray<double>{1 / 1.5, 0.0});
  require_close(hi.grad(), xt::xarray<double>{-1 / 1.5, 0.0});
  CHECK_FALSE(Uniform<double>(lo, hi, {.use_path_derivative = true})
                  .log_prob(tape.constant(xt::xarray<double>{0.0, 3.0}))
                  .requires_grad());
}

TEST_CASE("Uniform: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto low = tape.variable(random_array({2, 1}, -2, -1, 3));
  const auto high = tape.variable(random_array({3}, 1, 2, 4));
  check_distribution_shapes([&](std::size_t g) { return Uniform<double>(low, high, {.group_ndims = g}); }, {2, 3}, {},
                            {.entropy = true, .mean = true});
}

TEST_CASE("Uniform: bad parameters give clear errors", "[distributions]") {
  Tape<double> tape;
  REQUIRE_THROWS_MATCHES(
      Uniform<double>(tape.constant(xt::xarray<double>{0.0, 1.0}), tape.constant(xt::xarray<double>{2.0, 1.0})),
      ArgumentError,
      Message("Uniform: low must be less than high, got low = 1.000000 and high = 1.000000 at flat index 1 of "
              "batch_shape [2]"));
  // Checked after broadcasting: low [2, 1] against high [2] gives batch [2, 2].
  xt::xarray<double> column = xt::zeros<double>({2, 1});
  column(1, 0) = 3.0;
  REQUIRE_THROWS_MATCHES(
      Uniform<double>(tape.constant(column), tape.constant(xt::xarray<double>{5.0, 2.5})),
      ArgumentError,
      Message("Uniform: low must be less than high, got low = 3.000000 and high = 2.500000 at flat index 3 of "
              "batch_shape [2, 2]"));
  REQUIRE_THROWS_MATCHES(Uniform<double>(tape.constant(xt::xarray<double>{-kInf}), tape.constant(0.0)), ArgumentError,
                         Message("Uniform: low must be finite, got -inf at flat index 0 of shape [1]"));
  REQUIRE_THROWS_MATCHES(Uniform<double>(tape.constant(0.0), tape.constant(std::nan(""))), ArgumentError,
                         Message("Uniform: high must be finite, got nan at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(
      Uniform<double>(tape.constant(xt::xarray<double>{0.0, 1.0}), tape.constant(xt::xarray<double>{2.0, 3.0, 4.0})),
      ShapeError, Message("Uniform parameters: cannot broadcast shapes [2] and [3] (axis -1: 2 vs 3; sizes must be "
                          "equal or 1)"));
  const Uniform<double> d(tape.constant(kLow), tape.constant(kHigh));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{0.0, 1.0, 2.0})), ShapeError,
                         Message("Uniform.log_prob: given has shape [3], which does not broadcast with batch_shape "
                                 "[2] + value_shape [] (expected [...] + value_shape, the rest broadcasting)"));
}

TEST_CASE("Uniform: float", "[distributions]") {
  Tape<float> tape;
  const Uniform<float> d(tape.constant(xt::xarray<float>{-1.0f, 2.0f}), tape.constant(xt::xarray<float>{0.5f, 5.5f}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{0.0f, 6.0f}));
  CHECK(lp.data()[0] == Approx(-0.40546510810816438).epsilon(1e-6));
  CHECK(lp.data()[1] == -std::numeric_limits<float>::infinity());
  Rng rng(3);
  const auto s = d.sample(rng, 1000);
  for (std::size_t i = 0; i < 1000; ++i) {
    REQUIRE((s.data()[2 * i] >= -1.0f && s.data()[2 * i] < 0.5f));
    REQUIRE((s.data()[2 * i + 1] >= 2.0f && s.data()[2 * i + 1] < 5.5f));
  }
}

TEST_CASE("Uniform: a NaN value gives NaN (never a silent -inf); values outside [low, high) -inf", "[distributions]") {
  Tape<double> tape;
  const Uniform<double> d(tape.constant(0.0), tape.constant(1.0));
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{0.5, std::nan(""), kInf, -kInf, 1.0}));
  CHECK(lp.value()(0) == 0.0);
  CHECK(std::isnan(lp.value()(1)));
  CHECK(lp.value()(2) == -kInf);
  CHECK(lp.value()(3) == -kInf);
  CHECK(lp.value()(4) == -kInf);
}

TEMPLATE_TEST_CASE("Uniform: an interval wider than T's range: finite log_prob, entropy and gradients", "[distributions]",
                   double, float) {
  // high - low overflows T: the width is taken as twice the difference of the halves
  using T = TestType;
  Tape<T> tape;
  const T big = std::numeric_limits<T>::max() * T(0.75);
  const auto low = tape.variable(xt::xarray<T>{-big});
  const auto high = tape.variable(xt::xarray<T>{big});
  const Uniform<T> d(low, high);
  const double log_width = std::log(2.0) + std::log(static_cast<double>(big)) + std::log(2.0) - std::log(2.0);
  const auto lp = d.log_prob(tape.constant(xt::xarray<T>{T(0)}));
  CHECK(lp.value()(0) == Approx(-(std::log(2.0) + std::log(static_cast<double>(big)))).epsilon(1e-6));
  CHECK(d.entropy().value()(0) == Approx(log_width).epsilon(1e-6));
  tape.backward(sum(lp));
  CHECK(low.grad()(0) == Approx(0.5 / static_cast<double>(big)).epsilon(1e-6));
  CHECK(high.grad()(0) == Approx(-0.5 / static_cast<double>(big)).epsilon(1e-6));
}

TEMPLATE_TEST_CASE("uniform: log_prob matches the mpmath reference, including intervals wider than float's range",
                   "[distributions]", double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kUniform, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Uniform<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1]))).log_prob(tape.constant(T(c.x))).item();
  });
}
