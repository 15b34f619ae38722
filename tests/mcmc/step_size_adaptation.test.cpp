#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "support/mcmc.hpp"

using namespace vaelib;
using vaelib::mcmc::DualAveraging;

namespace {

/// H1 - H0 for one leapfrog step of size eps from (q, p) on N(0, 1) with unit mass.
double step_size_test_energy_error(double q, double p, double eps) {
  const double q1 = q * (1 - 0.5 * eps * eps) + eps * p;
  const double p1 = p - 0.5 * eps * (q + q1);
  return 0.5 * (q1 * q1 + p1 * p1 - q * q - p * p);
}

/// E[min(1, exp(-dH))] over q, p ~ N(0, 1): the mean acceptance of one-step HMC at stationarity
/// (a midpoint rule on [-9, 9]^2).
double step_size_test_expected_acceptance(double eps) {
  const double h = 0.02;
  double sum = 0;
  for (double q = -9 + h / 2; q < 9; q += h)
    for (double p = -9 + h / 2; p < 9; p += h)
      sum += std::exp(-0.5 * (q * q + p * p)) * std::min(1.0, std::exp(-step_size_test_energy_error(q, p, eps)));
  return sum * h * h / (2 * std::numbers::pi);
}

struct StepSizeTestFlat {
  std::size_t dimension() const { return 1; }
  double log_density_and_gradient(std::span<const double>, std::span<double> grad) {
    grad[0] = 0;
    return 0;
  }
};

}  // namespace

TEST_CASE("step_size_adaptation: dual averaging finds the step size of a known acceptance curve",
          "[mcmc][step_size_adaptation]") {
  // acceptance(eps) = exp(-(eps / 2)^2) reaches 0.8 at eps = 2 sqrt(-log 0.8).
  const double target = 2 * std::sqrt(-std::log(0.8));
  DualAveraging adaptation({}, 0.01);
  double eps = adaptation.step_size();
  for (int t = 0; t < 2000; ++t) eps = adaptation.update(std::exp(-0.25 * eps * eps));
  CHECK(adaptation.iterations() == 2000);
  CHECK(adaptation.final_step_size() == Approx(target).epsilon(0.01));
  CHECK(eps == Approx(target).epsilon(0.01));
  // restart forgets everything: before any update the final step size is the start.
  adaptation.restart(0.3);
  CHECK(adaptation.iterations() == 0);
  CHECK(adaptation.final_step_size() == Approx(0.3));
  // The first update from a perfect acceptance jumps toward mu = log(10 * 0.3).
  CHECK(adaptation.update(1.0) > 0.3);
}

TEST_CASE("step_size_adaptation: dual averaging of one-step HMC on N(0, 1) reaches the target acceptance",
          "[mcmc][step_size_adaptation]") {
  auto density = testing::McmcIndependentGaussian::standard(1);
  mcmc::Hmc kernel({.step_size = 0.1, .n_leapfrog = 1});
  mcmc::ChainState state = mcmc::make_chain_state(density, {0.3});
  Rng rng(11);
  for (const double target : {0.6, 0.8, 0.95}) {
    DualAveraging adaptation({.target_accept = target}, 0.1);
    for (int t = 0; t < 4000; ++t) {
      const mcmc::TransitionInfo info = kernel.transition(density, state, rng);
      kernel.set_step_size(adaptation.update(info.accept_stat));
    }
    const double eps = adaptation.final_step_size();
    const double acceptance = step_size_test_expected_acceptance(eps);
    INFO("target " << target << ": step size " << eps << ", expected acceptance there " << acceptance);
    CHECK(std::abs(acceptance - target) < 0.03);
  }
}

TEST_CASE("step_size_adaptation: the initial heuristic returns the step size where one step's acceptance crosses 0.5",
          "[mcmc][step_size_adaptation]") {
  auto density = testing::McmcIndependentGaussian::standard(1);
  const mcmc::Metric metric = mcmc::Metric::unit(1);
  const mcmc::ChainState state = mcmc::make_chain_state(density, {0.8});
  for (const double start : {1e-3, 0.5, 1.7, 40.0}) {
    Rng rng(3), copy = rng;
    const double p = copy.normal<double>();  // the momentum the heuristic draws
    const double eps = mcmc::find_reasonable_step_size(density, metric, state, start, rng);
    auto above_half = [&](double e) { return -step_size_test_energy_error(0.8, p, e) > std::log(0.5); };
    INFO("start " << start << " -> " << eps);
    const bool grew = above_half(start);
    CHECK(above_half(eps) != grew);
    CHECK(above_half(grew ? eps / 2 : eps * 2) == grew);
    CHECK(eps == Approx(start * std::pow(2.0, std::round(std::log2(eps / start)))));
  }
}

TEST_CASE("step_size_adaptation: bad options and hopeless densities get clear errors", "[mcmc][step_size_adaptation]") {
  CHECK_THROWS_WITH(DualAveraging({.target_accept = 1.0}), "DualAveraging: target_accept = 1; it must be in (0, 1)");
  CHECK_THROWS_WITH(DualAveraging({.gamma = 0.0}), "DualAveraging: gamma = 0; it must be finite and > 0");
  CHECK_THROWS_WITH(DualAveraging({.t0 = -1.0}), "DualAveraging: t0 = -1; it must be finite and >= 0");
  CHECK_THROWS_WITH(DualAveraging({.kappa = 1.5}), "DualAveraging: kappa = 1.5; it must be in (0, 1]");
  CHECK_THROWS_WITH(DualAveraging({}, 0.0), "DualAveraging::restart: step_size = 0; it must be finite and > 0");
  DualAveraging adaptation;
  CHECK_THROWS_AS(adaptation.restart(-1.0), ArgumentError);
  CHECK(std::isfinite(adaptation.update(std::nan(""))));  // a NaN acceptance counts as 0

  StepSizeTestFlat flat;
  const mcmc::ChainState state = mcmc::make_chain_state(flat, {0.0});
  Rng rng(1);
  CHECK_THROWS_AS(mcmc::find_reasonable_step_size(flat, mcmc::Metric::unit(1), state, 1.0, rng), NumericalError);
  CHECK_THROWS_WITH(mcmc::find_reasonable_step_size(flat, mcmc::Metric::unit(1), state, -1.0, rng),
                    "find_reasonable_step_size: step_size = -1; it must be finite and > 0");
}
