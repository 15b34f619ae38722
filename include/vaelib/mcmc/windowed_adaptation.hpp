#pragma once
// WindowedAdaptation: Stan's warm-up. The step size is adapted by dual averaging at every
// warm-up iteration; the metric is estimated from the positions visited in "slow" windows that
// double in length, between a fast initial buffer (the chain is still finding the typical set,
// its positions would bias the estimate) and a fast terminal buffer (the step size settles for
// the final metric):
//
//   warm-up 1000:  75 | 25 | 50 | 100 | 200 | 500 | 50
//                 init   slow windows (the last one   term
//                        stretched to the buffer)
//
// At the end of each slow window the metric becomes the regularised estimate
// (n / (n + 5)) Sigma_hat + 1e-3 (5 / (n + 5)) I (diagonal: the variances only), the step size is
// re-initialised by the heuristic and dual averaging restarts. After the last warm-up iteration
// the step size is dual averaging's averaged one.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <utility>
#include <vector>

#include "vaelib/error.hpp"
#include "vaelib/mcmc/chain_state.hpp"
#include "vaelib/mcmc/log_density.hpp"
#include "vaelib/mcmc/metric.hpp"
#include "vaelib/mcmc/step_size_adaptation.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::mcmc {

struct AdaptationOptions {
  bool adapt_step_size = true;
  bool adapt_metric = true;  // estimates the kind of metric the kernel has (diagonal or dense)
  DualAveragingOptions dual_averaging{};
  std::size_t init_buffer = 75;  // fast: step size only
  std::size_t term_buffer = 50;  // fast: step size only, for the final metric
  std::size_t base_window = 25;  // the first slow window; each next one doubles
};

/// Where the slow windows of a warm-up fall: window k covers iterations
/// [k == 0 ? init_buffer : window_ends[k - 1], window_ends[k]).
struct WarmupSchedule {
  std::size_t num_warmup = 0;
  std::size_t init_buffer = 0;
  std::size_t term_buffer = 0;
  std::vector<std::size_t> window_ends;  // empty: the metric is not adapted

  /// Stan's rule. A warm-up too short for init_buffer + base_window + term_buffer gets 15% / 75% /
  /// 10% of its iterations (one slow window); one under 20 iterations adapts no metric. Each next
  /// window doubles, and one that would leave too little room for the window after it (less than
  /// twice its own size) is stretched to the terminal buffer. Unlike Stan, the first window is
  /// stretched by the same rule: Stan's warm-up of 151 ends with a window of one draw, whose
  /// "variance" would set the metric to 1e-3.
  static WarmupSchedule make(std::size_t num_warmup, std::size_t init_buffer = 75, std::size_t term_buffer = 50,
                             std::size_t base_window = 25) {
    if (base_window == 0) throw ArgumentError("WarmupSchedule: base_window = 0; it must be >= 1");
    WarmupSchedule s;
    s.num_warmup = num_warmup;
    if (num_warmup < 20) {
      s.init_buffer = num_warmup;
      return s;
    }
    if (init_buffer + base_window + term_buffer > num_warmup) {
      init_buffer = static_cast<std::size_t>(0.15 * static_cast<double>(num_warmup));
      term_buffer = static_cast<std::size_t>(0.1 * static_cast<double>(num_warmup));
      base_window = num_warmup - init_buffer - term_buffer;
    }
    s.init_buffer = init_buffer;
    s.term_buffer = term_buffer;
    const std::size_t slow_end = num_warmup - term_buffer;
    for (std::size_t begin = init_buffer, size = base_window; begin < slow_end;
         begin = s.window_ends.back(), size *= 2) {
      std::size_t end = begin + size;
      if (end + 2 * size > slow_end) end = slow_end;
      s.window_ends.push_back(end);
    }
    return s;
  }
};

class WindowedAdaptation {
 public:
  WindowedAdaptation(std::size_t num_warmup, AdaptationOptions options = {})
      : m_options(options),
        m_schedule(WarmupSchedule::make(num_warmup, options.init_buffer, options.term_buffer, options.base_window)),
        m_dual_averaging(options.dual_averaging) {
    if (!options.adapt_metric) m_schedule.window_ends.clear();
  }

  const WarmupSchedule& schedule() const noexcept { return m_schedule; }
  const AdaptationOptions& options() const noexcept { return m_options; }
  const DualAveraging& dual_averaging() const noexcept { return m_dual_averaging; }
  /// learn() calls so far.
  std::size_t iteration() const noexcept { return m_iteration; }
  bool finished() const noexcept { return m_iteration >= m_schedule.num_warmup; }

  /// Before the first warm-up transition: sizes the metric and the estimators, and (when the
  /// step size is adapted) replaces `step_size` by the heuristic's from it and starts dual
  /// averaging there.
  template <LogDensity D>
  void start(D& density, const ChainState& state, Metric& metric, double& step_size, Rng& rng) {
    const std::size_t d = density.dimension();
    detail::check_state_dimension("WindowedAdaptation::start", d, state);
    metric.ensure_dimension(d, "WindowedAdaptation::start");
    m_dimension = d;
    m_count = 0;
    m_mean.assign(d, 0.0);
    m_delta.assign(d, 0.0);
    m_dense = metric.is_dense();
    m_squares.assign(m_dense ? d * d : d, 0.0);
    m_iteration = 0;
    m_window = 0;
    if (m_options.adapt_step_size && m_schedule.num_warmup > 0) {
      step_size = find_reasonable_step_size(density, metric, state, step_size, rng);
      m_dual_averaging.restart(step_size);
    }
    m_started = true;
  }

  /// After warm-up transition number iteration() (which moved the chain to `state` and reported
  /// `info`): updates the step size, collects the position in a slow window and at a window's end
  /// sets the metric. Returns true when the metric changed. After the last warm-up iteration the
  /// step size is the dual-averaged one; calling again throws.
  template <LogDensity D>
  bool learn(D& density, const ChainState& state, const TransitionInfo& info, Metric& metric, double& step_size,
             Rng& rng) {
    if (!m_started) throw ArgumentError("WindowedAdaptation::learn: call start() before the first warm-up transition");
    if (finished()) {
      std::ostringstream s;
      s << "WindowedAdaptation::learn: called after the " << m_schedule.num_warmup << " warm-up iterations";
      throw ArgumentError(s.str());
    }
    detail::check_state_dimension("WindowedAdaptation::learn", m_dimension, state);
    if (metric.dimension() != m_dimension || metric.is_dense() != m_dense) {
      std::ostringstream s;
      s << "WindowedAdaptation::learn: the metric is " << (metric.is_dense() ? "dense" : "diagonal") << " of dimension "
        << metric.dimension() << " but start() was given a " << (m_dense ? "dense" : "diagonal") << " one of dimension "
        << m_dimension;
      throw ArgumentError(s.str());
    }
    if (m_options.adapt_step_size) step_size = m_dual_averaging.update(info.accept_stat);

    bool metric_changed = false;
    if (m_window < m_schedule.window_ends.size() && m_iteration >= m_schedule.init_buffer) {
      accumulate(state.position, m_dense);
      if (m_iteration + 1 == m_schedule.window_ends[m_window]) {
        set_metric(metric);
        ++m_window;
        metric_changed = true;
        if (m_options.adapt_step_size) {
          step_size = find_reasonable_step_size(density, metric, state, step_size, rng);
          m_dual_averaging.restart(step_size);
        }
      }
    }
    ++m_iteration;
    if (finished() && m_options.adapt_step_size) step_size = m_dual_averaging.final_step_size();
    return metric_changed;
  }

 private:
  /// Welford's update of the mean and the sum of squared deviations (or of their products).
  void accumulate(const std::vector<double>& x, bool dense) {
    const std::size_t d = m_dimension;
    ++m_count;
    const double n = static_cast<double>(m_count);
    for (std::size_t i = 0; i < d; ++i) {
      m_delta[i] = x[i] - m_mean[i];
      m_mean[i] += m_delta[i] / n;
    }
    if (!dense) {
      for (std::size_t i = 0; i < d; ++i) m_squares[i] += m_delta[i] * (x[i] - m_mean[i]);
      return;
    }
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) m_squares[i * d + j] += m_delta[i] * (x[j] - m_mean[j]);
  }

  /// Sets the regularised estimate and empties the estimators for the next window.
  void set_metric(Metric& metric) {
    const std::size_t d = m_dimension;
    const double n = static_cast<double>(m_count);
    const double shrink = n / (n + 5.0), ridge = 1e-3 * 5.0 / (n + 5.0);
    const double denominator = n > 1 ? n - 1 : 1.0;
    if (!metric.is_dense()) {
      std::vector<double> variance(d);
      for (std::size_t i = 0; i < d; ++i) variance[i] = shrink * m_squares[i] / denominator + ridge;
      metric.set_diagonal(std::move(variance));
    } else {
      std::vector<double> covariance(d * d);
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) {
          // The products are accumulated in both orders; their mean is exactly symmetric.
          const double c = 0.5 * (m_squares[i * d + j] + m_squares[j * d + i]) / denominator;
          covariance[i * d + j] = shrink * c + (i == j ? ridge : 0.0);
        }
      metric.set_dense(std::move(covariance), d);
    }
    m_count = 0;
    std::fill(m_mean.begin(), m_mean.end(), 0.0);
    std::fill(m_squares.begin(), m_squares.end(), 0.0);
  }

  AdaptationOptions m_options;
  WarmupSchedule m_schedule;
  DualAveraging m_dual_averaging;
  bool m_started = false;
  std::size_t m_iteration = 0;
  std::size_t m_window = 0;  // the slow window being filled
  std::size_t m_dimension = 0;
  bool m_dense = false;           // the kind of metric start() was given
  std::size_t m_count = 0;        // positions in the current window
  std::vector<double> m_mean;     // their running mean
  std::vector<double> m_delta;    // scratch: x - old mean
  std::vector<double> m_squares;  // sum of squared deviations (d) or of their products (d * d)
};

}  // namespace vaelib::mcmc
