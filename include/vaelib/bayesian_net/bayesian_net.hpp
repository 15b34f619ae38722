#pragma once
// BayesianNet: a directed graphical model built by ordinary code, as in ZhuSuan. Each
// stochastic node has a name and a distribution; its value is the observation given for
// that name, or else a draw from the distribution (with an optional leading n_samples
// axis). Deterministic nodes record named values (a decoder's mean image, say).
//
//   BayesianNet<float> bn(tape, rng, {{"x", x}});
//   auto z = bn.normal("z", zeros, 1.0f, {.group_ndims = 1, .n_samples = k});
//   bn.bernoulli("x", dense(scope, "logits", z, 784), {.group_ndims = 1});
//   auto lj = bn.log_joint();        // log p(x, z), per example and sample

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/distributions.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/transforms/bijector_to.hpp"

namespace vaelib {

/// Options of a stochastic node (they become the distribution's options).
struct StochasticOptions {
  std::size_t group_ndims = 0;
  std::optional<std::size_t> n_samples = std::nullopt;  // a leading axis of this many draws
  bool use_path_derivative = false;
  /// Multiplies the node's log-probability wherever it is read (cond_log_prob, log_joint,
  /// and so the variational objectives and MCMC densities built on them): N / |B| on a
  /// likelihood evaluated on a minibatch of |B| out of N observations makes log_joint an
  /// unbiased estimate of the full-data log joint (docs/mcmc.md, "Stochastic-gradient MCMC").
  /// Finite and > 0.
  double log_prob_scale = 1;
};

/// Observed values by node name.
template <class T>
using Observations = std::map<std::string, Var<T>, std::less<>>;

template <class T>
class BayesianNet {
 public:
  /// A named node: stochastic (with a distribution) or deterministic.
  class Node {
   public:
    const std::string& name() const noexcept { return m_name; }
    bool is_stochastic() const noexcept { return m_distribution != nullptr; }
    bool is_observed() const noexcept { return m_observed; }
    /// The node's value: the observation, the draw, or the deterministic value (a lazy
    /// deterministic node computes it here, on the first read).
    Var<T> value() const {
      if (m_compute) {
        m_value = m_compute();
        m_compute = nullptr;
      }
      return m_value;
    }
    operator Var<T>() const { return value(); }  // NOLINT: a node reads as its value
    std::optional<std::size_t> n_samples() const noexcept { return m_n_samples; }

    const Distribution<T>& distribution() const {
      if (!m_distribution) throw ArgumentError("BayesianNet: node '" + m_name + "' is deterministic: it has no distribution");
      return *m_distribution;
    }
    /// The distribution as its concrete type (ArgumentError naming both types otherwise).
    template <class D>
    const D& distribution_as() const {
      const auto* d = dynamic_cast<const D*>(&distribution());
      if (d == nullptr) {
        throw ArgumentError("BayesianNet: node '" + m_name + "' follows a " + std::string(distribution().name()) +
                            " distribution, not the type asked for");
      }
      return *d;
    }
    /// A named parameter of the node's distribution ("logits", "mean", ...).
    Var<T> parameter(std::string_view parameter_name) const { return distribution().parameter(parameter_name); }
    Var<T> logits() const { return parameter("logits"); }

    /// log p(value | parents), summed over group_ndims and multiplied by the node's
    /// log_prob_scale; computed once and kept.
    Var<T> log_prob() const {
      if (!m_log_prob) {
        const Var<T> lp = distribution().log_prob(m_value);
        m_log_prob = m_log_prob_scale == 1 ? lp : lp * static_cast<T>(m_log_prob_scale);
      }
      return *m_log_prob;
    }
    /// The factor log_prob() carries (StochasticOptions::log_prob_scale; 1 by default).
    double log_prob_scale() const noexcept { return m_log_prob_scale; }

   private:
    friend class BayesianNet;
    std::string m_name;
    std::unique_ptr<Distribution<T>> m_distribution;  // null for deterministic nodes
    mutable Var<T> m_value;
    mutable std::function<Var<T>()> m_compute;  // a lazy deterministic node's value, until read
    bool m_observed = false;
    std::optional<std::size_t> m_n_samples;
    double m_log_prob_scale = 1;
    mutable std::optional<Var<T>> m_log_prob;
  };

  using LogJoint = std::function<Var<T>(BayesianNet&)>;
  /// Gives the value of a latent node as it is added, from its name and distribution, or
  /// nullopt to draw it as usual (see set_latent_values).
  using LatentValues = std::function<std::optional<Var<T>>(const std::string& name, const Distribution<T>& d)>;

  BayesianNet(Tape<T>& tape, Rng& rng, Observations<T> observed = {},
              std::optional<ParameterScope<T>> scope = std::nullopt)
      : m_tape(&tape), m_rng(&rng), m_observed(std::move(observed)), m_scope(std::move(scope)) {
    for (const auto& [name, value] : m_observed) tape.check_handle("BayesianNet observation", value);
  }

  // ---- building -----------------------------------------------------------------------------

  /// Adds a stochastic node following `distribution`; returns its value (the observation for
  /// `name` if there is one, else a draw of [n_samples] + batch_shape + value_shape). Its
  /// log-probability is multiplied by `log_prob_scale` (StochasticOptions::log_prob_scale).
  Var<T> stochastic(std::string_view name, std::unique_ptr<Distribution<T>> distribution,
                    std::optional<std::size_t> n_samples = std::nullopt, double log_prob_scale = 1) {
    if (!distribution) throw ArgumentError("BayesianNet: node '" + std::string(name) + "' has no distribution");
    if (!(log_prob_scale > 0) || !std::isfinite(log_prob_scale)) {
      std::ostringstream message;
      message << "BayesianNet: node '" << name << "': log_prob_scale must be finite and > 0, got " << log_prob_scale;
      throw ArgumentError(message.str());
    }
    Node& node = add_node(name);
    node.m_n_samples = n_samples;
    node.m_log_prob_scale = log_prob_scale;
    if (auto it = m_observed.find(name); it != m_observed.end()) {
      check_observation(name, *distribution, it->second);
      node.m_value = it->second;
      node.m_observed = true;
    } else if (std::optional<Var<T>> given = m_latent_values ? m_latent_values(node.m_name, *distribution) : std::nullopt) {
      m_tape->check_handle("BayesianNet latent value", *given);
      check_observation(name, *distribution, *given);
      node.m_value = *given;
    } else {
      node.m_value = distribution->sample(*m_rng, n_samples);
    }
    node.m_distribution = std::move(distribution);
    return node.m_value;
  }

  /// A deterministic node: records `value` under `name`.
  Var<T> deterministic(std::string_view name, const Var<T>& value) {
    m_tape->check_handle("BayesianNet::deterministic", value);
    check_not_observed(name);
    Node& node = add_node(name);
    node.m_value = value;
    return value;
  }

  /// A deterministic node whose value `compute` builds on its first read, and never if
  /// nothing reads it: for what a training step does not need, such as a likelihood's mean
  /// (the picture of a decoded z). The ops are recorded at that read, under the tape's
  /// gradient mode of the time.
  void deterministic(std::string_view name, std::function<Var<T>()> compute) {
    if (!compute) throw ArgumentError("BayesianNet: deterministic node '" + std::string(name) + "' has nothing to compute");
    check_not_observed(name);
    Node& node = add_node(name);
    node.m_compute = [tape = m_tape, compute = std::move(compute)] {
      Var<T> value = compute();
      tape->check_handle("BayesianNet::deterministic", value);
      return value;
    };
  }

  /// z ~ N(mean, std^2)
  Var<T> normal(std::string_view name, const Var<T>& mean, const Var<T>& std, StochasticOptions options = {}) {
    return stochastic(name, std::make_unique<Normal<T>>(Normal<T>::with_std(mean, std, distribution_options(options))),
                      options.n_samples, options.log_prob_scale);
  }
  Var<T> normal(std::string_view name, const Var<T>& mean, std::type_identity_t<T> std, StochasticOptions options = {}) {
    return normal(name, mean, m_tape->constant(std), options);
  }
  /// z ~ N(mean, exp(logstd)^2)
  Var<T> normal_logstd(std::string_view name, const Var<T>& mean, const Var<T>& logstd, StochasticOptions options = {}) {
    return stochastic(name,
                      std::make_unique<Normal<T>>(Normal<T>::with_logstd(mean, logstd, distribution_options(options))),
                      options.n_samples, options.log_prob_scale);
  }
  /// x ~ Bernoulli(sigmoid(logits))
  Var<T> bernoulli(std::string_view name, const Var<T>& logits, StochasticOptions options = {},
                   bool allow_relaxed_targets = false) {
    return stochastic(name,
                      std::make_unique<Bernoulli<T>>(
                          logits, BernoulliOptions{options.group_ndims, options.use_path_derivative, allow_relaxed_targets}),
                      options.n_samples, options.log_prob_scale);
  }

  /// Any distribution D built as D(args..., DistributionOptions):
  /// bn.add<Laplace<float>>("x", {.group_ndims = 1}, loc, scale).
  template <class D, class... Args>
  Var<T> add(std::string_view name, StochasticOptions options, Args&&... args) {
    return stochastic(name, std::make_unique<D>(std::forward<Args>(args)..., distribution_options(options)),
                      options.n_samples, options.log_prob_scale);
  }

  // One helper per built-in distribution (the parameters as each constructor takes them).
  Var<T> categorical(std::string_view name, const Var<T>& logits, StochasticOptions o = {}) {
    return add<Categorical<T>>(name, o, logits);
  }
  Var<T> onehot_categorical(std::string_view name, const Var<T>& logits, StochasticOptions o = {}) {
    return add<OnehotCategorical<T>>(name, o, logits);
  }
  Var<T> concrete(std::string_view name, std::type_identity_t<T> temperature, const Var<T>& logits,
                  StochasticOptions o = {}) {
    return add<Concrete<T>>(name, o, temperature, logits);
  }
  Var<T> bin_concrete(std::string_view name, std::type_identity_t<T> temperature, const Var<T>& logits,
                      StochasticOptions o = {}) {
    return add<BinConcrete<T>>(name, o, temperature, logits);
  }
  Var<T> uniform(std::string_view name, const Var<T>& low, const Var<T>& high, StochasticOptions o = {}) {
    return add<Uniform<T>>(name, o, low, high);
  }
  Var<T> laplace(std::string_view name, const Var<T>& loc, const Var<T>& scale, StochasticOptions o = {}) {
    return add<Laplace<T>>(name, o, loc, scale);
  }
  Var<T> logistic(std::string_view name, const Var<T>& loc, const Var<T>& scale, StochasticOptions o = {}) {
    return add<Logistic<T>>(name, o, loc, scale);
  }
  Var<T> poisson(std::string_view name, const Var<T>& rate, StochasticOptions o = {}) {
    return add<Poisson<T>>(name, o, rate, Poisson<T>::Scale::rate);
  }
  Var<T> gamma(std::string_view name, const Var<T>& alpha, const Var<T>& beta, StochasticOptions o = {}) {
    return add<Gamma<T>>(name, o, alpha, beta);
  }
  Var<T> beta(std::string_view name, const Var<T>& alpha, const Var<T>& beta, StochasticOptions o = {}) {
    return add<Beta<T>>(name, o, alpha, beta);
  }
  Var<T> multivariate_normal_cholesky(std::string_view name, const Var<T>& mean, const Var<T>& cov_tril,
                                      StochasticOptions o = {}) {
    return add<MultivariateNormalCholesky<T>>(name, o, mean, cov_tril);
  }
  Var<T> mixture_normal(std::string_view name, const Var<T>& logits, const Var<T>& means, const Var<T>& stds,
                        StochasticOptions o = {}) {
    return add<MixtureNormal<T>>(name, o, logits, means, stds, MixtureNormal<T>::Scale::std);
  }

  // ---- reading ------------------------------------------------------------------------------

  const Node& get(std::string_view name) const {
    auto it = m_index.find(name);
    if (it == m_index.end()) {
      throw ArgumentError("BayesianNet: no node named '" + std::string(name) + "' (nodes: " + node_list() + ")");
    }
    return *m_nodes[it->second];
  }
  const Node& operator[](std::string_view name) const { return get(name); }
  bool contains(std::string_view name) const { return m_index.count(name) != 0; }

  /// log p(node | parents) for one stochastic node.
  Var<T> cond_log_prob(std::string_view name) const {
    const Node& node = get(name);
    if (!node.is_stochastic()) throw ArgumentError("BayesianNet: node '" + node.name() + "' is deterministic: it has no log_prob");
    return node.log_prob();
  }
  /// The same for several nodes, in the order given.
  std::vector<Var<T>> cond_log_prob(const std::vector<std::string>& names) const {
    std::vector<Var<T>> out;
    for (const auto& n : names) out.push_back(cond_log_prob(n));
    return out;
  }

  /// log p(all stochastic nodes): the sum of their cond_log_probs (broadcast together), or
  /// the override installed with set_log_joint.
  Var<T> log_joint() {
    if (m_log_joint) return m_log_joint(*this);
    return default_log_joint();
  }
  /// The sum of the nodes' cond_log_probs, ignoring any override (for overrides to build on).
  Var<T> default_log_joint() const {
    std::optional<Var<T>> total;
    for (const auto& node : m_nodes) {
      if (!node->is_stochastic()) continue;
      const Var<T> lp = node->log_prob();
      if (!total) {
        total = lp;
        continue;
      }
      broadcast_shapes_or_throw(total->shape(), lp.shape(), node->name());
      total = *total + lp;
    }
    if (!total) throw ArgumentError("BayesianNet: log_joint of a net without stochastic nodes");
    return *total;
  }
  void set_log_joint(LogJoint f) { m_log_joint = std::move(f); }
  /// Whether log_joint() is an override rather than the plain sum.
  bool has_log_joint_override() const noexcept { return static_cast<bool>(m_log_joint); }

  /// Names of the stochastic nodes, in the order they were added.
  std::vector<std::string> stochastic_names() const {
    std::vector<std::string> names;
    for (const auto& n : m_nodes)
      if (n->is_stochastic()) names.push_back(n->name());
    return names;
  }
  const Observations<T>& observations() const noexcept { return m_observed; }

  // ---- supports: working on the unconstrained reals -----------------------------------------

  /// The set the values of stochastic node `name` live in (its distribution's support).
  Support<T> support(std::string_view name) const { return stochastic_node(name).distribution().support(); }

  /// The transform from the unconstrained reals onto the support of stochastic node `name`,
  /// its events as large as the node's log_prob sums over (the value's axes and the
  /// group_ndims axes), so that log|det J| has the shape of cond_log_prob(name). A sampler or
  /// a Gaussian variational family works with u on the reals:
  ///
  ///   auto t = bn.transform_to_support("sigma");
  ///   auto [sigma, log_det] = t->forward_and_log_abs_det_jacobian(u);
  ///   // feed sigma to the model as an observation: log p(u) = log_joint + log_det
  ///
  /// u has shape t->inverse_shape(value shape) (one number fewer on a simplex's axis, say);
  /// t->inverse(bn[name]) is the node's current value on the reals. ArgumentError naming the
  /// node for a discrete support (no transform reaches it).
  TransformPtr<T> transform_to_support(std::string_view name) const {
    const Node& node = stochastic_node(name);
    return transform_to_support_of(node.name(), node.distribution());
  }

  /// For each latent node (stochastic and not observed), in the order they were added: its
  /// name and transform_to_support. Discrete latents are refused as transform_to_support does.
  std::vector<std::pair<std::string, TransformPtr<T>>> latent_transforms() const {
    std::vector<std::pair<std::string, TransformPtr<T>>> out;
    for (const auto& n : m_nodes)
      if (n->is_stochastic() && !n->is_observed()) out.emplace_back(n->name(), transform_to_support(n->name()));
    return out;
  }

  /// Values for the latent nodes added from now on, chosen when each is added, from its
  /// distribution: an MCMC sampler on the reals maps its coordinates through the node's
  /// transform_to_support, whose bounds may depend on nodes added before (beta1 in
  /// (0, 1 - alpha1)). A node given a value stays a latent (not observed); the value must fit
  /// the distribution as an observation does (ShapeError otherwise).
  void set_latent_values(LatentValues values) { m_latent_values = std::move(values); }

  /// The transform from the reals onto the support of a node following `d`, with events as
  /// large as its log_prob sums over (transform_to_support; `name` is for the message).
  static TransformPtr<T> transform_to_support_of(std::string_view name, const Distribution<T>& d) {
    const Support<T> s = d.support();
    const std::size_t event = d.value_shape().size() + d.group_ndims();
    if (s.is_discrete()) {
      throw ArgumentError("BayesianNet::transform_to_support: node '" + std::string(name) + "' (" +
                          std::string(d.name()) + ") has the discrete support " + s.describe() +
                          ": no transform from the reals reaches it");
    }
    return bijector_to(event > s.event_rank() ? s.independent(event - s.event_rank()) : s);
  }

  /// Throws ArgumentError if an observation names no stochastic node (a typo would
  /// otherwise silently sample the node).
  void check_observations_used() const {
    for (const auto& [name, value] : m_observed) {
      if (!contains(name) || !get(name).is_stochastic()) {
        throw ArgumentError("BayesianNet: the observation '" + name + "' names no stochastic node (stochastic nodes: " +
                            node_list(true) + ")");
      }
    }
  }

  Tape<T>& tape() const noexcept { return *m_tape; }
  Rng& rng() const noexcept { return *m_rng; }
  /// The parameter scope the net was built under (ArgumentError if none was given).
  const ParameterScope<T>& scope() const {
    if (!m_scope) throw ArgumentError("BayesianNet: this net was built without a parameter scope");
    return *m_scope;
  }

 private:
  static DistributionOptions distribution_options(const StochasticOptions& o) {
    return {o.group_ndims, o.use_path_derivative};
  }

  static Shape broadcast_shapes_or_throw(const Shape& a, const Shape& b, const std::string& node) {
    try {
      return broadcast_shapes("BayesianNet::log_joint", a, b);
    } catch (const ShapeError&) {
      throw ShapeError("BayesianNet::log_joint: the log-probability of node '" + node + "' has shape " + to_string(b) +
                       ", which does not broadcast with the other nodes' " + to_string(a) +
                       " (check group_ndims and n_samples)");
    }
  }

  const Node& stochastic_node(std::string_view name) const {
    const Node& node = get(name);
    if (!node.is_stochastic()) {
      throw ArgumentError("BayesianNet: node '" + node.name() + "' is deterministic: it has no distribution and no support");
    }
    return node;
  }

  void check_not_observed(std::string_view name) const {
    if (m_observed.count(name)) {
      throw ArgumentError("BayesianNet: '" + std::string(name) + "' is deterministic and cannot be observed");
    }
  }

  Node& add_node(std::string_view name) {
    if (name.empty()) throw ArgumentError("BayesianNet: a node needs a non-empty name");
    if (m_index.count(name)) throw ArgumentError("BayesianNet: a node named '" + std::string(name) + "' already exists");
    auto node = std::make_unique<Node>();
    node->m_name = std::string(name);
    m_index.emplace(node->m_name, m_nodes.size());
    m_nodes.push_back(std::move(node));
    return *m_nodes.back();
  }

  // n_samples only shapes a draw: an observation replaces the draw and may carry any number
  // of particles (is_loglikelihood evaluates one model on chunks of different sizes).
  void check_observation(std::string_view name, const Distribution<T>& d, const Var<T>& observed) const {
    if (!d.accepts_shape(observed.shape())) {
      Shape node_shape = d.batch_shape();
      node_shape.insert(node_shape.end(), d.value_shape().begin(), d.value_shape().end());
      throw ShapeError("BayesianNet: the observed value of node '" + std::string(name) + "' has shape " +
                       to_string(observed.shape()) +
                       ", which does not broadcast with the node's batch_shape + value_shape " + to_string(node_shape) +
                       " (" + std::string(d.name()) + ")");
    }
  }

  std::string node_list(bool stochastic_only = false) const {
    std::string s;
    for (const auto& n : m_nodes)
      if (!stochastic_only || n->is_stochastic()) s += (s.empty() ? "" : ", ") + n->name();
    return s.empty() ? "none" : s;
  }

  Tape<T>* m_tape;
  Rng* m_rng;
  Observations<T> m_observed;
  std::optional<ParameterScope<T>> m_scope;
  std::vector<std::unique_ptr<Node>> m_nodes;
  std::map<std::string, std::size_t, std::less<>> m_index;
  LogJoint m_log_joint;
  LatentValues m_latent_values;
};

}  // namespace vaelib
