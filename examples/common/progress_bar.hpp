#pragma once
// A one-line progress bar on stderr for training loops: steps done, steps per second and a
// running metric. Redrawn at most ten times a second, and only when stderr is a terminal
// (logs and ctest output stay clean).

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace vaelib::examples {

class ProgressBar {
 public:
  ProgressBar(std::size_t total, std::string metric_name, bool enabled = true)
      : m_total(total), m_metric_name(std::move(metric_name)), m_enabled(enabled && ::isatty(2)),
        m_start(std::chrono::steady_clock::now()), m_last_draw(m_start) {}

  /// Records that `done` of the steps are finished, with the running value of the metric.
  void update(std::size_t done, double metric) {
    if (!m_enabled) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < m_total && now - m_last_draw < std::chrono::milliseconds(100)) return;
    m_last_draw = now;
    const double seconds = std::chrono::duration<double>(now - m_start).count();
    const std::size_t width = 30, filled = m_total ? done * width / m_total : width;
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r[%s] %zu/%zu  %.1f steps/s  %s %.2f ", bar.c_str(), done, m_total,
                 seconds > 0 ? static_cast<double>(done) / seconds : 0.0, m_metric_name.c_str(), metric);
    std::fflush(stderr);
  }

  /// Clears the line (before the epoch summary is printed).
  void finish() {
    if (!m_enabled) return;
    std::fprintf(stderr, "\r%80s\r", "");
    std::fflush(stderr);
  }

 private:
  std::size_t m_total;
  std::string m_metric_name;
  bool m_enabled;
  std::chrono::steady_clock::time_point m_start, m_last_draw;
};

/// One bar over several MCMC chains running at once: mcmc::SampleOptions::progress reports a
/// chain's iterations; the bar counts every chain's, and shows how many chains have finished.
class ChainsProgress {
 public:
  ChainsProgress(std::size_t chains, std::size_t iterations_per_chain, bool enabled = true)
      : m_bar(chains * iterations_per_chain, "chains finished", enabled), m_done(chains, 0) {}

  /// The callback for SampleOptions::progress (sample() serialises its calls).
  auto callback() {
    return [this](std::size_t chain, std::size_t done, std::size_t total) {
      m_done[chain] = done;
      std::size_t all = 0, finished = 0;
      for (std::size_t d : m_done) {
        all += d;
        finished += d == total ? 1 : 0;
      }
      m_bar.update(all, static_cast<double>(finished));
    };
  }
  void finish() { m_bar.finish(); }

 private:
  ProgressBar m_bar;
  std::vector<std::size_t> m_done;
};

}  // namespace vaelib::examples
