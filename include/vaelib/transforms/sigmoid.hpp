#pragma once
// SigmoidTransform: the reals onto an open interval (lower, upper), elementwise; (0, 1) by
// default. Bounds are numbers or tensors (broadcast with x; tensors receive gradients).

#include <cmath>
#include <string>

#include "vaelib/autodiff/ops/log.hpp"
#include "vaelib/autodiff/ops/log1p.hpp"
#include "vaelib/autodiff/ops/log_sigmoid.hpp"
#include "vaelib/autodiff/ops/neg.hpp"
#include "vaelib/autodiff/ops/sigmoid.hpp"
#include "vaelib/transforms/scalar_or_var.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

/// forward: y = lower + (upper - lower) sigmoid(x);  inverse: x = log t - log1p(-t) with
/// t = (y - lower) / (upper - lower);  log|det J| = log(upper - lower) + log sigmoid(x) +
/// log sigmoid(-x) (elementwise). In floating point y reaches the bounds once |x| is large
/// (beyond ~17 in float, ~37 in double); the inverse of a bound is -inf or +inf.
template <class T>
class SigmoidTransform final : public Transform<T> {
 public:
  SigmoidTransform() : SigmoidTransform(T(0), T(1)) {}
  SigmoidTransform(ScalarOrVar<T> lower, ScalarOrVar<T> upper) : m_lower(std::move(lower)), m_upper(std::move(upper)) {
    if (!m_lower.is_var() && !m_upper.is_var()) {
      const T lo = m_lower.scalar(), hi = m_upper.scalar();
      if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi && std::isfinite(hi - lo))) {
        throw ArgumentError("SigmoidTransform: the bounds must be finite with lower < upper, got lower = " +
                            m_lower.describe() + ", upper = " + m_upper.describe());
      }
      m_unit = lo == 0 && hi == 1;
    }
  }

  std::string name() const override { return "SigmoidTransform"; }
  std::size_t domain_event_rank() const override { return 0; }
  std::size_t codomain_event_rank() const override { return 0; }
  Support<T> codomain() const override {
    return m_unit ? Support<T>::unit_interval() : Support<T>::interval(m_lower, m_upper);
  }
  Shape forward_shape(const Shape& x) const override { return broadcast_with_bounds(x); }
  Shape inverse_shape(const Shape& y) const override { return broadcast_with_bounds(y); }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    if (m_unit) return sigmoid(x);
    return detail::plus(times_width(sigmoid(x)), m_lower);
  }
  Var<T> inverse_impl(const Var<T>& y) const override {
    const Var<T> t = m_unit ? y : divided_by_width(detail::minus(y, m_lower));
    return log(t) - log1p(-t);
  }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    const Var<T> unit = log_sigmoid(x) + log_sigmoid(-x);
    if (m_unit) return unit;
    if (!m_lower.is_var() && !m_upper.is_var()) return unit + std::log(m_upper.scalar() - m_lower.scalar());
    return unit + log(width(x.tape()));
  }

 private:
  Var<T> width(Tape<T>& tape) const { return m_upper.on(tape) - m_lower.on(tape); }
  Var<T> times_width(const Var<T>& v) const {
    if (!m_lower.is_var() && !m_upper.is_var()) return v * (m_upper.scalar() - m_lower.scalar());
    return v * width(v.tape());
  }
  Var<T> divided_by_width(const Var<T>& v) const {
    if (!m_lower.is_var() && !m_upper.is_var()) return v / (m_upper.scalar() - m_lower.scalar());
    return v / width(v.tape());
  }
  Shape broadcast_with_bounds(const Shape& s) const {
    return broadcast_shapes("SigmoidTransform", broadcast_shapes("SigmoidTransform", s, m_lower.shape()),
                            m_upper.shape());
  }

  ScalarOrVar<T> m_lower;
  ScalarOrVar<T> m_upper;
  bool m_unit = false;
};

}  // namespace vaelib
