#pragma once
// RadialFlow: the radial flow of Rezende & Mohamed (2015), a learnable bijection of R^D that
// pulls space towards a point z0 (or pushes it away), most strongly near it,
//
//   f(z) = z + beta h(r) (z - z0),   r = |z - z0|,   h(r) = 1 / (alpha + r),
//   log|det J| = (D - 1) log(1 + beta h) + log(1 + beta h + beta h'(r) r),  h' = -1 / (alpha + r)^2,
//
// on the last axis of its input (every leading axis a batch), its parameters z0 [D],
// alpha_raw [] and beta_raw [] got (or created) under "<scope>/<name>/". Along each ray from
// z0 the map is r -> r (alpha + beta + r) / (alpha + r), one-to-one exactly when beta >=
// -alpha (the paper's appendix A). So the parameters are mapped onto that set:
//
//   alpha = softplus(alpha_raw) > 0,   beta = -alpha + softplus(beta_raw) > -alpha.
//
// With s = softplus(beta_raw) = alpha + beta, the two factors of the determinant are
// 1 + beta h = (s + r) / (alpha + r) and 1 + beta h + beta h' r = (r (r + 2 alpha) + alpha s) /
// (alpha + r)^2: ratios of positive terms, so the log-determinant is taken without
// cancellation even at the constraint's edge (s near 0, a strong contraction).
//
// The inverse is closed-form: with rho = |y - z0|, the ratio q = r / rho solves
// rho q^2 + (s - rho) q - alpha = 0, whose positive root is taken in the form that does not
// cancel (and stays finite at rho = 0, where q = alpha / s); then z = z0 + q (y - z0). The
// root is taken in double and put on the tape with its implicit-function gradient
// (flows/detail/implicit_root.hpp), so the inverse is differentiable, to first order, in y
// and in z0, alpha_raw and beta_raw.
//
// r has no derivative at z = z0, so the norm's gradient is taken as 0 there (not NaN). That
// gives f's own Jacobian, (1 + beta / alpha) I, and for log|det J|, a function of r with a
// kink at z0, the mean of its one-sided slopes along any line: 0.

#include <cmath>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/div.hpp"
#include "vaelib/autodiff/ops/log.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/softplus.hpp"
#include "vaelib/autodiff/ops/sqrt.hpp"
#include "vaelib/autodiff/ops/square.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/autodiff/ops/where.hpp"
#include "vaelib/flows/detail/implicit_root.hpp"
#include "vaelib/flows/detail/vector_event.hpp"
#include "vaelib/flows/vector_flow.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// |v| over the last axis, kept with size 1, with gradient v / |v| and 0 at v = 0. Both
/// `where`s are needed: the outer one passes no gradient to the square root at 0, the inner
/// one keeps the square root's derivative there finite (0 * inf would be NaN).
template <class T>
Var<T> radial_flow_norm(const Var<T>& v) {
  Tape<T>& tape = v.tape();
  const Var<T> norm2 = sum(square(v), {-1}, true);
  const Var<T> positive = filled_constant(tape, norm2.shape(), [&](T* out, std::size_t n) {
    const T* nv = norm2.data();
    for (std::size_t i = 0; i < n; ++i) out[i] = nv[i] > 0 ? T(1) : T(0);
  });
  return where(positive, sqrt(where(positive, norm2, tape.constant(T(1)))), tape.constant(T(0)));
}

/// The ratio q = r / rho along a ray of the radial inverse: the positive root of
/// rho q^2 + (s - rho) q - alpha = 0 (s = alpha + beta > 0, alpha > 0, rho >= 0), and the
/// polynomial's slope there, sqrt((s - rho)^2 + 4 rho alpha) > 0.
struct RadialFlowRoot {
  double q;
  double slope;
};

inline RadialFlowRoot radial_flow_solve_along_ray(double rho, double alpha, double s) {
  const double k = s - rho;
  const double root_disc = std::hypot(k, 2 * std::sqrt(rho * alpha));
  // Each form adds terms of one sign: k + root_disc cancels for k < 0, root_disc - k for k > 0.
  const double q = k >= 0 ? 2 * alpha / (k + root_disc) : (root_disc - k) / (2 * rho);
  return {q, root_disc};
}

}  // namespace detail

template <class T>
struct RadialFlowOptions {
  Initializer<T> z0_init = {};         // empty: N(0, 1) per coordinate
  Initializer<T> alpha_raw_init = {};  // empty: N(0, 0.01^2) (alpha near log 2)
  Initializer<T> beta_raw_init = {};   // empty: N(0, 0.01^2) (beta near 0)
};

/// forward: y = z + beta (z - z0) / (alpha + r);  inverse: closed form along the ray from z0;
/// log|det J| = (D - 1) log((s + r) / (alpha + r)) + log((r (r + 2 alpha) + alpha s) / (alpha + r)^2),
/// s = softplus(beta_raw), one per event. The flow reads its parameters in place: it must not
/// outlive their ParameterStore.
template <class T>
class RadialFlow final : public VectorFlow<T> {
 public:
  /// Gets (or creates, for vectors of size `dim`) "<scope>/<name>/z0", ".../alpha_raw" and
  /// ".../beta_raw". Made again with the same scope and name, a flow shares the first one's
  /// parameters. The defaults start it near the identity: alpha_raw and beta_raw both near 0
  /// give beta = softplus(beta_raw) - softplus(alpha_raw) ~ (beta_raw - alpha_raw) / 2, about
  /// 0.01, wherever z0 is.
  RadialFlow(const ParameterScope<T>& scope, std::string_view name, std::size_t dim,
             const RadialFlowOptions<T>& options = {})
      : VectorFlow<T>("RadialFlow", scope, name, dim) {
    const ParameterScope<T> own = scope.scope(name);
    const Initializer<T> small = [](std::span<T> v, const Shape&, Rng& rng) { rng.fill_normal(v, T(0), T(0.01)); };
    const Initializer<T> standard = [](std::span<T> v, const Shape&, Rng& rng) { rng.fill_normal(v, T(0), T(1)); };
    m_z0 = &own.get("z0", Shape{dim}, options.z0_init ? options.z0_init : standard);
    m_alpha_raw = &own.get("alpha_raw", Shape{}, options.alpha_raw_init ? options.alpha_raw_init : small);
    m_beta_raw = &own.get("beta_raw", Shape{}, options.beta_raw_init ? options.beta_raw_init : small);
  }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    this->check_event("forward_and_log_abs_det_jacobian", "x", x.shape());
    const OnTape p = on(x.tape());
    const Var<T> d = x - p.z0;
    const Var<T> r = detail::radial_flow_norm(d);
    return {x + d * (p.beta / (p.alpha + r)), log_abs_det(r, p)};
  }

  std::shared_ptr<const VectorFlow<T>> with_detached_parameters() const override { return this->detached_copy(*this); }

  const Parameter<T>& z0() const noexcept { return *m_z0; }
  const Parameter<T>& alpha_raw() const noexcept { return *m_alpha_raw; }
  const Parameter<T>& beta_raw() const noexcept { return *m_beta_raw; }

  /// alpha = softplus(alpha_raw) > 0 on `tape`.
  Var<T> alpha(Tape<T>& tape) const { return on(tape).alpha; }
  /// beta = softplus(beta_raw) - alpha > -alpha on `tape`.
  Var<T> beta(Tape<T>& tape) const { return on(tape).beta; }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    this->check_event("forward", "x", x.shape());
    const OnTape p = on(x.tape());
    const Var<T> d = x - p.z0;
    return x + d * (p.beta / (p.alpha + detail::radial_flow_norm(d)));
  }

  Var<T> inverse_impl(const Var<T>& y) const override {
    this->check_event("inverse", "y", y.shape());
    Tape<T>& tape = y.tape();
    const OnTape p = on(tape);
    const Var<T> e = y - p.z0;
    const Var<T> rho = detail::radial_flow_norm(e);  // [..., 1]
    const double alpha = p.alpha.item();
    const double s = p.alpha_plus_beta.item();
    const Var<T> root = detail::filled_constant(tape, rho.shape(), [&](T* out, std::size_t n) {
      const T* rv = rho.data();
      for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<T>(detail::radial_flow_solve_along_ray(rv[i], alpha, s).q);
    });
    const Var<T> slope = detail::filled_constant(tape, rho.shape(), [&](T* out, std::size_t n) {
      const T* rv = rho.data();
      for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<T>(detail::radial_flow_solve_along_ray(rv[i], alpha, s).slope);
    });
    const Var<T> residual = rho * (square(root) - root) + p.alpha_plus_beta * root - p.alpha;
    return p.z0 + e * detail::root_with_implicit_gradient(root, residual, slope);
  }

  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    this->check_event("log_abs_det_jacobian", "x", x.shape());
    const OnTape p = on(x.tape());
    return log_abs_det(detail::radial_flow_norm(x - p.z0), p);
  }

 private:
  /// The parameters as leaves of one tape, with the constrained values derived from them.
  struct OnTape {
    Var<T> z0, alpha, beta;
    Var<T> alpha_plus_beta;  // softplus(beta_raw), > 0 without cancellation
  };

  OnTape on(Tape<T>& tape) const {
    const Var<T> alpha = softplus(this->read(*m_alpha_raw, tape));
    const Var<T> alpha_plus_beta = softplus(this->read(*m_beta_raw, tape));
    return {this->read(*m_z0, tape), alpha, alpha_plus_beta - alpha, alpha_plus_beta};
  }

  /// log|det J| from r = |z - z0| [..., 1]: [...].
  Var<T> log_abs_det(const Var<T>& r, const OnTape& p) const {
    const Var<T> log_alpha_r = log(p.alpha + r);
    Var<T> out = log(r * (r + T(2) * p.alpha) + p.alpha * p.alpha_plus_beta) - T(2) * log_alpha_r;
    if (this->m_dim > 1) out = out + static_cast<T>(this->m_dim - 1) * (log(p.alpha_plus_beta + r) - log_alpha_r);
    return detail::drop_unit_last_axis(out);
  }

  Parameter<T>* m_z0 = nullptr;
  Parameter<T>* m_alpha_raw = nullptr;
  Parameter<T>* m_beta_raw = nullptr;
};

}  // namespace vaelib
