#pragma once
// Step-size adaptation (Hoffman & Gelman 2014, "The No-U-Turn Sampler", section 3.2):
// DualAveraging drives the mean acceptance statistic of the warm-up transitions to a target by
// Nesterov's dual averaging on x = log(step size), and find_reasonable_step_size is their
// starting heuristic (double or halve until one leapfrog step's acceptance crosses 0.5).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>

#include "vaelib/error.hpp"
#include "vaelib/mcmc/chain_state.hpp"
#include "vaelib/mcmc/leapfrog.hpp"
#include "vaelib/mcmc/log_density.hpp"
#include "vaelib/mcmc/metric.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::mcmc {

struct DualAveragingOptions {
  double target_accept = 0.8;  // delta: the mean acceptance statistic aimed at
  double gamma = 0.05;         // how strongly x is pulled back toward mu
  double t0 = 10;              // damps the first iterations
  double kappa = 0.75;         // the averaging weights' decay, t^-kappa
};

/// After restart(eps0), each update(a_t) sets
///   H_t = (1 - 1/(t + t0)) H_{t-1} + (delta - a_t) / (t + t0),   x_t = mu - sqrt(t) / gamma * H_t,
///   xbar_t = t^-kappa x_t + (1 - t^-kappa) xbar_{t-1},           mu = log(10 eps0),
/// and returns exp(x_t), the step size of the next transition. exp(xbar) is the step size to
/// keep once warm-up ends.
class DualAveraging {
 public:
  explicit DualAveraging(DualAveragingOptions options = {}, double initial_step_size = 1.0) : m_options(options) {
    if (!(options.target_accept > 0 && options.target_accept < 1))
      throw ArgumentError(message("target_accept", options.target_accept, "in (0, 1)"));
    if (!(options.gamma > 0 && std::isfinite(options.gamma)))
      throw ArgumentError(message("gamma", options.gamma, "finite and > 0"));
    if (!(options.t0 >= 0 && std::isfinite(options.t0)))
      throw ArgumentError(message("t0", options.t0, "finite and >= 0"));
    if (!(options.kappa > 0 && options.kappa <= 1)) throw ArgumentError(message("kappa", options.kappa, "in (0, 1]"));
    restart(initial_step_size);
  }

  /// Starts afresh from `step_size`, shrinking toward mu = log(10 step_size): an aim above the
  /// start, because large steps are cheap to try and are quickly pulled back.
  void restart(double step_size) {
    detail::check_step_size("DualAveraging::restart", step_size);
    m_mu = std::log(10 * step_size);
    m_iterations = 0;
    m_error_average = 0;
    m_log_step = std::log(step_size);
    m_log_step_average = 0;
  }

  /// Takes one transition's acceptance statistic (NaN counts as 0, above 1 as 1) and returns the
  /// next step size.
  double update(double accept_stat) {
    const double a = std::isnan(accept_stat) ? 0.0 : std::min(accept_stat, 1.0);
    ++m_iterations;
    const double t = static_cast<double>(m_iterations);
    const double eta = 1.0 / (t + m_options.t0);
    m_error_average = (1 - eta) * m_error_average + eta * (m_options.target_accept - a);
    m_log_step = m_mu - std::sqrt(t) / m_options.gamma * m_error_average;
    const double weight = std::pow(t, -m_options.kappa);
    m_log_step_average = weight * m_log_step + (1 - weight) * m_log_step_average;
    return std::exp(m_log_step);
  }

  /// The latest iterate exp(x_t).
  double step_size() const { return std::exp(m_log_step); }
  /// The averaged exp(xbar_t): the step size to sample with after warm-up (the latest iterate
  /// before any update).
  double final_step_size() const { return m_iterations == 0 ? step_size() : std::exp(m_log_step_average); }
  std::size_t iterations() const noexcept { return m_iterations; }
  const DualAveragingOptions& options() const noexcept { return m_options; }

 private:
  static std::string message(const char* name, double value, const char* expected) {
    std::ostringstream s;
    s << "DualAveraging: " << name << " = " << value << "; it must be " << expected;
    return s.str();
  }

  DualAveragingOptions m_options;
  double m_mu = 0;
  std::size_t m_iterations = 0;
  double m_error_average = 0;     // H_t
  double m_log_step = 0;          // x_t
  double m_log_step_average = 0;  // xbar_t
};

/// Hoffman & Gelman's heuristic (their Algorithm 4): with one momentum drawn at `state`, double
/// the step size while a single leapfrog step's acceptance exp(H0 - H1) stays above 0.5, or halve
/// it while it stays below, and return the first step size on the other side. Throws
/// NumericalError when the acceptance never crosses (a density flat to 1e300, or undefined
/// arbitrarily close to the state).
template <LogDensity D>
double find_reasonable_step_size(D& density, const Metric& metric, const ChainState& state, double step_size,
                                 Rng& rng) {
  detail::check_step_size("find_reasonable_step_size", step_size);
  const std::size_t d = density.dimension();
  detail::check_state_dimension("find_reasonable_step_size", d, state);
  PhasePoint start, moved;
  start.resize(d);
  moved.resize(d);
  start.set_position(state);
  metric.sample_momentum(rng, start.momentum);
  start.refresh_velocity(metric);
  const double h0 = start.hamiltonian();
  const double log_half = std::log(0.5);
  auto log_acceptance = [&](double eps) {
    moved = start;  // same sizes: copies without allocating
    leapfrog(density, metric, eps, moved);
    const double log_a = h0 - moved.hamiltonian();
    return std::isnan(log_a) ? -std::numeric_limits<double>::infinity() : log_a;
  };
  const bool grow = log_acceptance(step_size) > log_half;
  for (;;) {
    step_size = grow ? 2 * step_size : 0.5 * step_size;
    if (step_size > 1e300 || step_size < 1e-300) {
      std::ostringstream s;
      s << "find_reasonable_step_size: one leapfrog step's acceptance stays " << (grow ? "above" : "below")
        << " 0.5 for every step size up to " << (grow ? "1e300" : "down to 1e-300") << " (log density "
        << state.log_density << " at the state); the density is "
        << (grow ? "flat (improper?)" : "not finite or not smooth near the state");
      throw NumericalError(s.str());
    }
    if ((log_acceptance(step_size) > log_half) != grow) return step_size;
  }
}

}  // namespace vaelib::mcmc
