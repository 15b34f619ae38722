#include "support/sgmcmc.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("SGNHT: one second-order step with the thermostat's two half updates", "[mcmc][sgmcmc]") {
  const double eta = 0.01, a = 0.1, tune = 2.0, g = 0.7;
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{1}, std::vector<double>{1.5});
  p.grad[0] = g;
  mcmc::SGNHT<double> sgnht(store, Rng(9), {.learning_rate = eta, .variance_extra = a, .tune_rate = tune});
  sgnht.step();
  Rng noise(9);
  const double v0 = std::sqrt(eta) * noise.normal<double>();
  const double xi = noise.normal<double>();
  const double alpha1 = a + 0.5 * tune * (v0 * v0 - eta);
  const double d = std::exp(-0.5 * alpha1);
  const double v1 = d * (d * v0 - eta * g + std::sqrt(2 * a * eta) * xi);
  CHECK(sgnht.slot(0, p)[0] == Approx(v1).epsilon(1e-13));
  CHECK(sgnht.slot(1, p)[0] == Approx(alpha1 + 0.5 * tune * (v1 * v1 - eta)).epsilon(1e-13));
  CHECK(p.value[0] == Approx(1.5 + v1).epsilon(1e-13));
  CHECK(sgnht.mean_friction() == Approx(sgnht.slot(1, p)[0]));
}

TEST_CASE("SGNHT: on a Gaussian with exact gradients the chains have its moments", "[mcmc][sgmcmc]") {
  SgmcmcGaussian target(100);
  for (bool second_order : {true, false}) {
    for (bool vector_alpha : {true, false}) {
      INFO("second order: " << second_order << ", vector alpha: " << vector_alpha);
      mcmc::SGNHT<double> sgnht(target.store, Rng(3),
                                {.learning_rate = 0.01, .variance_extra = 0.1, .second_order = second_order,
                                 .use_vector_alpha = vector_alpha});
      const SgmcmcMoments m = target.run(sgnht, 1000, 20000);
      // The first-order (Euler) update keeps the thermostat's mean v^2 at eta where a fixed
      // friction alpha would run at eta / (1 - alpha/2): the positions come out narrower by
      // that factor, 5% at alpha = a = 0.1 (the second-order integrator has no such term).
      std::vector<double> expected = target.cov;
      for (double& c : expected) c *= second_order ? 1.0 : 1.0 - 0.5 * 0.1;
      sgmcmc_check_moments(m, expected, 4.5, 0.03);
    }
  }
}

TEST_CASE("SGNHT: the thermostat absorbs gradient noise of unknown size: temperature 1, friction eta s^2 / 2",
          "[mcmc][sgmcmc]") {
  // Ding et al. 2014: with gradient noise of variance s^2 per coordinate and no noise of its
  // own (variance_extra 0), the friction settles where it removes what the noise adds,
  // alpha = eta s^2 / 2, and p^2 = v^2 / eta averages 1. SGHMC at that friction but told of no
  // noise runs at temperature 1 + eta s^2 / (2 friction) = 2.
  const double eta = 0.01, noise_sd = 3.0, settled = 0.5 * eta * noise_sd * noise_sd;
  SgmcmcGaussian target(100);
  target.noise_sd = noise_sd;
  mcmc::SGNHT<double> sgnht(target.store, Rng(3), {.learning_rate = eta});
  SgmcmcMoments m(target.chains, target.mean);
  double temperature = 0, friction = 0;
  const int warmup = 2000, steps = 20000;
  for (int t = 0; t < warmup + steps; ++t) {
    target.gradient();
    sgnht.step_and_zero_grad();
    if (t < warmup) continue;
    m.add(target.theta->value);
    temperature += sgnht.temperature() / steps;
    friction += sgnht.mean_friction() / steps;
  }
  INFO("mean temperature " << temperature << ", mean friction " << friction << " (settles at " << settled << ")");
  CHECK(std::abs(temperature - 1) < 0.02);
  CHECK(friction == Approx(settled).epsilon(0.1));
  sgmcmc_check_moments(m, target.cov, 4.5, 0.05);

  SgmcmcGaussian hot_target(100);
  hot_target.noise_sd = noise_sd;
  mcmc::SGHMC<double> sghmc(hot_target.store, Rng(4), {.learning_rate = eta, .friction = settled, .n_iter_resample_v = 0});
  temperature = 0;
  for (int t = 0; t < 12000; ++t) {
    hot_target.gradient();
    sghmc.step_and_zero_grad();
    if (t >= 2000) temperature += sghmc.temperature() / 10000;
  }
  INFO("SGHMC at the same friction: mean temperature " << temperature);
  CHECK(temperature == Approx(2.0).epsilon(0.1));
}

TEST_CASE("SGNHT: Bayesian linear regression on minibatches of 10 out of 1000 (likelihood scaled by N/|B|)",
          "[mcmc][sgmcmc]") {
  SgmcmcRegression model(100);
  const double eta = 4e-7;
  // No noise estimate given: the friction finds a + eta Var[g] / 2 by itself. tune_rate lets it
  // move at a pace to match eta (alpha changes by tune_rate (v^2 - eta) per step).
  mcmc::SGNHT<double> sgnht(model.store, Rng(5), {.learning_rate = eta, .variance_extra = 0.01, .tune_rate = 100});
  SgmcmcMoments m(model.chains, model.posterior_mean);
  double temperature = 0;
  const int warmup = 2000, steps = 10000;
  for (int t = 0; t < warmup + steps; ++t) {
    model.step(sgnht);
    if (t < warmup) continue;
    m.add(model.w->value);
    temperature += sgnht.temperature() / steps;
  }
  const double settled = 0.01 + 0.5 * eta * model.gradient_noise_variance();
  INFO("mean temperature " << temperature << ", friction " << sgnht.mean_friction() << " (settles near " << settled
                           << ")");
  CHECK(std::abs(temperature - 1) < 0.03);
  CHECK(sgnht.mean_friction() == Approx(settled).epsilon(0.2));
  sgmcmc_check_moments(m, model.posterior_cov, 4.5, 0.08);
}

TEST_CASE("SGNHT: bad options are refused, naming them", "[mcmc][sgmcmc]") {
  ParameterStore<double> store;
  CHECK_THROWS_WITH(mcmc::SGNHT<double>(store, Rng(1), {.learning_rate = 0.1, .variance_extra = -0.1}),
                    Contains("SGNHT: variance_extra must be finite and >= 0, got -0.1"));
  CHECK_THROWS_WITH(mcmc::SGNHT<double>(store, Rng(1), {.learning_rate = 0.1, .tune_rate = std::nan("")}),
                    Contains("SGNHT: tune_rate must be finite and >= 0, got nan"));
  CHECK_THROWS_WITH(mcmc::SGNHT<double>(store, Rng(1), {.learning_rate = -1}), Contains("SGNHT: learning_rate"));
}
