#include "vaelib/distributions/fold_normal.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "reference/new_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace reference = vaelib::testing::new_distributions_reference;

namespace {
template <class T>
FoldNormal<T> fold_normal_of_case(Tape<T>& tape, const reference::Case& c) {
  return FoldNormal<T>::with_std(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("FoldNormal: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kFoldNormal, fold_normal_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kFoldNormal, fold_normal_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto mean = tape.variable(xt::xarray<double>{0.5});
  const auto std_dev = tape.variable(xt::xarray<double>{2.0});
  const auto d = FoldNormal<double>::with_std(mean, std_dev);
  CHECK(d.name() == "FoldNormal");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-0.5, inf, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(std::isnan(lp.value()(2)));
  tape.backward(sum(slice(lp, 0, 0, 2)));
  CHECK(mean.grad()(0) == 0.0);
  CHECK(std_dev.grad()(0) == 0.0);
}

TEST_CASE("FoldNormal: with_logstd is with_std of exp(logstd)", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.constant(xt::xarray<double>{-1.0, 0.0, 2.5, 30.0});
  const auto logstd = tape.constant(xt::xarray<double>{0.3, -2.0, 0.0, 1.0});
  const auto x = tape.constant(xt::xarray<double>{0.5, 0.1, 2.0, 28.0});
  require_close(FoldNormal<double>::with_logstd(mean, logstd).log_prob(x).value(),
                FoldNormal<double>::with_std(mean, exp(logstd)).log_prob(x).value(), 1e-13);
  // the density is even in the mean
  require_close(FoldNormal<double>::with_logstd(-mean, logstd).log_prob(x).value(),
                FoldNormal<double>::with_logstd(mean, logstd).log_prob(x).value(), 1e-14);
}

TEST_CASE("FoldNormal: sample moments of x and x^2", "[distributions]") {
  Tape<double> tape;
  Rng rng(3001);
  const double mu = 0.8, s = 1.2;
  const auto draws = values(FoldNormal<double>::with_std(tape.constant(mu), tape.constant(s)).sample(rng, 40000));
  // x^2 = y^2 for y ~ N(mu, s^2): its raw moments are the normal's even moments
  const double y2 = mu * mu + s * s;
  const double y4 = std::pow(mu, 4) + 6 * mu * mu * s * s + 3 * std::pow(s, 4);
  const double y6 = std::pow(mu, 6) + 15 * std::pow(mu, 4) * s * s + 45 * mu * mu * std::pow(s, 4) + 15 * std::pow(s, 6);
  const double y8 = std::pow(mu, 8) + 28 * std::pow(mu, 6) * s * s + 210 * std::pow(mu, 4) * std::pow(s, 4) +
                    420 * mu * mu * std::pow(s, 6) + 105 * std::pow(s, 8);
  std::vector<double> squares;
  for (const double v : draws) {
    REQUIRE(v >= 0);
    squares.push_back(v * v);
  }
  require_sample_moments(squares, y2, y4 - y2 * y2, y8 - 4 * y2 * y6 + 6 * y2 * y2 * y4 - 3 * std::pow(y2, 4));
  // E|y| = s sqrt(2/pi) exp(-mu^2 / (2 s^2)) + mu erf(mu / (s sqrt 2))
  const double m1 = s * std::sqrt(2 / std::numbers::pi) * std::exp(-mu * mu / (2 * s * s)) +
                    mu * std::erf(mu / (s * std::numbers::sqrt2));
  double mean = 0;
  for (const double v : draws) mean += v;
  mean /= double(draws.size());
  CHECK(std::abs(mean - m1) < 4 * std::sqrt((y2 - m1 * m1) / double(draws.size())));
}

TEST_CASE("FoldNormal: gradients of log_prob and of reparameterised samples by finite differences", "[distributions]") {
  const auto mean = random_array({2, 3}, -2, 2, 3011);
  const auto std_dev = random_array({2, 3}, 0.5, 2, 3012);
  const auto given = random_array({2, 3}, 0.1, 3, 3013);
  require_gradient([](Tape<double>&, const Vars& v) { return FoldNormal<double>::with_std(v[0], v[1]).log_prob(v[2]); },
                   {mean, std_dev, given});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return FoldNormal<double>::with_logstd(v[0], v[1], {.group_ndims = 1}).log_prob(v[2]);
      },
      {random_array({3}, -2, 2, 3014), random_array({}, -0.5, 0.5, 3015), given});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(3016);
        return FoldNormal<double>::with_logstd(v[0], v[1]).sample(rng, 3);
      },
      {mean, random_array({2, 3}, -0.5, 0.5, 3017)});
}

TEST_CASE("FoldNormal: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.variable(random_array({2, 1}, -1, 1, 3021));
  const auto std_dev = tape.variable(random_array({3}, 0.5, 2, 3022));
  check_distribution_shapes(
      [&](std::size_t g) { return FoldNormal<double>::with_std(mean, std_dev, {.group_ndims = g}); }, {2, 3}, {},
      {.finite_log_prob = true});
}

TEST_CASE("FoldNormal: parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.constant(xt::xarray<double>{0.5, -1.0});
  const auto logstd = tape.constant(0.5);
  const auto d = FoldNormal<double>::with_logstd(mean, logstd);
  CHECK(d.parameter("mean").index() == mean.index());
  CHECK(d.parameter("logstd").index() == logstd.index());
  CHECK(d.parameter("std").item() == Approx(std::exp(0.5)));
  CHECK(d.normal_mean().index() == mean.index());
  // E|y| from scipy.stats.foldnorm(c=|mean|/std, scale=std).mean() (scipy 1.10.1)
  require_close(d.mean().value(), xt::xarray<double>{1.3755225319929851, 1.550306146668119}, 1e-13);
  REQUIRE_THROWS_MATCHES(FoldNormal<double>::with_std(mean, tape.constant(-1.0)), ArgumentError,
                         Message("FoldNormal: std must be positive and finite, got -1.000000 at flat index 0 of shape "
                                 "[]"));
  REQUIRE_THROWS_MATCHES(FoldNormal<double>::with_logstd(mean, tape.constant(std::nan(""))), ArgumentError,
                         Message("FoldNormal: logstd must be finite, got nan at flat index 0 of shape []"));
}
