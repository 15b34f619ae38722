#pragma once
// log_mean_exp: log(mean(exp(x))) along one axis, the importance-weighted bound's
// log (1/k) sum_i w_i over k particles. Recorded as logsumexp(x) - log n (max-subtracted; one
// logsumexp node and one sub of a constant).

#include <cmath>
#include <cstddef>

#include "vaelib/autodiff/ops/log_softmax.hpp"
#include "vaelib/autodiff/ops/logsumexp.hpp"
#include "vaelib/autodiff/ops/sub.hpp"

namespace vaelib {

/// forward:  y = logsumexp_j(x_j) - log n along `axis` (n = its length); -inf for all -inf
/// backward: dx_j += dy exp(x_j - logsumexp(x)) = dy softmax_j  (as logsumexp's)
template <class T>
Var<T> log_mean_exp(const Var<T>& x, std::ptrdiff_t axis, bool keep_dims = false) {
  x.tape().check_handle("log_mean_exp", x);
  const std::size_t ax = detail::softmax_axis("log_mean_exp", axis, x.shape());
  const T log_n = static_cast<T>(std::log(static_cast<double>(x.shape()[ax])));
  return logsumexp(x, static_cast<std::ptrdiff_t>(ax), keep_dims) - log_n;
}

}  // namespace vaelib
