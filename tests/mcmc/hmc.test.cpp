#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "support/mcmc.hpp"

using namespace vaelib;
using vaelib::mcmc::Hmc;

TEST_CASE("hmc: integration time sets the number of leapfrog steps", "[mcmc][hmc]") {
  const Hmc fixed({.step_size = 0.3, .n_leapfrog = 7});
  CHECK(fixed.n_leapfrog(0.3) == 7);
  const Hmc timed({.step_size = 0.3, .integration_time = 1.0});
  CHECK(timed.n_leapfrog(0.3) == 4);
  CHECK(timed.n_leapfrog(0.25) == 4);
  CHECK(timed.n_leapfrog(5.0) == 1);
}

TEST_CASE("hmc: one transition follows the leapfrog and reports what it did", "[mcmc][hmc]") {
  auto density = testing::McmcIndependentGaussian::standard(2);
  Hmc kernel({.step_size = 0.2, .n_leapfrog = 5});
  mcmc::ChainState state = mcmc::make_chain_state(density, {0.5, -0.5});
  Rng rng(8);
  density.evaluations = 0;
  const mcmc::TransitionInfo info = kernel.transition(density, state, rng);
  CHECK(info.n_leapfrog == 5);
  CHECK(density.evaluations == 5);
  CHECK(info.tree_depth == 0);
  CHECK(info.step_size == 0.2);
  CHECK_FALSE(info.divergent);
  CHECK(info.accept_stat > 0.9);  // a short trajectory at a small step on a Gaussian
  // The energy is the Hamiltonian at the returned point: at least its potential energy.
  CHECK(info.energy >= -state.log_density);
  CHECK(state.log_density ==
        Approx(-0.5 * (state.position[0] * state.position[0] + state.position[1] * state.position[1])));
  CHECK(state.gradient[0] == Approx(-state.position[0]));
}

TEST_CASE("hmc: the same seed gives the same chain", "[mcmc][hmc]") {
  testing::McmcLogGamma density{3.0};
  Hmc a({.step_size = 0.5, .n_leapfrog = 3, .step_size_jitter = 0.5}), b = a;
  mcmc::ChainState sa = mcmc::make_chain_state(density, {1.0}), sb = sa;
  Rng ra(21), rb(21);
  for (int i = 0; i < 200; ++i) {
    const auto ia = a.transition(density, sa, ra), ib = b.transition(density, sb, rb);
    REQUIRE(sa.position == sb.position);
    REQUIRE(ia.step_size == ib.step_size);
  }
}

TEST_CASE("hmc: a 1-D standard normal at a fixed jittered step", "[mcmc][hmc]") {
  auto density = testing::McmcIndependentGaussian::standard(1);
  Hmc kernel({.step_size = 0.4, .integration_time = 1.2, .step_size_jitter = 0.3});
  mcmc::ChainState state = mcmc::make_chain_state(density, {2.0});
  Rng rng(5);
  const auto result = mcmc::run_chain(density, kernel, state, {.num_warmup = 0, .num_draws = 4000}, rng);
  const std::vector<double> x = testing::mcmc_column(result.draws, 1, 0);
  const double ess = testing::mcmc_effective_sample_size(x);
  INFO("ESS " << ess);
  CHECK(ess > 1000);
  CHECK(std::abs(testing::mcmc_mean_z(x, 0.0)) < 4);
  CHECK(std::abs(testing::mcmc_variance_z(x, 0.0, 1.0)) < 4);
  CHECK(testing::mcmc_ks_statistic(x, testing::mcmc_normal_cdf) * std::sqrt(std::min(ess, 4000.0)) < 1.95);
  for (const auto& info : result.info) REQUIRE_FALSE(info.divergent);
}

TEST_CASE("hmc: 10-D Gaussian with scales 0.1 .. 10: the adapted diagonal metric is the variances", "[mcmc][hmc]") {
  testing::McmcIndependentGaussian density{std::vector<double>(10, 0.0), {}};
  for (int i = 0; i < 10; ++i) density.mean[static_cast<std::size_t>(i)] = i - 4.5;
  for (int i = 0; i < 10; ++i) density.scale.push_back(0.1 * std::pow(100.0, i / 9.0));
  Hmc kernel({.integration_time = 2.0, .step_size_jitter = 0.2});
  Rng rng(13);
  const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, std::vector<double>(10, 0.0)),
                                      {.num_warmup = 1000, .num_draws = 2000}, rng);
  INFO("step size " << result.step_size);
  CHECK(result.step_size > 0.2);
  CHECK(result.step_size < 2.0);
  for (std::size_t j = 0; j < 10; ++j) {
    const double variance = density.scale[j] * density.scale[j];
    INFO("coordinate " << j << ": metric " << result.metric.inverse_mass()[j] << ", variance " << variance);
    CHECK(result.metric.inverse_mass()[j] == Approx(variance).epsilon(0.3));
    const std::vector<double> x = testing::mcmc_column(result.draws, 10, j);
    CHECK(std::abs(testing::mcmc_mean_z(x, density.mean[j])) < 4);
    CHECK(std::abs(testing::mcmc_variance_z(x, density.mean[j], variance)) < 4);
  }
  std::size_t divergent = 0;
  for (const auto& info : result.info) divergent += info.divergent;
  CHECK(divergent == 0);
}

TEST_CASE("hmc: a 2-D Gaussian with correlation 0.95 under an adapted dense metric", "[mcmc][hmc]") {
  auto density = testing::McmcDenseGaussian::correlated(0.95, 1.0, 2.0);
  Hmc kernel({.n_leapfrog = 5, .step_size_jitter = 0.3, .metric = mcmc::Metric::dense_unit(2)});
  Rng rng(2);
  const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {1.0, 1.0}),
                                      {.num_warmup = 1000, .num_draws = 2000}, rng);
  const std::vector<double> covariance = {1.0, 1.9, 1.9, 4.0};
  REQUIRE(result.metric.is_dense());
  for (std::size_t k = 0; k < 4; ++k) CHECK(result.metric.inverse_mass()[k] == Approx(covariance[k]).epsilon(0.3));
  for (std::size_t j = 0; j < 2; ++j) {
    const std::vector<double> x = testing::mcmc_column(result.draws, 2, j);
    CHECK(std::abs(testing::mcmc_mean_z(x, 0.0)) < 4);
    CHECK(std::abs(testing::mcmc_variance_z(x, 0.0, covariance[3 * j])) < 4);
  }
}

TEST_CASE("hmc: log Gamma(3, 1): mean digamma(3), variance trigamma(3) and the quantiles", "[mcmc][hmc]") {
  testing::McmcLogGamma density{3.0};
  Hmc kernel({.integration_time = 1.5, .step_size_jitter = 0.2});
  Rng rng(31);
  const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {0.0}),
                                      {.num_warmup = 500, .num_draws = 4000}, rng);
  const std::vector<double> y = testing::mcmc_column(result.draws, 1, 0);
  const double digamma3 = 1.5 - std::numbers::egamma, trigamma3 = std::numbers::pi * std::numbers::pi / 6 - 1.25;
  CHECK(std::abs(testing::mcmc_mean_z(y, digamma3)) < 4);
  CHECK(std::abs(testing::mcmc_variance_z(y, digamma3, trigamma3)) < 4);
  // P(Y <= y) = P(3, e^y) = 1 - e^{-x} (1 + x + x^2 / 2) at x = e^y.
  auto cdf = [](double v) {
    const double x = std::exp(v);
    return -std::expm1(-x) - std::exp(-x) * (x + 0.5 * x * x);
  };
  const double ess = std::min(testing::mcmc_effective_sample_size(y), 4000.0);
  CHECK(testing::mcmc_ks_statistic(y, cdf) * std::sqrt(ess) < 1.95);
}

TEST_CASE("hmc: divergences on a funnel at a too-large step, none on a Gaussian at the adapted one", "[mcmc][hmc]") {
  testing::McmcFunnel funnel{5};
  Hmc big({.step_size = 1.0, .n_leapfrog = 10});
  mcmc::ChainState state = mcmc::make_chain_state(funnel, std::vector<double>(6, 0.5));
  Rng rng(4);
  const auto result = mcmc::run_chain(funnel, big, state, {.num_warmup = 0, .num_draws = 300}, rng);
  std::size_t divergent = 0;
  for (const auto& info : result.info) {
    divergent += info.divergent;
    if (info.divergent) REQUIRE(info.accept_stat == 0);
  }
  INFO(divergent << " of 300 divergent");
  CHECK(divergent > 30);

  auto gaussian = testing::McmcIndependentGaussian::standard(3);
  Hmc adapted({.n_leapfrog = 8});
  const auto fine = mcmc::run_chain(gaussian, adapted, mcmc::make_chain_state(gaussian, {0.0, 0.0, 0.0}),
                                    {.num_warmup = 300, .num_draws = 500}, rng);
  for (const auto& info : fine.info) REQUIRE_FALSE(info.divergent);
}

TEST_CASE("hmc: bad options and mismatched states are refused", "[mcmc][hmc]") {
  CHECK_THROWS_WITH(Hmc({.step_size = 0.0}), "Hmc: step_size = 0; it must be finite and > 0");
  CHECK_THROWS_WITH(Hmc({.step_size = -0.1}), "Hmc: step_size = -0.1; it must be finite and > 0");
  CHECK_THROWS_WITH(Hmc({.n_leapfrog = 0}), "Hmc: n_leapfrog = 0; it must be >= 1");
  CHECK_THROWS_WITH(Hmc({.integration_time = -1.0}),
                    "Hmc: integration_time = -1; it must be finite and >= 0 (0: use n_leapfrog)");
  CHECK_THROWS_WITH(Hmc({.step_size_jitter = 1.0}), "Hmc: step_size_jitter = 1; it must be in [0, 1)");
  CHECK_THROWS_WITH(Hmc({.max_energy_error = 0.0}), "Hmc: max_energy_error = 0; it must be > 0");
  Hmc kernel;
  CHECK_THROWS_WITH(kernel.set_step_size(std::nan("")),
                    "Hmc::set_step_size: step_size = nan; it must be finite and > 0");

  testing::check_dimension_mismatch_errors<Hmc, mcmc::HmcOptions>("Hmc");
}
