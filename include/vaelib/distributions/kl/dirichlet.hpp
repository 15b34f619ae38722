#pragma once
// KL(Dirichlet || Dirichlet) from the concentrations, one node in double per pair of rows.
// With lgamma_bregman(x2, x1) = lgamma(x2) - lgamma(x1) - (x2 - x1) digamma(x1) (no
// cancellation at large concentrations) and a0 = sum_i a_i, b0 = sum_i b_i:
//   KL(Dir(a) || Dir(b)) = lgamma(a0) - sum_i lgamma(a_i) - lgamma(b0) + sum_i lgamma(b_i)
//                          + sum_i (a_i - b_i) (digamma(a_i) - digamma(a0))
//                        = sum_i lgamma_bregman(b_i, a_i) - lgamma_bregman(b0, a0)
// (Beta-Beta is the case k = 2).
//   dKL/da_i = (a_i - b_i) trigamma(a_i) - (a0 - b0) trigamma(a0)
//   dKL/db_i = digamma(b_i) - digamma(a_i) - digamma(b0) + digamma(a0)

#include <array>
#include <cstddef>

#include "vaelib/autodiff/ops/broadcast_to.hpp"
#include "vaelib/distributions/dirichlet.hpp"
#include "vaelib/distributions/kl/event_kl.hpp"
#include "vaelib/distributions/kl/numerics.hpp"

namespace vaelib::detail {

template <class T>
Var<T> kl_dirichlet_dirichlet(const Dirichlet<T>& p, const Dirichlet<T>& q) {
  const std::size_t k = p.n_categories();
  const Shape batch = broadcast_shapes("kl_divergence", p.batch_shape(), q.batch_shape());
  Shape full = batch;
  full.push_back(k);
  const Var<T> a = p.concentration(), b = q.concentration();
  const std::array<Var<T>, 2> inputs{a.shape() == full ? a : broadcast_to(a, full),
                                     b.shape() == full ? b : broadcast_to(b, full)};
  return event_kl<T, 2>("kl_divergence(Dirichlet || Dirichlet)", batch, inputs, [k](const EventKLArgs<2>& args) {
    const double* a = args.in[0];
    const double* b = args.in[1];
    double a0 = 0, b0 = 0, kl = 0;
    for (std::size_t i = 0; i < k; ++i) {
      a0 += a[i];
      b0 += b[i];
      kl += lgamma_bregman(b[i], a[i]);
    }
    kl -= lgamma_bregman(b0, a0);
    if (args.partial[0] != nullptr) {
      const double shift = (a0 - b0) * trigamma(a0);
      const double digamma_total = digamma(a0) - digamma(b0);
      for (std::size_t i = 0; i < k; ++i) {
        args.partial[0][i] = (a[i] - b[i]) * trigamma(a[i]) - shift;
        args.partial[1][i] = digamma(b[i]) - digamma(a[i]) + digamma_total;
      }
    }
    return kl;
  });
}

}  // namespace vaelib::detail
