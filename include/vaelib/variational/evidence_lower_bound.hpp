#pragma once
// elbo(model, observed, variational, axis): the evidence lower bound
//
//   L(x) = E_q(z|x)[log p(x, z) - log q(z|x)]  <=  log p(x)
//
// estimated with the particles q drew (averaged over the particle `axis`), and the surrogate
// costs whose gradients estimate its gradient (ZhuSuan's EvidenceLowerBoundObjective):
//
//   sgvb()       reparameterisation: -L with the samples differentiable in q's parameters
//   reinforce()  score function: -(f + detach(f - b) * log q(z)) with detached samples and a
//                baseline b (a moving average and/or a learned c(x)), see docs/variational.md
//
// Costs are per example (reduce them with mean() or sum()); value() is the bound itself.
//
//   auto lower_bound = vaelib::elbo(model, {{"x", x}}, q, 0);
//   auto cost = vaelib::mean(lower_bound.sgvb());
//   tape.backward(cost);

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/autodiff/ops/detach.hpp"
#include "vaelib/autodiff/ops/square.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/distributions/kl.hpp"
#include "vaelib/variational/detail/particles.hpp"
#include "vaelib/variational/latents.hpp"
#include "vaelib/variational/moving_average_baseline.hpp"

namespace vaelib {

/// The KL weight of a warm-up ("annealing") schedule: rises linearly from `start` to 1 over
/// `steps` training steps, then stays at 1.
struct KLWarmup {
  std::uint64_t steps = 0;
  double start = 0.0;

  double weight(std::uint64_t step) const {
    if (steps == 0 || step >= steps) return 1.0;
    return start + (1.0 - start) * static_cast<double>(step) / static_cast<double>(steps);
  }
};

struct ElboOptions {
  /// Use KL(q || p) in closed form for each latent whose (q, prior) pair has one registered
  /// (mean-field: the latent's prior must not depend on other latents' samples for the
  /// closed form to be the exact term). Other latents keep the sampled log p(z) - log q(z).
  bool analytic_kl = false;
  /// beta: the weight of the KL part (log p(z) - log q(z), or -KL) in the surrogate costs, for
  /// warm-up (KLWarmup) or beta-VAEs. value() always reports the true bound (beta = 1).
  double kl_weight = 1.0;
};

struct ReinforceOptions {
  /// Subtract this running mean of the learning signal (and fold this step's signal into it).
  MovingAverageBaseline* moving_average = nullptr;
};

template <class T>
class EvidenceLowerBound {
 public:
  EvidenceLowerBound(const MetaBayesianNet<T>& model, Observations<T> observed, VariationalLatents<T> q,
                     std::optional<std::ptrdiff_t> axis, ElboOptions options)
      : m_model(model), m_observed(std::move(observed)), m_q(std::move(q)), m_axis(axis), m_options(options) {
    if (!(options.kl_weight >= 0.0)) {
      throw ArgumentError("elbo: kl_weight must be non-negative, got " + std::to_string(options.kl_weight));
    }
  }

  /// The lower bound per example: the particle mean of log p(x, z) - log q(z), or with
  /// analytic_kl, of log p(x, z without the analytic latents' prior) - KL.
  Var<T> value() {
    return detail::mean_over_particles("elbo", any_evaluation().bound, m_axis);
  }

  /// The model net built on q's samples (its deterministic nodes: reconstructions, ...).
  const BayesianNet<T>& model_net() {
    return any_evaluation().model;
  }

  /// Surrogate cost of the reparameterisation (SGVB) estimator, per example. Every latent
  /// must be reparameterised (ArgumentError naming the first that is not).
  Var<T> sgvb() {
    m_q.require_reparameterized("elbo.sgvb");
    return -detail::mean_over_particles("elbo", reparameterized().weighted, m_axis);
  }

  /// Surrogate cost of the score-function (REINFORCE) estimator, per example: the samples
  /// are held fixed and log q(z) carries the learning signal f - baseline.
  Var<T> reinforce(ReinforceOptions options = {}) { return reinforce_impl(nullptr, options).first; }

  /// The same with a learned baseline c(x) (shape broadcasting with the per-particle signal,
  /// e.g. [batch]): returns {cost, baseline_cost}, where baseline_cost = mean over particles
  /// of (f - c(x))^2 / 2 trains c(x) and the cost uses detach(c(x)).
  std::pair<Var<T>, Var<T>> reinforce(const Var<T>& baseline, ReinforceOptions options = {}) {
    auto [cost, baseline_cost] = reinforce_impl(&baseline, options);
    return {cost, *baseline_cost};
  }

 private:
  /// One evaluation of the model on q's samples (as they are, or detached).
  struct Evaluation {
    BayesianNet<T> model;
    Var<T> bound;     // per particle, the true bound (beta = 1)
    Var<T> weighted;  // per particle, with the KL part weighted by beta
    Var<T> signal;    // the part that depends on the samples (for REINFORCE)
    std::optional<Var<T>> score_log_q;  // log q of every latent, live at the detached samples
  };

  Evaluation& reparameterized() {
    if (!m_reparameterized) m_reparameterized.emplace(evaluate(m_q.values(), false));
    return *m_reparameterized;
  }
  Evaluation& score_function() {
    if (!m_score) m_score.emplace(evaluate(m_q.detached_values(), true));
    return *m_score;
  }
  /// Whichever evaluation exists (their values are equal), else the one the latents suit.
  Evaluation& any_evaluation() {
    if (m_reparameterized) return *m_reparameterized;
    if (m_score) return *m_score;
    return m_q.all_reparameterized() ? reparameterized() : score_function();
  }

  std::pair<Var<T>, std::optional<Var<T>>> reinforce_impl(const Var<T>* baseline, const ReinforceOptions& options) {
    const Evaluation& e = score_function();
    Var<T> residual = detach(e.signal);
    std::optional<Var<T>> baseline_cost;
    if (baseline) {
      e.signal.tape().check_handle("elbo.reinforce", *baseline);
      try {
        broadcast_shapes("elbo.reinforce", residual.shape(), baseline->shape());
      } catch (const ShapeError&) {
        throw ShapeError("elbo.reinforce: the baseline has shape " + to_string(baseline->shape()) +
                         ", which does not broadcast with the per-particle learning signal's " +
                         to_string(residual.shape()));
      }
      baseline_cost = detail::mean_over_particles("elbo", T(0.5) * square(residual - *baseline), m_axis);
      residual = residual - detach(*baseline);
    }
    if (options.moving_average) {
      const double c = options.moving_average->value();
      options.moving_average->update(mean_of(residual));
      residual = residual - static_cast<T>(c);
    }
    const Var<T> surrogate = e.weighted + residual * *e.score_log_q;
    return {-detail::mean_over_particles("elbo", surrogate, m_axis), baseline_cost};
  }

  static double mean_of(const Var<T>& v) {
    double s = 0;
    const T* d = v.data();
    for (std::size_t i = 0; i < v.size(); ++i) s += static_cast<double>(d[i]);
    return v.size() ? s / static_cast<double>(v.size()) : 0.0;
  }

  Evaluation evaluate(const std::vector<Var<T>>& values, bool score_function) const {
    BayesianNet<T> bn = m_q.observe_model(m_model, m_observed, values);
    const auto& latents = m_q.latents();
    const T beta = static_cast<T>(m_options.kl_weight);
    std::optional<Var<T>> score_log_q;
    if (score_function) score_log_q = m_q.log_q_total(values, LogQ::live);
    auto log_q_of = [&](std::size_t i) {
      return score_function ? latents[i].log_prob_at(values[i], false) : latents[i].log_q;
    };

    std::vector<bool> analytic(latents.size(), false);
    bool any_analytic = false;
    if (m_options.analytic_kl) {
      for (std::size_t i = 0; i < latents.size(); ++i) {
        // A latent whose log-probability is scaled (log_prob_scale) keeps the sampled term:
        // scale * E[log p] - E[log q] is no multiple of the KL.
        const auto& node = bn[latents[i].name];
        analytic[i] = latents[i].distribution && node.log_prob_scale() == 1 &&
                      has_analytic_kl(*latents[i].distribution, node.distribution());
        any_analytic = any_analytic || analytic[i];
      }
    }
    if (!any_analytic && m_options.kl_weight == 1.0) {  // the plain bound (the model's log_joint may be overridden)
      const Var<T> f = bn.log_joint() - (score_function ? *score_log_q : m_q.log_q_total(values, LogQ::as_scored));
      return {std::move(bn), f, f, f, score_log_q};
    }
    if (bn.has_log_joint_override()) {
      throw ArgumentError("elbo: analytic_kl and kl_weight split the model's log joint into its nodes, but the model "
                          "overrides log_joint (set_log_joint); use the defaults or fold the weight into the override");
    }
    std::vector<Var<T>> data_terms, sampled_kl_terms, analytic_kl_terms;
    for (const std::string& name : bn.stochastic_names()) {
      bool is_latent = false;
      for (const Latent<T>& l : latents) is_latent = is_latent || l.name == name;
      if (!is_latent) data_terms.push_back(bn.cond_log_prob(name));
    }
    for (std::size_t i = 0; i < latents.size(); ++i) {
      if (analytic[i]) {
        analytic_kl_terms.push_back(kl_divergence(*latents[i].distribution, bn[latents[i].name].distribution()));
      } else {
        sampled_kl_terms.push_back(bn.cond_log_prob(latents[i].name) - log_q_of(i));
      }
    }
    // kl_part = sum(log p(z) - log q(z)) - sum(KL); bound = data + kl_part
    std::optional<Var<T>> data, sampled;
    if (!data_terms.empty()) data = detail::sum_terms(data_terms);
    if (!sampled_kl_terms.empty()) sampled = detail::sum_terms(sampled_kl_terms);
    std::optional<Var<T>> kl_part = sampled;
    if (!analytic_kl_terms.empty()) {
      const Var<T> kl = detail::sum_terms(analytic_kl_terms);
      kl_part = kl_part ? *kl_part - kl : -kl;
    }
    auto plus = [](const std::optional<Var<T>>& a, const std::optional<Var<T>>& b) -> Var<T> {
      if (a && b) return *a + *b;
      return a ? *a : *b;
    };
    const Var<T> bound = plus(data, kl_part);
    const Var<T> weighted = m_options.kl_weight == 1.0 ? bound : plus(data, *kl_part * beta);
    std::optional<Var<T>> weighted_sampled;
    if (sampled) weighted_sampled = m_options.kl_weight == 1.0 ? *sampled : *sampled * beta;
    // the signal: what depends on the samples (the analytic KL does not); a constant zero
    // when nothing does
    const Var<T> signal = (data || weighted_sampled) ? plus(data, weighted_sampled) : bound * T(0);
    return {std::move(bn), bound, weighted, signal, score_log_q};
  }

  MetaBayesianNet<T> m_model;  // a handle: a temporary bound model (model(n, k)) stays alive
  Observations<T> m_observed;
  VariationalLatents<T> m_q;
  std::optional<std::ptrdiff_t> m_axis;
  ElboOptions m_options;
  std::optional<Evaluation> m_reparameterized;  // built by value() or sgvb()
  std::optional<Evaluation> m_score;            // built by reinforce() (samples detached)
};

/// The evidence lower bound of `model` given `observed`, with q the variational net over the
/// latents (every stochastic node it did not observe) and `axis` its particle axis
/// (std::nullopt when q drew no n_samples axis).
template <class T>
EvidenceLowerBound<T> elbo(const MetaBayesianNet<T>& model, Observations<T> observed, const BayesianNet<T>& variational,
                           std::optional<std::ptrdiff_t> axis = std::nullopt, ElboOptions options = {}) {
  return EvidenceLowerBound<T>(model, std::move(observed), VariationalLatents<T>("elbo", variational), axis, options);
}

/// The objective reads q's distributions when its estimators run: q must outlive it, so a
/// temporary q is refused at compile time.
template <class T>
EvidenceLowerBound<T> elbo(const MetaBayesianNet<T>&, Observations<T>, BayesianNet<T>&&,
                           std::optional<std::ptrdiff_t> = std::nullopt, ElboOptions = {}) = delete;

/// The same with the latents given as name -> (sample, log q). Without distributions,
/// analytic_kl has nothing to use (every latent is sampled) and reinforce() uses the given
/// log q as the score (it must be live in q's parameters at a sample that is not).
template <class T>
EvidenceLowerBound<T> elbo(const MetaBayesianNet<T>& model, Observations<T> observed, const LatentSamples<T>& variational,
                           std::optional<std::ptrdiff_t> axis = std::nullopt, ElboOptions options = {}) {
  return EvidenceLowerBound<T>(model, std::move(observed), VariationalLatents<T>("elbo", variational), axis, options);
}

}  // namespace vaelib
