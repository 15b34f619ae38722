#pragma once
// TransformedDistribution<T>: the distribution of y = f(x) for x from a base distribution and
// f a Transform:
//
//   log p(y) = log p_base(f^{-1}(y)) - log|det J_f|(f^{-1}(y))
//   sample   = f(base sample)  (reparameterised when the base is)
//
//   // LogNormal(0, 1) as exp of a standard normal:
//   TransformedDistribution<double> d(std::make_unique<Normal<double>>(Normal<double>::with_std(m, s)),
//                                     std::make_shared<ExpTransform<double>>());
//
// Events: a vector transform (stick-breaking on the last axis) takes the base's last batch
// axes into its event, and an elementwise transform of a vector-valued base (exp of a
// multivariate normal) keeps the base's event; the event is whichever is larger, the base's
// log-density and log|det J| are both summed over it. The base's own group_ndims axes stay in
// the event; this distribution's group_ndims then sums its remaining batch axes as usual.

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/transforms/independent.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// forward:  y = lp, but -inf where lp is NaN and the value it scores is not: the value lies
///           outside the transform's codomain or on its edge (an inverse took the log of a
///           negative step or of 0), where the density is 0. A NaN value keeps its NaN. When
///           `given` has lp's shape plus `value_size` elements per entry, each entry looks at
///           its own value; otherwise a NaN anywhere in `given` keeps every NaN.
/// backward: dlp += dy where lp was kept, 0 where it was replaced
template <class T>
Var<T> outside_codomain_to_minus_infinity(const Var<T>& lp, const Var<T>& given, std::size_t value_size) {
  Tape<T>& tape = lp.tape();
  const Var<T> y = tape.make_node("outside_codomain_to_minus_infinity", lp.shape(), {lp});
  const T* in = lp.data();
  const T* g = given.data();
  T* out = tape.value_ptr(y);
  const std::size_t n = lp.size();
  const bool per_entry = given.size() == n * value_size;
  bool any_nan_given = false;
  if (!per_entry)
    for (std::size_t i = 0; i < given.size(); ++i) any_nan_given = any_nan_given || std::isnan(g[i]);
  for (std::size_t i = 0; i < n; ++i) {
    bool value_is_nan = any_nan_given;
    if (per_entry && std::isnan(in[i]))
      for (std::size_t j = 0; j < value_size; ++j) value_is_nan = value_is_nan || std::isnan(g[i * value_size + j]);
    out[i] = std::isnan(in[i]) && !value_is_nan ? -std::numeric_limits<T>::infinity() : in[i];
  }
  tape.set_backward(y, [lp](Tape<T>& t, TapeRecord<T>& self) {
    const T* before = t.node(lp).value;
    const GradTarget<T> g = t.grad_target(lp);
    for (std::size_t i = 0; i < self.size; ++i)
      put_grad(g, i, std::isnan(before[i]) && !std::isnan(self.value[i]) ? T(0) : self.grad[i]);
  });
  return y;
}

}  // namespace detail

template <class T>
class TransformedDistribution final : public Distribution<T> {
 public:
  TransformedDistribution(std::unique_ptr<Distribution<T>> base, TransformPtr<T> transform,
                          DistributionOptions options = {})
      : TransformedDistribution(Layout::of(base.get(), transform.get()), std::move(base), std::move(transform),
                                options) {}

  std::string_view name() const override { return "TransformedDistribution"; }
  bool is_reparameterized() const override { return m_base->is_reparameterized(); }
  /// The transform's codomain, over this distribution's whole value.
  Support<T> support() const override {
    const Support<T> s = m_transform->codomain();
    const std::size_t value_rank = this->value_shape().size();
    return value_rank > s.event_rank() ? s.independent(value_rank - s.event_rank()) : s;
  }

  const Distribution<T>& base() const noexcept { return *m_base; }
  const TransformPtr<T>& transform() const noexcept { return m_transform; }

 protected:
  /// With detach_parameters, the base's parameters are detached; a transform's tensor
  /// parameters (an affine loc, say) are not. A value outside the transform's codomain (or on
  /// its edge) gives -inf, a NaN value NaN. The stick-breaking and correlation-Cholesky
  /// inverses read only directions, so a value off the simplex's sum or off unit-norm rows
  /// is scored as its normalised self: check such values yourself if they may be off.
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> x = m_transform->inverse(given);
    const Var<T> base_lp = detail::sum_trailing(m_base->log_prob(x, detach_parameters), m_base_lp_axes);
    const Var<T> log_det = detail::sum_trailing(m_transform->log_abs_det_jacobian(x, given), m_log_det_axes);
    return detail::outside_codomain_to_minus_infinity(base_lp - log_det, given, shape_size(this->value_shape()));
  }
  Var<T> sample_impl(std::size_t n, Rng& rng) const override { return m_transform->forward(m_base->sample(rng, n)); }

 private:
  // The shapes, worked out before the Distribution base is built.
  struct Layout {
    Tape<T>* tape = nullptr;
    Shape batch_shape, value_shape;
    std::size_t base_lp_axes = 0, log_det_axes = 0;

    static Layout of(const Distribution<T>* base, const Transform<T>* transform) {
      if (!base) throw ArgumentError("TransformedDistribution: the base distribution is null");
      if (!transform) throw ArgumentError("TransformedDistribution: the transform is null");
      Shape full = base->batch_shape();
      full.insert(full.end(), base->value_shape().begin(), base->value_shape().end());
      const std::size_t base_event = base->value_shape().size() + base->group_ndims();
      const std::size_t event = std::max(transform->domain_event_rank(), base_event);
      if (full.size() < event) {
        throw ShapeError("TransformedDistribution: " + transform->name() + " acts on the last " +
                         std::to_string(transform->domain_event_rank()) + " axes, but the base " +
                         std::string(base->name()) + " has batch_shape + value_shape " + to_string(full));
      }
      const Shape out = transform->forward_shape(full);
      const std::size_t out_event = event - transform->domain_event_rank() + transform->codomain_event_rank();
      Layout l;
      l.tape = &base->tape();
      l.batch_shape.assign(out.begin(), out.end() - static_cast<std::ptrdiff_t>(out_event));
      l.value_shape.assign(out.end() - static_cast<std::ptrdiff_t>(out_event), out.end());
      l.base_lp_axes = event - base_event;
      l.log_det_axes = event - transform->domain_event_rank();
      return l;
    }
  };

  // base is taken by reference: Layout::of reads it before anything is moved.
  TransformedDistribution(const Layout& layout, std::unique_ptr<Distribution<T>>&& base, TransformPtr<T>&& transform,
                          DistributionOptions options)
      : Distribution<T>(*layout.tape, layout.batch_shape, layout.value_shape, options),
        m_base(std::move(base)),
        m_transform(std::move(transform)),
        m_base_lp_axes(layout.base_lp_axes),
        m_log_det_axes(layout.log_det_axes) {}

  std::unique_ptr<Distribution<T>> m_base;
  TransformPtr<T> m_transform;
  std::size_t m_base_lp_axes;
  std::size_t m_log_det_axes;
};

}  // namespace vaelib
