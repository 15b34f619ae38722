#pragma once
// sample(): several Markov chains at once, each on its own thread with its own density, its
// own copy of the kernel and its own Rng stream, all reproducible from one seed (chain c's
// stream is Rng(seed).stream("chain c"), whatever the number of threads). Each chain runs
// run_chain (warm-up with adaptation, then the draws) and its draws are reported in the
// density's natural quantities where it has them (ModelDensity: the latents on their
// supports, Stan's names), else as the coordinates q[1], q[2], ...
//
//   auto samples = mcmc::sample([&] { return mcmc::ModelDensity<double>(model, data); },
//                               mcmc::Nuts(), {.chains = 4, .warmup = 1000, .draws = 1000, .seed = 1});
//   std::cout << samples.summary();          // mean, sd, quantiles, MCSE, ESS, R-hat
//   io::write_draws_csv("draws.csv", samples);
//
// make_density() is called once per chain, on that chain's thread, and returns the density by
// value (a prvalue: ModelDensity needs neither copy nor move).

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "vaelib/error.hpp"
#include "vaelib/mcmc/diagnostics.hpp"
#include "vaelib/mcmc/run_chain.hpp"
#include "vaelib/mcmc/summary.hpp"

namespace vaelib::mcmc {

struct SampleOptions {
  std::size_t chains = 4;
  std::size_t warmup = 1000;
  std::size_t draws = 1000;
  std::size_t thin = 1;
  std::uint64_t seed = 0;
  /// Random initial points: each coordinate uniform in (-init_radius, init_radius) on the
  /// reals (Stan's default), retried up to 100 times until the log density and its gradient
  /// are finite there.
  double init_radius = 2.0;
  /// Chosen initial points on the reals, one per chain (empty: random ones).
  std::vector<std::vector<double>> inits{};
  AdaptationOptions adaptation{};
  /// Chains run at once (0: all of them, at most the hardware's threads).
  std::size_t threads = 0;
  /// Called from the chains' threads after each iteration: chain, iterations done, total.
  /// Calls are serialised (a progress bar needs no lock of its own).
  std::function<void(std::size_t chain, std::size_t done, std::size_t total)> progress{};
};

/// The draws of every chain, in the density's natural quantities.
struct Samples {
  std::vector<std::string> names;                  // one per quantity
  std::size_t n_chains = 0;
  std::size_t n_draws = 0;                         // per chain (after thinning)
  std::vector<double> values;                      // chains x draws x quantities, row-major
  std::vector<double> log_density;                 // chains x draws: lp__ (on the reals, Jacobians included)
  std::vector<std::vector<TransitionInfo>> info;   // [chain][draw]
  std::vector<double> step_sizes;                  // per chain, after warm-up
  std::vector<Metric> metrics;                     // per chain, after warm-up

  std::size_t n_quantities() const noexcept { return names.size(); }
  double operator()(std::size_t chain, std::size_t draw, std::size_t quantity) const {
    return values[(chain * n_draws + draw) * names.size() + quantity];
  }
  DrawsArrayView view() const { return {values, n_chains, n_draws, names.size()}; }
  /// Stan's summary table of every quantity (mean, sd, 5/50/95%, MCSE, bulk/tail ESS, R-hat).
  Summary summary() const { return summarize(view(), names); }
  /// Divergent transitions after warm-up, over all chains.
  std::size_t divergences() const {
    std::size_t n = 0;
    for (const auto& chain : info)
      for (const TransitionInfo& t : chain) n += t.divergent ? 1 : 0;
    return n;
  }
  /// E-BFMI of each chain (below 0.3: the momentum resampling explores the energy poorly).
  std::vector<double> ebfmi_per_chain() const {
    std::vector<double> out;
    for (const auto& chain : info) {
      std::vector<double> energies;
      for (const TransitionInfo& t : chain) energies.push_back(t.energy);
      out.push_back(ebfmi(energies));
    }
    return out;
  }
};

namespace detail {

template <class D>
concept ReportsQuantities = requires(D& d, std::span<const double> u) {
  { d.quantity_names() } -> std::convertible_to<std::vector<std::string>>;
  { d.quantities(u) } -> std::convertible_to<std::vector<double>>;
};

template <class D>
concept HasInitialPoint = requires(const D& d, Rng& rng, double r) {
  { d.initial_point(rng, r) } -> std::convertible_to<std::vector<double>>;
};

// A random starting point where the density and its gradient are finite, as Stan looks for.
template <class D>
ChainState random_chain_state(D& density, Rng& rng, double radius, std::size_t chain) {
  std::string last;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::vector<double> u;
    if constexpr (HasInitialPoint<D>) {
      u = density.initial_point(rng, radius);
    } else {
      u.resize(density.dimension());
      for (double& x : u) x = rng.uniform<double>(-radius, radius);
    }
    try {
      return make_chain_state(density, std::move(u));
    } catch (const ArgumentError& e) {
      last = e.what();
    }
  }
  throw ArgumentError("mcmc::sample: chain " + std::to_string(chain) +
                      " found no initial point with a finite log density and gradient in 100 tries, uniform in (-" +
                      std::to_string(radius) + ", " + std::to_string(radius) + ") on the reals; the last: " + last +
                      " (give SampleOptions::inits, or check the model)");
}

}  // namespace detail

template <class Factory, class Kernel>
Samples sample(Factory&& make_density, const Kernel& kernel, const SampleOptions& options) {
  using Density = std::remove_cvref_t<std::invoke_result_t<Factory&>>;
  static_assert(LogDensity<Density>, "mcmc::sample: make_density() must return a LogDensity");
  static_assert(TransitionKernel<Kernel, Density>, "mcmc::sample: the kernel must be a TransitionKernel (Hmc, Nuts)");
  if (options.chains == 0) throw ArgumentError("mcmc::sample: chains = 0; it must be at least 1");
  if (options.draws == 0) throw ArgumentError("mcmc::sample: draws = 0; it must be at least 1");
  if (options.thin == 0) throw ArgumentError("mcmc::sample: thin = 0; it must be at least 1");
  if (!(options.init_radius >= 0) || !std::isfinite(options.init_radius)) {
    throw ArgumentError("mcmc::sample: init_radius must be finite and non-negative, got " +
                        std::to_string(options.init_radius));
  }
  if (!options.inits.empty() && options.inits.size() != options.chains) {
    throw ArgumentError("mcmc::sample: " + std::to_string(options.inits.size()) + " initial points given for " +
                        std::to_string(options.chains) + " chains (give one per chain, or none)");
  }

  const std::size_t kept = (options.draws + options.thin - 1) / options.thin;
  Samples out;
  out.n_chains = options.chains;
  out.n_draws = kept;
  out.info.resize(options.chains);
  out.step_sizes.resize(options.chains);
  out.metrics.resize(options.chains);
  out.log_density.resize(options.chains * kept);
  std::vector<std::vector<double>> chain_values(options.chains);
  std::vector<std::vector<std::string>> chain_names(options.chains);

  std::mutex progress_lock;
  std::atomic<std::size_t> next_chain{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_lock;

  auto run_one = [&](std::size_t c) {
    Density density = make_density();
    Kernel chain_kernel = kernel;
    Rng rng = Rng(options.seed).stream("chain " + std::to_string(c));
    ChainState state = options.inits.empty() ? detail::random_chain_state(density, rng, options.init_radius, c)
                                             : make_chain_state(density, options.inits[c]);
    RunOptions run{options.warmup, options.draws, options.thin, options.adaptation, {}};
    if (options.progress) {
      run.progress = [&, c](std::size_t done, std::size_t total) {
        std::lock_guard<std::mutex> hold(progress_lock);
        options.progress(c, done, total);
      };
    }
    ChainResult result = run_chain(density, chain_kernel, std::move(state), run, rng);

    // Natural quantities and lp__ of each kept draw.
    const std::size_t d = result.dimension;
    std::vector<double> scratch(d);
    std::vector<double>& values = chain_values[c];
    for (std::size_t i = 0; i < result.num_draws(); ++i) {
      std::span<const double> u(result.draws.data() + i * d, d);
      out.log_density[c * kept + i] = density.log_density_and_gradient(u, scratch);
      if constexpr (detail::ReportsQuantities<Density>) {
        const std::vector<double> q = density.quantities(u);
        values.insert(values.end(), q.begin(), q.end());
      } else {
        values.insert(values.end(), u.begin(), u.end());
      }
    }
    if constexpr (detail::ReportsQuantities<Density>) {
      chain_names[c] = density.quantity_names();
    } else {
      for (std::size_t j = 0; j < d; ++j) chain_names[c].push_back("q[" + std::to_string(j + 1) + "]");
    }
    out.info[c] = std::move(result.info);
    out.step_sizes[c] = result.step_size;
    out.metrics[c] = std::move(result.metric);
  };

  auto worker = [&] {
    for (std::size_t c; !failed && (c = next_chain++) < options.chains;) {
      try {
        run_one(c);
      } catch (...) {
        std::lock_guard<std::mutex> hold(error_lock);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  std::size_t threads = options.threads;
  if (threads == 0) threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  threads = std::min(threads, options.chains);
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (std::thread& t : pool) t.join();
  }
  if (first_error) std::rethrow_exception(first_error);

  out.names = chain_names[0];
  for (std::size_t c = 0; c < options.chains; ++c) {
    if (chain_names[c] != out.names || chain_values[c].size() != kept * out.names.size()) {
      throw ArgumentError("mcmc::sample: chain " + std::to_string(c) +
                          " reports other quantities than chain 0 (the densities make_density() returns must be the same model)");
    }
    out.values.insert(out.values.end(), chain_values[c].begin(), chain_values[c].end());
  }
  return out;
}

}  // namespace vaelib::mcmc
