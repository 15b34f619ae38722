#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "vaelib/distributions/bin_concrete.hpp"
#include "vaelib/distributions/concrete.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Message;

// Reference values below were computed independently in python3 (mpmath, 30 digits) from the
// product form of Maddison et al.'s definition,
//   p(x) = (k-1)! tau^(k-1) prod_i [ alpha_i x_i^(-tau-1) / sum_j alpha_j x_j^(-tau) ],
// which integrates to 1 over the simplex (checked there with a 2-d quadrature: 0.99999999999975).
// The moments come from a trapezoid rule in logit space (x = softmax(y1, y2, 0)) at steps 0.2
// and 0.1 (agreeing to 1e-13), and agree with a 400000-draw Gumbel-softmax simulation.
namespace {
const xt::xarray<double> kConcreteLogits{{0.3, -0.5, 1.2}, {-0.2, 0.4, 0.1}};
const xt::xarray<double> kConcreteGiven{{0.2, 0.5, 0.3}, {0.6, 0.1, 0.3}};
constexpr double kConcreteTau = 0.7;

}  // namespace

TEST_CASE("Concrete: log_prob matches the Concrete density", "[distributions]") {
  Tape<double> tape;
  const Concrete<double> d(kConcreteTau, tape.constant(kConcreteLogits));
  CHECK(d.name() == "Concrete");
  CHECK(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{2});
  CHECK(d.value_shape() == Shape{3});
  CHECK(d.temperature() == kConcreteTau);
  const auto lp = d.log_prob(tape.constant(kConcreteGiven));
  CHECK(lp.shape() == Shape{2});
  require_values(lp, {-0.72185825521475707, -0.14230489613429704});

  // The logits are log alpha up to a constant: shifting a row leaves the density unchanged.
  const Concrete<double> shifted(kConcreteTau, tape.constant(xt::xarray<double>(kConcreteLogits + 5.0)));
  require_values(shifted.log_prob(tape.constant(kConcreteGiven)), {-0.72185825521475707, -0.14230489613429704});

  // Four classes at another temperature.
  const Concrete<double> d4(2.5, tape.constant(xt::xarray<double>{1.0, -1.0, 0.5, 0.0}));
  require_values(d4.log_prob(tape.constant(xt::xarray<double>{0.1, 0.2, 0.3, 0.4})), {-1.1590026708619502});
}

TEST_CASE("Concrete: with two classes, the density of x_1 is the binary Concrete one", "[distributions]") {
  Tape<double> tape;
  const xt::xarray<double> l{{0.8, -0.4}, {-1.0, 0.5}, {2.0, 0.0}};
  const xt::xarray<double> x1{0.1, 0.35, 0.9};
  xt::xarray<double> given = xt::zeros<double>({3, 2});
  for (std::size_t i = 0; i < 3; ++i) given(i, 0) = x1(i), given(i, 1) = 1 - x1(i);
  for (double tau : {0.4, 1.0, 2.0}) {
    INFO("temperature " << tau);
    const Concrete<double> c(tau, tape.constant(l));
    const BinConcrete<double> b(tau, tape.constant(xt::xarray<double>(xt::view(l, xt::all(), 0) - xt::view(l, xt::all(), 1))));
    require_values(c.log_prob(tape.constant(given)), values(b.log_prob(tape.constant(x1))), 1e-11);
  }
}

TEST_CASE("Concrete: the density integrates to 1 over the simplex", "[distributions]") {
  // Trapezoid rule in logit space: x = softmax(y1, y2, 0), dx_1 dx_2 = x_1 x_2 x_3 dy_1 dy_2;
  // the integrand is smooth and decays exponentially, so a step of 0.2 is ample.
  const double h = 0.2, half_width = 60;
  const std::size_t m = static_cast<std::size_t>(2 * half_width / h) + 1;
  for (double tau : {0.5, 0.7, 2.0}) {
    INFO("temperature " << tau);
    xt::xarray<double> x = xt::zeros<double>({m * m, std::size_t{3}});
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < m; ++j) {
        const double y1 = -half_width + h * static_cast<double>(i), y2 = -half_width + h * static_cast<double>(j);
        const double top = std::max({y1, y2, 0.0});
        const double e1 = std::exp(y1 - top), e2 = std::exp(y2 - top), e3 = std::exp(-top);
        const double s = e1 + e2 + e3;
        x(i * m + j, 0) = e1 / s, x(i * m + j, 1) = e2 / s, x(i * m + j, 2) = e3 / s;
      }
    Tape<double> tape;
    const Concrete<double> d(tau, tape.constant(xt::xarray<double>{0.3, -0.5, 1.2}));
    const auto lp = d.log_prob(tape.constant(x));
    double integral = 0;
    for (std::size_t p = 0; p < m * m; ++p) {
      const double jacobian = x(p, 0) * x(p, 1) * x(p, 2);
      if (jacobian > 0) integral += std::exp(lp.data()[p]) * jacobian;
    }
    CHECK(integral * h * h == Approx(1.0).epsilon(1e-9));
  }
}

TEST_CASE("Concrete: sample moments and the argmax of samples", "[distributions]") {
  Tape<double> tape;
  const xt::xarray<double> l{0.3, -0.5, 1.2};
  const Concrete<double> d(kConcreteTau, tape.variable(l));
  Rng rng(777);
  const std::size_t n = 20000;
  const auto s = d.sample(rng, n);
  CHECK(s.shape() == Shape{n, 3});
  CHECK(s.requires_grad());  // reparameterised
  const auto sv = s.value();
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE(sv(i, 0) + sv(i, 1) + sv(i, 2) == Approx(1.0).epsilon(1e-14));
    for (std::size_t j = 0; j < 3; ++j) REQUIRE((sv(i, j) > 0 && sv(i, j) < 1));
  }
  const double mean[3] = {0.28161495434517392, 0.1455759049822288, 0.57280914067266775};
  const double var[3] = {0.088860197634432106, 0.051960958912335986, 0.10820516168404609};
  const double mu4[3] = {0.021791535579006253, 0.018317750837474112, 0.019703039998140326};
  for (std::size_t j = 0; j < 3; ++j) {
    INFO("coordinate " << j);
    std::vector<double> column;
    for (std::size_t i = 0; i < n; ++i) column.push_back(sv(i, j));
    require_sample_moments(column, mean[j], var[j], mu4[j]);
  }
  // Gumbel-max: the argmax of a Concrete sample is Categorical(softmax(l)) at any temperature.
  const xt::xarray<double> p = xt::exp(l) / xt::sum(xt::exp(l))();
  std::vector<double> counts(3, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double* row = s.data() + 3 * i;
    counts[static_cast<std::size_t>(std::max_element(row, row + 3) - row)] += 1;
  }
  for (std::size_t j = 0; j < 3; ++j) {
    INFO("class " << j);
    CHECK(std::abs(counts[j] / static_cast<double>(n) - p(j)) <= 4 * std::sqrt(p(j) * (1 - p(j)) / static_cast<double>(n)));
  }
}

TEST_CASE("Concrete: reparameterised samples have finite-difference gradients", "[distributions]") {
  const auto logits = random_array({2, 3}, -1.5, 1.5, 31);
  for (double tau : {0.5, 1.3}) {
    INFO("temperature " << tau);
    require_gradient(
        [tau](Tape<double>&, const Vars& v) {
          Rng rng(2024);  // a fresh generator each time: the same noise for every evaluation
          return Concrete<double>(tau, v[0]).sample(rng, 3);
        },
        {logits});
    require_gradient(
        [tau](Tape<double>&, const Vars& v) {
          Rng rng(2024);
          return Concrete<double>(tau, v[0]).sample(rng);
        },
        {logits});
    // log_prob of its own sample: gradients through the sample and the parameters together.
    require_gradient(
        [tau](Tape<double>&, const Vars& v) {
          Rng rng(2025);
          const Concrete<double> d(tau, v[0]);
          return d.log_prob(d.sample(rng, 2));
        },
        {logits});
  }
}

TEST_CASE("Concrete: log_prob gradients in the logits and in the value", "[distributions]") {
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Concrete<double>(kConcreteTau, v[0]).log_prob(v[1]); },
      {random_array({2, 3}, -1.5, 1.5, 41), kConcreteGiven});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Concrete<double>(1.7, v[0], {.group_ndims = 1}).log_prob(v[1]); },
      {random_array({2, 3}, -1.5, 1.5, 42), kConcreteGiven});
  // Path derivative: the parameters are detached, the value is not.
  Tape<double> tape;
  const auto l = tape.variable(kConcreteLogits);
  const Concrete<double> d(kConcreteTau, l, {.use_path_derivative = true});
  CHECK_FALSE(d.log_prob(tape.constant(kConcreteGiven)).requires_grad());
  CHECK(d.log_prob(tape.variable(kConcreteGiven)).requires_grad());
}

TEST_CASE("Concrete: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.variable(random_array({2, 3, 4}, -1, 1, 3));
  check_distribution_shapes([&](std::size_t g) { return Concrete<double>(1.0, logits, {.group_ndims = g}); }, {2, 3},
                            {4});
}

TEST_CASE("Concrete: parameters", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(kConcreteLogits);
  const Concrete<double> d(kConcreteTau, logits);
  CHECK(d.parameter("logits").index() == logits.index());
  CHECK(d.parameter("temperature").item() == kConcreteTau);
  const auto probs = d.parameter("probs");
  CHECK(probs.shape() == Shape{2, 3});
  xt::xarray<double> expected = xt::exp(kConcreteLogits);
  for (std::size_t b = 0; b < 2; ++b) {
    const double total = expected(b, 0) + expected(b, 1) + expected(b, 2);
    for (std::size_t j = 0; j < 3; ++j) expected(b, j) /= total;
  }
  require_close(probs.value(), expected, 1e-14);
  REQUIRE_THROWS_MATCHES(d.parameter("scale"), ArgumentError, Message("Concrete: no parameter 'scale'"));
  REQUIRE_THROWS_MATCHES(d.entropy(), ArgumentError, Message("Concrete: no closed-form entropy"));
}

TEST_CASE("Concrete: bad parameters give clear errors", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(kConcreteLogits);
  REQUIRE_THROWS_MATCHES(Concrete<double>(0.0, logits), ArgumentError,
                         Message("Concrete: temperature must be positive and finite, got 0.000000"));
  REQUIRE_THROWS_MATCHES(Concrete<double>(-1.0, logits), ArgumentError,
                         Message("Concrete: temperature must be positive and finite, got -1.000000"));
  REQUIRE_THROWS_MATCHES(Concrete<double>(std::numeric_limits<double>::infinity(), logits), ArgumentError,
                         Message("Concrete: temperature must be positive and finite, got inf"));
  REQUIRE_THROWS_MATCHES(
      Concrete<double>(kConcreteTau, tape.constant(2.0)), ShapeError,
      Message("Concrete: logits must have shape [..., k] with k >= 1 categories on the last axis, got shape []"));
  xt::xarray<double> bad = kConcreteLogits;
  bad(1, 0) = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_MATCHES(Concrete<double>(kConcreteTau, tape.constant(bad)), ArgumentError,
                         Message("Concrete: logits must be finite, got inf at flat index 3 of shape [2, 3]"));
  const Concrete<double> d(kConcreteTau, logits);
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{0.5, 0.5})), ShapeError,
                         Message("Concrete.log_prob: given has shape [2], which does not broadcast with batch_shape "
                                 "[2] + value_shape [3] (expected [...] + value_shape, the rest broadcasting)"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>(xt::ones<double>({3, 3}) / 3))), ShapeError,
                         Message("Concrete.log_prob: given has shape [3, 3], which does not broadcast with batch_shape "
                                 "[2] + value_shape [3] (expected [...] + value_shape, the rest broadcasting)"));
}

TEST_CASE("Concrete: float", "[distributions]") {
  Tape<float> tape;
  const Concrete<float> d(0.7f, tape.constant(xt::xarray<float>{{0.3f, -0.5f, 1.2f}, {-0.2f, 0.4f, 0.1f}}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{{0.2f, 0.5f, 0.3f}, {0.6f, 0.1f, 0.3f}}));
  CHECK(lp.data()[0] == Approx(-0.72185825521475707).epsilon(1e-5));
  CHECK(lp.data()[1] == Approx(-0.14230489613429704).epsilon(1e-5));
  Rng rng(3);
  const auto s = d.sample(rng, 1000);
  CHECK(s.shape() == Shape{1000, 2, 3});
  for (std::size_t i = 0; i < s.size(); ++i) REQUIRE(std::isfinite(s.data()[i]));
}

TEMPLATE_TEST_CASE("concrete: log_prob matches the mpmath reference, ordinary and extreme", "[distributions]", double,
                   float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kConcrete, [](Tape<T>& tape, const dist_reference::VectorCase& c) {
    const auto logits = tape.constant(xt::xarray<T>{T(c.p[1]), T(c.p[2]), T(c.p[3])});
    const auto x = tape.constant(xt::xarray<T>{T(c.x[0]), T(c.x[1]), T(c.x[2])});
    return Concrete<T>(T(c.p[0]), logits).log_prob(x).item();
  });
}
