#pragma once
// Learning-rate schedules: functions of the number of steps already taken.

#include <cmath>
#include <cstdint>
#include <functional>

#include "vaelib/error.hpp"

namespace vaelib::optim {

/// learning rate for the update after `step` completed steps (0 for the first update)
using Schedule = std::function<double(std::uint64_t step)>;

inline Schedule constant_schedule(double learning_rate) {
  return [learning_rate](std::uint64_t) { return learning_rate; };
}

/// lr * gamma^floor(step / every): multiply by gamma every `every` steps.
inline Schedule step_schedule(double learning_rate, double gamma, std::uint64_t every) {
  if (every == 0) throw ArgumentError("step_schedule: 'every' must be at least 1 step");
  return [=](std::uint64_t step) { return learning_rate * std::pow(gamma, static_cast<double>(step / every)); };
}

/// lr * rate^(step / decay_steps), continuous, or stepwise when `staircase`.
inline Schedule exponential_schedule(double learning_rate, double rate, std::uint64_t decay_steps,
                                     bool staircase = false) {
  if (decay_steps == 0) throw ArgumentError("exponential_schedule: 'decay_steps' must be at least 1");
  return [=](std::uint64_t step) {
    const double exponent = staircase ? static_cast<double>(step / decay_steps)
                                      : static_cast<double>(step) / static_cast<double>(decay_steps);
    return learning_rate * std::pow(rate, exponent);
  };
}

}  // namespace vaelib::optim
