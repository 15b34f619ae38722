#pragma once
// SplineCouplingFlow: the rational-quadratic spline coupling layer of Durkan, Bekasov, Murray
// & Papamakarios (2019), "Neural Spline Flows". z [D] is cut at `split` into a part a that is
// kept and a part b that is transformed (a = z[:split], b = z[split:]; the other way round
// with `flip`), and
//
//   y_a = z_a,   y_b,i = g(z_b,i; theta_i(z_a)),   log|det J| = sum_i log g'(z_b,i),
//
// on the last axis of its input (every leading axis a batch). theta_i, the spline of
// coordinate i, comes from a dense network on z_a (flows/detail/conditioner.hpp, its layers
// "<scope>/<name>/layer_0", "layer_1", ..., as AffineCouplingFlow's; tanh by default, so
// that f is smooth in the network's input): K raw widths, K raw heights and K - 1 raw
// interior derivatives. As in the paper (section 3.1, after Gregory & Delbourgo 1982):
//
//   bin widths   w_k = 2B (m_w + (1 - K m_w) softmax(raw widths)_k),  knots x_0 = -B, ..., x_K = B
//   bin heights  h_k = 2B (m_h + (1 - K m_h) softmax(raw heights)_k), knots y_0 = -B, ..., y_K = B
//   derivatives  delta_k = m_d + softplus(raw_k + c), k = 1..K-1,  delta_0 = delta_K = 1
//
// and in bin k, with s = h_k / w_k and xi = (x - x_k) / w_k in [0, 1],
//
//   g(x)  = y_k + h_k (s xi^2 + delta_k xi (1 - xi)) / beta,
//   g'(x) = s^2 (delta_{k+1} xi^2 + 2 s xi (1 - xi) + delta_k (1 - xi)^2) / beta^2,
//   beta  = s + (delta_{k+1} + delta_k - 2 s) xi (1 - xi)
//         = s (xi^2 + (1 - xi)^2) + (delta_k + delta_{k+1}) xi (1 - xi),
//
// beta taken in its second form, a sum of positive terms. Outside [-B, B] g is the identity
// (the linear tails; g' = 1 matches delta_0 = delta_K = 1, so g is C^1). The minimums keep
// every bin and slope away from 0; c = log(expm1(1 - m_d)) makes zero raw derivatives give
// delta = 1, so with the last layer starting at zero (equal bins, s = 1, delta = 1) the flow
// starts at the identity exactly. Bins are found by binary search of the element's knots.
//
// The inverse is closed form: in bin k (found among the y knots), xi solves the quadratic
// a xi^2 + b xi + c = 0 with a = h_k (s - delta_k) + dy sigma, b = h_k delta_k - dy sigma,
// c = -s dy, dy = y - y_k, sigma = delta_{k+1} + delta_k - 2 s. The paper's form
// xi = 2c / (-b - sqrt(b^2 - 4ac)) does not cancel where b >= 0; where b < 0 (possible near
// the top of a bin) it would, and there a > h_k s > 0 (a + b = h_k s), so the textbook
// (-b + sqrt(b^2 - 4ac)) / (2a) is taken instead, which then adds terms of one sign.
//
// The elementwise spline is one tape op (rational_quadratic_spline below) with its backward
// written out: it reads x and the three raw tensors and gives g and log g'. Composed of tape
// ops it would need a softmax, a cumulative sum and a gather for each tensor and a few dozen
// elementwise nodes, several over [..., K] intermediates, each kept for the backward; the op
// does one O(K) pass per element in double (so float and double agree to float's rounding)
// and keeps nothing but its output. Its backward recomputes the element's knots and the
// partials of g and log g' in (xi, s, delta_k, delta_{k+1}), and takes them back through the
// cumulative sums and the softmaxes by hand. The inverse is a second op,
// rational_quadratic_spline_inverse, whose backward uses the same partials (dx/dy = 1 / g',
// dx/dtheta = -(dg/dtheta) / g'): one node, where the implicit-root form of the planar and
// radial inverses records the forward map again at the root.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/ops/concat.hpp"
#include "vaelib/autodiff/ops/reshape.hpp"
#include "vaelib/autodiff/ops/slice.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flows/detail/conditioner.hpp"
#include "vaelib/flows/vector_flow.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

/// The interval [-bound, bound] a rational-quadratic spline acts on, and the smallest bin
/// width and height (as fractions of 2 bound) and interior derivative it allows.
struct RationalQuadraticSplineOptions {
  double bound = 3;
  double min_bin_width = 1e-3;
  double min_bin_height = 1e-3;
  double min_derivative = 1e-3;
};

/// What the spline ops give: the value (y, or x for the inverse) and the log of its
/// derivative in its input (log g'(x), or log (g^{-1})'(y) = -log g'(x)), both of the input's shape.
template <class T>
struct RationalQuadraticSplineResult {
  Var<T> value;
  Var<T> log_derivative;
};

namespace detail {

/// A number as a message shows it: 0.2, not std::to_string's 0.200000.
inline std::string spline_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

/// ArgumentError (its message starting with `who`) unless the options make a spline of
/// `bins` bins: a positive finite bound, minimums in (0, 1/K) and (0, 1).
inline void check_rational_quadratic_spline_options(const std::string& who, std::size_t bins,
                                                    const RationalQuadraticSplineOptions& o) {
  if (bins == 0) throw ArgumentError(who + ": the number of bins must be at least 1, got 0");
  if (!(o.bound > 0) || !std::isfinite(o.bound)) {
    throw ArgumentError(who + ": bound must be positive and finite (the spline acts on [-bound, bound]), got " +
                        spline_number(o.bound));
  }
  const double k = static_cast<double>(bins);
  const auto check_min = [&](const char* what, double v) {
    // K of them must fit in the interval with room left for the softmax to move
    if (!(v > 0) || !(v * k < 1)) {
      throw ArgumentError(who + ": " + what + " must lie in (0, 1/K) = (0, " + spline_number(1 / k) +
                          ") for K = " + std::to_string(bins) + " bins, got " + spline_number(v));
    }
  };
  check_min("min_bin_width", o.min_bin_width);
  check_min("min_bin_height", o.min_bin_height);
  if (!(o.min_derivative > 0) || !(o.min_derivative < 1)) {
    // below 1, so that zero raw derivatives can give delta = 1 (the identity)
    throw ArgumentError(who + ": min_derivative must lie in (0, 1), got " + spline_number(o.min_derivative));
  }
}

/// ShapeError unless widths and heights are [x's shape..., K] with K >= 1 and derivatives
/// [x's shape..., K - 1]; returns K.
template <class T>
std::size_t check_rational_quadratic_spline_shapes(const char* op, const char* operand, const Var<T>& x,
                                                   const Var<T>& widths, const Var<T>& heights,
                                                   const Var<T>& derivatives) {
  Tape<T>& tape = x.tape();
  for (const Var<T>* v : {&x, &widths, &heights, &derivatives}) tape.check_handle(op, *v);
  const Shape& s = x.shape();
  const Shape& sw = widths.shape();
  const auto has_prefix = [&](const Shape& p) {
    return p.size() == s.size() + 1 && std::equal(s.begin(), s.end(), p.begin());
  };
  const bool ok = has_prefix(sw) && sw.back() >= 1 && heights.shape() == sw && has_prefix(derivatives.shape()) &&
                  derivatives.shape().back() + 1 == sw.back();
  if (!ok) {
    throw ShapeError(std::string(op) + ": " + operand + " has shape " + to_string(s) + ", widths " + to_string(sw) +
                     ", heights " + to_string(heights.shape()) + ", derivatives " + to_string(derivatives.shape()) +
                     " (expected widths and heights of shape " + operand + "'s + [K] with K >= 1, and derivatives of " +
                     "shape " + operand + "'s + [K - 1])");
  }
  return sw.back();
}

/// The doubles a RationalQuadraticSplineKnots of K bins works in (kept in the op's node).
inline std::size_t rational_quadratic_spline_workspace(std::size_t bins) { return 9 * bins + 4; }

/// One element's spline, in double: its knots and derivatives from its raw parameters, over
/// a workspace of rational_quadratic_spline_workspace(K) doubles.
struct RationalQuadraticSplineKnots {
  std::size_t bins;
  RationalQuadraticSplineOptions options;
  double offset;        // c, with softplus(c) + m_d = 1
  double* p_w;          // softmax(raw widths) [K]
  double* p_h;          // softmax(raw heights) [K]
  double* x;            // x knots [K + 1]
  double* y;            // y knots [K + 1]
  double* delta;        // derivatives at the knots [K + 1]
  double* delta_slope;  // d delta_k / d raw_{k-1} = sigmoid(raw + c) [K + 1] (0 at the ends)
  double* grad;         // the backward's rows: widths [K], heights [K], derivatives [K - 1]

  RationalQuadraticSplineKnots(std::size_t k, const RationalQuadraticSplineOptions& o, double* workspace)
      : bins(k), options(o), offset(std::log(std::expm1(1 - o.min_derivative))) {
    p_w = workspace;
    p_h = p_w + k;
    x = p_h + k;
    y = x + k + 1;
    delta = y + k + 1;
    delta_slope = delta + k + 1;
    grad = delta_slope + k + 1;
  }

  template <class T>
  void build(const T* raw_w, const T* raw_h, const T* raw_d) {
    softmax(raw_w, p_w);
    softmax(raw_h, p_h);
    cumulate(p_w, options.min_bin_width, x);
    cumulate(p_h, options.min_bin_height, y);
    delta[0] = delta[bins] = 1;
    delta_slope[0] = delta_slope[bins] = 0;
    for (std::size_t k = 1; k < bins; ++k) {
      const double z = static_cast<double>(raw_d[k - 1]) + offset;
      const double e = std::exp(-std::abs(z));
      delta[k] = options.min_derivative + std::max(z, 0.0) + std::log1p(e);
      delta_slope[k] = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    }
  }

  /// The bin holding v among `knots` (K + 1 of them, v in [knots[0], knots[K]]): the number of
  /// interior knots <= v, so a point on a knot starts the bin above it.
  std::size_t bin_of(const double* knots, double v) const {
    return static_cast<std::size_t>(std::upper_bound(knots + 1, knots + bins, v) - (knots + 1));
  }

 private:
  template <class T>
  void softmax(const T* raw, double* p) const {
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < bins; ++k) top = std::max(top, static_cast<double>(raw[k]));
    double total = 0;
    for (std::size_t k = 0; k < bins; ++k) total += p[k] = std::exp(static_cast<double>(raw[k]) - top);
    for (std::size_t k = 0; k < bins; ++k) p[k] /= total;
  }

  void cumulate(const double* p, double min, double* knots) const {
    const double b = options.bound;
    const double scale = 1 - static_cast<double>(bins) * min;
    double fraction = 0;
    knots[0] = -b;
    for (std::size_t k = 0; k + 1 < bins; ++k) {
      fraction += min + scale * p[k];
      knots[k + 1] = -b + 2 * b * fraction;
    }
    knots[bins] = b;  // exactly: the fractions sum to 1 only up to rounding
  }
};

/// The spline in one bin at xi in [0, 1]: its value, log-derivative and their partials in
/// (xi, s, delta_k, delta_{k+1}).
struct RationalQuadraticSplineBin {
  std::size_t k;
  double xi, width, height, s, d0, d1;
  double u, om, num, den, m;  // xi (1 - xi), 1 - xi, the numerator, beta, g' beta^2 / s^2

  RationalQuadraticSplineBin(const RationalQuadraticSplineKnots& kn, std::size_t bin, double xi_)
      : k(bin), xi(std::clamp(xi_, 0.0, 1.0)) {  // clamped: rounding may put xi a hair outside
    width = kn.x[k + 1] - kn.x[k];
    height = kn.y[k + 1] - kn.y[k];
    s = height / width;
    d0 = kn.delta[k];
    d1 = kn.delta[k + 1];
    om = 1 - xi;
    u = xi * om;
    num = s * xi * xi + d0 * u;
    den = s * (xi * xi + om * om) + (d0 + d1) * u;
    m = d1 * xi * xi + 2 * s * u + d0 * om * om;
  }

  double value(const RationalQuadraticSplineKnots& kn) const { return kn.y[k] + height * num / den; }
  double log_derivative() const { return 2 * std::log(s) + std::log(m) - 2 * std::log(den); }
  double derivative() const { return s * s * m / (den * den); }

  /// d log g' / dx.
  double d_log_derivative_dx() const { return log_partials().xi / width; }

  struct Partials {
    double xi, s, d0, d1;
  };
  /// Of R = num / den (g = y_k + h_k R).
  Partials value_partials() const {
    const double r = num / den;
    const double den_xi = (d0 + d1 - 2 * s) * (1 - 2 * xi);
    return {(2 * s * xi + d0 * (1 - 2 * xi) - r * den_xi) / den, (xi * xi - r * (xi * xi + om * om)) / den,
            u * (1 - r) / den, -r * u / den};
  }
  /// Of log g' = 2 log s + log m - 2 log beta.
  Partials log_partials() const {
    const double den_xi = (d0 + d1 - 2 * s) * (1 - 2 * xi);
    const double m_xi = 2 * (d1 * xi + s * (1 - 2 * xi) - d0 * om);
    return {m_xi / m - 2 * den_xi / den, 2 / s + 2 * u / m - 2 * (xi * xi + om * om) / den, om * om / m - 2 * u / den,
            xi * xi / m - 2 * u / den};
  }
};

/// The bin and xi of x in [-B, B].
inline RationalQuadraticSplineBin rational_quadratic_spline_at(const RationalQuadraticSplineKnots& kn, double x) {
  const std::size_t k = kn.bin_of(kn.x, x);
  return {kn, k, (x - kn.x[k]) / (kn.x[k + 1] - kn.x[k])};
}

/// The bin and xi with g = y, for y in [-B, B]: the quadratic solved in the form that does
/// not cancel (see the header comment).
inline RationalQuadraticSplineBin rational_quadratic_spline_solve(const RationalQuadraticSplineKnots& kn, double y) {
  const std::size_t k = kn.bin_of(kn.y, y);
  const double width = kn.x[k + 1] - kn.x[k];
  const double h = kn.y[k + 1] - kn.y[k];
  const double s = h / width;
  const double d0 = kn.delta[k];
  const double sigma = kn.delta[k + 1] + d0 - 2 * s;
  const double dy = std::clamp(y - kn.y[k], 0.0, h);
  const double a = h * (s - d0) + dy * sigma;
  const double b = h * d0 - dy * sigma;
  const double root = std::sqrt(std::max(b * b + 4 * a * s * dy, 0.0));  // b^2 - 4ac, c = -s dy
  const double xi = b >= 0 ? 2 * s * dy / (b + root) : (root - b) / (2 * a);
  return {kn, k, xi};
}

/// Writes d(gy g + gl log g')/d(raw widths, heights, derivatives) of the element into
/// kn.grad and returns d(gy g + gl log g')/dx.
inline double rational_quadratic_spline_backprop(const RationalQuadraticSplineKnots& kn,
                                                 const RationalQuadraticSplineBin& b, double gy, double gl) {
  const std::size_t bins = kn.bins, k = b.k;
  const auto pv = b.value_partials();
  const auto pl = b.log_partials();
  const double r_bar = gy * b.height;
  const double xi_bar = r_bar * pv.xi + gl * pl.xi;
  const double s_bar = r_bar * pv.s + gl * pl.s;
  const double d0_bar = r_bar * pv.d0 + gl * pl.d0;
  const double d1_bar = r_bar * pv.d1 + gl * pl.d1;
  // xi = (x - x_k) / w and s = h / w, with w = x_{k+1} - x_k, h = y_{k+1} - y_k.
  const double h_bar = gy * b.num / b.den + s_bar / b.width;
  const double w_bar = -(xi_bar * b.xi + s_bar * b.s) / b.width;
  const double xk_bar = -xi_bar / b.width;
  // Through knots k and k + 1 (knots 0 and K are the constants -B and B), the cumulative
  // sums (knot j = -B + 2B sum_{i<j} fraction_i) and the softmax.
  const auto through_knots = [&](const double* p, double min, double a_k, double a_k1, double* g) {
    if (k == 0) a_k = 0;
    if (k + 1 == bins) a_k1 = 0;
    const double scale = 2 * kn.options.bound * (1 - static_cast<double>(bins) * min);
    double dot = 0;
    for (std::size_t i = 0; i < bins; ++i) {
      g[i] = scale * ((i < k ? a_k : 0.0) + (i <= k ? a_k1 : 0.0));
      dot += p[i] * g[i];
    }
    for (std::size_t i = 0; i < bins; ++i) g[i] = p[i] * (g[i] - dot);
  };
  through_knots(kn.p_w, kn.options.min_bin_width, xk_bar - w_bar, w_bar, kn.grad);
  through_knots(kn.p_h, kn.options.min_bin_height, gy - h_bar, h_bar, kn.grad + bins);
  double* gd = kn.grad + 2 * bins;
  std::fill_n(gd, bins - 1, 0.0);
  if (k >= 1) gd[k - 1] = d0_bar * kn.delta_slope[k];
  if (k + 1 < bins) gd[k] = d1_bar * kn.delta_slope[k + 1];
  return xi_bar / b.width;
}

/// The forward (inverse = false) or inverse spline op: a node of shape [2, input's shape...]
/// holding the value and the log-derivative, cut into the two.
template <bool Inverse, class T>
RationalQuadraticSplineResult<T> rational_quadratic_spline_op(const char* op, const Var<T>& in, const Var<T>& widths,
                                                              const Var<T>& heights, const Var<T>& derivatives,
                                                              const RationalQuadraticSplineOptions& options) {
  const std::size_t bins =
      check_rational_quadratic_spline_shapes(op, Inverse ? "y" : "x", in, widths, heights, derivatives);
  check_rational_quadratic_spline_options(op, bins, options);
  Tape<T>& tape = in.tape();
  Shape packed_shape{2};
  packed_shape.insert(packed_shape.end(), in.shape().begin(), in.shape().end());
  const Var<T> packed = tape.make_node(op, packed_shape, {in, widths, heights, derivatives});
  std::vector<double>& workspace = op_cache<std::vector<double>>(tape.node(packed));
  workspace.resize(rational_quadratic_spline_workspace(bins));
  RationalQuadraticSplineKnots kn(bins, options, workspace.data());
  const std::size_t n = in.size();
  const T* iv = in.data();
  const T *wv = widths.data(), *hv = heights.data(), *dv = derivatives.data();
  T* out = tape.value_ptr(packed);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = iv[i];
    if (!(std::abs(v) <= options.bound)) {  // the linear tails (and NaN)
      out[i] = iv[i];
      out[n + i] = 0;
      continue;
    }
    kn.build(wv + i * bins, hv + i * bins, dv + i * (bins - 1));
    if constexpr (Inverse) {
      const RationalQuadraticSplineBin b = rational_quadratic_spline_solve(kn, v);
      out[i] = static_cast<T>(kn.x[b.k] + b.xi * b.width);
      out[n + i] = static_cast<T>(-b.log_derivative());
    } else {
      const RationalQuadraticSplineBin b = rational_quadratic_spline_at(kn, v);
      out[i] = static_cast<T>(b.value(kn));
      out[n + i] = static_cast<T>(b.log_derivative());
    }
  }
  tape.set_backward(packed, [options](Tape<T>& t, TapeRecord<T>& self) {
    const Var<T> in = t.handle(self.inputs[0]);
    const Var<T> raw[3] = {t.handle(self.inputs[1]), t.handle(self.inputs[2]), t.handle(self.inputs[3])};
    const std::size_t bins = t.node(raw[0]).shape.back();
    const std::size_t n = self.size / 2;
    const std::size_t row[3] = {bins, bins, bins - 1};
    std::vector<double>& workspace = op_cache<std::vector<double>>(self);
    workspace.resize(rational_quadratic_spline_workspace(bins));
    RationalQuadraticSplineKnots kn(bins, options, workspace.data());
    const T* iv = t.value_ptr(in);
    const T* rv[3] = {t.value_ptr(raw[0]), t.value_ptr(raw[1]), t.value_ptr(raw[2])};
    const bool in_grad = t.node(in).requires_grad;
    const GradTarget<T> gin = in_grad ? t.grad_target(in) : GradTarget<T>{nullptr, false};
    GradTarget<T> graw[3];
    for (int j = 0; j < 3; ++j)
      graw[j] = t.node(raw[j]).requires_grad ? t.grad_target(raw[j]) : GradTarget<T>{nullptr, false};
    const T* g_value = self.grad;
    const T* g_log = self.grad + n;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = iv[i];
      double in_bar = g_value[i];  // the tails: the identity, no parameter reaches the value
      const bool inside = std::abs(v) <= options.bound;
      if (inside) {
        kn.build(rv[0] + i * bins, rv[1] + i * bins, rv[2] + i * (bins - 1));
        if constexpr (Inverse) {
          // x = g^{-1}(y), log-derivative -log g'(x): through x, dx/dy = 1 / g' and
          // dx/dtheta = -(dg/dtheta) / g'.
          const RationalQuadraticSplineBin b = rational_quadratic_spline_solve(kn, v);
          const double slope = b.derivative();
          const double x_bar = g_value[i] - g_log[i] * b.d_log_derivative_dx();
          in_bar = x_bar / slope;
          rational_quadratic_spline_backprop(kn, b, -x_bar / slope, -static_cast<double>(g_log[i]));
        } else {
          const RationalQuadraticSplineBin b = rational_quadratic_spline_at(kn, v);
          in_bar = rational_quadratic_spline_backprop(kn, b, g_value[i], g_log[i]);
        }
      }
      if (in_grad) put_grad(gin, i, static_cast<T>(in_bar));
      const double* g = kn.grad;
      for (int j = 0; j < 3; ++j) {
        if (graw[j].data != nullptr)
          for (std::size_t c = 0; c < row[j]; ++c)
            put_grad(graw[j], i * row[j] + c, inside ? static_cast<T>(g[c]) : T(0));
        g += row[j];
      }
    }
  });
  const Shape& s = in.shape();
  return {reshape(slice(packed, 0, 0, 1), s), reshape(slice(packed, 0, 1, 2), s)};
}

}  // namespace detail

/// The rational-quadratic spline of Durkan et al. (2019) applied to each element of x, each
/// with its own spline: widths and heights [x's shape..., K] and derivatives
/// [x's shape..., K - 1], all raw (unconstrained; see the header comment for the map onto
/// bins and derivatives), on [-bound, bound] with identity tails.
/// forward:  value = g(x), log_derivative = log g'(x)
/// backward: d/dx and d/d(widths, heights, derivatives) of both, analytic (one O(K) pass per element)
template <class T>
RationalQuadraticSplineResult<T> rational_quadratic_spline(const Var<T>& x, const Var<T>& widths, const Var<T>& heights,
                                                           const Var<T>& derivatives,
                                                           const RationalQuadraticSplineOptions& options = {}) {
  return detail::rational_quadratic_spline_op<false>("rational_quadratic_spline", x, widths, heights, derivatives,
                                                     options);
}

/// The inverse of rational_quadratic_spline with the same parameters.
/// forward:  value = g^{-1}(y) (closed form), log_derivative = -log g'(g^{-1}(y))
/// backward: d/dy and d/d(widths, heights, derivatives) of both, through dx/dy = 1 / g' and
///           dx/dtheta = -(dg/dtheta) / g'
template <class T>
RationalQuadraticSplineResult<T> rational_quadratic_spline_inverse(const Var<T>& y, const Var<T>& widths,
                                                                   const Var<T>& heights, const Var<T>& derivatives,
                                                                   const RationalQuadraticSplineOptions& options = {}) {
  return detail::rational_quadratic_spline_op<true>("rational_quadratic_spline_inverse", y, widths, heights,
                                                    derivatives, options);
}

struct SplineCouplingFlowOptions {
  std::vector<std::size_t> hidden = {64, 64};  // the network's hidden widths ({}: raw parameters affine in z_a)
  Activation activation = Activation::tanh;    // of the hidden layers (the last layer is linear)
  std::size_t bins = 8;                        // K
  double bound = 3;                            // B: the spline acts on [-B, B], the identity outside
  std::size_t split = 0;                       // the size of the first part, 1 <= split < D; 0: D / 2
  bool flip = false;                           // condition on the second part and transform the first
  double min_bin_width = 1e-3;                 // fractions of 2B
  double min_bin_height = 1e-3;
  double min_derivative = 1e-3;
};

/// forward: y = z with its transformed part through the splines the conditioner gives;
/// inverse: closed form, per element; log|det J| = sum of log g' over the transformed part,
/// one per event. The flow reads its parameters in place: it must not outlive their ParameterStore.
template <class T>
class SplineCouplingFlow final : public VectorFlow<T> {
 public:
  /// Gets (or creates) the network's layers "<scope>/<name>/layer_<i>/weight" and ".../bias"
  /// for vectors of size `dim` (at least 2), the last one at zero (the flow starts at the
  /// identity). Made again with the same scope and name, a flow shares the first one's
  /// parameters.
  SplineCouplingFlow(const ParameterScope<T>& scope, std::string_view name, std::size_t dim,
                     const SplineCouplingFlowOptions& options = {})
      : VectorFlow<T>("SplineCouplingFlow", scope, name, dim),
        m_bins(options.bins),
        m_spline{options.bound, options.min_bin_width, options.min_bin_height, options.min_derivative},
        m_flip(options.flip),
        m_split(options.split == 0 ? dim / 2 : options.split) {
    // Every check before the first parameter is made: a refused flow leaves the store as it was.
    const std::string& who = this->m_name;
    if (dim < 2) {
      throw ArgumentError(who + ": a coupling needs D >= 2 (a part to condition on and a part to transform), got D = " +
                          std::to_string(dim));
    }
    if (m_split >= dim) {
      throw ArgumentError(who + ": split = " + std::to_string(m_split) + " leaves no coordinate to " +
                          (m_flip ? "condition on" : "transform") + " in D = " + std::to_string(dim) +
                          " (expected 1 <= split < " + std::to_string(dim) + ", or 0 for D / 2)");
    }
    detail::check_rational_quadratic_spline_options(who, m_bins, m_spline);
    for (std::size_t i = 0; i < options.hidden.size(); ++i) {
      if (options.hidden[i] == 0) {
        throw ArgumentError(who + ": hidden layer " + std::to_string(i) + " has width 0 (expected widths >= 1)");
      }
    }
    const ParameterScope<T> own = scope.scope(name);
    std::size_t in = conditioning_size();
    for (std::size_t i = 0; i < options.hidden.size(); ++i) {
      m_net.add_layer(own, "layer_" + std::to_string(i), in, options.hidden[i], options.activation, false);
      in = options.hidden[i];
    }
    m_net.add_layer(own, "layer_" + std::to_string(options.hidden.size()), in, transformed_size() * (3 * m_bins - 1),
                    Activation::none, true);
  }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    this->check_event("forward_and_log_abs_det_jacobian", "x", x.shape());
    const Var<T> a = kept(x);
    const auto r = spline(a, moved(x), false);
    return {join(a, r.value), sum(r.log_derivative, {-1})};
  }

  std::shared_ptr<const VectorFlow<T>> with_detached_parameters() const override { return this->detached_copy(*this); }

  /// The size of the first part (the conditioning one unless flipped).
  std::size_t split() const noexcept { return m_split; }
  /// Whether the first part is the one transformed.
  bool flip() const noexcept { return m_flip; }
  /// How many coordinates are conditioned on (kept as they are), and how many transformed.
  std::size_t conditioning_size() const noexcept { return m_flip ? this->m_dim - m_split : m_split; }
  std::size_t transformed_size() const noexcept { return this->m_dim - conditioning_size(); }
  std::size_t bins() const noexcept { return m_bins; }
  const RationalQuadraticSplineOptions& spline_options() const noexcept { return m_spline; }
  /// The conditioner's layers (weights and biases, for tests and inspection).
  const detail::FlowConditioner<T>& conditioner() const noexcept { return m_net; }

  /// The raw spline parameters of the transformed part for z [..., D]: widths and heights
  /// [..., transformed_size(), K], derivatives [..., transformed_size(), K - 1].
  struct RawSplines {
    Var<T> widths, heights, derivatives;
  };
  RawSplines raw_splines(const Var<T>& z) const {
    this->check_event("raw_splines", "z", z.shape());
    return raw(kept(z));
  }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    this->check_event("forward", "x", x.shape());
    const Var<T> a = kept(x);
    return join(a, spline(a, moved(x), false).value);
  }

  Var<T> inverse_impl(const Var<T>& y) const override {
    this->check_event("inverse", "y", y.shape());
    const Var<T> a = kept(y);  // = kept(x): the coupling's point
    return join(a, spline(a, moved(y), true).value);
  }

  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    this->check_event("log_abs_det_jacobian", "x", x.shape());
    return sum(spline(kept(x), moved(x), false).log_derivative, {-1});
  }

 private:
  /// The first coordinate of the kept part, and of the transformed one.
  std::size_t kept_begin() const noexcept { return m_flip ? m_split : 0; }
  std::size_t moved_begin() const noexcept { return m_flip ? 0 : m_split; }

  Var<T> kept(const Var<T>& v) const {
    const auto b = static_cast<std::ptrdiff_t>(kept_begin());
    return slice(v, -1, b, b + static_cast<std::ptrdiff_t>(conditioning_size()));
  }
  Var<T> moved(const Var<T>& v) const {
    const auto b = static_cast<std::ptrdiff_t>(moved_begin());
    return slice(v, -1, b, b + static_cast<std::ptrdiff_t>(transformed_size()));
  }

  RawSplines raw(const Var<T>& kept_part) const {
    const Var<T> out = m_net(kept_part, [this](const Parameter<T>& p, Tape<T>& t) { return this->read(p, t); });
    Shape s = kept_part.shape();
    s.back() = transformed_size();
    s.push_back(3 * m_bins - 1);
    const Var<T> r = reshape(out, s);  // per transformed coordinate: K widths, K heights, K - 1 derivatives
    const auto k = static_cast<std::ptrdiff_t>(m_bins);
    return {slice(r, -1, 0, k), slice(r, -1, k, 2 * k), slice(r, -1, 2 * k, 3 * k - 1)};
  }

  /// The splines (or their inverses) on the transformed part, their knots from the kept
  /// part (which forward and inverse leave alone).
  RationalQuadraticSplineResult<T> spline(const Var<T>& kept_part, const Var<T>& moved_part, bool inverse) const {
    const RawSplines p = raw(kept_part);
    return inverse ? rational_quadratic_spline_inverse(moved_part, p.widths, p.heights, p.derivatives, m_spline)
                   : rational_quadratic_spline(moved_part, p.widths, p.heights, p.derivatives, m_spline);
  }

  /// The two parts in z's order.
  Var<T> join(const Var<T>& kept_part, const Var<T>& moved_part) const {
    return m_flip ? concat({moved_part, kept_part}, -1) : concat({kept_part, moved_part}, -1);
  }

  std::size_t m_bins;
  RationalQuadraticSplineOptions m_spline;
  bool m_flip;
  std::size_t m_split;
  detail::FlowConditioner<T> m_net;
};

}  // namespace vaelib
