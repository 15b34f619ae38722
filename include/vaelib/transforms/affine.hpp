#pragma once
// AffineTransform: y = loc + scale * x, elementwise, with loc and scale numbers or tensors
// (broadcast with x; tensors receive gradients).

#include <cmath>
#include <string>

#include "vaelib/autodiff/ops/abs.hpp"
#include "vaelib/autodiff/ops/broadcast_to.hpp"
#include "vaelib/autodiff/ops/log.hpp"
#include "vaelib/transforms/scalar_or_var.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

/// forward: y = loc + scale x;  inverse: x = (y - loc) / scale;  log|det J| = log|scale|
/// (elementwise, broadcast to y's shape). A numeric scale must be finite and nonzero; a
/// tensor scale is the caller's to keep away from 0.
template <class T>
class AffineTransform final : public Transform<T> {
 public:
  AffineTransform(ScalarOrVar<T> loc, ScalarOrVar<T> scale) : m_loc(std::move(loc)), m_scale(std::move(scale)) {
    if (!m_loc.is_var() && !std::isfinite(m_loc.scalar()))
      throw ArgumentError("AffineTransform: loc must be finite, got " + m_loc.describe());
    if (!m_scale.is_var() && (!std::isfinite(m_scale.scalar()) || m_scale.scalar() == 0))
      throw ArgumentError("AffineTransform: scale must be finite and nonzero, got " + m_scale.describe());
  }

  std::string name() const override { return "AffineTransform"; }
  std::size_t domain_event_rank() const override { return 0; }
  std::size_t codomain_event_rank() const override { return 0; }
  Support<T> codomain() const override { return Support<T>::real(); }
  Shape forward_shape(const Shape& x) const override { return broadcast_with_parameters(x); }
  Shape inverse_shape(const Shape& y) const override { return broadcast_with_parameters(y); }

  const ScalarOrVar<T>& loc() const noexcept { return m_loc; }
  const ScalarOrVar<T>& scale() const noexcept { return m_scale; }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return detail::plus(detail::times(x, m_scale), m_loc); }
  Var<T> inverse_impl(const Var<T>& y) const override { return detail::divided_by(detail::minus(y, m_loc), m_scale); }
  Var<T> log_abs_det_jacobian_impl(const Var<T>&, const Var<T>& y) const override {
    if (!m_scale.is_var()) return y.tape().full(y.shape(), std::log(std::abs(m_scale.scalar())));
    return broadcast_to(log(abs(m_scale.var())), y.shape());
  }

 private:
  Shape broadcast_with_parameters(const Shape& s) const {
    return broadcast_shapes("AffineTransform", broadcast_shapes("AffineTransform", s, m_loc.shape()), m_scale.shape());
  }

  ScalarOrVar<T> m_loc;
  ScalarOrVar<T> m_scale;
};

}  // namespace vaelib
