#pragma once
// The variational side of an objective: the latents q provides, each with its sample and
// log q. Built from a variational BayesianNet (every stochastic node it did not observe) or
// from a map name -> (sample, log q), as ZhuSuan's objectives accept both.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/bayesian_net/bayesian_net.hpp"
#include "vaelib/bayesian_net/meta_bayesian_net.hpp"

namespace vaelib {

/// A latent handed to an objective directly: its sample and log q(sample) (summed over the
/// latent's event axes, one value per particle and example).
template <class T>
struct LatentSample {
  Var<T> value;
  Var<T> log_prob;
};

template <class T>
using LatentSamples = std::map<std::string, LatentSample<T>, std::less<>>;

/// One latent as the objectives see it.
template <class T>
struct Latent {
  std::string name;
  Var<T> value;                                   // the sample from q
  Var<T> log_q;                                   // log q(value), as q scored it
  const Distribution<T>* distribution = nullptr;  // null when given as a LatentSample

  /// log q at `at` (the sample, detached or reweighted), with q's parameters live or
  /// detached. Without a distribution only the given log q exists.
  Var<T> log_prob_at(const Var<T>& at, bool detach_parameters) const {
    return distribution ? distribution->log_prob(at, detach_parameters) : log_q;
  }
};

/// Which log q an estimator needs: as q scored its own samples (q's use_path_derivative
/// option applies), or re-evaluated at given values with q's parameters live or detached.
enum class LogQ { as_scored, live, detached };

/// The latents of a variational posterior, in the order q made them.
template <class T>
class VariationalLatents {
 public:
  VariationalLatents(std::string_view objective, const BayesianNet<T>& q) : m_objective(objective) {
    for (const std::string& name : q.stochastic_names()) {
      const auto& node = q[name];
      if (node.is_observed()) continue;  // observed in q: an input, not a latent
      m_latents.push_back({name, node.value(), node.log_prob(), &node.distribution()});
    }
    if (m_latents.empty()) {
      throw ArgumentError(m_objective + ": the variational net has no latent (every stochastic node is observed)");
    }
  }
  VariationalLatents(std::string_view objective, const LatentSamples<T>& q) : m_objective(objective) {
    for (const auto& [name, sample] : q) {
      if (sample.value.empty() || sample.log_prob.empty()) {
        throw ArgumentError(m_objective + ": latent '" + name + "' needs both a sample and its log q");
      }
      m_latents.push_back({name, sample.value, sample.log_prob, nullptr});
    }
    if (m_latents.empty()) throw ArgumentError(m_objective + ": no latent given");
  }

  const std::vector<Latent<T>>& latents() const noexcept { return m_latents; }
  const std::string& objective() const noexcept { return m_objective; }

  /// Whether every latent's samples are differentiable in q's parameters (as far as known:
  /// a (sample, log q) pair is taken to be).
  bool all_reparameterized() const noexcept {
    for (const Latent<T>& l : m_latents)
      if (l.distribution && !l.distribution->is_reparameterized()) return false;
    return true;
  }

  /// Throws ArgumentError naming the first latent whose samples are not differentiable
  /// functions of q's parameters (`estimator` needs them to be).
  void require_reparameterized(std::string_view estimator) const {
    for (const Latent<T>& l : m_latents) {
      if (l.distribution && !l.distribution->is_reparameterized()) {
        throw ArgumentError(std::string(estimator) + ": latent '" + l.name + "' follows a " +
                            std::string(l.distribution->name()) +
                            " distribution, which is not reparameterised; use reinforce() (or vimco() for the "
                            "importance-weighted objective)");
      }
    }
  }

  /// Throws ArgumentError unless every latent came with its distribution (`estimator` must
  /// re-evaluate log q, which a bare (sample, log q) pair cannot do).
  void require_distributions(std::string_view estimator, std::string_view why) const {
    for (const Latent<T>& l : m_latents) {
      if (!l.distribution) {
        throw ArgumentError(std::string(estimator) + ": latent '" + l.name + "' was given as a (sample, log q) pair, but " +
                            std::string(why) + "; pass the variational BayesianNet instead");
      }
    }
  }

  /// Builds the model with `observed` plus each latent observed at `values[i]` (the samples,
  /// or transformed samples). Every stochastic node of the model must be one or the other.
  BayesianNet<T> observe_model(const MetaBayesianNet<T>& model, const Observations<T>& observed,
                               const std::vector<Var<T>>& values) const {
    Observations<T> all = observed;
    for (std::size_t i = 0; i < m_latents.size(); ++i) {
      if (!all.emplace(m_latents[i].name, values[i]).second) {
        throw ArgumentError(m_objective + ": '" + m_latents[i].name +
                            "' is both observed and a latent of the variational posterior");
      }
    }
    BayesianNet<T> bn = [&] {
      try {
        return model.observe(std::move(all));
      } catch (const ArgumentError& e) {
        throw ArgumentError(m_objective + ": building the model with the observations and the variational latents "
                                          "failed: " + e.what());
      }
    }();
    for (const std::string& name : bn.stochastic_names()) {
      if (!bn[name].is_observed()) {
        throw ArgumentError(m_objective + ": the model's stochastic node '" + name +
                            "' is neither observed nor a latent of the variational posterior (latents: " + names() + ")");
      }
    }
    return bn;
  }

  /// The sum over the latents (those with include[i], when given) of log q at `at[i]`.
  Var<T> log_q_total(const std::vector<Var<T>>& at, LogQ mode, const std::vector<bool>* include = nullptr) const {
    std::optional<Var<T>> total;
    for (std::size_t i = 0; i < m_latents.size(); ++i) {
      if (include && !(*include)[i]) continue;
      const Latent<T>& l = m_latents[i];
      const Var<T> lq = mode == LogQ::as_scored ? l.log_q : l.log_prob_at(at[i], mode == LogQ::detached);
      total = total ? *total + lq : lq;
    }
    if (!total) throw ArgumentError(m_objective + ": no latent is scored by sampling");
    return *total;
  }

  /// The samples, unchanged.
  std::vector<Var<T>> values() const {
    std::vector<Var<T>> v;
    for (const Latent<T>& l : m_latents) v.push_back(l.value);
    return v;
  }
  /// The samples, detached (constants for the score-function estimators).
  std::vector<Var<T>> detached_values() const {
    std::vector<Var<T>> v;
    for (const Latent<T>& l : m_latents) v.push_back(detach(l.value));
    return v;
  }

  std::string names() const {
    std::string s;
    for (const Latent<T>& l : m_latents) s += (s.empty() ? "" : ", ") + l.name;
    return s;
  }

 private:
  std::string m_objective;
  std::vector<Latent<T>> m_latents;
};

}  // namespace vaelib
