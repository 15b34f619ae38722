#pragma once
// importance_weighted_objective(model, observed, variational, axis) (alias iw_objective):
// the importance-weighted bound of Burda et al. (IWAE) over the k particles on `axis`,
//
//   L_k(x) = E[log (1/k) sum_j w_j],  w_j = p(x, z_j) / q(z_j | x),  L_1 = ELBO <= L_k <= log p(x)
//
// and its gradient estimators, as surrogate costs per example:
//
//   sgvb()   reparameterised (IWAE): -L_k with differentiable samples
//   vimco()  score function with VIMCO's leave-one-out baselines (discrete latents; k >= 2)
//   dreg()   doubly reparameterised (Tucker et al. 2018): q's gradient through the samples
//            only, weighted by w~_j^2, which removes the high-variance score term
//
// See docs/variational.md for the formulas and when to use which.

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/autodiff/ops/detach.hpp"
#include "vaelib/autodiff/ops/logsumexp.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/scale_gradient.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/variational/detail/particles.hpp"
#include "vaelib/variational/latents.hpp"

namespace vaelib {

template <class T>
class ImportanceWeightedObjective {
 public:
  ImportanceWeightedObjective(const MetaBayesianNet<T>& model, Observations<T> observed, VariationalLatents<T> q,
                              std::ptrdiff_t axis)
      : m_model(model), m_observed(std::move(observed)), m_q(std::move(q)), m_axis(axis) {}

  /// The bound per example: logsumexp over the particles of log w, minus log k.
  Var<T> value() {
    if (!m_evaluation) m_evaluation.emplace(evaluate(m_q.all_reparameterized() ? Mode::reparameterized : Mode::score));
    return bound(*m_evaluation);
  }

  /// The model net built on q's samples.
  const BayesianNet<T>& model_net() {
    value();
    return m_evaluation->model;
  }

  /// IWAE's surrogate cost, per example: -L_k, every latent reparameterised.
  Var<T> sgvb() {
    m_q.require_reparameterized("iw_objective.sgvb");
    return -bound(evaluation(Mode::reparameterized));
  }

  /// VIMCO's surrogate cost, per example: -(L_k + sum_j detach(L_k - L_{-j}) log q(z_j)),
  /// with the samples held fixed. Needs at least 2 particles.
  Var<T> vimco() {
    const Evaluation& e = evaluation(Mode::score);
    if (e.k < 2) {
      throw ArgumentError("iw_objective.vimco: needs at least 2 particles on axis " + std::to_string(m_axis) +
                          " (the leave-one-out baseline of one particle is undefined); the log-weights have shape " +
                          to_string(e.log_w.shape()));
    }
    Tape<T>& tape = e.log_w.tape();
    const Var<T> signals = detail::constant_buffer(tape, "vimco_signals", e.log_w.shape());
    detail::leave_one_out_signals(e.log_w.data(), tape.value_ptr(signals), detail::axis_view(e.log_w.shape(), e.ax));
    const Var<T> score = sum(signals * *e.log_q, {static_cast<std::ptrdiff_t>(e.ax)});
    return -(bound(e) + score);
  }

  /// The doubly reparameterised surrogate cost, per example. Its gradient is IWAE's for the
  /// model's parameters and sum_j w~_j^2 d log w_j / d z_j * d z_j / d phi for q's (with
  /// w~ the normalised weights and log q's own parameter path cut).
  Var<T> dreg() {
    m_q.require_reparameterized("iw_objective.dreg");
    m_q.require_distributions("iw_objective.dreg", "DReG re-evaluates log q with q's parameters detached");
    return -evaluation(Mode::doubly_reparameterized).dreg_surrogate;
  }

 private:
  enum class Mode { reparameterized, score, doubly_reparameterized };

  struct Evaluation {
    Mode mode;
    BayesianNet<T> model;
    Var<T> log_w;                       // per particle
    std::optional<Var<T>> log_q;        // score mode: log q live at the detached samples
    Var<T> dreg_surrogate;              // dreg mode: sum_j detach(w~_j) log w_j, samples scaled
    std::size_t ax = 0;                 // the particle axis of log_w
    std::size_t k = 0;
  };

  Evaluation& evaluation(Mode mode) {
    if (!m_evaluation || m_evaluation->mode != mode) m_evaluation.emplace(evaluate(mode));
    return *m_evaluation;
  }

  Var<T> bound(const Evaluation& e) const {
    return logsumexp(e.log_w, static_cast<std::ptrdiff_t>(e.ax)) - static_cast<T>(std::log(static_cast<double>(e.k)));
  }

  Evaluation evaluate(Mode mode) const {
    const auto& latents = m_q.latents();
    if (mode != Mode::doubly_reparameterized) {
      const std::vector<Var<T>> values = mode == Mode::score ? m_q.detached_values() : m_q.values();
      BayesianNet<T> bn = m_q.observe_model(m_model, m_observed, values);
      std::optional<Var<T>> log_q;
      if (mode == Mode::score) log_q = m_q.log_q_total(values, LogQ::live);
      const Var<T> log_w = bn.log_joint() - (log_q ? *log_q : m_q.log_q_total(values, LogQ::as_scored));
      const std::size_t ax = detail::particle_axis("iw_objective", m_axis, log_w.shape());
      return {mode, std::move(bn), log_w, log_q, Var<T>(), ax, log_w.shape()[ax]};
    }
    // DReG: the per-particle weights w~ scale the gradient reaching each sample; they are
    // known only once the model has been evaluated on the samples, so the scale node is made
    // first and filled in afterwards (scale_gradient reads it during backward).
    Shape particle_shape;
    for (const Latent<T>& l : latents) particle_shape = broadcast_shapes("iw_objective.dreg", particle_shape, l.log_q.shape());
    Tape<T>& tape = latents.front().value.tape();
    const Var<T> weights = detail::constant_buffer(tape, "importance_weights", particle_shape);
    std::fill_n(tape.value_ptr(weights), weights.size(), T(1));
    std::vector<Var<T>> scaled;
    for (const Latent<T>& l : latents) {
      try {
        scaled.push_back(scale_gradient(l.value, weights));
      } catch (const ShapeError&) {
        throw ShapeError("iw_objective.dreg: latent '" + l.name + "' has shape " + to_string(l.value.shape()) +
                         ", which does not start with the per-particle shape " + to_string(particle_shape));
      }
    }
    BayesianNet<T> bn = m_q.observe_model(m_model, m_observed, scaled);
    const Var<T> log_w = bn.log_joint() - m_q.log_q_total(scaled, LogQ::detached);
    if (log_w.shape() != particle_shape) {
      throw ShapeError("iw_objective.dreg: the log-weights have shape " + to_string(log_w.shape()) +
                       " but q's log-probabilities have " + to_string(particle_shape));
    }
    const std::size_t ax = detail::particle_axis("iw_objective", m_axis, log_w.shape());
    detail::normalized_weights(log_w.data(), tape.value_ptr(weights), detail::axis_view(particle_shape, ax));
    const Var<T> surrogate = sum(weights * log_w, {static_cast<std::ptrdiff_t>(ax)});
    return {mode, std::move(bn), log_w, std::nullopt, surrogate, ax, log_w.shape()[ax]};
  }

  MetaBayesianNet<T> m_model;  // a handle: a temporary bound model (model(n, k)) stays alive
  Observations<T> m_observed;
  VariationalLatents<T> m_q;
  std::ptrdiff_t m_axis;
  std::optional<Evaluation> m_evaluation;
};

/// The importance-weighted bound of `model` given `observed`, q's k particles on `axis`.
template <class T>
ImportanceWeightedObjective<T> importance_weighted_objective(const MetaBayesianNet<T>& model, Observations<T> observed,
                                                             const BayesianNet<T>& variational, std::ptrdiff_t axis) {
  return ImportanceWeightedObjective<T>(model, std::move(observed),
                                        VariationalLatents<T>("iw_objective", variational), axis);
}
/// q must outlive the objective (its estimators read q's distributions): no temporaries.
template <class T>
ImportanceWeightedObjective<T> importance_weighted_objective(const MetaBayesianNet<T>&, Observations<T>, BayesianNet<T>&&,
                                                             std::ptrdiff_t) = delete;
template <class T>
ImportanceWeightedObjective<T> importance_weighted_objective(const MetaBayesianNet<T>& model, Observations<T> observed,
                                                             const LatentSamples<T>& variational, std::ptrdiff_t axis) {
  return ImportanceWeightedObjective<T>(model, std::move(observed),
                                        VariationalLatents<T>("iw_objective", variational), axis);
}

/// ZhuSuan's short name.
template <class T, class Q>
ImportanceWeightedObjective<T> iw_objective(const MetaBayesianNet<T>& model, Observations<T> observed, Q&& variational,
                                            std::ptrdiff_t axis) {
  return importance_weighted_objective(model, std::move(observed), std::forward<Q>(variational), axis);
}

}  // namespace vaelib
