#pragma once
// Optimizer: the base of SGD, Adam and Adamax. It owns per-parameter state laid out exactly
// like the ParameterStore's blocks, so an update is one vectorised pass per block over
// values, gradients and state together. Shared features: a learning-rate schedule, L2
// weight decay, and clipping of the global gradient norm.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/detail/simd.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/optim/schedule.hpp"

namespace vaelib::optim {

/// The options every optimiser has (each optimiser's options struct repeats them).
struct CommonOptions {
  double learning_rate = 1e-3;
  Schedule schedule = {};        // if set, overrides learning_rate
  double weight_decay = 0;       // L2: adds weight_decay * value to the gradient
  double clip_norm = 0;          // > 0: scale gradients so their global L2 norm is at most this
};

/// What one update needs besides the arrays.
template <class T>
struct UpdateContext {
  T learning_rate;
  T gradient_scale;  // from clipping; 1 when off
  T weight_decay;
  std::uint64_t step;  // 1 for the first update (bias corrections)
};

template <class T>
class Optimizer {
 public:
  Optimizer(ParameterStore<T>& params, std::vector<std::string> slot_names, CommonOptions common)
      : m_params(params), m_slot_names(std::move(slot_names)), m_common(std::move(common)) {
    if (!(m_common.learning_rate >= 0)) throw ArgumentError("optimizer: learning_rate must be >= 0");
    if (!(m_common.weight_decay >= 0)) throw ArgumentError("optimizer: weight_decay must be >= 0");
    if (!(m_common.clip_norm >= 0)) throw ArgumentError("optimizer: clip_norm must be >= 0 (0 turns clipping off)");
  }
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Applies one update to every parameter from its current gradient.
  void step() { apply(false); }

  /// step(), zeroing each gradient in the same pass right after its update reads it (while
  /// it is in cache): a training loop that ends each iteration with this needs no
  /// zero_grad() before its next backward. The gradients read as zeros afterwards.
  void step_and_zero_grad() { apply(true); }

  /// Zeroes every parameter's gradient (ParameterStore::zero_grad).
  void zero_grad() { m_params.zero_grad(); }

  /// The learning rate the next step will use.
  double learning_rate() const { return m_common.schedule ? m_common.schedule(m_steps) : m_common.learning_rate; }
  std::uint64_t steps() const noexcept { return m_steps; }
  void set_steps(std::uint64_t steps) noexcept { m_steps = steps; }
  /// The global gradient norm seen by the last step (before clipping).
  double last_gradient_norm() const noexcept { return m_last_norm; }

  virtual std::string_view name() const = 0;
  const std::vector<std::string>& slot_names() const noexcept { return m_slot_names; }
  /// State slot `slot` (e.g. Adam's "m") of parameter `p`: p.size elements.
  T* slot(std::size_t slot_index, const Parameter<T>& p) {
    ensure_state();
    return m_state.at(p.block).at(slot_index).data() + p.offset;
  }
  ParameterStore<T>& parameters() noexcept { return m_params; }

 protected:
  static constexpr std::size_t max_slots = 4;

  /// Called once before a step's update passes, to compute what every element shares
  /// (bias corrections, ...): update() runs on several threads and only reads it.
  virtual void begin_step(const UpdateContext<T>& ctx) { (void)ctx; }

  /// One pass over n elements of a block: values, gradients and the state slots. Runs on
  /// the BLAS's threads, each on its own elements.
  virtual void update(T* values, const T* grads, T* const* slots, std::size_t n, const UpdateContext<T>& ctx) = 0;

 private:
  double gradient_norm() const {
    double sum = 0;
    for (const auto& b : m_params.blocks()) sum += detail::simd::sum_of_squares(b->used, b->grads.data());
    return std::sqrt(sum);
  }

  /// One pass over every block: the gradient's sum of squares and the update chunk by
  /// chunk (and zeroing, if asked). With clipping the norm must be known first, so it takes
  /// a pass of its own.
  void apply(bool zero_after) {
    ensure_state();
    const double lr = learning_rate();
    const bool clipping = m_common.clip_norm > 0;
    double scale = 1.0;
    if (clipping) {
      m_last_norm = gradient_norm();
      if (m_last_norm > m_common.clip_norm) scale = m_common.clip_norm / (m_last_norm + 1e-6);
    }
    ++m_steps;
    const UpdateContext<T> ctx{static_cast<T>(lr), static_cast<T>(scale), static_cast<T>(m_common.weight_decay), m_steps};
    begin_step(ctx);
    const auto blocks = m_params.blocks();
    double sum = 0;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      T* values = blocks[b]->values.data();
      T* grads = blocks[b]->grads.data();
      sum += detail::simd::sum_of_squares_then(blocks[b]->used, grads, [&](std::size_t begin, std::size_t end) {
        T* slots[max_slots] = {};
        for (std::size_t s = 0; s < m_slot_names.size(); ++s) slots[s] = m_state[b][s].data() + begin;
        update(values + begin, grads + begin, slots, end - begin, ctx);
        if (zero_after) std::fill(grads + begin, grads + end, T(0));
      });
    }
    if (!clipping) m_last_norm = std::sqrt(sum);
  }

  /// State blocks mirror parameter blocks; new blocks get zeroed state.
  void ensure_state() {
    const auto blocks = m_params.blocks();
    while (m_state.size() < blocks.size()) {
      const std::size_t capacity = blocks[m_state.size()]->capacity;
      std::vector<detail::Buffer<T>> slots(m_slot_names.size());
      for (auto& s : slots) std::fill_n(s.ensure(capacity), capacity, T(0));
      m_state.push_back(std::move(slots));
    }
  }

  ParameterStore<T>& m_params;
  std::vector<std::string> m_slot_names;
  CommonOptions m_common;
  std::vector<std::vector<detail::Buffer<T>>> m_state;
  std::uint64_t m_steps = 0;
  double m_last_norm = 0;
};

}  // namespace vaelib::optim
