#pragma once
// PlanarFlow: the planar flow of Rezende & Mohamed (2015), a learnable bijection of R^D that
// bends space along one direction,
//
//   f(z) = z + u_hat tanh(w^T z + b),   log|det J| = log|1 + u_hat^T psi(z)|,
//   psi(z) = (1 - tanh^2(w^T z + b)) w,
//
// on the last axis of its input (every leading axis a batch), its parameters w [D], u [D] and
// b [] got (or created) under "<scope>/<name>/". Along w the map is alpha -> alpha +
// (w^T u_hat) tanh(alpha + b), which folds over (is not one-to-one) once w^T u_hat < -1. So
// u is mapped onto the invertible set (the paper's appendix A):
//
//   u_hat = u + (m(w^T u) - w^T u) w / |w|^2,   m(a) = -1 + softplus(a),
//
// which makes w^T u_hat = m(w^T u) > -1 for every u. Then 1 + u_hat^T psi(z) = t^2 +
// (1 - t^2) softplus(w^T u), with t = tanh(w^T z + b): a sum of positive terms, so the
// log-determinant is taken without cancellation even where the flow nearly folds (w^T u very
// negative). u_hat is undefined at w = 0 (it grows like 1 / |w| as w shrinks): a zero w is
// refused.
//
// The inverse has no closed form, but it is one scalar equation along w: alpha = w^T z solves
// alpha + m tanh(alpha + b) = w^T y, whose left side increases (slope t^2 + (1 - t^2)
// softplus(w^T u) > 0) and lies within |m| of alpha, so the root lies within |m| of w^T y.
// It is solved per event in double by Newton steps kept inside that bracket by bisection, to
// rounding; then z = y - u_hat tanh(alpha + b). The root enters the tape with its implicit-function gradient
// (flows/detail/implicit_root.hpp), so the inverse is differentiable, to first order, in y
// and in w, u and b.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/div.hpp"
#include "vaelib/autodiff/ops/log.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/softplus.hpp"
#include "vaelib/autodiff/ops/square.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/autodiff/ops/tanh.hpp"
#include "vaelib/flows/detail/implicit_root.hpp"
#include "vaelib/flows/detail/vector_event.hpp"
#include "vaelib/flows/vector_flow.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// The alpha with alpha + (s - 1) tanh(alpha + b) = c, where s = softplus(w^T u) > 0 (so
/// m = s - 1 > -1 and the left side increases): the planar inverse along w, in double.
inline double planar_flow_solve_along_w(double c, double s, double b) {
  if (!std::isfinite(c) || !std::isfinite(s) || !std::isfinite(b)) return c + s + b;  // inf or NaN, as y is
  const double m = s - 1;
  double lo = c - std::abs(m), hi = c + std::abs(m);  // |m tanh| <= |m|
  double alpha = std::clamp(c - m * std::tanh(c + b), lo, hi);
  double last_step = hi - lo, step_before = last_step;
  // Over two million random cases (|w^T u| up to 1000, |alpha| up to 1e8) this took about 4
  // steps on average and at most 117 (a root within 1e-30 of 0, reached by halving).
  for (int i = 0; i < 400; ++i) {
    const double t = std::tanh(alpha + b);
    const double g = alpha + m * t - c;
    if (g == 0) return alpha;
    (g < 0 ? lo : hi) = alpha;
    double next = alpha - g / (t * t + (1 - t * t) * s);
    // Bisect where Newton leaves the bracket, or fails to halve the step before last: on
    // tanh's flat tails Newton can bounce from side to side, barely narrowing the bracket.
    if (!(next > lo && next < hi) || 2 * std::abs(next - alpha) > std::abs(step_before)) next = lo + (hi - lo) / 2;
    if (next == alpha || next == lo || next == hi) return alpha;  // the bracket is two neighbouring doubles
    step_before = last_step;
    last_step = next - alpha;
    alpha = next;
  }
  return alpha;
}

}  // namespace detail

template <class T>
struct PlanarFlowOptions {
  Initializer<T> w_init = {};  // empty: a random unit vector
  Initializer<T> u_init = {};  // empty: u_hat near 0 (see PlanarFlow::default_u_init)
  Initializer<T> b_init = {};  // empty: zeros
};

/// forward: y = z + u_hat tanh(w^T z + b);  inverse: solved along w (see above);
/// log|det J| = log(t^2 + (1 - t^2) softplus(w^T u)), t = tanh(w^T z + b), one per event.
/// The flow reads its parameters in place: it must not outlive their ParameterStore.
template <class T>
class PlanarFlow final : public VectorFlow<T> {
 public:
  /// Gets (or creates, for vectors of size `dim`) "<scope>/<name>/w", ".../u" and ".../b".
  /// Made again with the same scope and name, a flow shares the first one's parameters.
  PlanarFlow(const ParameterScope<T>& scope, std::string_view name, std::size_t dim,
             const PlanarFlowOptions<T>& options = {})
      : VectorFlow<T>("PlanarFlow", scope, name, dim) {
    const ParameterScope<T> own = scope.scope(name);
    m_w = &own.get("w", Shape{dim}, options.w_init ? options.w_init : default_w_init());
    m_u = &own.get("u", Shape{dim}, options.u_init ? options.u_init : default_u_init(*m_w));
    m_b = &own.get("b", Shape{}, options.b_init);
  }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    this->check_event("forward_and_log_abs_det_jacobian", "x", x.shape());
    const OnTape p = on(x.tape());
    const Var<T> t = tanh(sum(x * p.w, {-1}, true) + p.b);  // [..., 1]
    return {x + t * p.u_hat, log_abs_det(t, p)};
  }

  std::shared_ptr<const VectorFlow<T>> with_detached_parameters() const override { return this->detached_copy(*this); }

  const Parameter<T>& w() const noexcept { return *m_w; }
  const Parameter<T>& u() const noexcept { return *m_u; }
  const Parameter<T>& b() const noexcept { return *m_b; }

  /// u_hat [D] on `tape`, differentiable in w and u (w^T u_hat > -1 by construction).
  Var<T> u_hat(Tape<T>& tape) const { return on(tape).u_hat; }

  /// The default w: a uniformly random direction of unit length (w^T z + b then varies on
  /// tanh's curved range for z of unit scale).
  static Initializer<T> default_w_init() {
    return [](std::span<T> v, const Shape&, Rng& rng) {
      rng.fill_normal(v, T(0), T(1));
      T norm2 = 0;
      for (T x : v) norm2 += x * x;
      if (norm2 == 0) v[0] = 1;
      const T scale = norm2 == 0 ? T(1) : T(1) / std::sqrt(norm2);
      for (T& x : v) x *= scale;
    };
  }

  /// The default u, for the w given: log(e - 1) w / |w|^2 plus N(0, 0.01^2) noise. Small
  /// random u and w would not start the flow near the identity: with w^T u ~ 0, w^T u_hat is
  /// m(0) = log 2 - 1 ~ -0.31 whatever their scale, and |u_hat| ~ 0.31 / |w|. u_hat = 0
  /// needs u along w with m(w^T u) = 0, i.e. w^T u = log(e - 1); the noise then leaves u_hat
  /// of about its own size, so the flow starts within about 1% of the identity.
  static Initializer<T> default_u_init(const Parameter<T>& w) {
    const T* w_values = w.value;  // parameters never move
    return [w_values](std::span<T> v, const Shape&, Rng& rng) {
      rng.fill_normal(v, T(0), T(0.01));
      double norm2 = 0;
      for (std::size_t i = 0; i < v.size(); ++i) norm2 += static_cast<double>(w_values[i]) * w_values[i];
      if (norm2 == 0) return;  // no identity to start from: see the zero-w check
      const double along = std::log(std::expm1(1.0)) / norm2;
      for (std::size_t i = 0; i < v.size(); ++i) v[i] += static_cast<T>(along * w_values[i]);
    };
  }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    this->check_event("forward", "x", x.shape());
    const OnTape p = on(x.tape());
    return x + tanh(sum(x * p.w, {-1}, true) + p.b) * p.u_hat;
  }

  Var<T> inverse_impl(const Var<T>& y) const override {
    this->check_event("inverse", "y", y.shape());
    Tape<T>& tape = y.tape();
    const OnTape p = on(tape);
    const Var<T> c = sum(y * p.w, {-1}, true);  // w^T y, [..., 1]
    const double s = p.softplus_wu.item();
    const double b = p.b.item();
    const Var<T> root = detail::filled_constant(tape, c.shape(), [&](T* out, std::size_t n) {
      const T* cv = c.data();
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(detail::planar_flow_solve_along_w(cv[i], s, b));
    });
    const Var<T> slope = detail::filled_constant(tape, c.shape(), [&](T* out, std::size_t n) {
      const T* rv = root.data();
      for (std::size_t i = 0; i < n; ++i) {
        const double t = std::tanh(static_cast<double>(rv[i]) + b);
        // Kept from 0 (reached only when softplus underflows): the value stays the root's.
        out[i] = std::max(static_cast<T>(t * t + (1 - t * t) * s), std::numeric_limits<T>::min());
      }
    });
    const Var<T> residual = root + (p.softplus_wu - T(1)) * tanh(root + p.b) - c;
    const Var<T> alpha = detail::root_with_implicit_gradient(root, residual, slope);
    return y - tanh(alpha + p.b) * p.u_hat;
  }

  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    this->check_event("log_abs_det_jacobian", "x", x.shape());
    const OnTape p = on(x.tape());
    return log_abs_det(tanh(sum(x * p.w, {-1}, true) + p.b), p);
  }

 private:
  /// The parameters as leaves of one tape, with what every method derives from them.
  struct OnTape {
    Var<T> w, u_hat, b;
    Var<T> softplus_wu;  // softplus(w^T u) = 1 + w^T u_hat
  };

  OnTape on(Tape<T>& tape) const {
    // |w|^2 as the tape computes it: 0 also when every w_i^2 underflows. NaNs pass, as IEEE says.
    T norm2 = 0;
    for (std::size_t i = 0; i < this->m_dim; ++i) norm2 += m_w->value[i] * m_w->value[i];
    if (norm2 == 0) {
      throw DomainError(this->m_name + ": |w|^2 is 0, where u_hat = u + (m(w^T u) - w^T u) w / |w|^2 is undefined " +
                        "(expected a nonzero w)");
    }
    const Var<T> w = this->read(*m_w, tape);
    const Var<T> u = this->read(*m_u, tape);
    const Var<T> wu = sum(w * u);
    const Var<T> softplus_wu = softplus(wu);
    const Var<T> u_hat = u + (softplus_wu - T(1) - wu) / sum(square(w)) * w;
    return {w, u_hat, this->read(*m_b, tape), softplus_wu};
  }

  /// log(t^2 + (1 - t^2) softplus(w^T u)) for t [..., 1]: [...].
  static Var<T> log_abs_det(const Var<T>& t, const OnTape& p) {
    const Var<T> t2 = square(t);
    return detail::drop_unit_last_axis(log(t2 + (T(1) - t2) * p.softplus_wu));
  }

  Parameter<T>* m_w = nullptr;
  Parameter<T>* m_u = nullptr;
  Parameter<T>* m_b = nullptr;
};

}  // namespace vaelib
