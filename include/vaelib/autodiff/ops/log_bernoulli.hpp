#pragma once
// log_bernoulli: the Bernoulli log-likelihood of targets x under logits l, fused (one pass
// forward, one pass backward, one exp per element each), vectorised with xsimd. It is
// x * l - softplus(l) as one op instead of three, for the decoder of every binary VAE.

#include <string>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/detail/elementwise.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/softplus.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/detail/simd.hpp"

namespace vaelib {

namespace detail {

/// How x lines up with l in the fused path: l's shape is the output's, and x repeats over
/// l's leading axes (x's shape, leading 1s aside, is a suffix of l's, e.g. [batch, pixels] under
/// [particles, batch, pixels]). `repeats` copies of x's `block` elements make up l.
struct SuffixBroadcast {
  bool ok = false;
  std::size_t block = 0, repeats = 0;
};

inline SuffixBroadcast suffix_broadcast(const Shape& x, const Shape& l) {
  if (x.size() > l.size() || !repeats_along_leading_axes(x, l)) return {};  // l's shape is then the output's
  const std::size_t block = shape_size(x);
  return {true, block, block == 0 ? 0 : shape_size(l) / block};
}

}  // namespace detail

/// forward:  y = x l - softplus(l) = x l - max(l, 0) - log1p(exp(-|l|))   (broadcasting)
/// backward: dl += (x - sigmoid(l)) dy;  dx += l dy
/// Fused when x's shape is a suffix of l's (targets repeated over particles); any other
/// broadcast is computed as the composed x * l - softplus(l).
template <class T>
Var<T> log_bernoulli(const Var<T>& x, const Var<T>& logits) {
  Tape<T>& tape = x.tape();
  tape.check_handle("log_bernoulli", x);
  tape.check_handle("log_bernoulli", logits);
  const detail::SuffixBroadcast fit = detail::suffix_broadcast(x.shape(), logits.shape());
  if (!fit.ok) {
    (void)broadcast_shapes("log_bernoulli", x.shape(), logits.shape());  // names this op if they do not fit
    return x * logits - softplus(logits);
  }
  const Var<T> y = tape.make_node("log_bernoulli", logits.shape(), {x, logits});
  const auto forward = [](const auto& xv, const auto& lv) { return xv * lv - detail::simd::softplus(lv); };
  T* out = tape.value_ptr(y);
  for (std::size_t r = 0; r < fit.repeats; ++r)
    detail::simd::map(fit.block, out + r * fit.block, forward, x.data(), logits.data() + r * fit.block);
  tape.set_backward(y, [x, logits, fit](Tape<T>& t, TapeRecord<T>& self) {
    const T* xv = t.value_ptr(x);
    const T* lv = t.value_ptr(logits);
    const T* dy = self.grad;
    if (t.node(logits).requires_grad) {
      const GradTarget<T> g = t.grad_target(logits);
      const auto dl = [](const auto& xe, const auto& le, const auto& dye) {
        return (xe - detail::simd::sigmoid(le)) * dye;
      };
      for (std::size_t r = 0; r < fit.repeats; ++r) {
        const std::size_t at = r * fit.block;
        detail::simd::map_into(g.accumulate, fit.block, g.data + at, dl, xv, lv + at, dy + at);
      }
    }
    if (t.node(x).requires_grad) {  // relaxed targets that depend on parameters
      const GradTarget<T> g = t.grad_target(x);
      const auto dx = [](const auto& le, const auto& dye) { return le * dye; };
      for (std::size_t r = 0; r < fit.repeats; ++r) {
        const std::size_t at = r * fit.block;
        detail::simd::map_into(g.accumulate || r > 0, fit.block, g.data, dx, lv + at, dy + at);
      }
    }
  });
  return y;
}

}  // namespace vaelib
