#include "vaelib/distributions/beta_binomial.hpp"

#include <cmath>
#include <limits>

#include "reference/more_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace more_reference = vaelib::testing::more_distributions_reference;

namespace {
template <class T>
BetaBinomial<T> beta_binomial_of_case(Tape<T>& tape, const more_reference::Case& c) {
  return BetaBinomial<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])), tape.constant(T(c.p[2])));
}

/// Mean, variance and fourth central moment of BetaBinomial(n, a, b), summed over the pmf
/// written with std::lgamma (independent of the header's form).
std::array<double, 3> beta_binomial_moments_by_sum(double n, double a, double b) {
  std::vector<double> pmf;
  for (double k = 0; k <= n; ++k) {
    pmf.push_back(std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) + std::lgamma(k + a) +
                           std::lgamma(n - k + b) - std::lgamma(n + a + b) - std::lgamma(a) - std::lgamma(b) +
                           std::lgamma(a + b)));
  }
  double mean = 0, var = 0, mu4 = 0;
  for (std::size_t k = 0; k < pmf.size(); ++k) mean += double(k) * pmf[k];
  for (std::size_t k = 0; k < pmf.size(); ++k) {
    const double d = double(k) - mean;
    var += d * d * pmf[k];
    mu4 += d * d * d * d * pmf[k];
  }
  return {mean, var, mu4};
}
}  // namespace

TEST_CASE("BetaBinomial: log_prob matches mpmath, ordinary and extreme parameters, double and float",
          "[distributions]") {
  // the three log-Betas cancel against each other at parameters of 1e6: ~1e-16 of ~2e6 in double
  more_reference::require_reference_log_probs<double>(more_reference::kBetaBinomial, beta_binomial_of_case<double>, 1e-10);
  more_reference::require_reference_log_probs<float>(more_reference::kBetaBinomial, beta_binomial_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto alpha = tape.variable(xt::xarray<double>{2.0});
  const BetaBinomial<double> d(tape.constant(6.0), alpha, tape.constant(3.0));
  CHECK(d.name() == "BetaBinomial");
  CHECK(d.support().kind() == SupportKind::integer_interval);
  CHECK_FALSE(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-1.0, 1.5, 7.0, inf, std::nan("")}));
  for (std::size_t i = 0; i < 4; ++i) CHECK(lp.value()(i) == -inf);
  CHECK(std::isnan(lp.value()(4)));
  tape.backward(sum(slice(lp, 0, 0, 4)));
  CHECK(alpha.grad()(0) == 0.0);
  // the probabilities of 0..n sum to 1
  const auto all = d.log_prob(tape.constant(xt::xarray<double>{0, 1, 2, 3, 4, 5, 6}));
  double total = 0;
  for (const double v : values(all)) total += std::exp(v);
  CHECK(total == Approx(1.0).epsilon(1e-13));
}

TEST_CASE("BetaBinomial: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(4301);
  for (const auto& [n, a, b] : {std::tuple{20.0, 2.0, 3.0}, std::tuple{50.0, 0.3, 0.5}, std::tuple{100.0, 40.0, 10.0}}) {
    INFO("n " << n << ", alpha " << a << ", beta " << b);
    const auto [mean, var, mu4] = beta_binomial_moments_by_sum(n, a, b);
    CHECK(mean == Approx(n * a / (a + b)));
    CHECK(var == Approx(n * a * b * (a + b + n) / ((a + b) * (a + b) * (a + b + 1))));
    const auto s = BetaBinomial<double>(tape.constant(n), tape.constant(a), tape.constant(b)).sample(rng, 40000);
    require_sample_moments(values(s), mean, var, mu4);
    for (const double k : values(s)) REQUIRE((k == std::floor(k) && k >= 0 && k <= n));
  }
}

TEST_CASE("BetaBinomial: gradients of log_prob by finite differences", "[distributions]") {
  const xt::xarray<double> counts{{0.0, 3.0, 10.0}, {2.0, 7.0, 1.0}};
  require_gradient(
      [counts](Tape<double>& tape, const Vars& v) {
        return BetaBinomial<double>(tape.constant(10.0), v[0], v[1]).log_prob(tape.constant(counts));
      },
      {random_array({2, 3}, 0.3, 5, 4311), random_array({2, 3}, 0.3, 5, 4312)});
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        return BetaBinomial<double>(tape.constant(xt::xarray<double>{40.0, 300.0, 2e3}), v[0], v[1], {.group_ndims = 1})
            .log_prob(tape.constant(xt::xarray<double>{30.0, 200.0, 500.0}));
      },
      {xt::xarray<double>{25.0, 100.0, 400.0}, random_array({2, 1}, 1, 50, 4313)});
  require_gradient(
      [](Tape<double>& tape, const Vars& v) { return BetaBinomial<double>(tape.constant(8.0), v[0], v[1]).mean(); },
      {random_array({3}, 0.5, 3, 4314), random_array({3}, 0.5, 3, 4315)});
}

TEST_CASE("BetaBinomial: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto n = tape.constant(xt::xarray<double>{5.0, 8.0, 20.0});
  const auto alpha = tape.variable(random_array({2, 1}, 0.5, 3, 4321));
  const auto beta = tape.variable(xt::xarray<double>{2.0});
  check_distribution_shapes([&](std::size_t g) { return BetaBinomial<double>(n, alpha, beta, {.group_ndims = g}); },
                            {2, 3}, {},
                            {.mean = true, .finite_log_prob = true, .broadcast_given = xt::xarray<double>{0.0, 1.0, 2.0}});
}

TEST_CASE("BetaBinomial: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto n = tape.constant(xt::xarray<double>{4.0, 6.0});
  const auto alpha = tape.constant(xt::xarray<double>{1.0, 3.0});
  const auto beta = tape.constant(1.0);
  const BetaBinomial<double> d(n, alpha, beta);
  require_values(d.mean(), {2.0, 4.5});
  CHECK(d.parameter("total_count").index() == n.index());
  CHECK(d.parameter("alpha").index() == alpha.index());
  CHECK(d.parameter("beta").index() == beta.index());
  REQUIRE_THROWS_MATCHES(d.parameter("a"), ArgumentError, Message("BetaBinomial: no parameter 'a'"));
  REQUIRE_THROWS_MATCHES(BetaBinomial<double>(tape.constant(0.5), alpha, beta), ArgumentError,
                         Message("BetaBinomial: total_count must be a whole number >= 0, got 0.500000 at flat index 0 "
                                 "of shape []"));
  REQUIRE_THROWS_MATCHES(BetaBinomial<double>(n, tape.constant(-1.0), beta), ArgumentError,
                         Message("BetaBinomial: alpha must be positive and finite, got -1.000000 at flat index 0 of "
                                 "shape []"));
  REQUIRE_THROWS_MATCHES(BetaBinomial<double>(n, alpha, tape.constant(std::numeric_limits<double>::infinity())),
                         ArgumentError,
                         Message("BetaBinomial: beta must be positive and finite, got inf at flat index 0 of shape []"));
}
