#pragma once
// The training protocol of Burda, Grosse & Salakhutdinov (2016, Importance Weighted
// Autoencoders), section 5: Adam (beta1 0.9, beta2 0.999, epsilon 1e-4) on minibatches of 20,
// for 3^i epochs at learning rate 0.001 * 10^(-i/7), i = 0 .. 7: 3280 epochs in all. The
// harness turns the rate per epoch into the optimiser's schedule over its step count, so a
// resumed run (the step is in the checkpoint) continues at the right rate.

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>

#include <vaelib/error.hpp>

namespace vaelib::examples::burda {

inline constexpr std::size_t stages = 8;            // i = 0 .. 7
inline constexpr std::size_t total_epochs = 3280;   // 3^0 + ... + 3^7
inline constexpr std::size_t batch_size = 20;
inline constexpr double adam_epsilon = 1e-4;

/// The stage i of epoch `epoch` (from 1): epochs 1, 2-4, 5-13, ... 1094-3280; epochs past the
/// schedule stay in its last stage.
inline std::size_t stage_of_epoch(std::size_t epoch) {
  if (epoch == 0) throw ArgumentError("burda::stage_of_epoch: epochs count from 1");
  std::size_t last_of_stage = 0, length = 1;
  for (std::size_t i = 0; i < stages; ++i, length *= 3) {
    last_of_stage += length;
    if (epoch <= last_of_stage) return i;
  }
  return stages - 1;
}

/// 0.001 * 10^(-i/7).
inline double learning_rate(std::size_t stage) { return 1e-3 * std::pow(10.0, -static_cast<double>(stage) / 7.0); }

/// The learning rate of epoch `epoch` (from 1).
inline double epoch_learning_rate(std::size_t epoch) { return learning_rate(stage_of_epoch(epoch)); }

/// "epoch 5: stage 2 of 0-7 (epochs 5-13), learning rate 0.000518".
inline std::string describe_epoch(std::size_t epoch) {
  const std::size_t i = stage_of_epoch(epoch);
  std::size_t first = 1, length = 1;
  for (std::size_t j = 0; j < i; ++j, length *= 3) first += length;
  char line[160];
  std::snprintf(line, sizeof line, "epoch %zu: stage %zu of 0-7 (epochs %zu-%zu), learning rate %.6g", epoch, i, first,
                first + length - 1, learning_rate(i));
  return line;
}

}  // namespace vaelib::examples::burda
