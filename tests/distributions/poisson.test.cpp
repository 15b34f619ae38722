#include "vaelib/distributions/poisson.hpp"

#include <cmath>

#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Contains;

namespace {
/// log P(k | rate) in double, for the pmf frequency check.
double poisson_log_pmf(double k, double rate) { return k * std::log(rate) - rate - std::lgamma(k + 1); }
}  // namespace

TEST_CASE("poisson: log_prob matches reference values (rate and log-rate forms)", "[distributions]") {
  Tape<double> tape;
  // computed independently with mpmath: k log(rate) - rate - lgamma(k + 1)
  const auto rate = tape.constant(xt::xarray<double>{0.5, 3.0, 25.0, 150.0, 1e6, 0.001});
  const auto k = tape.constant(xt::xarray<double>{0.0, 2.0, 30.0, 140.0, 1000500.0, 0.0});
  const xt::xarray<double> expected = {
      -0.5, -1.4959226032237258, -3.091961602784142, -3.7313529734190647, -7.951923004872761, -0.001};
  const auto by_rate = Poisson<double>::with_rate(rate);
  const auto by_log_rate = Poisson<double>::with_log_rate(log(rate));
  CHECK(xt::allclose(by_rate.log_prob(k).value(), expected, 1e-6, 0));
  CHECK(xt::allclose(by_log_rate.log_prob(k).value(), expected, 1e-6, 0));
  // log-rate form on its own: log-rates -1.2, 0.4, 2.5 at k = 0, 3, 7
  const auto d = Poisson<double>::with_log_rate(tape.constant(xt::xarray<double>{-1.2, 0.4, 2.5}));
  CHECK(xt::allclose(d.log_prob(tape.constant(xt::xarray<double>{0.0, 3.0, 7.0})).value(),
                     xt::xarray<double>{-0.3011942119122021, -2.083584166869325, -3.207655321768888}, 1e-6, 0));
  // prob = exp(log_prob)
  CHECK(by_rate.prob(k).value()(1) == Approx(std::exp(-1.4959226032237258)).epsilon(1e-12));
  CHECK_FALSE(by_rate.is_reparameterized());
  CHECK(std::string(by_rate.name()) == "Poisson");
}

TEST_CASE("poisson: sample mean, variance and frequencies for small and large rates", "[distributions]") {
  Tape<double> tape;
  Rng rng(2024);
  // 0.7 and 4 use Knuth's method; 10 (the threshold), 12.5, 80 and 1500 use PTRS.
  const xt::xarray<double> rates = {0.7, 4.0, 10.0, 12.5, 80.0, 1500.0};
  const std::size_t n = 20000;
  const auto s = Poisson<double>::with_rate(tape.constant(rates)).sample(rng, n).value();
  REQUIRE(s.shape() == std::vector<std::size_t>{n, rates.size()});
  for (std::size_t j = 0; j < rates.size(); ++j) {
    const double rate = rates(j);
    INFO("rate " << rate);
    const auto column = xt::view(s, xt::all(), j);
    std::size_t not_counts = 0;
    for (double v : column) not_counts += !(v >= 0 && v == std::floor(v));
    CHECK(not_counts == 0);
    const double mean = xt::mean(column)();
    const double var = xt::variance(column)();
    // Var = rate; the fourth central moment is rate (1 + 3 rate), so Var(sample variance)
    // ~ (mu4 - rate^2) / n = (rate + 2 rate^2) / n
    CHECK(std::abs(mean - rate) < 4 * std::sqrt(rate / double(n)));
    CHECK(std::abs(var - rate) < 4 * std::sqrt((rate + 2 * rate * rate) / double(n)));
    // Frequencies of the values around the mode against the pmf, within 4 standard errors.
    const double mode = std::floor(rate);
    for (double k : {mode - 2, mode - 1, mode, mode + 1, mode + 2}) {
      if (k < 0) continue;
      const double p = std::exp(poisson_log_pmf(k, rate));
      const double freq = static_cast<double>(xt::sum(xt::equal(column, k))()) / double(n);
      INFO("k = " << k << ", pmf " << p << ", frequency " << freq);
      CHECK(std::abs(freq - p) < 4 * std::sqrt(p * (1 - p) / double(n)) + 1e-12);
    }
  }
}

TEST_CASE("poisson: the same seed gives the same draws, by rate or by log-rate", "[distributions]") {
  Tape<double> tape;
  const auto rate = tape.constant(xt::xarray<double>{0.3, 7.0, 42.0});
  Rng a(9), b(9);
  const bool same_seed_same_draws = xt::xarray<double>(Poisson<double>::with_rate(rate).sample(a, 50).value()) ==
                                    xt::xarray<double>(Poisson<double>::with_rate(rate).sample(b, 50).value());
  CHECK(same_seed_same_draws);
  // exp(0) = 1 exactly: the two parameterisations draw the same values.
  Rng c(10), e(10);
  const bool same_draws = xt::xarray<double>(Poisson<double>::with_rate(tape.constant(1.0)).sample(c, 50).value()) ==
                          xt::xarray<double>(Poisson<double>::with_log_rate(tape.constant(0.0)).sample(e, 50).value());
  CHECK(same_draws);
}

TEST_CASE("poisson: log_prob gradients by finite differences", "[distributions]") {
  const xt::xarray<double> k = {{0.0, 1.0, 5.0}, {2.0, 14.0, 3.0}};
  require_gradient(
      [k](Tape<double>& tape, const Vars& v) { return Poisson<double>::with_rate(v[0]).log_prob(tape.constant(k)); },
      {random_array({2, 3}, 0.3, 12.0, 1)});
  require_gradient(
      [k](Tape<double>& tape, const Vars& v) {
        return Poisson<double>::with_log_rate(v[0], {.group_ndims = 1}).log_prob(tape.constant(k));
      },
      {random_array({2, 3}, -1.0, 2.5, 2)});
  // A rate broadcast against extra leading axes of the given (n_samples).
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        return Poisson<double>::with_rate(v[0]).log_prob(tape.constant(xt::xarray<double>{{0.0, 4.0}, {3.0, 1.0}}));
      },
      {random_array({2}, 0.5, 5.0, 3)});
  // d/d rate of log P = k / rate - 1
  Tape<double> tape;
  const auto rate = tape.variable(xt::xarray<double>{2.0, 0.5});
  tape.backward(sum(Poisson<double>::with_rate(rate).log_prob(tape.constant(xt::xarray<double>{3.0, 0.0}))));
  require_close(rate.grad(), xt::xarray<double>{0.5, -1.0});
}

TEST_CASE("poisson: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto rate = tape.constant(random_array({2, 3}, 0.5, 20.0, 4));
  check_distribution_shapes([&](std::size_t g) { return Poisson<double>::with_rate(rate, {.group_ndims = g}); },
                            {2, 3}, {},
                            {.finite_log_prob = true,
                             .n_samples = 6,
                             .broadcast_given = xt::xarray<double>{1.0, 2.0, 3.0},
                             .seed = 3});
  // group_ndims 2 sums everything of one draw.
  const auto x = tape.constant(xt::xarray<double>{{1.0, 0.0, 4.0}, {2.0, 7.0, 3.0}});
  CHECK(Poisson<double>::with_rate(rate, {.group_ndims = 2}).log_prob(x).item() ==
        Approx(xt::sum(Poisson<double>::with_rate(rate).log_prob(x).value())()).epsilon(1e-12));
}

TEST_CASE("poisson: mean, parameters and the path derivative", "[distributions]") {
  Tape<double> tape;
  const auto rate = tape.variable(xt::xarray<double>{0.5, 4.0});
  const auto d = Poisson<double>::with_rate(rate);
  require_close(d.mean().value(), xt::xarray<double>{0.5, 4.0});
  require_close(d.parameter("log_rate").value(), xt::xarray<double>{std::log(0.5), std::log(4.0)});
  require_close(Poisson<double>::with_log_rate(tape.constant(0.0)).parameter("rate").value(), xt::xarray<double>(1.0));
  REQUIRE_THROWS_WITH(d.parameter("lambda"), "Poisson: no parameter 'lambda'");
  // holds_log_rate(): which parameter it was built from; that one is handed back as itself
  CHECK_FALSE(d.holds_log_rate());
  CHECK(d.rate().index() == rate.index());
  const auto log_rate = tape.variable(xt::xarray<double>{-1.0, 2.0});
  const auto by_log = Poisson<double>::with_log_rate(log_rate);
  CHECK(by_log.holds_log_rate());
  CHECK(by_log.log_rate().index() == log_rate.index());
  CHECK_FALSE(Poisson<double>(rate).holds_log_rate());
  CHECK(Poisson<double>(log_rate, Poisson<double>::Scale::log_rate).holds_log_rate());
  // Poisson(rate) is the rate form.
  const auto x2 = tape.constant(xt::xarray<double>{2.0, 5.0});
  require_close(Poisson<double>(rate).log_prob(x2).value(), d.log_prob(x2).value());
  CHECK(Poisson<double>(rate, {.group_ndims = 1}).log_prob(x2).shape() == Shape{});
  REQUIRE_THROWS_WITH(d.entropy(), "Poisson: no closed-form entropy");
  // With use_path_derivative the parameters are detached: no gradient reaches them.
  const auto x = tape.constant(xt::xarray<double>{1.0, 3.0});
  CHECK(d.log_prob(x).requires_grad());
  CHECK_FALSE(Poisson<double>::with_rate(rate, {.use_path_derivative = true}).log_prob(x).requires_grad());
}

TEST_CASE("poisson: float smoke test", "[distributions]") {
  Tape<float> tape;
  Rng rng(5);
  const auto d = Poisson<float>::with_rate(tape.constant(xt::xarray<float>{3.0f, 25.0f}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{2.0f, 30.0f}));
  CHECK(lp.value()(0) == Approx(-1.4959226032237258).epsilon(1e-5));
  CHECK(lp.value()(1) == Approx(-3.091961602784142).epsilon(1e-5));
  const auto s = d.sample(rng, 4000).value();
  CHECK(std::abs(xt::mean(xt::view(s, xt::all(), 1))() - 25.0f) < 4 * std::sqrt(25.0 / 4000));
}

TEST_CASE("poisson: bad parameters and values are refused with clear messages", "[distributions]") {
  Tape<double> tape;
  REQUIRE_THROWS_AS(Poisson<double>::with_rate(tape.constant(xt::xarray<double>{1.0, 0.0})), ArgumentError);
  REQUIRE_THROWS_WITH(Poisson<double>::with_rate(tape.constant(xt::xarray<double>{1.0, 0.0})),
                      "Poisson: rate must be positive and finite, got 0.000000 at flat index 1 of shape [2]");
  REQUIRE_THROWS_WITH(Poisson<double>::with_rate(tape.constant(xt::xarray<double>{-2.5})),
                      "Poisson: rate must be positive and finite, got -2.500000 at flat index 0 of shape [1]");
  REQUIRE_THROWS_WITH(Poisson<double>::with_rate(tape.constant(std::numeric_limits<double>::infinity())),
                      "Poisson: rate must be positive and finite, got inf at flat index 0 of shape []");
  REQUIRE_THROWS_WITH(Poisson<double>::with_log_rate(tape.constant(std::nan(""))),
                      "Poisson: log_rate must be finite, got nan at flat index 0 of shape []");

  const auto d = Poisson<double>::with_rate(tape.constant(xt::xarray<double>{1.0, 2.0, 3.0}));
  REQUIRE_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>{1.0, 2.0})), ShapeError);
  REQUIRE_THROWS_WITH(
      d.log_prob(tape.constant(xt::xarray<double>{1.0, 2.0})),
      "Poisson.log_prob: given has shape [2], which does not broadcast with batch_shape [3] + value_shape "
      "[] (expected [...] + value_shape, the rest broadcasting)");
}

TEST_CASE("poisson: values that are not nonnegative integers give -inf with no gradient, NaN gives NaN",
          "[distributions]") {
  Tape<double> tape;
  const auto rate = tape.variable(xt::xarray<double>{1.0, 2.0, 3.0, 4.0, 5.0});
  const auto d = Poisson<double>::with_rate(rate);
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{1.5, -1.0, inf, 2.0, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);
  CHECK(lp.value()(3) == Approx(2 * std::log(4.0) - 4 - std::log(2.0)).epsilon(1e-14));
  CHECK(std::isnan(lp.value()(4)));
  tape.backward(sum(slice(lp, 0, 0, 4)));
  CHECK(rate.grad()(0) == 0);
  CHECK(rate.grad()(2) == 0);
  CHECK(rate.grad()(3) == Approx(2 / 4.0 - 1));
}

TEST_CASE("poisson: log_prob at counts up to 1e6 keeps its gradient (finite differences)", "[distributions]") {
  // Stirling's form for large counts: the partials in the rate, the log-rate and the count stay right
  // (the counts are constants: a finite-difference step off an integer leaves the support)
  const auto counts = [](Tape<double>& tape) { return tape.constant(xt::xarray<double>{1e4, 999000, 3, 25}); };
  require_gradient([&](Tape<double>& tape, const Vars& v) { return Poisson<double>::with_rate(v[0]).log_prob(counts(tape)); },
                   {xt::xarray<double>{1.01e4, 1e6, 2.5, 20.0}});
  require_gradient(
      [&](Tape<double>& tape, const Vars& v) { return Poisson<double>::with_log_rate(v[0]).log_prob(counts(tape)); },
      {xt::xarray<double>{9.2, 13.8, 0.5, 3.1}});
}

TEMPLATE_TEST_CASE("poisson: log_prob matches the mpmath reference, rate and log-rate up to 1e6", "[distributions]",
                   double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kPoisson, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Poisson<T>::with_rate(tape.constant(T(c.p[0]))).log_prob(tape.constant(T(c.x))).item();
  });
  dist_reference::require_reference_values<T>(dist_reference::kPoissonLogRate, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Poisson<T>::with_log_rate(tape.constant(T(c.p[0]))).log_prob(tape.constant(T(c.x))).item();
  });
}
