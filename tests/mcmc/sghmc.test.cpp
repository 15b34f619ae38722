#include "support/sgmcmc.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("SGHMC: one step of each integrator, momentum started from N(0, eta)", "[mcmc][sgmcmc]") {
  const double eta = 0.01, alpha = 0.25, beta = 0.05, g = 0.7;
  for (bool second_order : {false, true}) {
    ParameterStore<double> store;
    Parameter<double>& p = store.create_from("p", Shape{1}, std::vector<double>{1.5});
    p.grad[0] = g;
    mcmc::SGHMC<double> sghmc(store, Rng(9), {.learning_rate = eta, .friction = alpha, .variance_estimate = beta,
                                              .n_iter_resample_v = 0, .second_order = second_order});
    sghmc.step();
    Rng noise(9);
    const double v0 = std::sqrt(eta) * noise.normal<double>();  // the start draws a pair: one used
    const double xi = noise.normal<double>();
    const double sd = std::sqrt(2 * (alpha - beta) * eta);
    const double d = std::exp(-0.5 * alpha);
    const double v1 = second_order ? d * (d * v0 - eta * g + sd * xi) : (1 - alpha) * v0 - eta * g + sd * xi;
    INFO("second order: " << second_order);
    CHECK(sghmc.slot(0, p)[0] == Approx(v1).epsilon(1e-13));
    CHECK(p.value[0] == Approx(1.5 + v1).epsilon(1e-13));
    CHECK(sghmc.temperature() == Approx(v1 * v1 / eta).epsilon(1e-12));
  }
}

TEST_CASE("SGHMC: on a Gaussian with exact gradients the chains have its moments", "[mcmc][sgmcmc]") {
  SgmcmcGaussian target(100);
  for (bool second_order : {true, false}) {
    INFO("second order: " << second_order);
    mcmc::SGHMC<double> sghmc(target.store, Rng(3),
                              {.learning_rate = 0.01, .friction = 0.1, .second_order = second_order});
    const SgmcmcMoments m = target.run(sghmc, 1000, 20000);
    sgmcmc_check_moments(m, target.cov, 4.5, 0.02);
  }
}

TEST_CASE("SGHMC: Bayesian linear regression on minibatches of 10 out of 1000, with and without variance_estimate",
          "[mcmc][sgmcmc]") {
  SgmcmcRegression model(100);
  const double eta = 4e-7, friction = 0.05;
  // The minibatch noise puts eta^2 Var[g] into v each step; variance_estimate = eta Var[g] / 2
  // takes as much out of the injected 2 friction eta, so v stays at temperature 1.
  const double beta = 0.5 * eta * model.gradient_noise_variance();
  REQUIRE(beta < friction);
  mcmc::SGHMC<double> sghmc(model.store, Rng(5), {.learning_rate = eta, .friction = friction, .variance_estimate = beta});
  SgmcmcMoments m(model.chains, model.posterior_mean);
  double temperature = 0;
  const int warmup = 500, steps = 10000;
  for (int t = 0; t < warmup + steps; ++t) {
    model.step(sghmc);
    if (t < warmup) continue;
    m.add(model.w->value);
    temperature += sghmc.temperature() / steps;
  }
  INFO("variance_estimate " << beta << ", mean temperature " << temperature);
  CHECK(std::abs(temperature - 1) < 0.03);
  sgmcmc_check_moments(m, model.posterior_cov, 4.5, 0.08);

  // Without it the chain runs hot, by 1 + eta Var[g] / (2 friction), and so does its spread
  // (with no momentum resampling, which would cool it back to 1 every 20 steps).
  mcmc::SGHMC<double> hot(model.store, Rng(6), {.learning_rate = eta, .friction = friction, .n_iter_resample_v = 0});
  temperature = 0;
  for (int t = 0; t < 3000; ++t) {
    model.step(hot);
    if (t >= 1000) temperature += hot.temperature() / 2000;
  }
  const double predicted = 1 + 0.5 * eta * model.gradient_noise_variance() / friction;
  INFO("without variance_estimate: mean temperature " << temperature << ", predicted " << predicted);
  CHECK(temperature == Approx(predicted).epsilon(0.06));
}

TEST_CASE("SGHMC: bad options are refused, naming them", "[mcmc][sgmcmc]") {
  ParameterStore<double> store;
  CHECK_THROWS_WITH(mcmc::SGHMC<double>(store, Rng(1), {.learning_rate = 0.1, .friction = 0}),
                    Contains("SGHMC: friction must be finite and > 0, got 0"));
  CHECK_THROWS_WITH(mcmc::SGHMC<double>(store, Rng(1), {.learning_rate = 0.1, .friction = 1.5, .second_order = false}),
                    Contains("at most 1 with the first-order integrator") && Contains("got 1.5"));
  CHECK_NOTHROW(mcmc::SGHMC<double>(store, Rng(1), {.learning_rate = 0.1, .friction = 1.5}));
  CHECK_THROWS_WITH(mcmc::SGHMC<double>(store, Rng(1), {.learning_rate = 0.1, .friction = 0.2, .variance_estimate = 0.2}),
                    Contains("SGHMC: variance_estimate must be in [0, friction = 0.2), got 0.2"));
  CHECK_THROWS_WITH(mcmc::SGHMC<double>(store, Rng(1), {.learning_rate = 0.1, .variance_estimate = -1}),
                    Contains("got -1"));
  CHECK_THROWS_WITH(mcmc::SGHMC<double>(store, Rng(1), {}), Contains("SGHMC: learning_rate"));
}
