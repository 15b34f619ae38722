#pragma once
// StochasticGradientSampler: the base of SGLD, PSGLD, SGHMC and SGNHT (zs.sgmcmc's samplers).
// Like an optimiser it moves the parameters of a ParameterStore in place from the gradients a
// backward pass left there, the gradients of a cost: here the negative log joint of the model,
// its likelihood scaled by N/|B| on a minibatch of |B| out of N observations
// (StochasticOptions::scale). Each step adds Gaussian noise from the sampler's own Rng, so a
// run is reproducible from its seed; after the first step with a given set of parameters a
// step allocates nothing.
//
//   optim-style:   tape.backward(cost); sampler.step_and_zero_grad();
//   in one call:   sampler.step(tape, cost);
//
// The samplers keep ZhuSuan's parameterisation: learning_rate is eta (SGLD's step size, or
// eps^2 for the momentum methods, whose momentum v is eps * p). See docs/mcmc.md
// ("Stochastic-gradient MCMC").

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/detail/buffer.hpp"
#include "vaelib/error.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/optim/schedule.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::mcmc {

namespace detail {

/// A number as a message shows it: 1e-06 rather than std::to_string's 0.000001.
inline std::string sgmcmc_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

/// "SGHMC: friction must be > 0, got -1"
inline void sgmcmc_require(bool ok, std::string_view who, std::string_view what, double value) {
  if (!ok) throw ArgumentError(std::string(who) + ": " + std::string(what) + ", got " + sgmcmc_number(value));
}

}  // namespace detail

/// What one step's updates share.
template <class T>
struct SgmcmcStepContext {
  T learning_rate;             // eta of this step (the schedule's value at `step`)
  std::uint64_t step;          // steps completed before this one (ZhuSuan's t): 0 for the first
  double next_learning_rate;   // eta of the following step (for momentum drawn for it)
};

template <class T>
class StochasticGradientSampler {
 public:
  /// `who` names the sampler in messages; `slot_names` its per-element state (momentum, ...).
  StochasticGradientSampler(ParameterStore<T>& params, Rng rng, std::string_view who,
                            std::vector<std::string> slot_names, double learning_rate, optim::Schedule schedule)
      : m_params(params),
        m_rng(rng),
        m_who(who),
        m_slot_names(std::move(slot_names)),
        m_learning_rate(learning_rate),
        m_schedule(std::move(schedule)) {
    if (!m_schedule) {
      detail::sgmcmc_require(learning_rate > 0 && std::isfinite(learning_rate), m_who,
                             "learning_rate must be finite and > 0 (it has no default: it sets the step size)",
                             learning_rate);
    }
  }
  virtual ~StochasticGradientSampler() = default;
  StochasticGradientSampler(const StochasticGradientSampler&) = delete;
  StochasticGradientSampler& operator=(const StochasticGradientSampler&) = delete;

  /// One transition of every parameter from its current gradient (of the negative log joint).
  void step() { apply(false); }

  /// step(), zeroing each gradient once its update has read it: the next backward needs no
  /// zero_grad() before it.
  void step_and_zero_grad() { apply(true); }

  /// tape.backward(negative_log_joint), then step_and_zero_grad(): `negative_log_joint` is a
  /// scalar cost, as an optimiser's minimize takes.
  void step(Tape<T>& tape, const Var<T>& negative_log_joint) {
    tape.backward(negative_log_joint);
    apply(true);
  }

  /// The learning rate (eta) the next step will use.
  double learning_rate() const { return learning_rate_at(m_steps); }
  std::uint64_t steps() const noexcept { return m_steps; }

  virtual std::string_view name() const = 0;
  const std::vector<std::string>& slot_names() const noexcept { return m_slot_names; }
  /// State slot `slot_index` (e.g. SGHMC's "momentum") of parameter `p`: p.size elements.
  T* slot(std::size_t slot_index, const Parameter<T>& p) {
    ensure_state();
    if (slot_index >= m_slot_names.size()) {
      throw ArgumentError(m_who + "::slot: slot " + std::to_string(slot_index) + " does not exist (the sampler has " +
                          std::to_string(m_slot_names.size()) + ")");
    }
    return m_state.at(p.block).at(slot_index).data() + p.offset;
  }
  /// The noise generator (its state() is what a checkpoint keeps).
  Rng& rng() noexcept { return m_rng; }
  ParameterStore<T>& parameters() noexcept { return m_params; }

 protected:
  /// The number of standard normals per element the step needs (each sampler draws one; a
  /// momentum method draws a second on steps where it resamples its momentum).
  virtual std::size_t normals_per_element(const SgmcmcStepContext<T>& c) const {
    (void)c;
    return 1;
  }
  /// Sets the state of a parameter this sampler has not moved before (its slots are zero):
  /// momentum drawn from its stationary law, say, from `normals` (p.size of them).
  virtual void start_parameter(T* values, T* const* slots, const T* normals, std::size_t n,
                               const SgmcmcStepContext<T>& c) {
    (void)values, (void)slots, (void)normals, (void)n, (void)c;
  }
  /// Whether start_parameter needs normals.
  virtual bool starts_with_normals() const { return false; }
  /// Called once before the step's updates.
  virtual void begin_step(const SgmcmcStepContext<T>& c) { (void)c; }
  /// One parameter's transition: its values, the gradients of the negative log joint, its
  /// state slots and normals_per_element() * n standard normals (the first n, then the next).
  virtual void update(T* values, const T* grads, T* const* slots, const T* normals, std::size_t n,
                      const SgmcmcStepContext<T>& c) = 0;

  const std::string& who() const noexcept { return m_who; }

  double learning_rate_at(std::uint64_t step) const { return m_schedule ? m_schedule(step) : m_learning_rate; }

 private:
  double checked_learning_rate(std::uint64_t step) const {
    const double lr = learning_rate_at(step);
    if (!(lr > 0) || !std::isfinite(lr)) {
      throw ArgumentError(m_who + ": the schedule gave the learning rate " + detail::sgmcmc_number(lr) + " at step " +
                          std::to_string(step) + " (expected a finite number > 0)");
    }
    return lr;
  }

  void apply(bool zero_after) {
    ensure_state();
    // Both rates are checked before anything moves: a bad schedule leaves the chain as it was.
    const double lr = checked_learning_rate(m_steps);
    const SgmcmcStepContext<T> c{static_cast<T>(lr), m_steps, checked_learning_rate(m_steps + 1)};
    const std::size_t k = normals_per_element(c);
    begin_step(c);
    std::size_t index = 0;
    for (const auto& p : m_params) {
      T* slots[max_slots] = {};
      for (std::size_t s = 0; s < m_slot_names.size(); ++s) slots[s] = m_state[p->block][s].data() + p->offset;
      if (p->size == 0) {
        ++index;
        continue;
      }
      if (index++ >= m_started) {  // parameters are listed in creation order: new ones come last
        T* normals = m_normals.ensure(p->size);
        if (starts_with_normals()) m_rng.fill_normal(std::span<T>(normals, p->size));
        start_parameter(p->value, slots, normals, p->size, c);
      }
      T* normals = m_normals.ensure(k * p->size);
      m_rng.fill_normal(std::span<T>(normals, k * p->size));
      update(p->value, p->grad, slots, normals, p->size, c);
      if (zero_after) std::fill_n(p->grad, p->size, T(0));
    }
    m_started = index;
    ++m_steps;
  }

  /// State blocks mirror parameter blocks (a parameter's state sits at its offset); new
  /// blocks get zeroed state.
  void ensure_state() {
    const auto blocks = m_params.blocks();
    while (m_state.size() < blocks.size()) {
      const std::size_t capacity = blocks[m_state.size()]->capacity;
      std::vector<vaelib::detail::Buffer<T>> slots(m_slot_names.size());
      for (auto& s : slots) std::fill_n(s.ensure(capacity), capacity, T(0));
      m_state.push_back(std::move(slots));
    }
  }

  static constexpr std::size_t max_slots = 4;

  ParameterStore<T>& m_params;
  Rng m_rng;
  std::string m_who;
  std::vector<std::string> m_slot_names;
  double m_learning_rate;
  optim::Schedule m_schedule;
  std::vector<std::vector<vaelib::detail::Buffer<T>>> m_state;
  vaelib::detail::Buffer<T> m_normals;
  std::uint64_t m_steps = 0;
  std::size_t m_started = 0;  // parameters whose state start_parameter has set
};


/// What SGHMC and SGNHT share: a momentum v (in ZhuSuan's units, v = eps * p with eta = eps^2,
/// so v ~ N(0, eta) at equilibrium) drawn from that law when a parameter is first moved and
/// again every n_iter_resample_v steps, the first- or second-order integrator's drift, and the
/// kinetic temperature mean(v^2) / eta of the last step.
///
/// With the second-order integrator (Chen et al. 2015) ZhuSuan's step is: q1 = q + v/2, the
/// gradient at q1, v updated, q = q1 + v/2. The gradient is taken half a drift past the
/// position, and a sampler that reads gradients a backward pass has left can only take them
/// at the point the parameters hold. So the parameters hold q1, the point the next gradient
/// is taken at: one step moves them by q1' = q1 + v/2 + v'/2, where v' is v or, on a step
/// that resamples, the fresh momentum the next step starts from. The chain of q1 is ZhuSuan's
/// chain seen half a drift later (q = q1 - v/2, v in the "momentum" slot); both have the
/// target as their stationary law up to the integrator's error.
template <class T>
class MomentumSampler : public StochasticGradientSampler<T> {
 public:
  /// mean(v^2) / eta over every element after the last step's dynamics (before any
  /// resampling): the kinetic temperature, 1 at equilibrium (ZhuSuan's mean_k over eta).
  double temperature() const noexcept { return m_temperature; }

 protected:
  MomentumSampler(ParameterStore<T>& params, Rng rng, std::string_view who, std::vector<std::string> slot_names,
                  double learning_rate, optim::Schedule schedule, std::uint64_t n_iter_resample_v, bool second_order)
      : StochasticGradientSampler<T>(params, rng, who, std::move(slot_names), learning_rate, std::move(schedule)),
        m_n_iter_resample_v(n_iter_resample_v),
        m_second_order(second_order) {}

  /// ZhuSuan resamples before the updates of steps t = 0, n, 2n, ...: the first-order
  /// integrator does so at the start of such a step; the second-order one at the end of the
  /// step before, since the gradient point q + v/2 depends on it (step 0's draw is the
  /// initial momentum).
  bool resamples_now(const SgmcmcStepContext<T>& c) const {
    return !m_second_order && m_n_iter_resample_v > 0 && c.step % m_n_iter_resample_v == 0;
  }
  bool resamples_next(const SgmcmcStepContext<T>& c) const {
    return m_second_order && m_n_iter_resample_v > 0 && (c.step + 1) % m_n_iter_resample_v == 0;
  }
  std::size_t normals_per_element(const SgmcmcStepContext<T>& c) const override {
    return resamples_now(c) || resamples_next(c) ? 2 : 1;
  }

  bool starts_with_normals() const override { return true; }
  void start_parameter(T*, T* const* slots, const T* normals, std::size_t n, const SgmcmcStepContext<T>& c) override {
    const T sd = std::sqrt(c.learning_rate);
    for (std::size_t i = 0; i < n; ++i) slots[0][i] = sd * normals[i];
  }

  void begin_step(const SgmcmcStepContext<T>& c) override {
    m_sum_v2 = 0;
    m_count = 0;
    m_eta = c.learning_rate;
  }

  /// Before the dynamics of a first-order step: the momentum afresh on a resampling step,
  /// from the second block of normals.
  void maybe_resample_before(T* v, const T* normals, std::size_t n, const SgmcmcStepContext<T>& c) const {
    if (!resamples_now(c)) return;
    const T sd = std::sqrt(c.learning_rate);
    for (std::size_t i = 0; i < n; ++i) v[i] = sd * normals[n + i];
  }

  /// After the momentum update: the drift (theta += v, or the second-order half drifts
  /// around a resampling), counting v^2 for temperature().
  void drift(T* theta, T* v, const T* normals, std::size_t n, const SgmcmcStepContext<T>& c) {
    double sum = 0;
    if (!m_second_order) {
      for (std::size_t i = 0; i < n; ++i) {
        theta[i] += v[i];
        sum += static_cast<double>(v[i]) * v[i];
      }
    } else if (!resamples_next(c)) {
      for (std::size_t i = 0; i < n; ++i) {
        theta[i] += v[i];
        sum += static_cast<double>(v[i]) * v[i];
      }
    } else {
      const T sd = static_cast<T>(std::sqrt(c.next_learning_rate));
      for (std::size_t i = 0; i < n; ++i) {
        sum += static_cast<double>(v[i]) * v[i];
        const T fresh = sd * normals[n + i];
        theta[i] += T(0.5) * (v[i] + fresh);
        v[i] = fresh;
      }
    }
    m_sum_v2 += sum;
    m_count += n;
    m_temperature = m_sum_v2 / (static_cast<double>(m_count) * static_cast<double>(m_eta));
  }

  bool second_order() const noexcept { return m_second_order; }

 private:
  std::uint64_t m_n_iter_resample_v;
  bool m_second_order;
  double m_sum_v2 = 0;
  std::size_t m_count = 0;
  T m_eta = 1;
  double m_temperature = 0;
};

}  // namespace vaelib::mcmc
