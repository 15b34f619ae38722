#pragma once
// SoftplusTransform: the reals onto the positive reals, elementwise, growing linearly rather
// than exponentially (a gentler map for scales than exp).

#include <string>

#include "vaelib/autodiff/detail/elementwise.hpp"
#include "vaelib/autodiff/ops/log_sigmoid.hpp"
#include "vaelib/autodiff/ops/softplus.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// forward:  x = log(exp(y) - 1) = y + log(-expm1(-y))  (no overflow for large y, exact for
///           small y)
/// backward: dy += dx / (1 - exp(-y)) = dx / -expm1(-y)
template <class T>
Var<T> inverse_softplus(const Var<T>& y) {
  return unary_op(
      "inverse_softplus", y, [](const auto& y) { return y + xt::log(-xt::expm1(-y)); },
      [](const auto& y, const auto& x, const auto& dx) {
        (void)x;
        return dx / -xt::expm1(-y);
      });
}

}  // namespace detail

/// forward: y = softplus(x) = log(1 + exp(x));  inverse: x = log(expm1(y));
/// log|det J| = log sigmoid(x) (elementwise).
template <class T>
class SoftplusTransform final : public Transform<T> {
 public:
  std::string name() const override { return "SoftplusTransform"; }
  std::size_t domain_event_rank() const override { return 0; }
  std::size_t codomain_event_rank() const override { return 0; }
  Support<T> codomain() const override { return Support<T>::positive(); }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return softplus(x); }
  Var<T> inverse_impl(const Var<T>& y) const override { return detail::inverse_softplus(y); }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override { return log_sigmoid(x); }
};

}  // namespace vaelib
