#pragma once
// MetaBayesianNet: a model-building function that makes a new BayesianNet for each set of
// observations (ZhuSuan's meta_bayesian_net with reuse_variables=True). Parameters are
// reused because the builder gets them by name through the net's scope. The builder's
// arguments after the net (a batch size, a particle count) are passed to observe(), or bound
// once with operator() as ZhuSuan's `build_gen(n, n_particles)` does:
//
//   auto model = meta_bayesian_net(tape, rng, params.scope("gen"),
//                                  [&](BayesianNet<float>& bn, std::size_t n, std::size_t k) {
//     auto z = bn.normal("z", tape.zeros({n, 40}), 1.0f, {.group_ndims = 1, .n_samples = k});
//     auto h = dense(bn.scope(), "h1", z, 500, {.activation = Activation::relu});
//     bn.bernoulli("x", dense(bn.scope(), "logits", h, 784), {.group_ndims = 1});
//   });
//   BayesianNet<float> generated = model.observe({}, 100, 1);
//   BayesianNet<float> conditioned = model.observe({{"x", x}, {"z", z}}, n, 1);
//   auto lower_bound = elbo(model(n, 1), {{"x", x}}, q, 0);  // objectives take a bound model
//
// A MetaBayesianNet is a handle: copies share the builder, the scope and a log_joint
// override, so copying one costs a pointer copy, binding one per training step two small
// blocks, and an objective can keep its model by value.

#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "vaelib/bayesian_net/bayesian_net.hpp"

namespace vaelib {

namespace detail {

/// What every model made from one builder shares, bound or not: where it records and draws,
/// the scope its parameters live under, and a log_joint override.
template <class T>
struct MetaBayesianNetContext {
  Tape<T>* tape;
  Rng* rng;
  ParameterScope<T> scope;
  typename BayesianNet<T>::LogJoint log_joint;
};

}  // namespace detail

template <class T, class... Args>
class MetaBayesianNet {
 public:
  using Builder = std::function<void(BayesianNet<T>&, Args...)>;
  using LogJoint = typename BayesianNet<T>::LogJoint;

  MetaBayesianNet(Tape<T>& tape, Rng& rng, ParameterScope<T> scope, Builder builder)
      : m_context(std::make_shared<const Context>(Context{&tape, &rng, std::move(scope), {}})),
        m_builder(std::make_shared<const Builder>(std::move(builder))) {
    if (!*m_builder) throw ArgumentError("MetaBayesianNet: no model-building function given");
  }

  /// Runs the builder with these observations and arguments and returns the net. Every
  /// observation must name a stochastic node of the model (ArgumentError otherwise).
  BayesianNet<T> observe(Observations<T> observed = {}, Args... args) const {
    BayesianNet<T> bn(*m_context->tape, *m_context->rng, std::move(observed), m_context->scope);
    build(bn, args...);
    return bn;
  }

  /// Runs the builder on a net made by the caller (on another tape, say, or with
  /// set_latent_values installed), then checks its observations and installs the log_joint
  /// override as observe() does.
  void build(BayesianNet<T>& bn, Args... args) const {
    (*m_builder)(bn, args...);
    bn.check_observations_used();
    if (m_context->log_joint) bn.set_log_joint(m_context->log_joint);
  }

  /// The model with every argument bound (ZhuSuan's `build_gen(n, n_particles)`): what the
  /// variational objectives and is_loglikelihood take. It shares this model's log_joint
  /// override as it is now. Two small blocks: the bound arguments and their builder.
  MetaBayesianNet<T> operator()(Args... args) const
    requires(sizeof...(Args) > 0)
  {
    using Bound = typename MetaBayesianNet<T>::Builder;
    return MetaBayesianNet<T>(m_context, std::make_shared<const Bound>(
                                             [builder = m_builder, bound = std::tuple<Args...>(args...)](BayesianNet<T>& bn) {
                                               std::apply([&](const Args&... a) { (*builder)(bn, a...); }, bound);
                                             }));
  }

  /// Replaces log_joint() of every net this makes (e.g. to add a term, or to weight one).
  /// Copies made before keep the override they had.
  void set_log_joint(LogJoint f) {
    Context changed = *m_context;
    changed.log_joint = std::move(f);
    m_context = std::make_shared<const Context>(std::move(changed));
  }

  Tape<T>& tape() const noexcept { return *m_context->tape; }
  Rng& rng() const noexcept { return *m_context->rng; }
  const ParameterScope<T>& scope() const noexcept { return m_context->scope; }

 private:
  template <class U, class... A>
  friend class MetaBayesianNet;
  using Context = detail::MetaBayesianNetContext<T>;

  MetaBayesianNet(std::shared_ptr<const Context> context, std::shared_ptr<const Builder> builder)
      : m_context(std::move(context)), m_builder(std::move(builder)) {}

  std::shared_ptr<const Context> m_context;
  std::shared_ptr<const Builder> m_builder;
};

namespace detail {

/// MetaBayesianNet<T, Args...> for a builder `void(BayesianNet<T>&, Args...)`.
template <class T, class Signature>
struct MetaBayesianNetFor;
template <class T, class R, class... A>
struct MetaBayesianNetFor<T, R(BayesianNet<T>&, A...)> {
  using type = MetaBayesianNet<T, std::decay_t<A>...>;
};

template <class F>
struct CallSignature;  // the parameter list of a lambda's (or function object's) operator()
template <class C, class R, class... A>
struct CallSignature<R (C::*)(A...) const> {
  using type = R(A...);
};
template <class C, class R, class... A>
struct CallSignature<R (C::*)(A...)> {
  using type = R(A...);
};
template <class R, class... A>
struct CallSignature<R (*)(A...)> {
  using type = R(A...);
};

template <class T, class F>
auto meta_bayesian_net_type() {
  using Fn = std::decay_t<F>;
  if constexpr (std::is_pointer_v<Fn>) {
    return std::type_identity<typename MetaBayesianNetFor<T, typename CallSignature<Fn>::type>::type>{};
  } else if constexpr (requires { &Fn::operator(); }) {
    return std::type_identity<
        typename MetaBayesianNetFor<T, typename CallSignature<decltype(&Fn::operator())>::type>::type>{};
  } else {
    return std::type_identity<MetaBayesianNet<T>>{};  // a generic lambda: the net is its only argument
  }
}

}  // namespace detail

/// Deduces T from the tape and the extra arguments from the builder's parameters:
/// meta_bayesian_net(tape, rng, params.scope("gen"), [&](BayesianNet<float>& bn, std::size_t n) {...}).
template <class T, class F>
auto meta_bayesian_net(Tape<T>& tape, Rng& rng, ParameterScope<T> scope, F&& builder) {
  using Model = typename decltype(detail::meta_bayesian_net_type<T, F>())::type;
  return Model(tape, rng, std::move(scope), std::forward<F>(builder));
}

}  // namespace vaelib
