#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "support/mcmc.hpp"

using namespace vaelib;
using vaelib::mcmc::Nuts;

namespace {

std::size_t nuts_test_divergences(const mcmc::ChainResult& result) {
  std::size_t n = 0;
  for (const auto& info : result.info) n += info.divergent;
  return n;
}

}  // namespace

TEST_CASE("nuts: draws of N(0, 1) at fixed step sizes, small to near the stability limit", "[mcmc][nuts]") {
  // Exactness does not depend on the step size: a bias in the tree building or the sampling
  // along it shows most at large steps, where the weights differ most.
  auto density = testing::McmcIndependentGaussian::standard(1);
  for (const double eps : {0.2, 0.9, 1.6}) {
    Nuts kernel({.step_size = eps});
    Rng rng(100 + static_cast<std::uint64_t>(10 * eps));
    const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {1.5}),
                                        {.num_warmup = 0, .num_draws = 10000}, rng);
    const std::vector<double> x = testing::mcmc_column(result.draws, 1, 0);
    const double ess = testing::mcmc_effective_sample_size(x);
    const double ks = testing::mcmc_ks_statistic(x, testing::mcmc_normal_cdf) * std::sqrt(std::min(ess, 10000.0));
    INFO("step " << eps << ": ESS " << ess << ", KS * sqrt(n) " << ks << ", mean z " << testing::mcmc_mean_z(x, 0.0)
                 << ", variance z " << testing::mcmc_variance_z(x, 0.0, 1.0));
    CHECK(ess > 1000);  // 1-D trajectories stop at the first turning point: lag-1 correlation 0.2 .. 0.7
    CHECK(std::abs(testing::mcmc_mean_z(x, 0.0)) < 4);
    CHECK(std::abs(testing::mcmc_variance_z(x, 0.0, 1.0)) < 4);
    CHECK(ks < 1.95);
    CHECK(nuts_test_divergences(result) == 0);
  }
}

TEST_CASE("nuts: one transition reports consistent counts", "[mcmc][nuts]") {
  auto density = testing::McmcIndependentGaussian::standard(3);
  Nuts kernel({.step_size = 0.3});
  mcmc::ChainState state = mcmc::make_chain_state(density, {0.5, -0.5, 1.0});
  Rng rng(8);
  for (int i = 0; i < 200; ++i) {
    density.evaluations = 0;
    const mcmc::TransitionInfo info = kernel.transition(density, state, rng);
    REQUIRE(info.n_leapfrog == static_cast<int>(density.evaluations));
    // depth complete doublings, and possibly a part of the one that ended the trajectory
    REQUIRE(info.tree_depth >= 1);
    REQUIRE(info.n_leapfrog >= (1 << info.tree_depth) - 1);
    REQUIRE(info.n_leapfrog <= (1 << (info.tree_depth + 1)) - 1);
    REQUIRE(info.accept_stat > 0.8);
    REQUIRE(info.accept_stat <= 1.0);
    REQUIRE(info.step_size == 0.3);
    REQUIRE(info.energy >= -state.log_density);
    REQUIRE(state.log_density == Approx(density.log_density_and_gradient(state.position, state.gradient)));
  }
}

TEST_CASE("nuts: the same seed gives the same chain, and a copied kernel is independent", "[mcmc][nuts]") {
  testing::McmcLogGamma density{3.0};
  Nuts a({.step_size = 0.7});
  mcmc::ChainState sa = mcmc::make_chain_state(density, {1.0}), sb = sa;
  Rng ra(21), rb(21);
  for (int i = 0; i < 10; ++i) a.transition(density, sa, ra);  // a's buffers are sized now
  Nuts b = a;
  sb = sa;
  rb = ra;
  for (int i = 0; i < 200; ++i) {
    const auto ia = a.transition(density, sa, ra);
    const auto ib = b.transition(density, sb, rb);
    REQUIRE(sa.position == sb.position);
    REQUIRE(ia.n_leapfrog == ib.n_leapfrog);
  }
}

TEST_CASE("nuts: 10-D Gaussian with scales 0.1 .. 10: adapted diagonal metric, step size and moments", "[mcmc][nuts]") {
  testing::McmcIndependentGaussian density{{}, {}};
  for (int i = 0; i < 10; ++i) {
    density.mean.push_back(i - 4.5);
    density.scale.push_back(0.1 * std::pow(100.0, i / 9.0));
  }
  Nuts kernel;
  Rng rng(13);
  const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, std::vector<double>(10, 0.0)),
                                      {.num_warmup = 1000, .num_draws = 1000}, rng);
  INFO("step size " << result.step_size);
  CHECK(result.step_size > 0.3);  // the whitened target is N(0, I_10)
  CHECK(result.step_size < 1.5);
  double accept = 0;
  for (const auto& info : result.info) accept += info.accept_stat;
  CHECK(accept / 1000 == Approx(0.8).margin(0.1));
  for (std::size_t j = 0; j < 10; ++j) {
    const double variance = density.scale[j] * density.scale[j];
    INFO("coordinate " << j << ": metric " << result.metric.inverse_mass()[j] << ", variance " << variance);
    CHECK(result.metric.inverse_mass()[j] == Approx(variance).epsilon(0.3));
    const std::vector<double> x = testing::mcmc_column(result.draws, 10, j);
    CHECK(std::abs(testing::mcmc_mean_z(x, density.mean[j])) < 4);
    CHECK(std::abs(testing::mcmc_variance_z(x, density.mean[j], variance)) < 4);
  }
  CHECK(nuts_test_divergences(result) == 0);
}

TEST_CASE("nuts: a 2-D Gaussian with correlation 0.95: the dense metric adapts to the covariance", "[mcmc][nuts]") {
  auto density = testing::McmcDenseGaussian::correlated(0.95, 1.0, 2.0);
  Nuts kernel({.metric = mcmc::Metric::dense_unit(2)});
  Rng rng(2);
  const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {1.0, 1.0}),
                                      {.num_warmup = 1000, .num_draws = 2000}, rng);
  const std::vector<double> covariance = {1.0, 1.9, 1.9, 4.0};
  REQUIRE(result.metric.is_dense());
  for (std::size_t k = 0; k < 4; ++k) {
    INFO("M^-1 entry " << k << ": " << result.metric.inverse_mass()[k]);
    CHECK(result.metric.inverse_mass()[k] == Approx(covariance[k]).epsilon(0.3));
  }
  // Whitened, the target is a standard normal: few leapfrog steps per draw.
  double steps = 0;
  for (const auto& info : result.info) steps += info.n_leapfrog;
  CHECK(steps / 2000 < 8);
  for (std::size_t j = 0; j < 2; ++j) {
    const std::vector<double> x = testing::mcmc_column(result.draws, 2, j);
    CHECK(std::abs(testing::mcmc_mean_z(x, 0.0)) < 4);
    CHECK(std::abs(testing::mcmc_variance_z(x, 0.0, covariance[3 * j])) < 4);
  }
  double cross = 0;
  for (std::size_t i = 0; i < 2000; ++i) cross += result(i, 0) * result(i, 1);
  CHECK(cross / 2000 == Approx(1.9).epsilon(0.1));
}

TEST_CASE("nuts: log Gamma(3, 1): mean digamma(3), variance trigamma(3) and the quantiles", "[mcmc][nuts]") {
  testing::McmcLogGamma density{3.0};
  Nuts kernel;
  Rng rng(31);
  const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {0.0}),
                                      {.num_warmup = 500, .num_draws = 5000}, rng);
  const std::vector<double> y = testing::mcmc_column(result.draws, 1, 0);
  const double digamma3 = 1.5 - std::numbers::egamma, trigamma3 = std::numbers::pi * std::numbers::pi / 6 - 1.25;
  CHECK(std::abs(testing::mcmc_mean_z(y, digamma3)) < 4);
  CHECK(std::abs(testing::mcmc_variance_z(y, digamma3, trigamma3)) < 4);
  auto cdf = [](double v) {  // P(3, x) = 1 - e^{-x} (1 + x + x^2 / 2) at x = e^v
    const double x = std::exp(v);
    return -std::expm1(-x) - std::exp(-x) * (x + 0.5 * x * x);
  };
  const double ess = std::min(testing::mcmc_effective_sample_size(y), 5000.0);
  CHECK(testing::mcmc_ks_statistic(y, cdf) * std::sqrt(ess) < 1.95);
}

TEST_CASE("nuts: divergences on a funnel at a too-large step, none on a Gaussian at the adapted one", "[mcmc][nuts]") {
  testing::McmcFunnel funnel{5};
  Nuts big({.step_size = 1.0});
  Rng rng(4);
  const auto result = mcmc::run_chain(funnel, big, mcmc::make_chain_state(funnel, std::vector<double>(6, 0.5)),
                                      {.num_warmup = 0, .num_draws = 300}, rng);
  const std::size_t divergent = nuts_test_divergences(result);
  INFO(divergent << " of 300 divergent");
  CHECK(divergent > 30);

  auto gaussian = testing::McmcIndependentGaussian::standard(5);
  Nuts adapted;
  const auto fine = mcmc::run_chain(gaussian, adapted, mcmc::make_chain_state(gaussian, std::vector<double>(5, 1.0)),
                                    {.num_warmup = 300, .num_draws = 1000}, rng);
  CHECK(nuts_test_divergences(fine) == 0);
}

TEST_CASE("nuts: an ill-conditioned target runs every trajectory to max_tree_depth", "[mcmc][nuts]") {
  // Scales 1 .. 1000 under the unit metric at a step fit for the narrowest: the trajectories
  // would need thousands of steps to turn.
  testing::McmcIndependentGaussian density{std::vector<double>(4, 0.0), {1.0, 10.0, 100.0, 1000.0}};
  for (const int max_depth : {1, 2, 3}) {
    Nuts kernel({.step_size = 0.05, .max_tree_depth = max_depth});
    Rng rng(6);
    const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {0.5, 5.0, 50.0, 500.0}),
                                        {.num_warmup = 0, .num_draws = 500}, rng);
    std::size_t at_max = 0;
    for (const auto& info : result.info) {
      REQUIRE(info.tree_depth <= max_depth);
      REQUIRE(info.n_leapfrog <= (1 << max_depth) - 1);
      if (info.tree_depth == max_depth) {
        ++at_max;
        REQUIRE(info.n_leapfrog == (1 << max_depth) - 1);
      }
    }
    INFO("max depth " << max_depth << ": " << at_max << " of 500 at the maximum");
    CHECK(at_max >= 490);
  }
}

TEST_CASE("nuts: bad options and mismatched states are refused", "[mcmc][nuts]") {
  CHECK_THROWS_WITH(Nuts({.step_size = 0.0}), "Nuts: step_size = 0; it must be finite and > 0");
  CHECK_THROWS_WITH(Nuts({.step_size = -1.0}), "Nuts: step_size = -1; it must be finite and > 0");
  CHECK_THROWS_WITH(Nuts({.max_tree_depth = 0}), "Nuts: max_tree_depth = 0; it must be in [1, 30]");
  CHECK_THROWS_WITH(Nuts({.max_tree_depth = -3}), "Nuts: max_tree_depth = -3; it must be in [1, 30]");
  CHECK_THROWS_WITH(Nuts({.max_tree_depth = 31}), "Nuts: max_tree_depth = 31; it must be in [1, 30]");
  CHECK_THROWS_WITH(Nuts({.max_energy_error = -5.0}), "Nuts: max_energy_error = -5; it must be > 0");
  Nuts kernel;
  CHECK_THROWS_WITH(kernel.set_step_size(-2.0), "Nuts::set_step_size: step_size = -2; it must be finite and > 0");

  testing::check_dimension_mismatch_errors<Nuts, mcmc::NutsOptions>("Nuts");
}
