#pragma once
// ScalarOrVar<T>: a plain number or a tensor on the tape. The parameters of a transform (an
// affine map's loc and scale, an interval's bounds) and the bounds of a Support are either:
// a fixed number (no tape needed to state it; ops see it as a rank-0 constant), or a tensor
// that broadcasts and carries gradients.

#include <sstream>
#include <string>

#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/div.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/error.hpp"

namespace vaelib {

template <class T>
class ScalarOrVar {
 public:
  ScalarOrVar(T scalar) : m_scalar(scalar) {}   // NOLINT: a number reads as a bound
  ScalarOrVar(Var<T> tensor) : m_var(tensor) {  // NOLINT: so does a tensor
    if (m_var.empty()) throw ArgumentError("ScalarOrVar: an empty Var handle (default-constructed)");
  }

  bool is_var() const noexcept { return !m_var.empty(); }
  /// The number; ArgumentError when this holds a tensor.
  T scalar() const {
    if (is_var()) throw ArgumentError("ScalarOrVar::scalar: this holds a tensor of shape " + to_string(m_var.shape()));
    return m_scalar;
  }
  /// The tensor; ArgumentError when this holds a number.
  const Var<T>& var() const {
    if (!is_var()) throw ArgumentError("ScalarOrVar::var: this holds the number " + describe());
    return m_var;
  }
  /// The tensor, or the number as a rank-0 constant on `tape`.
  Var<T> on(Tape<T>& tape) const { return is_var() ? m_var : tape.constant(m_scalar); }
  /// The shape it broadcasts as ([] for a number).
  Shape shape() const { return is_var() ? m_var.shape() : Shape{}; }

  /// "2.5", or "tensor [3]".
  std::string describe() const {
    if (is_var()) return "tensor " + to_string(m_var.shape());
    std::ostringstream s;
    s << m_scalar;
    return s.str();
  }

 private:
  T m_scalar = 0;
  Var<T> m_var;
};

namespace detail {

// x op p with p a number (the ops' scalar overloads) or a tensor (broadcast, differentiable).
template <class T>
Var<T> plus(const Var<T>& x, const ScalarOrVar<T>& p) {
  return p.is_var() ? x + p.var() : x + p.scalar();
}
template <class T>
Var<T> minus(const Var<T>& x, const ScalarOrVar<T>& p) {
  return p.is_var() ? x - p.var() : x - p.scalar();
}
template <class T>
Var<T> times(const Var<T>& x, const ScalarOrVar<T>& p) {
  return p.is_var() ? x * p.var() : x * p.scalar();
}
template <class T>
Var<T> divided_by(const Var<T>& x, const ScalarOrVar<T>& p) {
  return p.is_var() ? x / p.var() : x / p.scalar();
}

}  // namespace detail

}  // namespace vaelib
