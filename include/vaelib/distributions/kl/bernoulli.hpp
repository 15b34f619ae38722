#pragma once
// KL(Bernoulli || Bernoulli) from the logits, never through probabilities:
//   KL = p (log sigmoid(l1) - log sigmoid(l2)) + (1 - p) (log sigmoid(-l1) - log sigmoid(-l2)),
//   p = sigmoid(l1)
// Finite for all finite logits (Bernoulli refuses infinite ones): a term whose weight underflows
// to 0 multiplies a finite log-difference.

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/bernoulli.hpp"

namespace vaelib::detail {

template <class T>
Var<T> kl_bernoulli_bernoulli(const Bernoulli<T>& p, const Bernoulli<T>& q) {
  const Var<T> lp = p.logits(), lq = q.logits();
  return sigmoid(lp) * (log_sigmoid(lp) - log_sigmoid(lq)) + sigmoid(-lp) * (log_sigmoid(-lp) - log_sigmoid(-lq));
}

}  // namespace vaelib::detail
