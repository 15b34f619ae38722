#pragma once
// Nuts: the No-U-Turn Sampler as Stan runs it today (Hoffman & Gelman 2014; Betancourt 2017,
// "A Conceptual Introduction to Hamiltonian Monte Carlo", appendix A).
//
// From the current point with a fresh momentum p ~ N(0, M), the trajectory doubles: each
// doubling picks forward or backward at random and integrates a new subtree of 2^depth leapfrog
// steps from that end. Every point z of the trajectory has weight exp(H0 - H(z)); the draw is
// taken from the trajectory in proportion to these weights (multinomial sampling), in two ways:
//  - inside a subtree, as its halves are joined, the second half's pick replaces the first's with
//    probability w_second / (w_first + w_second) (uniform progressive sampling);
//  - when a subtree joins the trajectory, its pick replaces the current draw with probability
//    min(1, w_subtree / w_old) (biased progressive sampling, which favours moving far).
// Doubling stops at the maximum depth, at a divergence (H - H0 above the threshold, or not
// finite), or when the trajectory turns back on itself. The turn is judged by the generalised
// criterion on the summed momenta rho of a span with end velocities v- and v+ (v = M^{-1} p):
// the span is still unfolding while v-.rho > 0 and v+.rho > 0. It is checked for every joined
// pair of subtrees, and (since Stan 2.22/2.23) also for each half extended by the first point of
// the other, which catches turns that fall across the boundary between two subtrees.
//
// accept_stat is the mean of min(1, exp(H0 - H(z))) over the trajectory's new points (what dual
// averaging drives to its target), and energy is H at the draw.
//
// The kernel owns every buffer it needs (the trajectory's ends, the point being integrated, one
// pair of subtree summaries per depth): they are sized at the first transition, and a transition
// allocates nothing after that. Copying a Nuts gives an independent kernel (one per chain).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "vaelib/error.hpp"
#include "vaelib/mcmc/chain_state.hpp"
#include "vaelib/mcmc/leapfrog.hpp"
#include "vaelib/mcmc/log_density.hpp"
#include "vaelib/mcmc/metric.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::mcmc {

struct NutsOptions {
  double step_size = 1.0;          // eps (adaptation starts from it)
  int max_tree_depth = 10;         // at most 2^max_tree_depth - 1 leapfrog steps per transition
  double max_energy_error = 1000;  // H - H0 above this (or not finite) is a divergence
  Metric metric{};                 // the unit diagonal unless given
};

class Nuts {
 public:
  static constexpr int largest_tree_depth = 30;

  explicit Nuts(NutsOptions options = {}) : m_options(std::move(options)) {
    detail::check_step_size("Nuts", m_options.step_size);
    if (m_options.max_tree_depth < 1 || m_options.max_tree_depth > largest_tree_depth) {
      std::ostringstream s;
      s << "Nuts: max_tree_depth = " << m_options.max_tree_depth << "; it must be in [1, " << largest_tree_depth << "]";
      throw ArgumentError(s.str());
    }
    detail::check_max_energy_error("Nuts", m_options.max_energy_error);
  }

  double step_size() const noexcept { return m_options.step_size; }
  void set_step_size(double step_size) {
    detail::check_step_size("Nuts::set_step_size", step_size);
    m_options.step_size = step_size;
  }
  Metric& metric() noexcept { return m_options.metric; }
  const Metric& metric() const noexcept { return m_options.metric; }
  const NutsOptions& options() const noexcept { return m_options; }

  /// One transition from `state` (replaced by the draw).
  template <LogDensity D>
  TransitionInfo transition(D& density, ChainState& state, Rng& rng) {
    const std::size_t d = density.dimension();
    detail::check_state_dimension("Nuts::transition", d, state);
    m_options.metric.ensure_dimension(d, "Nuts::transition");
    resize(d);
    const double eps = m_options.step_size;

    m_frontier.set_position(state);
    m_options.metric.sample_momentum(rng, m_frontier.momentum);
    m_frontier.refresh_velocity(m_options.metric);
    m_initial_energy = m_frontier.hamiltonian();
    m_ends[0] = m_frontier;  // same sizes: copies without allocating
    m_ends[1] = m_frontier;
    std::copy(m_frontier.momentum.begin(), m_frontier.momentum.end(), m_rho.begin());
    std::copy(state.position.begin(), state.position.end(), m_draw_position.begin());
    std::copy(state.gradient.begin(), state.gradient.end(), m_draw_gradient.begin());
    m_draw_log_density = state.log_density;
    m_draw_energy = m_initial_energy;
    double log_weight = 0;  // of the whole trajectory, relative to exp(-H0)
    m_n_leapfrog = 0;
    m_sum_accept = 0;
    m_divergent = false;

    int depth = 0;
    while (depth < m_options.max_tree_depth) {
      const int forward = rng.uniform<double>() < 0.5 ? 0 : 1;
      PhasePoint& near = m_ends[forward];
      const PhasePoint& far = m_ends[1 - forward];
      m_frontier = near;
      if (!build(density, depth, forward ? eps : -eps, m_subtree, rng)) break;
      ++depth;

      if (m_subtree.log_weight > log_weight || rng.uniform<double>() < std::exp(m_subtree.log_weight - log_weight))
        take_draw(m_subtree);
      log_weight = log_sum_exp(log_weight, m_subtree.log_weight);

      const Subtree& s = m_subtree;
      const bool unfolding = no_u_turn(far.velocity, s.v_outer, m_rho, s.rho) &&
                             no_u_turn(far.velocity, s.v_inner, m_rho, s.p_inner) &&
                             no_u_turn(near.velocity, s.v_outer, s.rho, near.momentum);
      for (std::size_t i = 0; i < d; ++i) m_rho[i] += s.rho[i];
      std::swap(near, m_frontier);  // the frontier stopped at the trajectory's new end
      if (!unfolding) break;
    }

    std::copy(m_draw_position.begin(), m_draw_position.end(), state.position.begin());
    std::copy(m_draw_gradient.begin(), m_draw_gradient.end(), state.gradient.begin());
    state.log_density = m_draw_log_density;

    TransitionInfo info;
    info.accept_stat = m_n_leapfrog > 0 ? m_sum_accept / m_n_leapfrog : 0.0;
    info.divergent = m_divergent;
    info.tree_depth = depth;
    info.n_leapfrog = m_n_leapfrog;
    info.energy = m_draw_energy;
    info.step_size = eps;
    return info;
  }

 private:
  /// What the joins need to know of a built subtree. "Inner" is its end next to the trajectory
  /// it extends, "outer" the end it stopped at.
  struct Subtree {
    std::vector<double> p_inner, v_inner, p_outer, v_outer;
    std::vector<double> rho;  // sum of its momenta
    std::vector<double> draw_position, draw_gradient;
    double draw_log_density = 0, draw_energy = 0;
    double log_weight = 0;  // log of the sum of its weights exp(H0 - H)

    void resize(std::size_t d) {
      for (auto* v : {&p_inner, &v_inner, &p_outer, &v_outer, &rho, &draw_position, &draw_gradient}) v->resize(d);
    }
  };

  void resize(std::size_t d) {
    if (m_dimension == d && m_levels.size() == static_cast<std::size_t>(m_options.max_tree_depth)) return;
    m_dimension = d;
    m_frontier.resize(d);
    m_ends[0].resize(d);
    m_ends[1].resize(d);
    m_rho.resize(d);
    m_draw_position.resize(d);
    m_draw_gradient.resize(d);
    m_subtree.resize(d);
    m_levels.resize(static_cast<std::size_t>(m_options.max_tree_depth));
    for (auto& pair : m_levels) {
      pair.first.resize(d);
      pair.second.resize(d);
    }
  }

  static double log_sum_exp(double a, double b) {
    if (a == -std::numeric_limits<double>::infinity()) return b;
    if (b == -std::numeric_limits<double>::infinity()) return a;
    const double m = std::max(a, b);
    return m + std::log1p(std::exp(-std::abs(a - b)));
  }

  /// The criterion on a span with end velocities v_a, v_b and summed momenta rho + extra.
  static bool no_u_turn(const std::vector<double>& v_a, const std::vector<double>& v_b, const std::vector<double>& rho,
                        const std::vector<double>& extra) {
    double a = 0, b = 0;
    for (std::size_t i = 0; i < rho.size(); ++i) {
      const double r = rho[i] + extra[i];
      a += v_a[i] * r;
      b += v_b[i] * r;
    }
    return a > 0 && b > 0;
  }

  void take_draw(Subtree& s) {
    m_draw_position.swap(s.draw_position);
    m_draw_gradient.swap(s.draw_gradient);
    m_draw_log_density = s.draw_log_density;
    m_draw_energy = s.draw_energy;
  }

  /// Integrates 2^depth leapfrog steps of size `step` (signed) from m_frontier, summarising them
  /// in `out`. False when the subtree diverged or turned back on itself: the caller then stops
  /// doubling and the subtree's points are not used.
  template <LogDensity D>
  bool build(D& density, int depth, double step, Subtree& out, Rng& rng) {
    if (depth == 0) return leaf(density, step, out);
    auto& [first, second] = m_levels[static_cast<std::size_t>(depth - 1)];
    if (!build(density, depth - 1, step, first, rng)) return false;
    if (!build(density, depth - 1, step, second, rng)) return false;

    const double log_weight = log_sum_exp(first.log_weight, second.log_weight);
    const bool unfolding = no_u_turn(first.v_inner, second.v_outer, first.rho, second.rho) &&
                           no_u_turn(first.v_inner, second.v_inner, first.rho, second.p_inner) &&
                           no_u_turn(first.v_outer, second.v_outer, second.rho, first.p_outer);
    Subtree& pick = rng.uniform<double>() < std::exp(second.log_weight - log_weight) ? second : first;
    out.draw_position.swap(pick.draw_position);
    out.draw_gradient.swap(pick.draw_gradient);
    out.draw_log_density = pick.draw_log_density;
    out.draw_energy = pick.draw_energy;
    for (std::size_t i = 0; i < out.rho.size(); ++i) out.rho[i] = first.rho[i] + second.rho[i];
    out.p_inner.swap(first.p_inner);
    out.v_inner.swap(first.v_inner);
    out.p_outer.swap(second.p_outer);
    out.v_outer.swap(second.v_outer);
    out.log_weight = log_weight;
    return unfolding;
  }

  template <LogDensity D>
  bool leaf(D& density, double step, Subtree& out) {
    leapfrog(density, m_options.metric, step, m_frontier);
    ++m_n_leapfrog;
    double energy = m_frontier.hamiltonian();  // NaN is already +inf
    if (!std::isfinite(energy)) energy = std::numeric_limits<double>::infinity();
    const double log_ratio = m_initial_energy - energy;
    const bool diverged = -log_ratio > m_options.max_energy_error;
    m_divergent = m_divergent || diverged;
    m_sum_accept += log_ratio > 0 ? 1.0 : std::exp(log_ratio);
    out.log_weight = log_ratio;
    std::copy(m_frontier.position.begin(), m_frontier.position.end(), out.draw_position.begin());
    std::copy(m_frontier.gradient.begin(), m_frontier.gradient.end(), out.draw_gradient.begin());
    out.draw_log_density = m_frontier.log_density;
    out.draw_energy = energy;
    std::copy(m_frontier.momentum.begin(), m_frontier.momentum.end(), out.p_inner.begin());
    std::copy(m_frontier.momentum.begin(), m_frontier.momentum.end(), out.p_outer.begin());
    std::copy(m_frontier.momentum.begin(), m_frontier.momentum.end(), out.rho.begin());
    std::copy(m_frontier.velocity.begin(), m_frontier.velocity.end(), out.v_inner.begin());
    std::copy(m_frontier.velocity.begin(), m_frontier.velocity.end(), out.v_outer.begin());
    return !diverged;
  }

  NutsOptions m_options;
  std::size_t m_dimension = 0;
  PhasePoint m_frontier;      // the point being integrated
  PhasePoint m_ends[2];       // the trajectory's backward [0] and forward [1] ends
  std::vector<double> m_rho;  // summed momenta of the whole trajectory
  std::vector<double> m_draw_position, m_draw_gradient;
  double m_draw_log_density = 0, m_draw_energy = 0;
  Subtree m_subtree;                                  // the subtree a doubling adds
  std::vector<std::pair<Subtree, Subtree>> m_levels;  // the halves joined at each depth
  double m_initial_energy = 0;
  int m_n_leapfrog = 0;
  double m_sum_accept = 0;
  bool m_divergent = false;
};

}  // namespace vaelib::mcmc
