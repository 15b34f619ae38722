#pragma once
// Optimizer: the base of SGD, Adam and Adamax. It owns per-parameter state laid out exactly
// like the ParameterStore's blocks, so an update is one vectorised pass per block over
// values, gradients and state together. Shared features: a learning-rate schedule, L2
// weight decay, and clipping of the global gradient norm.

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
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

/// Refuses an infinite or NaN hyperparameter: "optimizer: learning_rate must be finite, got inf".
inline void require_finite(const char* who, const char* name, double value) {
  if (!std::isfinite(value)) {
    throw ArgumentError(std::string(who) + ": " + name + " must be finite, got " + std::to_string(value));
  }
}

template <class T>
class Optimizer {
 public:
  Optimizer(ParameterStore<T>& params, std::vector<std::string> slot_names, CommonOptions common)
      : m_params(params), m_slot_names(std::move(slot_names)), m_common(std::move(common)) {
    if (!(m_common.learning_rate >= 0)) throw ArgumentError("optimizer: learning_rate must be >= 0");
    if (!(m_common.weight_decay >= 0)) throw ArgumentError("optimizer: weight_decay must be >= 0");
    if (!(m_common.clip_norm >= 0)) throw ArgumentError("optimizer: clip_norm must be >= 0 (0 turns clipping off)");
    require_finite("optimizer", "learning_rate", m_common.learning_rate);
    require_finite("optimizer", "weight_decay", m_common.weight_decay);
    require_finite("optimizer", "clip_norm", m_common.clip_norm);
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

  /// A whole training step from a recorded cost: tape.backward(cost) with each parameter
  /// updated (and its gradient zeroed) as soon as the sweep has finished its gradient
  /// (Tape::backward's callback), while that gradient and the parameter are still in cache,
  /// rather than in a pass over everything after the sweep. Parameters the sweep did not
  /// reach are updated after it. The parameters and state come out exactly as from
  /// tape.backward(cost); step_and_zero_grad(); last_gradient_norm() agrees up to rounding
  /// (it is summed in another order). Nodes that alias a parameter's memory show its updated
  /// value afterwards. With gradient clipping (the global norm must be known before the
  /// first update) or the tape's anomaly mode (every gradient is checked before any
  /// parameter changes) it runs exactly those two calls.
  void minimize(Tape<T>& tape, const Var<T>& cost) {
    if (m_common.clip_norm > 0 || tape.detecting_anomaly()) {
      tape.backward(cost);
      apply(true);
      return;
    }
    RangedStep ranged = begin_ranged_step();
    tape.backward(cost, [&](T* grad, std::size_t size) { ranged.update(grad, size); });
    ranged.finish();
  }

  /// A step whose parameters are updated stretch by stretch in an order the caller chooses:
  /// minimize() updates each inside the sweep; data-parallel training does where a stretch is updated once
  /// its averaged gradient has arrived (distributed::DataParallel). update(grad, size) updates
  /// and zeroes the parameters whose gradient memory is [grad, grad + size) (memory outside the
  /// store is not this optimiser's and is left alone); finish() updates every element no
  /// update() reached (parameters the cost does not depend on, padding) and records the
  /// gradient norm. The step is counted at the first update, so a step abandoned before any
  /// (the tape refused the cost) leaves the optimiser as it was. No gradient clipping: its
  /// global norm must be known before the first update (use step() for it).
  class RangedStep {
   public:
    explicit RangedStep(Optimizer& o) : m_o(o) {
      m_o.ensure_state();
      m_o.m_updated.clear();
    }
    void update(T* grad, std::size_t size) {
      const auto blocks = m_o.m_params.blocks();
      const std::less<const T*> before;
      for (std::size_t b = 0; b < blocks.size(); ++b) {
        T* const grads = blocks[b]->grads.data();
        if (before(grad, grads) || !before(grad, grads + blocks[b]->used)) continue;
        const auto begin = static_cast<std::size_t>(grad - grads);
        const std::size_t end = std::min(begin + size, blocks[b]->used);
        m_sum += m_o.update_range(b, begin, end, context(), true);
        m_o.m_updated.push_back({b, begin, end});
        return;
      }
    }
    void finish() {
      const UpdateContext<T>& ctx = context();
      auto& updated = m_o.m_updated;
      std::sort(updated.begin(), updated.end());
      auto done = updated.begin();
      const auto blocks = m_o.m_params.blocks();
      for (std::size_t b = 0; b < blocks.size(); ++b) {
        std::size_t from = 0;
        for (; done != updated.end() && done->block == b; ++done) {
          if (from < done->begin) m_sum += m_o.update_range(b, from, done->begin, ctx, true);
          from = std::max(from, done->end);
        }
        if (from < blocks[b]->used) m_sum += m_o.update_range(b, from, blocks[b]->used, ctx, true);
      }
      m_o.m_last_norm = std::sqrt(m_sum);
    }

   private:
    const UpdateContext<T>& context() {
      if (!m_begun) m_begun = m_o.begin_update(1.0);
      return *m_begun;
    }
    Optimizer& m_o;
    std::optional<UpdateContext<T>> m_begun;
    double m_sum = 0;
  };
  /// Starts a RangedStep (refused with gradient clipping on).
  RangedStep begin_ranged_step() {
    if (m_common.clip_norm > 0) {
      throw ArgumentError("optimizer: a step updated range by range cannot clip the gradient norm (clip_norm = " +
                          std::to_string(m_common.clip_norm) + "): the norm must be known before the first update");
    }
    return RangedStep(*this);
  }
  /// Whether the global gradient norm is clipped (a step must then see every gradient first).
  bool clips_gradient_norm() const noexcept { return m_common.clip_norm > 0; }

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
    const bool clipping = m_common.clip_norm > 0;
    double scale = 1.0;
    if (clipping) {
      m_last_norm = gradient_norm();
      if (m_last_norm > m_common.clip_norm) scale = m_common.clip_norm / (m_last_norm + 1e-6);
    }
    const UpdateContext<T> ctx = begin_update(scale);
    const auto blocks = m_params.blocks();
    double sum = 0;
    for (std::size_t b = 0; b < blocks.size(); ++b) sum += update_range(b, 0, blocks[b]->used, ctx, zero_after);
    if (!clipping) m_last_norm = std::sqrt(sum);
  }

  /// Counts the step and computes what its updates share.
  UpdateContext<T> begin_update(double gradient_scale) {
    const double lr = learning_rate();
    if (!(lr >= 0) || !std::isfinite(lr)) {  // a schedule's value, checked before anything changes
      throw ArgumentError("optimizer: the schedule gave the learning rate " + std::to_string(lr) + " at step " +
                          std::to_string(m_steps) + " (expected a finite number >= 0)");
    }
    ++m_steps;
    const UpdateContext<T> ctx{static_cast<T>(lr), static_cast<T>(gradient_scale), static_cast<T>(m_common.weight_decay),
                               m_steps};
    begin_step(ctx);
    return ctx;
  }

  /// Updates elements [begin, end) of block b (and zeroes their gradients if asked), chunk
  /// by chunk on the BLAS threads; returns the gradients' sum of squares.
  double update_range(std::size_t b, std::size_t begin, std::size_t end, const UpdateContext<T>& ctx, bool zero_after) {
    T* values = m_params.blocks()[b]->values.data() + begin;
    T* grads = m_params.blocks()[b]->grads.data() + begin;
    return detail::simd::sum_of_squares_then(end - begin, grads, [&](std::size_t from, std::size_t to) {
      T* slots[max_slots] = {};
      for (std::size_t s = 0; s < m_slot_names.size(); ++s) slots[s] = m_state[b][s].data() + begin + from;
      update(values + from, grads + from, slots, to - from, ctx);
      if (zero_after) std::fill(grads + from, grads + to, T(0));
    });
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
  struct UpdatedRange {
    std::size_t block, begin, end;
    auto operator<=>(const UpdatedRange&) const = default;
  };
  std::vector<UpdatedRange> m_updated;  // minimize()'s record of what the sweep updated
};

}  // namespace vaelib::optim
