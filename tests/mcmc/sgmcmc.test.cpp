#include "support/sgmcmc.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

/// Ten SGHMC steps on the 2-D Gaussian (one chain); the values after each.
std::vector<double> sgmcmc_base_trajectory(std::uint64_t seed) {
  SgmcmcGaussian target(1);
  mcmc::SGHMC<double> sghmc(target.store, Rng(seed), {.learning_rate = 0.01, .n_iter_resample_v = 3});
  std::vector<double> out;
  for (int t = 0; t < 10; ++t) {
    target.gradient();
    sghmc.step_and_zero_grad();
    out.insert(out.end(), target.theta->value, target.theta->value + 2);
  }
  return out;
}

}  // namespace

TEST_CASE("sgmcmc: the same seed gives the same chain, another seed another", "[mcmc][sgmcmc]") {
  CHECK(sgmcmc_base_trajectory(5) == sgmcmc_base_trajectory(5));
  CHECK(sgmcmc_base_trajectory(5) != sgmcmc_base_trajectory(6));
}

TEST_CASE("sgmcmc: step(tape, cost) is backward then step_and_zero_grad", "[mcmc][sgmcmc]") {
  auto run = [](bool in_one_call) {
    ParameterStore<double> store;
    Parameter<double>& p = store.create_from("p", Shape{3}, std::vector<double>{1.0, -2.0, 0.5});
    Tape<double> tape;
    mcmc::SGNHT<double> sgnht(store, Rng(2), {.learning_rate = 0.01, .variance_extra = 0.1});
    for (int t = 0; t < 4; ++t) {
      tape.clear();
      const Var<double> x = p.on(tape);
      const Var<double> cost = 0.5 * sum(x * x);  // -log N(0, I) up to a constant
      if (in_one_call) {
        sgnht.step(tape, cost);
      } else {
        tape.backward(cost);
        sgnht.step_and_zero_grad();
      }
      CHECK(p.grad[0] == 0.0);
    }
    return std::vector<double>(p.value, p.value + 3);
  };
  CHECK(run(true) == run(false));
}

TEST_CASE("sgmcmc: a parameter created after the first step starts its own state at its first step",
          "[mcmc][sgmcmc]") {
  ParameterStore<double> store;
  Parameter<double>& a = store.create_from("a", Shape{2}, std::vector<double>{0.0, 0.0});
  mcmc::SGHMC<double> sghmc(store, Rng(1), {.learning_rate = 0.01, .n_iter_resample_v = 0});
  sghmc.step();
  const std::vector<double> momentum_a(sghmc.slot(0, a), sghmc.slot(0, a) + 2);
  Parameter<double>& empty = store.create_from("empty", Shape{0}, std::vector<double>{});
  Parameter<double>& b = store.create_from("b", Shape{3}, std::vector<double>{0.0, 0.0, 0.0});
  CHECK(sghmc.slot(0, b)[0] == 0.0);
  sghmc.step();
  for (int i = 0; i < 3; ++i) {
    CHECK(sghmc.slot(0, b)[i] != 0.0);  // drawn from N(0, eta), then moved
    CHECK(b.value[i] != 0.0);
  }
  CHECK(empty.size == 0);
  // a carried on, not restarted: its normals are the stream's third pair (its start took the
  // first, its first update the second), with zero gradients
  Rng stream(1);
  double z[6];
  for (int pair = 0; pair < 3; ++pair) stream.fill_normal(std::span<double>(z + 2 * pair, 2));
  const double d = std::exp(-0.5 * 0.25), sd = std::sqrt(2 * 0.25 * 0.01);
  for (int i = 0; i < 2; ++i) {
    CHECK(momentum_a[i] == Approx(d * (d * 0.1 * z[i] + sd * z[2 + i])).epsilon(1e-13));
    CHECK(sghmc.slot(0, a)[i] == Approx(d * (d * momentum_a[i] + sd * z[4 + i])).epsilon(1e-13));
  }
  CHECK_THROWS_WITH(sghmc.slot(1, a), Contains("SGHMC::slot: slot 1 does not exist (the sampler has 1)"));
}

TEST_CASE("sgmcmc: float parameters", "[mcmc][sgmcmc]") {
  ParameterStore<float> store;
  Parameter<float>& p = store.create_from("p", Shape{1000}, std::vector<float>(1000, 0.0f));
  mcmc::SGLD<float> sgld(store, Rng(3), {.learning_rate = 0.02f});
  double sum = 0, sum2 = 0;
  for (int t = 0; t < 400; ++t) {
    for (int i = 0; i < 1000; ++i) p.grad[i] = p.value[i];  // N(0, 1)
    sgld.step_and_zero_grad();
  }
  for (int i = 0; i < 1000; ++i) {
    sum += p.value[i];
    sum2 += static_cast<double>(p.value[i]) * p.value[i];
  }
  // 1000 independent coordinates near equilibrium: variance 1 / (1 - eta/4) ~ 1.005
  CHECK(std::abs(sum / 1000) < 4 * std::sqrt(1.0 / 1000));
  CHECK(sum2 / 1000 == Approx(1.005).margin(4 * std::sqrt(2.0 / 1000) + 0.02));
}
