#pragma once
// run_chain: one Markov chain end to end, warm-up (with WindowedAdaptation) then sampling, with
// any transition kernel (Hmc, Nuts) on any LogDensity. A free function with no shared state: a
// multi-chain driver runs it once per chain, each on its own thread with its own density,
// kernel copy and Rng stream.

#include <concepts>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "vaelib/error.hpp"
#include "vaelib/mcmc/chain_state.hpp"
#include "vaelib/mcmc/log_density.hpp"
#include "vaelib/mcmc/metric.hpp"
#include "vaelib/mcmc/windowed_adaptation.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::mcmc {

/// What run_chain needs of a kernel: a transition on density D, and a step size and metric that
/// adaptation may change.
template <class K, class D>
concept TransitionKernel = LogDensity<D> && requires(K& kernel, D& density, ChainState& state, Rng& rng, double eps) {
  { kernel.transition(density, state, rng) } -> std::same_as<TransitionInfo>;
  { kernel.step_size() } -> std::convertible_to<double>;
  kernel.set_step_size(eps);
  { kernel.metric() } -> std::same_as<Metric&>;
};

struct RunOptions {
  std::size_t num_warmup = 1000;
  std::size_t num_draws = 1000;
  std::size_t thin = 1;  // keep every thin-th draw after warm-up (the first one kept)
  AdaptationOptions adaptation{};
  /// Called after every iteration (warm-up and sampling) with the iterations done and the total.
  std::function<void(std::size_t done, std::size_t total)> progress{};
};

struct ChainResult {
  std::size_t dimension = 0;
  std::vector<double> draws;                // kept draws x dimension, row-major
  std::vector<TransitionInfo> info;         // one per kept draw
  std::vector<TransitionInfo> warmup_info;  // one per warm-up iteration
  double step_size = 0;                     // the kernel's step size after warm-up
  Metric metric;                            // the kernel's metric after warm-up
  ChainState final_state;                   // where the chain ended

  std::size_t num_draws() const noexcept { return info.size(); }
  /// Draw i, coordinate j.
  double operator()(std::size_t i, std::size_t j) const { return draws[i * dimension + j]; }
};

/// Runs `options.num_warmup` warm-up transitions from `state`, adapting the kernel's step size
/// and metric as `options.adaptation` says, then `options.num_draws` transitions keeping every
/// `thin`-th. The kernel keeps the adapted step size and metric.
template <LogDensity D, class K>
requires TransitionKernel<K, D> ChainResult run_chain(D& density, K& kernel, ChainState state,
                                                      const RunOptions& options, Rng& rng) {
  const std::size_t d = density.dimension();
  detail::check_state_dimension("run_chain", d, state);
  if (options.thin == 0) throw ArgumentError("run_chain: thin = 0; it must be >= 1");
  kernel.metric().ensure_dimension(d, "run_chain");

  ChainResult result;
  result.dimension = d;
  const std::size_t kept = (options.num_draws + options.thin - 1) / options.thin;
  result.draws.reserve(kept * d);
  result.info.reserve(kept);
  result.warmup_info.reserve(options.num_warmup);
  const std::size_t total = options.num_warmup + options.num_draws;

  if (options.num_warmup > 0) {
    WindowedAdaptation adaptation(options.num_warmup, options.adaptation);
    double step_size = kernel.step_size();
    adaptation.start(density, state, kernel.metric(), step_size, rng);
    kernel.set_step_size(step_size);
    for (std::size_t i = 0; i < options.num_warmup; ++i) {
      const TransitionInfo info = kernel.transition(density, state, rng);
      result.warmup_info.push_back(info);
      adaptation.learn(density, state, info, kernel.metric(), step_size, rng);
      kernel.set_step_size(step_size);
      if (options.progress) options.progress(i + 1, total);
    }
  }
  result.step_size = kernel.step_size();
  result.metric = kernel.metric();

  for (std::size_t i = 0; i < options.num_draws; ++i) {
    const TransitionInfo info = kernel.transition(density, state, rng);
    if (i % options.thin == 0) {
      result.draws.insert(result.draws.end(), state.position.begin(), state.position.end());
      result.info.push_back(info);
    }
    if (options.progress) options.progress(options.num_warmup + i + 1, total);
  }
  result.final_state = std::move(state);
  return result;
}

}  // namespace vaelib::mcmc
