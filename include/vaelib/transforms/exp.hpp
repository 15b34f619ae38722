#pragma once
// ExpTransform: the reals onto the positive reals, elementwise.

#include <string>

#include "vaelib/autodiff/ops/exp.hpp"
#include "vaelib/autodiff/ops/log.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

/// forward: y = exp(x);  inverse: x = log(y);  log|det J| = x (elementwise).
template <class T>
class ExpTransform final : public Transform<T> {
 public:
  std::string name() const override { return "ExpTransform"; }
  std::size_t domain_event_rank() const override { return 0; }
  std::size_t codomain_event_rank() const override { return 0; }
  Support<T> codomain() const override { return Support<T>::positive(); }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return exp(x); }
  Var<T> inverse_impl(const Var<T>& y) const override { return log(y); }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override { return x; }
};

}  // namespace vaelib
