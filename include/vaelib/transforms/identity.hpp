#pragma once
// IdentityTransform: y = x, the transform onto the reals (a support with nothing to
// constrain).

#include <cstddef>
#include <string>

#include "vaelib/transforms/transform.hpp"

namespace vaelib {

/// forward: y = x;  inverse: x = y;  log|det J| = 0 (summed over event_rank trailing axes).
template <class T>
class IdentityTransform final : public Transform<T> {
 public:
  explicit IdentityTransform(std::size_t event_rank = 0) : m_event_rank(event_rank) {}

  std::string name() const override { return "IdentityTransform"; }
  std::size_t domain_event_rank() const override { return m_event_rank; }
  std::size_t codomain_event_rank() const override { return m_event_rank; }
  Support<T> codomain() const override { return Support<T>::real().independent(m_event_rank); }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return x; }
  Var<T> inverse_impl(const Var<T>& y) const override { return y; }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    const Shape& s = x.shape();
    return x.tape().zeros(Shape(s.begin(), s.end() - static_cast<std::ptrdiff_t>(m_event_rank)));
  }

 private:
  std::size_t m_event_rank;
};

}  // namespace vaelib
