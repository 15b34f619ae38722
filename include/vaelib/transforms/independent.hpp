#pragma once
// IndependentTransform: a transform whose events take `extra_axes` more trailing axes: the
// same map, with log|det J| summed over those axes too (as group_ndims does for
// log-densities). An elementwise exp over a [..., d] vector read as one event is
// IndependentTransform(exp, 1).

#include <array>
#include <cstddef>
#include <span>
#include <string>

#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// Sums the last `axes` axes of v (v itself when there are none).
template <class T>
Var<T> sum_trailing(const Var<T>& v, std::size_t axes) {
  if (axes == 0) return v;
  if (axes > v.rank() || axes > AxisSet::max_rank) {
    throw ShapeError("sum_trailing: cannot sum the last " + std::to_string(axes) + " axes of shape " +
                     to_string(v.shape()));
  }
  std::array<std::ptrdiff_t, AxisSet::max_rank> which{};
  for (std::size_t i = 0; i < axes; ++i) which[i] = -1 - static_cast<std::ptrdiff_t>(i);
  return sum(v, std::span<const std::ptrdiff_t>(which.data(), axes));
}

}  // namespace detail

template <class T>
class IndependentTransform final : public Transform<T> {
 public:
  IndependentTransform(TransformPtr<T> base, std::size_t extra_axes) : m_base(std::move(base)), m_extra(extra_axes) {
    if (!m_base) throw ArgumentError("IndependentTransform: the base transform is null");
  }

  std::string name() const override { return "Independent(" + m_base->name() + ", " + std::to_string(m_extra) + ")"; }
  std::size_t domain_event_rank() const override { return m_base->domain_event_rank() + m_extra; }
  std::size_t codomain_event_rank() const override { return m_base->codomain_event_rank() + m_extra; }
  Support<T> codomain() const override { return m_base->codomain().independent(m_extra); }
  Shape forward_shape(const Shape& x) const override { return m_base->forward_shape(x); }
  Shape inverse_shape(const Shape& y) const override { return m_base->inverse_shape(y); }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    const auto r = m_base->forward_and_log_abs_det_jacobian(x);
    return {r.y, detail::sum_trailing(r.log_abs_det_jacobian, m_extra)};
  }

  const TransformPtr<T>& base() const noexcept { return m_base; }
  std::size_t extra_axes() const noexcept { return m_extra; }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return m_base->forward(x); }
  Var<T> inverse_impl(const Var<T>& y) const override { return m_base->inverse(y); }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>& y) const override {
    return detail::sum_trailing(m_base->log_abs_det_jacobian(x, y), m_extra);
  }

 private:
  TransformPtr<T> m_base;
  std::size_t m_extra;
};

}  // namespace vaelib
