#include "support/sgmcmc.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

/// PSGLD's stationary covariance with its preconditioner frozen at G (diagonal), on a Gaussian
/// with precision P and gradient noise covariance V: A = I - eta/2 G P, Q = eta G + eta^2/4 G V G.
std::vector<double> psgld_frozen_covariance(const std::vector<double>& precision, double eta, const double g[2],
                                            const std::vector<double>& gradient_noise) {
  std::vector<double> a(4), q(4);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      a[i * 2 + j] = (i == j ? 1.0 : 0.0) - 0.5 * eta * g[i] * precision[i * 2 + j];
      q[i * 2 + j] = (i == j ? eta * g[i] : 0.0) + 0.25 * eta * eta * g[i] * g[j] * gradient_noise[i * 2 + j];
    }
  return sgmcmc_stationary_covariance(a, q);
}

}  // namespace

TEST_CASE("PSGLD: one step follows the RMSprop-preconditioned Langevin update", "[mcmc][sgmcmc]") {
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{2}, std::vector<double>{1.0, -2.0});
  const double eta = 0.01, decay = 0.9, eps = 1e-3;
  Rng expected_noise(9);
  std::vector<double> xi(2), v = {0, 0}, theta = {1.0, -2.0};
  mcmc::PSGLD<double> psgld(store, Rng(9), {.learning_rate = eta});
  for (int step = 0; step < 3; ++step) {
    const double g[2] = {0.4 * (step + 1), -3.0};
    p.grad[0] = g[0];
    p.grad[1] = g[1];
    psgld.step_and_zero_grad();
    expected_noise.fill_normal(std::span<double>(xi));
    for (int i = 0; i < 2; ++i) {
      v[i] = decay * v[i] + (1 - decay) * g[i] * g[i];
      const double G = 1 / (eps + std::sqrt(v[i]));
      theta[i] += -0.5 * eta * G * g[i] + std::sqrt(eta * G) * xi[i];
      CHECK(p.value[i] == Approx(theta[i]).epsilon(1e-13));
      CHECK(psgld.slot(0, p)[i] == Approx(v[i]).epsilon(1e-14));
    }
  }
  CHECK(psgld.slot_names() == std::vector<std::string>{"mean_square"});
}

TEST_CASE("PSGLD: on a Gaussian with exact gradients the chains have its moments", "[mcmc][sgmcmc]") {
  SgmcmcGaussian target(100);
  // A slow average (decay 0.999) keeps the preconditioner nearly fixed; the left-out drift of
  // its change is then small.
  mcmc::PSGLD<double> psgld(target.store, Rng(3), {.learning_rate = 0.01, .decay = 0.999});
  const SgmcmcMoments m = target.run(psgld, 2000, 20000);
  sgmcmc_check_moments(m, target.cov, 4.5, 0.02);
}

TEST_CASE("PSGLD: Bayesian linear regression on minibatches of 10 out of 1000 (likelihood scaled by N/|B|)",
          "[mcmc][sgmcmc]") {
  SgmcmcRegression model(100);
  const double eta = 3e-3;
  mcmc::PSGLD<double> psgld(model.store, Rng(5), {.learning_rate = eta});
  const SgmcmcMoments m = model.run(psgld, 500, 10000);
  // RMSprop's G is ~1 / sqrt(E[g^2]), E[g^2] the minibatch gradient's noise (~1e5) plus the
  // posterior spread of the exact gradient (P's diagonal): PSGLD is then SGLD with a step
  // eta G ~ 1e-5 per coordinate, and the minibatch noise inflates the variance as it does
  // SGLD's (~25% here). Against the chain with G frozen at that value: within 8% (G
  // fluctuates with the average of ~10 recent g^2 at decay 0.9); against the posterior: 35%.
  const std::vector<double> noise = model.gradient_noise_covariance();
  const std::vector<double> precision = sgmcmc_inverse_2d(model.posterior_cov);
  const double g[2] = {1 / (1e-3 + std::sqrt(noise[0] + precision[0])), 1 / (1e-3 + std::sqrt(noise[3] + precision[3]))};
  sgmcmc_check_moments(m, psgld_frozen_covariance(precision, eta, g, noise), 4.5, 0.08);
  sgmcmc_check_moments(m, model.posterior_cov, 4.5, 0.35);
}

TEST_CASE("PSGLD: bad options are refused, naming them", "[mcmc][sgmcmc]") {
  ParameterStore<double> store;
  CHECK_THROWS_WITH(mcmc::PSGLD<double>(store, Rng(1), {.learning_rate = 0.1, .decay = 1.0}),
                    Contains("PSGLD: decay must be in [0, 1), got 1"));
  CHECK_THROWS_WITH(mcmc::PSGLD<double>(store, Rng(1), {.learning_rate = 0.1, .decay = -0.5}), Contains("got -0.5"));
  CHECK_THROWS_WITH(mcmc::PSGLD<double>(store, Rng(1), {.learning_rate = 0.1, .epsilon = 0}),
                    Contains("PSGLD: epsilon must be finite and > 0, got 0"));
  CHECK_THROWS_WITH(mcmc::PSGLD<double>(store, Rng(1), {.learning_rate = 0}), Contains("PSGLD: learning_rate"));
}
