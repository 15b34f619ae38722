#pragma once
// SylvesterFlow: the Householder Sylvester flow of van den Berg, Hasenclever, Tomczak &
// Welling (2018), a learnable bijection of R^D that generalises the planar flow from one
// direction to D of them,
//
//   f(z) = z + Q R h(R~ Q^T z + b),   h = tanh,
//   log|det J| = sum_i log(1 + r_ii r~_ii h'(x_i)),   x = R~ Q^T z + b,
//
// on the last axis of its input (every leading axis a batch), its parameters got (or
// created) under "<scope>/<name>/":
//
//   v [K, D]        K Householder vectors: Q = H_1 ... H_K, H_k = I - 2 v_k v_k^T / |v_k|^2
//                   (orthogonal whatever v is; K = `reflections`, D by default);
//   r, r_tilde [D, D]  R and R~, read as upper-triangular: the strictly lower parts are
//                   masked out (they get no gradient), and the diagonals hold raw values,
//                   r_ii = tanh(r[i, i]), r~_ii = tanh(r_tilde[i, i]);
//   b [D].
//
// Why it is invertible: in the rotated coordinates u = Q^T z the map is u -> u + R h(R~ u +
// b), whose Jacobian I + R diag(h') R~ is upper-triangular with diagonal 1 + r_ii r~_ii h'.
// The paper asks r_ii r~_ii > -1 / max h' = -1; tanh on both diagonals gives |r_ii r~_ii| < 1.
// Written with s_i = 1 + r_ii r~_ii and t = tanh(x_i), each diagonal entry is t^2 + (1 - t^2)
// s_i, and with a = r[i, i], c = r_tilde[i, i],
//
//   s_i = 1 + tanh(a) tanh(c) = 2 (sigmoid(2a) sigmoid(2c) + sigmoid(-2a) sigmoid(-2c)):
//
// sums of positive terms only, so log|det J| is taken without cancellation even at the
// constraint's edge (tanh(a) tanh(c) near -1, where f nearly folds).
//
// The inverse has no closed form, but the triangular Jacobian makes it D scalar equations.
// With y' = Q^T y, u_D solves u_D + r_DD h(r~_DD u_D + b_D) = y'_D; then each u_i, the u_k
// after it known, solves u_i + r_ii h(r~_ii u_i + c_i) = d_i (back substitution), an
// increasing function of u_i (slope t^2 + (1 - t^2) s_i > 0) within |r_ii| < 1 of d_i. Each
// is solved per event in double by Newton steps kept inside that bracket by bisection, to
// rounding. The root u* enters the tape with the implicit-function gradient, the vector case
// of flows/detail/implicit_root.hpp:
//
//   u = u* - J(u*)^{-1} (F(u*) - stop(F(u*))),   F(u) = u + R h(R~ u + b) - Q^T y,
//
// whose value is u* exactly and whose gradient is -J^{-1} dF: the root's own. J is applied
// by triangular_solve (forward substitution, no explicit inverse) in the reversed rotated
// coordinates P u (P the reversal), where P J P is lower-triangular; P is folded into Q and
// R. Then z = Q u. So the inverse is differentiable, to first order, in y and every parameter.
//
// The solve costs O(D^2) per event and the Jacobian put on the tape D^2 numbers per event.
// Where many r_ii r~_ii are near -1 at once, J is ill-conditioned (its inverse grows like the
// product of the small diagonal entries' reciprocals), and z comes back only to rounding times
// that; y = f(f^{-1}(y)) still holds to rounding.
//
// Default initialisation, near the identity: r ~ N(0, 0.01^2), so R (r_ii = tanh(r[i, i])
// included) is about 0.01 and f moves points by about that; r_tilde ~ N(0, 1/D) off the
// diagonal and 1 on it (r~_ii = tanh(1) ~ 0.76), so each x_i mostly reads its own u_i and the
// gradient in R, h(x), is of order 1 from the start rather than vanishing with R~ (as it would
// with both near 0); v ~ N(0, 1) (random reflections); b = 0.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/detach.hpp"
#include "vaelib/autodiff/ops/div.hpp"
#include "vaelib/autodiff/ops/log.hpp"
#include "vaelib/autodiff/ops/matmul.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/reshape.hpp"
#include "vaelib/autodiff/ops/sigmoid.hpp"
#include "vaelib/autodiff/ops/slice.hpp"
#include "vaelib/autodiff/ops/square.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/autodiff/ops/tanh.hpp"
#include "vaelib/autodiff/ops/triangular_solve.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flows/vector_flow.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// The alpha with alpha + r tanh(rt alpha + c) = d, where s = 1 + r rt > 0 (so the left side
/// increases, slope t^2 + (1 - t^2) s) and |r| <= 1: one step of the Sylvester inverse's back
/// substitution, in double.
inline double sylvester_flow_solve_diagonal(double d, double r, double rt, double c, double s) {
  if (!std::isfinite(d) || !std::isfinite(r) || !std::isfinite(rt) || !std::isfinite(c) || !std::isfinite(s))
    return d + r + rt + c + s;                        // inf or NaN, as the input is
  double lo = d - std::abs(r), hi = d + std::abs(r);  // |r tanh| <= |r|
  double alpha = std::clamp(d - r * std::tanh(rt * d + c), lo, hi);
  double last_step = hi - lo, step_before = last_step;
  for (int i = 0; i < 400; ++i) {
    const double t = std::tanh(rt * alpha + c);
    const double g = alpha + r * t - d;
    if (g == 0) return alpha;
    (g < 0 ? lo : hi) = alpha;
    double next = alpha - g / (t * t + (1 - t * t) * s);
    // Bisect where Newton leaves the bracket or fails to halve the step before last (it can
    // bounce between tanh's flat tails when s is small).
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
struct SylvesterFlowOptions {
  std::size_t reflections = 0;       // K, the Householder reflections in Q (0: D)
  Initializer<T> v_init = {};        // empty: N(0, 1)
  Initializer<T> r_init = {};        // empty: N(0, 0.01^2) (R near 0: f near the identity)
  Initializer<T> r_tilde_init = {};  // empty: N(0, 1/D), 1 on the diagonal
  Initializer<T> b_init = {};        // empty: zeros
};

/// forward: y = z + Q R tanh(R~ Q^T z + b);  inverse: back substitution in Q^T y (see above);
/// log|det J| = sum_i log(t_i^2 + (1 - t_i^2) (1 + r_ii r~_ii)), t = tanh(R~ Q^T z + b), one
/// per event. The flow reads its parameters in place: it must not outlive their ParameterStore.
template <class T>
class SylvesterFlow final : public VectorFlow<T> {
 public:
  /// Gets (or creates, for vectors of size `dim`) "<scope>/<name>/v" [K, D], ".../r" [D, D],
  /// ".../r_tilde" [D, D] and ".../b" [D]. Made again with the same scope and name, a flow
  /// shares the first one's parameters.
  SylvesterFlow(const ParameterScope<T>& scope, std::string_view name, std::size_t dim,
                const SylvesterFlowOptions<T>& options = {})
      : VectorFlow<T>("SylvesterFlow", scope, name, dim),
        m_reflections(options.reflections == 0 ? dim : options.reflections) {
    const ParameterScope<T> own = scope.scope(name);
    const Initializer<T> standard = [](std::span<T> v, const Shape&, Rng& rng) { rng.fill_normal(v, T(0), T(1)); };
    const Initializer<T> small = [](std::span<T> v, const Shape&, Rng& rng) { rng.fill_normal(v, T(0), T(0.01)); };
    m_v = &own.get("v", Shape{m_reflections, dim}, options.v_init ? options.v_init : standard);
    m_r = &own.get("r", Shape{dim, dim}, options.r_init ? options.r_init : small);
    m_r_tilde =
        &own.get("r_tilde", Shape{dim, dim}, options.r_tilde_init ? options.r_tilde_init : default_r_tilde_init());
    m_b = &own.get("b", Shape{dim}, options.b_init);
  }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    this->check_event("forward_and_log_abs_det_jacobian", "x", x.shape());
    const OnTape p = on(x.tape());
    const Var<T> xf = flat(x);
    const Var<T> t = hidden(xf, p);
    return {reshape(xf + matmul(t, p.qr, {.transpose_b = true}), x.shape()), log_abs_det(t, p, x.shape())};
  }

  std::shared_ptr<const VectorFlow<T>> with_detached_parameters() const override { return this->detached_copy(*this); }

  const Parameter<T>& v() const noexcept { return *m_v; }
  const Parameter<T>& r() const noexcept { return *m_r; }
  const Parameter<T>& r_tilde() const noexcept { return *m_r_tilde; }
  const Parameter<T>& b() const noexcept { return *m_b; }
  /// K, the number of Householder reflections in Q.
  std::size_t reflections() const noexcept { return m_reflections; }

  /// Q = H_1 ... H_K [D, D] on `tape` (orthogonal), differentiable in v.
  Var<T> q_matrix(Tape<T>& tape) const { return on(tape).q; }
  /// R [D, D] as the flow reads it: upper-triangular, r_ii = tanh(r[i, i]).
  Var<T> r_matrix(Tape<T>& tape) const { return on(tape).r; }
  /// R~ [D, D] as the flow reads it: upper-triangular, r~_ii = tanh(r_tilde[i, i]).
  Var<T> r_tilde_matrix(Tape<T>& tape) const { return on(tape).r_tilde; }

  /// The default r_tilde: N(0, 1/D) entries, 1 on the diagonal (see above).
  static Initializer<T> default_r_tilde_init() {
    return [](std::span<T> v, const Shape& shape, Rng& rng) {
      const std::size_t d = shape[0];
      rng.fill_normal(v, T(0), T(1) / std::sqrt(static_cast<T>(d)));
      for (std::size_t i = 0; i < d; ++i) v[i * d + i] = T(1);
    };
  }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    this->check_event("forward", "x", x.shape());
    const OnTape p = on(x.tape());
    const Var<T> xf = flat(x);
    return reshape(xf + matmul(hidden(xf, p), p.qr, {.transpose_b = true}), x.shape());
  }

  Var<T> inverse_impl(const Var<T>& y) const override {
    this->check_event("inverse", "y", y.shape());
    Tape<T>& tape = y.tape();
    const OnTape p = on(tape);
    const std::size_t d = this->m_dim;
    const Var<T> yf = flat(y);
    const std::size_t n = yf.shape()[0];
    // Reversed rotated coordinates: column j of Q P is Q's column D - 1 - j, row j of P R is
    // R's row D - 1 - j; there the Jacobian is lower-triangular, as triangular_solve wants.
    const Var<T> reversal = detail::filled_constant(tape, Shape{d, d}, [d](T* out, std::size_t) {
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) out[i * d + j] = i + j + 1 == d ? T(1) : T(0);
    });
    const Var<T> q_rev = matmul(p.q, reversal);
    const Var<T> r_rev = matmul(reversal, p.r);
    const Var<T> y_rot_rev = matmul(yf, q_rev);  // (P Q^T y)^T, [N, D]

    // The back substitution, off the tape, in double.
    const std::vector<double> r = to_double(p.r), rt = to_double(p.r_tilde), b = to_double(p.b), s = to_double(p.s);
    std::vector<double> root(n * d);
    {
      const T* yv = y_rot_rev.data();
      std::vector<double> tanh_x(d);
      for (std::size_t e = 0; e < n; ++e) {
        double* u = root.data() + e * d;
        for (std::size_t i = d; i-- > 0;) {
          double c = b[i], rhs = yv[e * d + (d - 1 - i)];
          for (std::size_t k = i + 1; k < d; ++k) {
            c += rt[i * d + k] * u[k];
            rhs -= r[i * d + k] * tanh_x[k];
          }
          // Rounded to T at once: the later rows read the root the tape will hold.
          u[i] = static_cast<T>(detail::sylvester_flow_solve_diagonal(rhs, r[i * d + i], rt[i * d + i], c, s[i]));
          tanh_x[i] = std::tanh(rt[i * d + i] * u[i] + c);
        }
      }
    }
    const Var<T> u_star = detail::filled_constant(tape, Shape{n, d}, [&](T* out, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<T>(root[i]);
    });
    const Var<T> u_star_rev = detail::filled_constant(tape, Shape{n, d}, [&](T* out, std::size_t) {
      for (std::size_t e = 0; e < n; ++e)
        for (std::size_t i = 0; i < d; ++i) out[e * d + i] = static_cast<T>(root[e * d + (d - 1 - i)]);
    });
    // P J P at the root, J = I + R diag(1 - t^2) R~, its diagonal in the cancellation-free form.
    const Var<T> jacobian_rev = detail::filled_constant(tape, Shape{n, d, d}, [&](T* out, std::size_t) {
      std::vector<double> t(d);
      for (std::size_t e = 0; e < n; ++e) {
        const double* u = root.data() + e * d;
        for (std::size_t i = 0; i < d; ++i) {
          double x = b[i];
          for (std::size_t k = i; k < d; ++k) x += rt[i * d + k] * u[k];
          t[i] = std::tanh(x);
        }
        T* m = out + e * d * d;
        for (std::size_t i = 0; i < d; ++i)
          for (std::size_t j = 0; j < d; ++j) {
            double v = 0;
            if (j == i) {
              v = t[i] * t[i] + (1 - t[i] * t[i]) * s[i];
              v = std::max(v, static_cast<double>(std::numeric_limits<T>::min()));  // the value stays u*'s
            } else if (j > i) {
              for (std::size_t k = i; k <= j; ++k) v += r[i * d + k] * (1 - t[k] * t[k]) * rt[k * d + j];
            }
            m[(d - 1 - i) * d + (d - 1 - j)] = static_cast<T>(v);
          }
      }
    });
    const Var<T> h = tanh(matmul(u_star, p.r_tilde, {.transpose_b = true}) + p.b);
    const Var<T> residual = u_star_rev + matmul(h, r_rev, {.transpose_b = true}) - y_rot_rev;  // P F(u*)
    const auto rows = static_cast<std::ptrdiff_t>(n), cols = static_cast<std::ptrdiff_t>(d);
    const Var<T> step =
        reshape(triangular_solve(jacobian_rev, reshape(residual - detach(residual), {rows, cols, std::ptrdiff_t{1}})),
                {rows, cols});
    return reshape(matmul(u_star_rev - step, q_rev, {.transpose_b = true}), y.shape());
  }

  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    this->check_event("log_abs_det_jacobian", "x", x.shape());
    const OnTape p = on(x.tape());
    return log_abs_det(hidden(flat(x), p), p, x.shape());
  }

 private:
  /// The parameters as leaves of one tape, with what every method derives from them.
  struct OnTape {
    Var<T> q;            // Q [D, D]
    Var<T> r, r_tilde;   // R, R~ [D, D], upper-triangular
    Var<T> b;            // [D]
    Var<T> s;            // 1 + r_ii r~_ii [D], as positive terms
    Var<T> qr;           // Q R [D, D]
    Var<T> q_r_tilde_t;  // Q R~^T [D, D]: x = z^T Q R~^T + b^T as a row
  };

  OnTape on(Tape<T>& tape) const {
    const std::size_t d = this->m_dim;
    for (std::size_t k = 0; k < m_reflections; ++k) {
      // |v_k|^2 as the tape computes it: 0 also when every square underflows. NaNs pass.
      T norm2 = 0;
      for (std::size_t i = 0; i < d; ++i) norm2 += m_v->value[k * d + i] * m_v->value[k * d + i];
      if (norm2 == 0) {
        throw DomainError(this->m_name + ": |v_" + std::to_string(k) + "|^2 is 0 (reflection " + std::to_string(k) +
                          "), where H = I - 2 v v^T / |v|^2 is undefined (expected nonzero Householder vectors)");
      }
    }
    const Var<T> eye = detail::filled_constant(tape, Shape{d, d}, [d](T* out, std::size_t) {
      for (std::size_t i = 0; i < d * d; ++i) out[i] = i % (d + 1) == 0 ? T(1) : T(0);
    });
    const Var<T> strict_upper = detail::filled_constant(tape, Shape{d, d}, [d](T* out, std::size_t) {
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) out[i * d + j] = j > i ? T(1) : T(0);
    });
    // Q = H_1 ... H_K, built by multiplying I on the right: M H = M - 2 (M v) v^T / |v|^2.
    const Var<T> v = this->read(*m_v, tape);
    Var<T> q = eye;
    for (std::size_t k = 0; k < m_reflections; ++k) {
      const auto row = static_cast<std::ptrdiff_t>(k);
      const Var<T> vk = slice(v, 0, row, row + 1);  // [1, D]
      q = q - sum(q * vk, {-1}, true) * vk * (T(2) / sum(square(vk)));
    }
    const Var<T> r_raw = this->read(*m_r, tape);
    const Var<T> rt_raw = this->read(*m_r_tilde, tape);
    const Var<T> r = r_raw * strict_upper + tanh(r_raw) * eye;
    const Var<T> r_tilde = rt_raw * strict_upper + tanh(rt_raw) * eye;
    const Var<T> a = T(2) * sum(r_raw * eye, {-1});  // 2 r[i, i], [D]
    const Var<T> c = T(2) * sum(rt_raw * eye, {-1});
    const Var<T> s = T(2) * (sigmoid(a) * sigmoid(c) + sigmoid(T(-1) * a) * sigmoid(T(-1) * c));
    return {q, r, r_tilde, this->read(*m_b, tape), s, matmul(q, r), matmul(q, r_tilde, {.transpose_b = true})};
  }

  /// x [..., D] as [N, D] (no copy).
  Var<T> flat(const Var<T>& x) const {
    return reshape(x, {std::ptrdiff_t{-1}, static_cast<std::ptrdiff_t>(this->m_dim)});
  }

  /// tanh(R~ Q^T z + b) for z [N, D]: [N, D].
  static Var<T> hidden(const Var<T>& xf, const OnTape& p) { return tanh(matmul(xf, p.q_r_tilde_t) + p.b); }

  /// sum_i log(t_i^2 + (1 - t_i^2) s_i) for t [N, D]: the batch shape of x.
  static Var<T> log_abs_det(const Var<T>& t, const OnTape& p, const Shape& x_shape) {
    const Var<T> t2 = square(t);
    return reshape(sum(log(t2 + (T(1) - t2) * p.s), {-1}), Shape(x_shape.begin(), x_shape.end() - 1));
  }

  static std::vector<double> to_double(const Var<T>& v) {
    const T* data = v.data();
    return std::vector<double>(data, data + v.size());
  }

  std::size_t m_reflections;
  Parameter<T>* m_v = nullptr;
  Parameter<T>* m_r = nullptr;
  Parameter<T>* m_r_tilde = nullptr;
  Parameter<T>* m_b = nullptr;
};

}  // namespace vaelib
