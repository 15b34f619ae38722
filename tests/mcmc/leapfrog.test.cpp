#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "support/mcmc.hpp"

using namespace vaelib;
using vaelib::mcmc::Metric;
using vaelib::mcmc::PhasePoint;

namespace {

/// A phase point at `position` on `density` with momentum `momentum`.
template <class D>
PhasePoint leapfrog_test_point(D& density, const Metric& metric, std::vector<double> position,
                               std::vector<double> momentum) {
  const mcmc::ChainState state = mcmc::make_chain_state(density, std::move(position));
  PhasePoint z;
  z.resize(state.position.size());
  z.set_position(state);
  z.momentum = std::move(momentum);
  z.refresh_velocity(metric);
  return z;
}

/// The largest |H - H0| over `steps` leapfrog steps of size `eps`.
template <class D>
double leapfrog_test_max_energy_error(D& density, const Metric& metric, double eps, int steps) {
  PhasePoint z = leapfrog_test_point(density, metric, {1.0, -0.5, 0.3}, {0.4, 1.1, -0.7});
  const double h0 = z.hamiltonian();
  double worst = 0;
  for (int s = 0; s < steps; ++s) {
    mcmc::leapfrog(density, metric, eps, z);
    worst = std::max(worst, std::abs(z.hamiltonian() - h0));
  }
  return worst;
}

}  // namespace

TEST_CASE("leapfrog: one step on a standard normal is the velocity Verlet formula", "[mcmc][leapfrog]") {
  auto density = testing::McmcIndependentGaussian::standard(1);
  const Metric metric = Metric::unit(1);
  const double q0 = 0.7, p0 = -0.4, eps = 0.3;
  PhasePoint z = leapfrog_test_point(density, metric, {q0}, {p0});
  mcmc::leapfrog(density, metric, eps, z);
  const double q1 = q0 + eps * (p0 - 0.5 * eps * q0);
  const double p1 = p0 - 0.5 * eps * q0 - 0.5 * eps * q1;
  CHECK(z.position[0] == Approx(q1).epsilon(1e-15));
  CHECK(z.momentum[0] == Approx(p1).epsilon(1e-15));
  CHECK(z.velocity[0] == Approx(p1).epsilon(1e-15));
  CHECK(z.gradient[0] == Approx(-q1).epsilon(1e-15));
  CHECK(z.log_density == Approx(-0.5 * q1 * q1).epsilon(1e-15));
  CHECK(z.hamiltonian() == Approx(0.5 * q1 * q1 + 0.5 * p1 * p1).epsilon(1e-15));
}

TEST_CASE("leapfrog: the energy error over a fixed time shrinks as step^2", "[mcmc][leapfrog]") {
  testing::McmcIndependentGaussian density{{0.0, 1.0, -1.0}, {1.0, 2.0, 0.5}};
  for (const Metric& metric : {Metric::unit(3), Metric::diagonal({1.0, 4.0, 0.25}),
                               Metric::dense({1.0, 0.2, 0.0, 0.2, 3.0, 0.1, 0.0, 0.1, 0.3}, 3)}) {
    const double coarse = leapfrog_test_max_energy_error(density, metric, 0.1, 40);
    const double fine = leapfrog_test_max_energy_error(density, metric, 0.05, 80);
    INFO("max |dH|: step 0.1 " << coarse << ", step 0.05 " << fine);
    CHECK(coarse < 0.05);
    CHECK(coarse / fine == Approx(4.0).epsilon(0.2));
  }
}

TEST_CASE("leapfrog: flipping the momentum retraces the trajectory", "[mcmc][leapfrog]") {
  auto density = testing::McmcLogGamma{3.0};
  testing::McmcDenseGaussian gaussian = testing::McmcDenseGaussian::correlated(0.9, 1.0, 3.0);
  const Metric metric = Metric::dense({1.0, 0.5, 0.5, 2.0}, 2);
  PhasePoint z = leapfrog_test_point(gaussian, metric, {0.3, -1.0}, {1.2, 0.4});
  const PhasePoint start = z;
  for (int s = 0; s < 50; ++s) mcmc::leapfrog(gaussian, metric, 0.2, z);
  for (double& p : z.momentum) p = -p;
  for (int s = 0; s < 50; ++s) mcmc::leapfrog(gaussian, metric, 0.2, z);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(std::abs(z.position[i] - start.position[i]) < 1e-12);
    CHECK(std::abs(-z.momentum[i] - start.momentum[i]) < 1e-12);
  }
  // A negative step is the same retracing without the flip, on a non-Gaussian target too.
  const Metric unit = Metric::unit(1);
  PhasePoint y = leapfrog_test_point(density, unit, {0.5}, {-0.8});
  const PhasePoint y0 = y;
  for (int s = 0; s < 30; ++s) mcmc::leapfrog(density, unit, 0.1, y);
  for (int s = 0; s < 30; ++s) mcmc::leapfrog(density, unit, -0.1, y);
  CHECK(std::abs(y.position[0] - y0.position[0]) < 1e-12);
  CHECK(std::abs(y.momentum[0] - y0.momentum[0]) < 1e-12);
}

TEST_CASE("leapfrog: a dense metric that is diagonal moves exactly as the diagonal one", "[mcmc][leapfrog]") {
  testing::McmcIndependentGaussian density{{0.0, 1.0, -1.0}, {1.0, 2.0, 0.5}};
  const Metric diag = Metric::diagonal({0.5, 3.0, 0.2});
  const Metric dense = Metric::dense({0.5, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.2}, 3);
  PhasePoint a = leapfrog_test_point(density, diag, {1.0, 0.0, 0.5}, {0.3, -0.2, 1.0});
  PhasePoint b = leapfrog_test_point(density, dense, {1.0, 0.0, 0.5}, {0.3, -0.2, 1.0});
  for (int s = 0; s < 25; ++s) {
    mcmc::leapfrog(density, diag, 0.15, a);
    mcmc::leapfrog(density, dense, 0.15, b);
  }
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(a.position[i] == Approx(b.position[i]).epsilon(1e-14));
    CHECK(a.momentum[i] == Approx(b.momentum[i]).epsilon(1e-14));
  }
  CHECK(a.hamiltonian() == Approx(b.hamiltonian()).epsilon(1e-14));
}
