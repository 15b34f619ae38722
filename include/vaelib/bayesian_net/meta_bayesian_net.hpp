#pragma once
// MetaBayesianNet: a model-building function that makes a new BayesianNet for each set of
// observations (ZhuSuan's meta_bayesian_net with reuse_variables=True). Parameters are
// reused because the builder gets them by name through the net's scope.
//
//   auto model = meta_bayesian_net(tape, rng, params.scope("gen"), [&](BayesianNet<float>& bn) {
//     auto z = bn.normal("z", zeros, 1.0f, {.group_ndims = 1, .n_samples = k});
//     auto h = dense(bn.scope(), "h1", z, 500, {.activation = Activation::relu});
//     bn.bernoulli("x", dense(bn.scope(), "logits", h, 784), {.group_ndims = 1});
//   });
//   BayesianNet<float> generated = model.observe();
//   BayesianNet<float> conditioned = model.observe({{"x", x}, {"z", z}});

#include <functional>
#include <utility>

#include "vaelib/bayesian_net/bayesian_net.hpp"

namespace vaelib {

template <class T>
class MetaBayesianNet {
 public:
  using Builder = std::function<void(BayesianNet<T>&)>;

  MetaBayesianNet(Tape<T>& tape, Rng& rng, ParameterScope<T> scope, Builder builder)
      : m_tape(&tape), m_rng(&rng), m_scope(std::move(scope)), m_builder(std::move(builder)) {
    if (!m_builder) throw ArgumentError("MetaBayesianNet: no model-building function given");
  }

  /// Runs the builder with these observations and returns the net. Every observation must
  /// name a stochastic node of the model (ArgumentError otherwise).
  BayesianNet<T> observe(Observations<T> observed = {}) const {
    BayesianNet<T> bn(*m_tape, *m_rng, std::move(observed), m_scope);
    m_builder(bn);
    bn.check_observations_used();
    if (m_log_joint) bn.set_log_joint(m_log_joint);
    return bn;
  }

  /// Replaces log_joint() of every net this makes (e.g. to add a term, or to weight one).
  void set_log_joint(typename BayesianNet<T>::LogJoint f) { m_log_joint = std::move(f); }

  Tape<T>& tape() const noexcept { return *m_tape; }
  Rng& rng() const noexcept { return *m_rng; }
  const ParameterScope<T>& scope() const noexcept { return m_scope; }

 private:
  Tape<T>* m_tape;
  Rng* m_rng;
  ParameterScope<T> m_scope;
  Builder m_builder;
  typename BayesianNet<T>::LogJoint m_log_joint;
};

/// Deduces T from the tape: meta_bayesian_net(tape, rng, params.scope("gen"), builder).
template <class T, class F>
MetaBayesianNet<T> meta_bayesian_net(Tape<T>& tape, Rng& rng, ParameterScope<T> scope, F&& builder) {
  return MetaBayesianNet<T>(tape, rng, std::move(scope), std::forward<F>(builder));
}

}  // namespace vaelib
