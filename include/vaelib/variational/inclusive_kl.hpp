#pragma once
// klpq(model, observed, variational, axis): the inclusive divergence KL(p(z|x) || q(z|x)),
// minimised over q by importance sampling with q itself as the proposal: the "wake" update
// of reweighted wake-sleep (Bornschein & Bengio, 2015),
//
//   grad_phi KL(p || q) ~= -sum_j w~_j grad_phi log q(z_j),   w~ = normalised p(x, z_j) / q(z_j)
//
// The samples are held fixed, so it works for discrete latents. importance() returns the
// surrogate cost per example; with train_model it also carries the model's wake update
// (-sum_j w~_j log p(x, z_j), the importance-weighted bound's model gradient).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/neg.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/variational/detail/particles.hpp"
#include "vaelib/variational/latents.hpp"

namespace vaelib {

struct ImportanceOptions {
  /// Also include the model's wake-phase term (its gradient is the IW bound's for the model).
  bool train_model = false;
};

template <class T>
class InclusiveKLObjective {
 public:
  InclusiveKLObjective(const MetaBayesianNet<T>& model, Observations<T> observed, VariationalLatents<T> q,
                       std::ptrdiff_t axis)
      : m_model(model), m_observed(std::move(observed)), m_q(std::move(q)), m_axis(axis) {}

  /// The surrogate cost per example: -sum_j detach(w~_j) log q(z_j) [- sum_j detach(w~_j) log p(x, z_j)].
  Var<T> importance(ImportanceOptions options = {}) {
    const std::vector<Var<T>> values = m_q.detached_values();
    BayesianNet<T> bn = m_q.observe_model(m_model, m_observed, values);
    const Var<T> log_q = m_q.log_q_total(values, LogQ::live);
    const Var<T> log_joint = bn.log_joint();
    const Var<T> log_w = log_joint - log_q;
    const std::size_t ax = detail::particle_axis("klpq", m_axis, log_w.shape());
    Tape<T>& tape = log_w.tape();
    const Var<T> weights = detail::constant_buffer(tape, "importance_weights", log_w.shape());
    detail::normalized_weights(log_w.data(), tape.value_ptr(weights), detail::axis_view(log_w.shape(), ax));
    const Var<T> target = options.train_model ? log_q + log_joint : log_q;
    return -sum(weights * target, {static_cast<std::ptrdiff_t>(ax)});
  }

 private:
  MetaBayesianNet<T> m_model;  // a handle: a temporary bound model (model(n, k)) stays alive
  Observations<T> m_observed;
  VariationalLatents<T> m_q;
  std::ptrdiff_t m_axis;
};

/// The inclusive KL objective of q against the posterior of `model` given `observed`.
template <class T>
InclusiveKLObjective<T> klpq(const MetaBayesianNet<T>& model, Observations<T> observed,
                             const BayesianNet<T>& variational, std::ptrdiff_t axis) {
  return InclusiveKLObjective<T>(model, std::move(observed), VariationalLatents<T>("klpq", variational), axis);
}
/// q must outlive the objective: no temporaries.
template <class T>
InclusiveKLObjective<T> klpq(const MetaBayesianNet<T>&, Observations<T>, BayesianNet<T>&&, std::ptrdiff_t) = delete;
template <class T>
InclusiveKLObjective<T> klpq(const MetaBayesianNet<T>& model, Observations<T> observed,
                             const LatentSamples<T>& variational, std::ptrdiff_t axis) {
  return InclusiveKLObjective<T>(model, std::move(observed), VariationalLatents<T>("klpq", variational), axis);
}

}  // namespace vaelib
