#pragma once
// kl_divergence(p, q): analytic KL(p || q) for pairs that have one, looked up in a registry
// that users extend with their own pairs. The result is per batch element, summed over p's
// group_ndims like a log_prob.
//
// Built in (each in include/vaelib/distributions/kl/<family>.hpp, computed in double where
// the textbook form cancels or overflows: finite wherever the true value is, +inf only where
// it is +inf or beyond T's range, never NaN for valid parameters; gradients to both sides):
//   Normal-Normal, Normal-Laplace, MultivariateNormalCholesky-MultivariateNormalCholesky,
//   Normal (group_ndims >= 1, a diagonal Gaussian over its last batch axis) against
//   MultivariateNormalCholesky and the reverse, Bernoulli-Bernoulli, Categorical-Categorical,
//   OnehotCategorical-OnehotCategorical, Gamma-Gamma, Exponential-Exponential,
//   Exponential-Gamma, Gamma-Exponential, Beta-Beta, Dirichlet-Dirichlet, Laplace-Laplace, Poisson-Poisson,
//   Uniform-Uniform (+inf unless p's support lies inside q's).

#include <functional>
#include <map>
#include <string>
#include <typeindex>
#include <utility>

#include "vaelib/distributions/kl/bernoulli.hpp"
#include "vaelib/distributions/kl/beta.hpp"
#include "vaelib/distributions/kl/categorical.hpp"
#include "vaelib/distributions/kl/dirichlet.hpp"
#include "vaelib/distributions/kl/gamma.hpp"
#include "vaelib/distributions/kl/laplace.hpp"
#include "vaelib/distributions/kl/multivariate_normal_cholesky.hpp"
#include "vaelib/distributions/kl/normal.hpp"
#include "vaelib/distributions/kl/poisson.hpp"
#include "vaelib/distributions/kl/uniform.hpp"

namespace vaelib {

template <class T>
class KLRegistry {
 public:
  /// kl_divergence(p, q) for one registered pair: shape checks and group reduction included.
  using Function = std::function<Var<T>(const Distribution<T>&, const Distribution<T>&)>;

  static KLRegistry& instance() {
    static KLRegistry registry;
    return registry;
  }

  /// Registers KL(P || Q): `f(p, q)` returns the KL elementwise over the broadcast batch
  /// (before group reduction); kl_divergence checks that the value shapes agree and the
  /// batch shapes broadcast, then sums the result over p's group_ndims. Replaces an earlier
  /// registration of the same pair.
  template <class P, class Q, class F>
  void add(F f) {
    m_functions[{typeid(P), typeid(Q)}] = [f](const Distribution<T>& p, const Distribution<T>& q) {
      check_event_shapes(p, q);
      return p.reduce_group(f(static_cast<const P&>(p), static_cast<const Q&>(q)));
    };
  }

  /// Registers KL(P || Q) for a pair whose events differ in kind (a diagonal Normal's last
  /// batch axis against a multivariate value axis): `f(p, q)` checks the shapes itself and
  /// returns the KL already summed over p's group_ndims.
  template <class P, class Q, class F>
  void add_grouped(F f) {
    m_functions[{typeid(P), typeid(Q)}] = [f](const Distribution<T>& p, const Distribution<T>& q) {
      return f(static_cast<const P&>(p), static_cast<const Q&>(q));
    };
  }

  const Function* find(const Distribution<T>& p, const Distribution<T>& q) const {
    auto it = m_functions.find({typeid(p), typeid(q)});
    return it == m_functions.end() ? nullptr : &it->second;
  }

 private:
  KLRegistry() {
    add<Normal<T>, Normal<T>>(detail::kl_normal_normal<T>);
    add<Normal<T>, Laplace<T>>(detail::kl_normal_laplace<T>);
    add<MultivariateNormalCholesky<T>, MultivariateNormalCholesky<T>>(detail::kl_mvn_mvn<T>);
    add_grouped<Normal<T>, MultivariateNormalCholesky<T>>(detail::kl_normal_mvn<T>);
    add_grouped<MultivariateNormalCholesky<T>, Normal<T>>(detail::kl_mvn_normal<T>);
    add<Bernoulli<T>, Bernoulli<T>>(detail::kl_bernoulli_bernoulli<T>);
    add<Categorical<T>, Categorical<T>>(detail::kl_categorical_categorical<T>);
    add<OnehotCategorical<T>, OnehotCategorical<T>>(detail::kl_onehot_categorical_onehot_categorical<T>);
    add<Gamma<T>, Gamma<T>>(detail::kl_gamma_gamma<T>);
    add<Exponential<T>, Exponential<T>>(detail::kl_exponential_exponential<T>);
    add<Exponential<T>, Gamma<T>>(detail::kl_exponential_gamma<T>);
    add<Gamma<T>, Exponential<T>>(detail::kl_gamma_exponential<T>);
    add<Beta<T>, Beta<T>>(detail::kl_beta_beta<T>);
    add<Dirichlet<T>, Dirichlet<T>>(detail::kl_dirichlet_dirichlet<T>);
    add<Laplace<T>, Laplace<T>>(detail::kl_laplace_laplace<T>);
    add<Poisson<T>, Poisson<T>>(detail::kl_poisson_poisson<T>);
    add<Uniform<T>, Uniform<T>>(detail::kl_uniform_uniform<T>);
  }

  static void check_event_shapes(const Distribution<T>& p, const Distribution<T>& q) {
    if (p.value_shape() != q.value_shape()) {
      throw ShapeError("kl_divergence: value shapes differ: " + to_string(p.value_shape()) + " vs " +
                       to_string(q.value_shape()));
    }
    broadcast_shapes("kl_divergence", p.batch_shape(), q.batch_shape());
  }

  std::map<std::pair<std::type_index, std::type_index>, Function> m_functions;
};

/// Whether an analytic KL(p || q) is registered.
template <class T>
bool has_analytic_kl(const Distribution<T>& p, const Distribution<T>& q) {
  return KLRegistry<T>::instance().find(p, q) != nullptr;
}

/// KL(p || q), summed over p's group_ndims. Throws ArgumentError naming both distributions
/// and the Monte Carlo estimate to use instead when no analytic form is registered,
/// ShapeError when the batch shapes do not broadcast or the events differ.
template <class T>
Var<T> kl_divergence(const Distribution<T>& p, const Distribution<T>& q) {
  const auto* f = KLRegistry<T>::instance().find(p, q);
  if (f == nullptr) {
    throw ArgumentError("kl_divergence: no analytic KL(" + std::string(p.name()) + " || " + std::string(q.name()) +
                        ") is registered; use the Monte Carlo estimate p.log_prob(z) - q.log_prob(z) averaged over "
                        "draws z ~ p (what elbo(...) does without analytic_kl), or register one with "
                        "KLRegistry<T>::instance().add<P, Q>(...)");
  }
  return (*f)(p, q);
}

}  // namespace vaelib
