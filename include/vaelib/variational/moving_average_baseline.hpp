#pragma once
// MovingAverageBaseline: the running mean of REINFORCE's learning signal, subtracted from it
// to cut the estimator's variance (seed 004, eq. 23: any c(x) leaves the gradient unbiased).
// It lives across training steps, so the caller owns it and hands it to each reinforce().
//
// The value used at a step is the average of the *earlier* steps' signals: it does not
// depend on this step's samples, so the estimator stays exactly unbiased. The average is
// zero-debiased (divided by 1 - decay^steps) so the first steps are not pulled towards 0.

#include <cmath>
#include <cstdint>
#include <string>

#include "vaelib/error.hpp"

namespace vaelib {

class MovingAverageBaseline {
 public:
  explicit MovingAverageBaseline(double decay = 0.8) : m_decay(decay) {
    if (!(decay >= 0.0 && decay < 1.0)) {
      throw ArgumentError("MovingAverageBaseline: decay must be in [0, 1), got " + std::to_string(decay));
    }
  }

  /// The baseline for the next step: the debiased average of the signals seen (0 before any).
  double value() const noexcept {
    if (m_updates == 0) return 0.0;
    return m_average / (1.0 - std::pow(m_decay, static_cast<double>(m_updates)));
  }

  /// Folds in one step's mean signal (a non-finite mean is refused: it would poison every
  /// later step).
  void update(double mean_signal) {
    if (!std::isfinite(mean_signal)) {
      throw ArgumentError("MovingAverageBaseline: the learning signal's mean is " + std::to_string(mean_signal) +
                          " (a NaN or infinite log-probability in the model or the variational posterior)");
    }
    m_average = m_decay * m_average + (1.0 - m_decay) * mean_signal;
    ++m_updates;
  }

  double decay() const noexcept { return m_decay; }
  std::uint64_t updates() const noexcept { return m_updates; }

  /// The raw state, to save and restore with a checkpoint (resuming must continue exactly).
  double raw_average() const noexcept { return m_average; }
  void restore(double raw_average, std::uint64_t updates) noexcept {
    m_average = raw_average;
    m_updates = updates;
  }

 private:
  double m_decay;
  double m_average = 0.0;
  std::uint64_t m_updates = 0;
};

}  // namespace vaelib
