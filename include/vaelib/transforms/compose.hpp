#pragma once
// ComposeTransform: a chain of transforms applied in order, y = f_n(... f_2(f_1(x))), with
// log|det J| the sum of the parts' at their own inputs (the chain rule). Parts may differ
// in event rank: the chain's events are large enough for every part (an elementwise exp
// before a vector transform acts on vectors), and each part's log|det J| is summed down to
// the chain's batch shape.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/transforms/independent.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

template <class T>
class ComposeTransform final : public Transform<T> {
 public:
  /// The parts in the order they are applied (first to x). `codomain` overrides the set the
  /// chain reports (exp then x + a reaches (a, inf), which the last part alone cannot say).
  explicit ComposeTransform(std::vector<TransformPtr<T>> parts, std::optional<Support<T>> codomain = std::nullopt)
      : m_parts(std::move(parts)), m_codomain(std::move(codomain)) {
    if (m_parts.empty()) throw ArgumentError("ComposeTransform: no parts (expected at least one transform)");
    for (std::size_t i = 0; i < m_parts.size(); ++i)
      if (!m_parts[i]) throw ArgumentError("ComposeTransform: part " + std::to_string(i) + " is null");
    // The smallest input event rank that gives each part at least its own.
    std::size_t rank = m_parts.back()->codomain_event_rank();
    for (std::size_t i = m_parts.size(); i-- > 0;) {
      const Transform<T>& p = *m_parts[i];
      rank = std::max(rank + p.domain_event_rank() - p.codomain_event_rank(), p.domain_event_rank());
    }
    m_input_ranks.push_back(rank);
    for (const auto& p : m_parts) {
      rank = rank + p->codomain_event_rank() - p->domain_event_rank();
      m_input_ranks.push_back(rank);
    }
  }

  std::string name() const override {
    std::string s = "Compose(";
    for (std::size_t i = 0; i < m_parts.size(); ++i) s += (i ? ", " : "") + m_parts[i]->name();
    return s + ")";
  }
  std::size_t domain_event_rank() const override { return m_input_ranks.front(); }
  std::size_t codomain_event_rank() const override { return m_input_ranks.back(); }
  Support<T> codomain() const override {
    if (m_codomain) return *m_codomain;
    const Transform<T>& last = *m_parts.back();
    return last.codomain().independent(codomain_event_rank() - last.codomain_event_rank());
  }
  Shape forward_shape(const Shape& x) const override {
    Shape s = x;
    for (const auto& p : m_parts) s = p->forward_shape(s);
    return s;
  }
  Shape inverse_shape(const Shape& y) const override {
    Shape s = y;
    for (std::size_t i = m_parts.size(); i-- > 0;) s = m_parts[i]->inverse_shape(s);
    return s;
  }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    Var<T> v = x;
    Var<T> total;
    for (std::size_t i = 0; i < m_parts.size(); ++i) {
      const auto r = m_parts[i]->forward_and_log_abs_det_jacobian(v);
      const Var<T> part =
          detail::sum_trailing(r.log_abs_det_jacobian, m_input_ranks[i] - m_parts[i]->domain_event_rank());
      total = i == 0 ? part : total + part;
      v = r.y;
    }
    return {v, total};
  }

  const std::vector<TransformPtr<T>>& parts() const noexcept { return m_parts; }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    Var<T> v = x;
    for (const auto& p : m_parts) v = p->forward(v);
    return v;
  }
  Var<T> inverse_impl(const Var<T>& y) const override {
    Var<T> v = y;
    for (std::size_t i = m_parts.size(); i-- > 0;) v = m_parts[i]->inverse(v);
    return v;
  }
  /// The intermediate values are recomputed from x (y serves the last part).
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>& y) const override {
    Var<T> v = x;
    Var<T> total;
    for (std::size_t i = 0; i < m_parts.size(); ++i) {
      const Var<T> next = i + 1 == m_parts.size() ? y : m_parts[i]->forward(v);
      const Var<T> part = detail::sum_trailing(m_parts[i]->log_abs_det_jacobian(v, next),
                                               m_input_ranks[i] - m_parts[i]->domain_event_rank());
      total = i == 0 ? part : total + part;
      v = next;
    }
    return total;
  }

 private:
  std::vector<TransformPtr<T>> m_parts;
  std::optional<Support<T>> m_codomain;
  std::vector<std::size_t> m_input_ranks;  // the event rank of the value entering part i (and the result, last)
};

/// compose({a, b, c}): apply a, then b, then c.
template <class T>
TransformPtr<T> compose(std::vector<TransformPtr<T>> parts, std::optional<Support<T>> codomain = std::nullopt) {
  return std::make_shared<ComposeTransform<T>>(std::move(parts), std::move(codomain));
}

}  // namespace vaelib
