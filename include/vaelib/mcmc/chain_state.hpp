#pragma once
// ChainState: where one Markov chain is (its position with the log density and gradient there,
// so that a transition need not re-evaluate them), and TransitionInfo: what one transition
// reports beside the draw (Stan's sampler diagnostics).

#include <cmath>
#include <cstddef>
#include <sstream>
#include <vector>

#include "vaelib/detail/finite.hpp"
#include "vaelib/error.hpp"
#include "vaelib/mcmc/log_density.hpp"

namespace vaelib::mcmc {

struct ChainState {
  std::vector<double> position;
  double log_density = 0;
  std::vector<double> gradient;
};

struct TransitionInfo {
  double accept_stat = 0;  // HMC: min(1, exp(-dH)); NUTS: mean Metropolis acceptance over the trajectory
  bool divergent = false;  // the energy error passed the threshold or was not finite
  int tree_depth = 0;      // NUTS: doublings completed; HMC: 0
  int n_leapfrog = 0;      // gradient evaluations spent
  double energy = 0;       // the Hamiltonian at the returned point (for E-BFMI)
  double step_size = 0;    // the step size used
};

namespace detail {

/// Throws unless a density of dimension `expected` can move a state holding `position` and `gradient`.
inline void check_state_dimension(const char* operation, std::size_t expected, const ChainState& state) {
  if (state.position.size() != expected || state.gradient.size() != expected) {
    std::ostringstream s;
    s << operation << ": the chain state has position of size " << state.position.size() << " and gradient of size "
      << state.gradient.size() << " but the log density has dimension " << expected;
    throw ArgumentError(s.str());
  }
}

inline void check_step_size(const char* operation, double step_size) {
  if (!(std::isfinite(step_size) && step_size > 0)) {
    std::ostringstream s;
    s << operation << ": step_size = " << step_size << "; it must be finite and > 0";
    throw ArgumentError(s.str());
  }
}

inline void check_max_energy_error(const char* operation, double max_energy_error) {
  if (!(max_energy_error > 0)) {
    std::ostringstream s;
    s << operation << ": max_energy_error = " << max_energy_error << "; it must be > 0";
    throw ArgumentError(s.str());
  }
}

}  // namespace detail

/// The state at `position`, evaluating the density there. Throws ArgumentError if the position's
/// size is not the density's dimension, or if the position, log density or gradient there is not
/// finite (naming the first bad coordinate): a chain cannot start where the density is undefined.
template <LogDensity D>
ChainState make_chain_state(D& density, std::vector<double> position) {
  const std::size_t d = density.dimension();
  if (position.size() != d) {
    std::ostringstream s;
    s << "make_chain_state: the initial position has size " << position.size() << " but the log density has dimension "
      << d;
    throw ArgumentError(s.str());
  }
  if (const std::size_t bad = vaelib::detail::first_non_finite(position.data(), d); bad < d) {
    std::ostringstream s;
    s << "make_chain_state: the initial position[" << bad << "] is "
      << vaelib::detail::describe_non_finite(position[bad]) << "; it must be finite";
    throw ArgumentError(s.str());
  }
  ChainState state{std::move(position), 0.0, std::vector<double>(d, 0.0)};
  state.log_density = static_cast<double>(density.log_density_and_gradient(state.position, state.gradient));
  if (!std::isfinite(state.log_density)) {
    std::ostringstream s;
    s << "make_chain_state: the log density at the initial position is "
      << vaelib::detail::describe_non_finite(state.log_density)
      << "; choose an initial point inside the support (on the unconstrained scale)";
    throw ArgumentError(s.str());
  }
  if (const std::size_t bad = vaelib::detail::first_non_finite(state.gradient.data(), d); bad < d) {
    std::ostringstream s;
    s << "make_chain_state: the gradient of the log density at the initial position is "
      << vaelib::detail::describe_non_finite(state.gradient[bad]) << " at coordinate " << bad << " (position[" << bad
      << "] = " << state.position[bad] << ")";
    throw ArgumentError(s.str());
  }
  return state;
}

}  // namespace vaelib::mcmc
