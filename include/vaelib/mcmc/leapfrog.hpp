#pragma once
// PhasePoint and leapfrog: one point (q, p) of Hamiltonian phase space with what the kernels
// keep beside it, and the leapfrog (velocity Verlet) step that moves it. The Hamiltonian is
// H(q, p) = -log pi(q) + 0.5 p^T M^{-1} p; the leapfrog is symplectic and reversible, so its
// energy error stays O(step^2) over a trajectory and flipping p retraces it exactly (up to
// rounding).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "vaelib/mcmc/chain_state.hpp"
#include "vaelib/mcmc/log_density.hpp"
#include "vaelib/mcmc/metric.hpp"

namespace vaelib::mcmc {

struct PhasePoint {
  std::vector<double> position;
  std::vector<double> momentum;
  std::vector<double> velocity;  // M^{-1} momentum, kept current by leapfrog and refresh_velocity
  std::vector<double> gradient;  // of log pi at position
  double log_density = 0;

  /// Sizes every buffer for dimension d (allocates only when the size changes).
  void resize(std::size_t d) {
    position.resize(d);
    momentum.resize(d);
    velocity.resize(d);
    gradient.resize(d);
  }

  /// Takes position, log density and gradient from a chain state (momentum untouched).
  void set_position(const ChainState& state) {
    std::copy(state.position.begin(), state.position.end(), position.begin());
    std::copy(state.gradient.begin(), state.gradient.end(), gradient.begin());
    log_density = state.log_density;
  }

  void refresh_velocity(const Metric& metric) { metric.velocity(momentum, velocity); }

  /// H = -log pi(q) + 0.5 p . v with the current velocity; +inf where the density is undefined
  /// (NaN anywhere counts as +inf, so that the kernels treat it as a divergence).
  double hamiltonian() const {
    double kinetic = 0;
    for (std::size_t i = 0; i < momentum.size(); ++i) kinetic += momentum[i] * velocity[i];
    const double h = -log_density + 0.5 * kinetic;
    return std::isnan(h) ? std::numeric_limits<double>::infinity() : h;
  }
};

/// One leapfrog step of size `step_size` (negative: backward in time):
///   p += (eps/2) grad;  q += eps M^{-1} p;  grad = grad log pi(q);  p += (eps/2) grad;  v = M^{-1} p.
/// Allocates nothing: every buffer of `z` is already sized.
template <LogDensity D>
void leapfrog(D& density, const Metric& metric, double step_size, PhasePoint& z) {
  const std::size_t d = z.position.size();
  const double half = 0.5 * step_size;
  for (std::size_t i = 0; i < d; ++i) z.momentum[i] += half * z.gradient[i];
  metric.velocity(z.momentum, z.velocity);
  for (std::size_t i = 0; i < d; ++i) z.position[i] += step_size * z.velocity[i];
  z.log_density = static_cast<double>(
      density.log_density_and_gradient(std::span<const double>(z.position), std::span<double>(z.gradient)));
  for (std::size_t i = 0; i < d; ++i) z.momentum[i] += half * z.gradient[i];
  metric.velocity(z.momentum, z.velocity);
}

}  // namespace vaelib::mcmc
