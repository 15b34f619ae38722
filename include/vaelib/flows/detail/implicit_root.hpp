#pragma once
// root_with_implicit_gradient: a root solved off the tape, put on it with the gradient of the
// implicit function theorem. A flow whose inverse needs the x* with g(x*; theta) = 0 (found
// by Newton steps, or by a closed form with branches best taken in double) records
//
//   x = x* - (g(x*; theta) - stop(g(x*; theta))) / g'(x*)
//
// Its value is x* exactly (the bracket is r - r = 0, not a rounding-sized Newton step, which
// would be amplified where g' is tiny), and its gradient is -dg/dtheta / g'(x*): the root's
// own. So the solve stays in plain double code, and the result is still differentiable (to
// first order) in everything g reads from the tape.

#include "vaelib/autodiff/ops/detach.hpp"
#include "vaelib/autodiff/ops/div.hpp"
#include "vaelib/autodiff/ops/sub.hpp"

namespace vaelib::detail {

/// `root`: x*, a constant; `residual`: g(x*; theta) recorded on the tape with x* read as that
/// constant; `slope`: dg/dx at x*, a constant, nonzero. All three broadcast together.
template <class T>
Var<T> root_with_implicit_gradient(const Var<T>& root, const Var<T>& residual, const Var<T>& slope) {
  return root - (residual - detach(residual)) / slope;
}

}  // namespace vaelib::detail
