#pragma once
// Hmc: Hamiltonian Monte Carlo with a fixed trajectory (ZhuSuan's HMC, Neal 2011): draw a
// momentum p ~ N(0, M), take L leapfrog steps of size eps, accept the end point with probability
// min(1, exp(H0 - H1)). L is either given or set by an integration time, L = ceil(time / eps),
// so that adapting eps keeps the trajectory's length; eps may be jittered per transition,
// which breaks the periodicities a fixed trajectory length can fall into.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <utility>

#include "vaelib/error.hpp"
#include "vaelib/mcmc/chain_state.hpp"
#include "vaelib/mcmc/leapfrog.hpp"
#include "vaelib/mcmc/log_density.hpp"
#include "vaelib/mcmc/metric.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::mcmc {

struct HmcOptions {
  double step_size = 1.0;          // eps (adaptation starts from it)
  int n_leapfrog = 10;             // L when integration_time is 0
  double integration_time = 0;     // > 0: L = max(1, ceil(integration_time / eps)) at each transition
  double step_size_jitter = 0;     // in [0, 1): each transition uses eps * (1 + jitter * U(-1, 1))
  double max_energy_error = 1000;  // H - H0 above this (or not finite) is a divergence
  Metric metric{};                 // the unit diagonal unless given
};

class Hmc {
 public:
  explicit Hmc(HmcOptions options = {}) : m_options(std::move(options)) {
    detail::check_step_size("Hmc", m_options.step_size);
    if (m_options.n_leapfrog < 1) {
      std::ostringstream s;
      s << "Hmc: n_leapfrog = " << m_options.n_leapfrog << "; it must be >= 1";
      throw ArgumentError(s.str());
    }
    if (!(std::isfinite(m_options.integration_time) && m_options.integration_time >= 0)) {
      std::ostringstream s;
      s << "Hmc: integration_time = " << m_options.integration_time
        << "; it must be finite and >= 0 (0: use n_leapfrog)";
      throw ArgumentError(s.str());
    }
    if (!(m_options.step_size_jitter >= 0 && m_options.step_size_jitter < 1)) {
      std::ostringstream s;
      s << "Hmc: step_size_jitter = " << m_options.step_size_jitter << "; it must be in [0, 1)";
      throw ArgumentError(s.str());
    }
    detail::check_max_energy_error("Hmc", m_options.max_energy_error);
  }

  double step_size() const noexcept { return m_options.step_size; }
  void set_step_size(double step_size) {
    detail::check_step_size("Hmc::set_step_size", step_size);
    m_options.step_size = step_size;
  }
  Metric& metric() noexcept { return m_options.metric; }
  const Metric& metric() const noexcept { return m_options.metric; }
  const HmcOptions& options() const noexcept { return m_options; }

  /// The number of leapfrog steps a transition at step size `eps` takes.
  int n_leapfrog(double eps) const {
    if (m_options.integration_time == 0) return m_options.n_leapfrog;
    const double steps = std::ceil(m_options.integration_time / eps);
    return static_cast<int>(std::clamp(steps, 1.0, 1e9));
  }

  /// One transition from `state` (updated in place when the proposal is accepted).
  /// Allocates nothing after the first call with this dimension: the phase point is a member.
  template <LogDensity D>
  TransitionInfo transition(D& density, ChainState& state, Rng& rng) {
    const std::size_t d = density.dimension();
    detail::check_state_dimension("Hmc::transition", d, state);
    m_options.metric.ensure_dimension(d, "Hmc::transition");
    m_point.resize(d);

    double eps = m_options.step_size;
    if (m_options.step_size_jitter > 0) eps *= 1 + m_options.step_size_jitter * (2 * rng.uniform<double>() - 1);
    const int steps = n_leapfrog(eps);

    m_point.set_position(state);
    m_options.metric.sample_momentum(rng, m_point.momentum);
    m_point.refresh_velocity(m_options.metric);
    const double h0 = m_point.hamiltonian();

    TransitionInfo info;
    info.step_size = eps;
    double h = h0;
    for (int s = 0; s < steps; ++s) {
      leapfrog(density, m_options.metric, eps, m_point);
      ++info.n_leapfrog;
      h = m_point.hamiltonian();
      // Stop at once: a trajectory that has blown up will not come back (and may overflow).
      if (!std::isfinite(h) || h - h0 > m_options.max_energy_error) {
        info.divergent = true;
        break;
      }
    }
    info.accept_stat = info.divergent ? 0.0 : std::min(1.0, std::exp(h0 - h));
    if (rng.uniform<double>() < info.accept_stat) {
      std::copy(m_point.position.begin(), m_point.position.end(), state.position.begin());
      std::copy(m_point.gradient.begin(), m_point.gradient.end(), state.gradient.begin());
      state.log_density = m_point.log_density;
      info.energy = h;
    } else {
      info.energy = h0;
    }
    return info;
  }

 private:
  HmcOptions m_options;
  PhasePoint m_point;  // the moving point, sized at first use
};

}  // namespace vaelib::mcmc
