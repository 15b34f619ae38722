#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "support/mcmc.hpp"

using namespace vaelib;

TEST_CASE("run_chain: keeps every thin-th draw with its transition info, and reports progress", "[mcmc][run_chain]") {
  auto density = testing::McmcIndependentGaussian::standard(3);
  mcmc::Nuts kernel;
  Rng rng(1);
  std::vector<std::size_t> calls;
  const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {0.0, 0.0, 0.0}),
                                      {.num_warmup = 30,
                                       .num_draws = 10,
                                       .thin = 3,
                                       .progress =
                                           [&](std::size_t done, std::size_t total) {
                                             REQUIRE(total == 40);
                                             calls.push_back(done);
                                           }},
                                      rng);
  CHECK(result.dimension == 3);
  CHECK(result.num_draws() == 4);  // iterations 0, 3, 6, 9
  CHECK(result.draws.size() == 12);
  CHECK(result.warmup_info.size() == 30);
  REQUIRE(calls.size() == 40);
  for (std::size_t i = 0; i < 40; ++i) CHECK(calls[i] == i + 1);
  CHECK(result.step_size == kernel.step_size());
  CHECK(result.metric.inverse_mass().size() == 3);
  CHECK(result.final_state.position.size() == 3);
  CHECK(result(3, 2) == result.draws[11]);
}

TEST_CASE("run_chain: the same seed repeats the chain; without warm-up nothing is adapted", "[mcmc][run_chain]") {
  testing::McmcLogGamma density{3.0};
  const mcmc::RunOptions options{.num_warmup = 100, .num_draws = 100};
  mcmc::Nuts a, b;
  Rng ra(5), rb(5), rc(6);
  const auto first = mcmc::run_chain(density, a, mcmc::make_chain_state(density, {0.0}), options, ra);
  const auto again = mcmc::run_chain(density, b, mcmc::make_chain_state(density, {0.0}), options, rb);
  CHECK(first.draws == again.draws);
  CHECK(first.step_size == again.step_size);
  mcmc::Nuts c;
  const auto other = mcmc::run_chain(density, c, mcmc::make_chain_state(density, {0.0}), options, rc);
  CHECK(first.draws != other.draws);

  mcmc::Hmc fixed({.step_size = 0.3, .n_leapfrog = 4});
  const auto plain =
      mcmc::run_chain(density, fixed, mcmc::make_chain_state(density, {0.0}), {.num_warmup = 0, .num_draws = 50}, ra);
  CHECK(plain.step_size == 0.3);
  CHECK(fixed.step_size() == 0.3);
  CHECK(plain.metric.inverse_mass()[0] == 1.0);
  CHECK(plain.warmup_info.empty());
  for (const auto& info : plain.info) CHECK(info.n_leapfrog == 4);
}

TEST_CASE("run_chain: after warm-up the kernel keeps the adapted step size and metric", "[mcmc][run_chain]") {
  testing::McmcIndependentGaussian density{{1.0, -2.0}, {0.1, 5.0}};
  mcmc::Nuts kernel;
  Rng rng(8);
  const auto result = mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {0.0, 0.0}),
                                      {.num_warmup = 500, .num_draws = 200}, rng);
  CHECK(kernel.step_size() == result.step_size);
  CHECK(result.step_size != 1.0);
  CHECK(kernel.metric().inverse_mass()[0] == result.metric.inverse_mass()[0]);
  CHECK(result.metric.inverse_mass()[0] == Approx(0.01).epsilon(0.4));
  CHECK(result.metric.inverse_mass()[1] == Approx(25.0).epsilon(0.4));
  // Every draw after warm-up used the final step size.
  for (const auto& info : result.info) REQUIRE(info.step_size == result.step_size);
}

TEST_CASE("run_chain: bad arguments are refused", "[mcmc][run_chain]") {
  auto density = testing::McmcIndependentGaussian::standard(2);
  auto other = testing::McmcIndependentGaussian::standard(1);
  mcmc::Nuts kernel;
  Rng rng(1);
  CHECK_THROWS_WITH(mcmc::run_chain(density, kernel, mcmc::make_chain_state(other, {0.0}), {}, rng),
                    "run_chain: the chain state has position of size 1 and gradient of size 1 but the log density has "
                    "dimension 2");
  CHECK_THROWS_WITH(mcmc::run_chain(density, kernel, mcmc::make_chain_state(density, {0.0, 0.0}), {.thin = 0}, rng),
                    "run_chain: thin = 0; it must be >= 1");
}
