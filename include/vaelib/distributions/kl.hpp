#pragma once
// kl_divergence(p, q): analytic KL(p || q) for pairs that have one, looked up in a registry
// that users extend with their own pairs. The result is per batch element, summed over p's
// group_ndims like a log_prob.

#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <typeindex>
#include <utility>

#include "vaelib/distributions/bernoulli.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/normal.hpp"

namespace vaelib {

template <class T>
class KLRegistry {
 public:
  using Function = std::function<Var<T>(const Distribution<T>&, const Distribution<T>&)>;

  static KLRegistry& instance() {
    static KLRegistry registry;
    return registry;
  }

  /// Registers KL(P || Q) (elementwise over the batch, before group reduction).
  template <class P, class Q, class F>
  void add(F f) {
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
    // KL(N(m1, s1) || N(m2, s2)) = log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2
    //   = (expm1(r) - r) / 2 + z^2 / 2,  r = 2 (log s1 - log s2),  z = (m1 - m2) / s2,
    // in double from the log-stds (never the ratio of variances, which overflows in float once
    // the log-stds differ by ~44): finite wherever the true value is, +inf only beyond range
    add<Normal<T>, Normal<T>>([](const Normal<T>& p, const Normal<T>& q) {
      const std::array<Var<T>, 4> inputs{p.mean(), p.logstd(), q.mean(), q.logstd()};
      return detail::scalar_log_density("kl_divergence(Normal || Normal)", inputs, [](const std::array<double, 4>& a) {
        const double r = 2 * (a[1] - a[3]);
        const double h = std::exp(-a[3] / 2);  // 1 / s2 = h^2
        const double z = detail::standardised_by_root(a[0], a[2], h);
        const double dm = z == 0 ? 0.0 : (z * h) * h;  // z / s2
        const double grow = std::expm1(r);
        return detail::ScalarLogDensity<4>{(grow - r) / 2 + z * z / 2, {dm, grow, -dm, -grow - z * z}};
      });
    });
    // KL(Bern(l1) || Bern(l2)) = p (log p - log q) + (1 - p)(log(1 - p) - log(1 - q)), via logits
    add<Bernoulli<T>, Bernoulli<T>>([](const Bernoulli<T>& p, const Bernoulli<T>& q) {
      const Var<T> lp = p.logits(), lq = q.logits();
      return sigmoid(lp) * (log_sigmoid(lp) - log_sigmoid(lq)) + sigmoid(-lp) * (log_sigmoid(-lp) - log_sigmoid(-lq));
    });
    // KL(Cat(l1) || Cat(l2)) = sum_j p_j (log p_j - log q_j),  log p = log_softmax(l1),
    // log q = log_softmax(l2), p = exp(log p); both over the same k categories
    add<Categorical<T>, Categorical<T>>([](const Categorical<T>& p, const Categorical<T>& q) {
      if (p.n_categories() != q.n_categories()) {
        throw ShapeError("kl_divergence: Categorical distributions over different numbers of categories: " +
                         std::to_string(p.n_categories()) + " vs " + std::to_string(q.n_categories()));
      }
      const Var<T> log_p = p.log_probs();
      return sum(exp(log_p) * (log_p - q.log_probs()), {-1});
    });
  }

  std::map<std::pair<std::type_index, std::type_index>, Function> m_functions;
};

/// Whether an analytic KL(p || q) is registered.
template <class T>
bool has_analytic_kl(const Distribution<T>& p, const Distribution<T>& q) {
  return KLRegistry<T>::instance().find(p, q) != nullptr;
}

/// KL(p || q), summed over p's group_ndims. Throws ArgumentError naming both distributions
/// when no analytic form is registered, ShapeError when the batch shapes do not broadcast.
template <class T>
Var<T> kl_divergence(const Distribution<T>& p, const Distribution<T>& q) {
  const auto* f = KLRegistry<T>::instance().find(p, q);
  if (f == nullptr) {
    throw ArgumentError("kl_divergence: no analytic KL(" + std::string(p.name()) + " || " + std::string(q.name()) +
                        ") is registered (add one with KLRegistry<T>::instance().add<P, Q>(...))");
  }
  if (p.value_shape() != q.value_shape()) {
    throw ShapeError("kl_divergence: value shapes differ: " + to_string(p.value_shape()) + " vs " +
                     to_string(q.value_shape()));
  }
  broadcast_shapes("kl_divergence", p.batch_shape(), q.batch_shape());
  return p.reduce_group((*f)(p, q));
}

}  // namespace vaelib
