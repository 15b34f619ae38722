#pragma once
// log_softmax: normalised log-probabilities from logits along one axis, in one node. Not
// x - logsumexp(x): that subtracts two large numbers (log_softmax([1000, 1000]) comes out
// 1e-13 off, and in float softmax([200, 200]) 1e-6 off); here the maximum is taken out of each
// entry first, y_j = (x_j - m) - log sum_k exp(x_k - m), exact where x_j - m is.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "vaelib/autodiff/detail/axis_view.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {
namespace detail {

/// The axis of a softmax-like op, normalised; ArgumentError for one out of range and ShapeError
/// for an empty one, naming `op`.
inline std::size_t softmax_axis(const char* op, std::ptrdiff_t axis, const Shape& shape) {
  const std::size_t ax = normalize_axis(op, axis, shape.size());
  if (shape[ax] == 0) {
    throw ShapeError(std::string(op) + ": axis " + std::to_string(axis) + " of shape " + to_string(shape) +
                     " is empty (expected at least one element to normalise over)");
  }
  return ax;
}

/// Calls visit(first, stride) once per slice along the middle axis of the [outer, n, inner]
/// view `v`: that slice's elements are at first + j stride, j = 0 .. v.n - 1. The one loop
/// nest of the softmax-like ops, forward and backward.
template <class Visit>
void for_each_axis_slice(const AxisView& v, Visit&& visit) {
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t i = 0; i < v.inner; ++i) visit(o * v.n * v.inner + i, v.inner);
}

/// out = log_softmax(in) along the middle axis of the [outer, n, inner] view `v`.
template <class T>
void log_softmax_into(const T* in, T* out, const AxisView& v) {
  for_each_axis_slice(v, [&](std::size_t first, std::size_t stride) {
    const T* x = in + first;
    T* y = out + first;
    T m = x[0];
    for (std::size_t j = 1; j < v.n; ++j) m = std::max(m, x[j * stride]);
    T s = 0;
    for (std::size_t j = 0; j < v.n; ++j) s += std::exp(x[j * stride] - m);
    const T log_s = std::log(s);
    for (std::size_t j = 0; j < v.n; ++j) y[j * stride] = (x[j * stride] - m) - log_s;
  });
}

}  // namespace detail

/// forward:  y_j = (x_j - m) - log sum_k exp(x_k - m), m = max_k x_k, along `axis` (default:
///           the last); exp(y) sums to 1. -inf logits beside finite ones give -inf; a slice of
///           all -inf, or holding +inf, gives NaN (as 0/0 and inf/inf would).
/// backward: dx_j += dy_j - exp(y_j) sum_k dy_k
template <class T>
Var<T> log_softmax(const Var<T>& x, std::ptrdiff_t axis = -1) {
  Tape<T>& tape = x.tape();
  tape.check_handle("log_softmax", x);
  const std::size_t ax = detail::softmax_axis("log_softmax", axis, x.shape());
  const Var<T> y = tape.make_node("log_softmax", x.shape(), {x});
  detail::log_softmax_into(x.data(), tape.value_ptr(y), detail::axis_view(x.shape(), ax));
  tape.set_backward(y, [x, ax](Tape<T>& t, TapeRecord<T>& self) {
    const detail::AxisView w = detail::axis_view(self.shape, ax);
    const GradTarget<T> g = t.grad_target(x);
    detail::for_each_axis_slice(w, [&](std::size_t first, std::size_t stride) {
      T total = 0;
      for (std::size_t j = 0; j < w.n; ++j) total += self.grad[first + j * stride];
      for (std::size_t j = 0; j < w.n; ++j) {
        const std::size_t at = first + j * stride;
        const T contribution = self.grad[at] - std::exp(self.value[at]) * total;
        g.data[at] = g.accumulate ? g.data[at] + contribution : contribution;
      }
    });
  });
  return y;
}

}  // namespace vaelib
