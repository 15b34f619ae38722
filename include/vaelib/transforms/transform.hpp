#pragma once
// Transform<T>: a bijection y = f(x) from the reals onto a constrained set (a bijector), with
// its inverse and log|det J|, all recorded on the tape (differentiable in x, y and the
// transform's parameters).
//
// A transform acts on the trailing axes of its input and treats every leading axis as a
// batch. domain_event_rank() axes of x make one input event (0 for elementwise transforms, 1
// for vector ones such as stick-breaking); codomain_event_rank() axes of y make one output
// event (2 for the Cholesky factors, whose input is a vector). log_abs_det_jacobian(x, y)
// has the batch shape: x's shape without its domain event axes, the log-determinants of each
// event summed, as a distribution's group_ndims sums log-densities.
//
// Where the event shapes differ (R^{K-1} onto the K-simplex, a vector onto a triangular
// matrix), the Jacobian is that of x onto the free coordinates of y: the first K-1 entries of
// a simplex point, the lower triangle of a Cholesky factor.

#include <cstddef>
#include <memory>
#include <string>

#include "vaelib/autodiff/tape.hpp"
#include "vaelib/error.hpp"
#include "vaelib/transforms/support.hpp"

namespace vaelib {

template <class T>
class Transform {
 public:
  /// y = f(x) and log|det J| at x, together.
  struct ForwardResult {
    Var<T> y;
    Var<T> log_abs_det_jacobian;
  };

  virtual ~Transform() = default;

  /// For messages: "ExpTransform", "Compose(ExpTransform, AffineTransform)", ...
  virtual std::string name() const = 0;
  /// Trailing axes of x forming one input event.
  virtual std::size_t domain_event_rank() const = 0;
  /// Trailing axes of y forming one output event.
  virtual std::size_t codomain_event_rank() const = 0;
  /// The set y lives in.
  virtual Support<T> codomain() const = 0;
  /// y's shape for an x of shape `x` (and the inverse); ShapeError when x cannot be an input.
  virtual Shape forward_shape(const Shape& x) const { return x; }
  virtual Shape inverse_shape(const Shape& y) const { return y; }

  /// y = f(x).
  Var<T> forward(const Var<T>& x) const {
    check_rank("forward", "x", x, domain_event_rank());
    return forward_impl(x);
  }
  /// x = f^{-1}(y).
  Var<T> inverse(const Var<T>& y) const {
    check_rank("inverse", "y", y, codomain_event_rank());
    return inverse_impl(y);
  }
  /// log|det df/dx| at x, with y = f(x) (given so that a transform may reuse it), summed over
  /// each event: shape x.shape() without its last domain_event_rank() axes.
  Var<T> log_abs_det_jacobian(const Var<T>& x, const Var<T>& y) const {
    check_rank("log_abs_det_jacobian", "x", x, domain_event_rank());
    check_rank("log_abs_det_jacobian", "y", y, codomain_event_rank());
    if (x.rank() - domain_event_rank() != y.rank() - codomain_event_rank()) {
      throw ShapeError(name() + ".log_abs_det_jacobian: x of shape " + to_string(x.shape()) + " and y of shape " +
                       to_string(y.shape()) + " have different batch ranks (expected y = forward(x))");
    }
    return log_abs_det_jacobian_impl(x, y);
  }
  /// forward(x) and log_abs_det_jacobian(x, y) in one call: a composition records each
  /// intermediate value once instead of twice (what a sampler on the reals wants).
  virtual ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const {
    const Var<T> y = forward(x);
    return {y, log_abs_det_jacobian(x, y)};
  }

 protected:
  virtual Var<T> forward_impl(const Var<T>& x) const = 0;
  virtual Var<T> inverse_impl(const Var<T>& y) const = 0;
  virtual Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>& y) const = 0;

 private:
  void check_rank(const char* method, const char* operand, const Var<T>& v, std::size_t event_rank) const {
    if (v.rank() < event_rank) {
      throw ShapeError(name() + "." + method + ": " + operand + " has shape " + to_string(v.shape()) +
                       ", but the transform acts on its last " + std::to_string(event_rank) +
                       " axes (expected rank >= " + std::to_string(event_rank) + ")");
    }
  }
};

/// Transforms are shared: a composition, a TransformedDistribution and the caller may all
/// hold the same one.
template <class T>
using TransformPtr = std::shared_ptr<const Transform<T>>;

namespace detail {

/// Writes one element of an input's gradient (assign on the sweep's first write, add after).
template <class T>
inline void put_grad(const GradTarget<T>& g, std::size_t i, T value) {
  g.data[i] = g.accumulate ? g.data[i] + value : value;
}

/// A constant node of `shape` filled by fill(T* data, std::size_t size) in place.
template <class T, class Fill>
Var<T> filled_constant(Tape<T>& tape, const Shape& shape, Fill&& fill) {
  const Var<T> v = tape.make_node("constant", shape, std::span<const Var<T>>{});
  fill(tape.value_ptr(v), shape_size(shape));
  return v;
}

/// The last axis's size, refusing an empty one (a vector transform needs an event).
template <class T>
std::size_t last_axis_size(const std::string& op, const char* operand, const Var<T>& v, std::size_t at_least) {
  const std::size_t n = v.shape().back();
  if (n < at_least) {
    throw ShapeError(op + ": " + operand + " has shape " + to_string(v.shape()) +
                     " (expected a last axis of size >= " + std::to_string(at_least) + ")");
  }
  return n;
}

}  // namespace detail

}  // namespace vaelib
