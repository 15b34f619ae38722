#include "support/sgmcmc.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

/// SGLD's exact stationary covariance on a Gaussian with precision P and gradient noise
/// covariance V: S = A S A' + eta I + eta^2/4 V with A = I - eta/2 P (Welling & Teh's update is
/// linear there).
std::vector<double> sgld_stationary_covariance(const std::vector<double>& precision, double eta,
                                               const std::vector<double>& gradient_noise = {0, 0, 0, 0}) {
  std::vector<double> a(4), q(4);
  for (int i = 0; i < 4; ++i) {
    a[i] = (i % 3 == 0 ? 1.0 : 0.0) - 0.5 * eta * precision[i];
    q[i] = (i % 3 == 0 ? eta : 0.0) + 0.25 * eta * eta * gradient_noise[i];
  }
  return sgmcmc_stationary_covariance(a, q);
}

}  // namespace

TEST_CASE("SGLD: one step is theta - eta/2 g + sqrt(eta) xi with xi from the sampler's Rng", "[mcmc][sgmcmc]") {
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{3}, std::vector<double>{1.0, -2.0, 0.5});
  const std::vector<double> g = {0.4, -1.0, 2.0};
  std::copy(g.begin(), g.end(), p.grad);
  mcmc::SGLD<double> sgld(store, Rng(9), {.learning_rate = 0.01});
  sgld.step();
  Rng expected_noise(9);
  std::vector<double> xi(3);
  expected_noise.fill_normal(std::span<double>(xi));
  const std::vector<double> start = {1.0, -2.0, 0.5};
  for (std::size_t i = 0; i < 3; ++i) CHECK(p.value[i] == Approx(start[i] - 0.005 * g[i] + 0.1 * xi[i]).epsilon(1e-14));
  CHECK(p.grad[0] == 0.4);  // step() leaves the gradient; step_and_zero_grad() clears it
  sgld.step_and_zero_grad();
  CHECK(p.grad[0] == 0.0);
  CHECK(sgld.steps() == 2);
  CHECK(sgld.name() == "sgld");
}

TEST_CASE("SGLD: on a Gaussian with exact gradients the chains have its moments, up to the known O(eta) bias",
          "[mcmc][sgmcmc]") {
  SgmcmcGaussian target(100);
  SECTION("eta = 0.01: within 1.5% of the target, and at the discretised chain's covariance") {
    mcmc::SGLD<double> sgld(target.store, Rng(3), {.learning_rate = 0.01});
    const SgmcmcMoments m = target.run(sgld, 0, 20000);
    sgmcmc_check_moments(m, target.cov, 4.5, 0.015);
    sgmcmc_check_moments(m, sgld_stationary_covariance(target.precision, 0.01), 4.5, 0.0);
  }
  SECTION("eta = 0.1: the bias (P - eta P^2 / 4)^-1 - P^-1 is there, as large as the formula says") {
    mcmc::SGLD<double> sgld(target.store, Rng(4), {.learning_rate = 0.1});
    const SgmcmcMoments m = target.run(sgld, 0, 5000);
    const std::vector<double> biased = sgld_stationary_covariance(target.precision, 0.1);
    sgmcmc_check_moments(m, biased, 4.5, 0.0);
    const auto v = m.covariance(1, 1);  // 0.25 without bias, ~0.28 with it
    INFO("variance " << v.value << " +- " << v.standard_error << ", biased " << biased[3]);
    CHECK(v.value - target.cov[3] > 6 * v.standard_error);
  }
}

TEST_CASE("SGLD: Bayesian linear regression on minibatches of 10 out of 1000 (likelihood scaled by N/|B|)",
          "[mcmc][sgmcmc]") {
  SgmcmcRegression model(100);
  const double eta = 1e-5;
  mcmc::SGLD<double> sgld(model.store, Rng(5), {.learning_rate = eta});
  const SgmcmcMoments m = model.run(sgld, 0, 10000);
  // The minibatch gradient's noise (N^2/|B| times the per-observation variance, ~1e5) adds
  // eta^2/4 of it per step against the eta injected: ~25% more variance at this eta, as the
  // linear recursion predicts. Means are unbiased; the variance is within 35% of the
  // posterior's and within 4% of the prediction.
  const std::vector<double> predicted =
      sgld_stationary_covariance(sgmcmc_inverse_2d(model.posterior_cov), eta, model.gradient_noise_covariance());
  sgmcmc_check_moments(m, predicted, 4.5, 0.04);
  sgmcmc_check_moments(m, model.posterior_cov, 4.5, 0.35);
}

TEST_CASE("SGLD: a learning-rate schedule sets eta step by step; bad rates are refused", "[mcmc][sgmcmc]") {
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{1}, std::vector<double>{0.0});
  std::vector<std::uint64_t> asked;
  mcmc::SGLD<double> sgld(store, Rng(1), {.schedule = [&](std::uint64_t t) {
                                            asked.push_back(t);
                                            return 0.1 / static_cast<double>(t + 1);
                                          }});
  CHECK(sgld.learning_rate() == Approx(0.1));
  p.grad[0] = 1.0;
  sgld.step();
  CHECK(p.value[0] != 0.0);
  CHECK(sgld.learning_rate() == Approx(0.05));

  CHECK_THROWS_WITH(mcmc::SGLD<double>(store, Rng(1), {}),
                    Contains("SGLD: learning_rate must be finite and > 0") && Contains("got 0"));
  CHECK_THROWS_WITH(mcmc::SGLD<double>(store, Rng(1), {.learning_rate = -1e-6}), Contains("got -1e-06"));
  CHECK_THROWS_AS(mcmc::SGLD<double>(store, Rng(1), {.learning_rate = std::nan("")}), ArgumentError);
  mcmc::SGLD<double> bad(store, Rng(1), {.schedule = [](std::uint64_t t) { return t < 1 ? 0.1 : -0.1; }});
  const double before = p.value[0];
  CHECK_THROWS_WITH(bad.step(), Contains("SGLD: the schedule gave the learning rate -0.1 at step 1"));
  CHECK(p.value[0] == before);  // refused before anything moved
}
