#pragma once
// KL(Categorical || Categorical) and KL(OnehotCategorical || OnehotCategorical), from the
// logits, one node in double per pair of rows:
//   KL = sum_j p_j (log p_j - log q_j),  log p = l1 - logsumexp(l1),  log q = l2 - logsumexp(l2)
// A class whose p_j underflows to 0 contributes its limit 0 (never 0 * inf), so masked classes
// (logits -1e30) and logits far apart give a finite KL, or +inf only beyond T's range.
//   dKL/dl1_j = p_j (log p_j - log q_j - KL),   dKL/dl2_j = q_j - p_j

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "vaelib/autodiff/ops/broadcast_to.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/kl/event_kl.hpp"
#include "vaelib/distributions/onehot_categorical.hpp"

namespace vaelib::detail {

/// max and logsumexp of n numbers.
inline double logsumexp_of(const double* l, std::size_t n) {
  const double top = *std::max_element(l, l + n);
  double total = 0;
  for (std::size_t j = 0; j < n; ++j) total += std::exp(l[j] - top);
  return top + std::log(total);
}

/// KL between the categorical distributions of two logit rows [..., k] (the batch axes
/// broadcast): the common part of the Categorical and OnehotCategorical pairs.
template <class T>
Var<T> categorical_logits_kl(const char* name, const char* distribution, const Shape& batch_p, const Shape& batch_q,
                             const Var<T>& logits_p, const Var<T>& logits_q) {
  const std::size_t k = logits_p.shape().back();
  if (logits_q.shape().back() != k) {
    throw ShapeError(std::string("kl_divergence: ") + distribution +
                     " distributions over different numbers of categories: " + std::to_string(k) + " vs " +
                     std::to_string(logits_q.shape().back()));
  }
  const Shape batch = broadcast_shapes("kl_divergence", batch_p, batch_q);
  Shape full = batch;
  full.push_back(k);
  const Var<T> lp = logits_p.shape() == full ? logits_p : broadcast_to(logits_p, full);
  const Var<T> lq = logits_q.shape() == full ? logits_q : broadcast_to(logits_q, full);
  return event_kl<T, 2>(name, batch, {lp, lq}, [k](const EventKLArgs<2>& a) {
    const double* l1 = a.in[0];
    const double* l2 = a.in[1];
    const double lse1 = logsumexp_of(l1, k), lse2 = logsumexp_of(l2, k);
    double kl = 0;
    for (std::size_t j = 0; j < k; ++j) {
      const double log_p = l1[j] - lse1;
      const double p = std::exp(log_p);
      if (p > 0) kl += p * (log_p - (l2[j] - lse2));
    }
    if (a.partial[0] != nullptr) {
      for (std::size_t j = 0; j < k; ++j) {
        const double log_p = l1[j] - lse1;
        const double p = std::exp(log_p);
        const double log_q = l2[j] - lse2;
        a.partial[0][j] = p > 0 ? p * ((log_p - log_q) - kl) : 0.0;
        a.partial[1][j] = std::exp(log_q) - p;
      }
    }
    return kl;
  });
}

template <class T>
Var<T> kl_categorical_categorical(const Categorical<T>& p, const Categorical<T>& q) {
  return categorical_logits_kl("kl_divergence(Categorical || Categorical)", "Categorical", p.batch_shape(),
                               q.batch_shape(), p.logits(), q.logits());
}

template <class T>
Var<T> kl_onehot_categorical_onehot_categorical(const OnehotCategorical<T>& p, const OnehotCategorical<T>& q) {
  return categorical_logits_kl("kl_divergence(OnehotCategorical || OnehotCategorical)", "OnehotCategorical",
                               p.batch_shape(), q.batch_shape(), p.logits(), q.logits());
}

}  // namespace vaelib::detail
