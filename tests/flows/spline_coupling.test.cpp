#include "vaelib/flows/spline_coupling.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "flows/flow_checks.hpp"
#include "reference/spline_reference.inc"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Small conditioners (tanh, the default).
SplineCouplingFlowOptions spline_small_options(std::size_t bins = 5) {
  SplineCouplingFlowOptions o;
  o.hidden = {8};
  o.bins = bins;
  return o;
}

/// Every weight of the store uniform in [-scale, scale] and every bias in [-4 scale, 4 scale]
/// (seeded). The default gives raw widths, heights and derivatives within about +-2.5, set
/// mostly by the last bias: bins up to ~100 times wider than others and slopes from ~0.01 to
/// ~100, steep enough to test and mild enough that the inverse, whose rounding error grows
/// as 1 / g', still comes back to 1e-10.
template <class T>
void spline_set_random(ParameterStore<T>& store, std::uint32_t seed, double scale = 0.5) {
  std::uint32_t i = 0;
  for (const auto& p : store) {
    const double s = p->name.ends_with("/bias") ? 4 * scale : scale;
    flow_set(*p, random_array(p->shape, -s, s, seed + 31 * i++));
  }
}

/// The spline written from the paper's formulas directly, in long double: the knots, then
/// g and log g' in the textbook forms (beta = s + (d1 + d0 - 2 s) xi (1 - xi)).
struct SplineTextbook {
  std::vector<long double> xk, yk, d;
  long double bound;
};

SplineTextbook spline_textbook_knots(const double* w, const double* h, const double* d, std::size_t bins,
                                     const RationalQuadraticSplineOptions& o) {
  const auto knots = [&](const double* raw, double min) {
    long double top = raw[0], total = 0;
    for (std::size_t k = 0; k < bins; ++k) top = std::max<long double>(top, raw[k]);
    for (std::size_t k = 0; k < bins; ++k) total += std::exp(raw[k] - top);
    std::vector<long double> out{-o.bound};
    long double acc = 0;
    for (std::size_t k = 0; k + 1 < bins; ++k) {
      acc += min + (1 - bins * min) * std::exp(raw[k] - top) / total;
      out.push_back(-o.bound + 2 * o.bound * acc);
    }
    out.push_back(o.bound);
    return out;
  };
  SplineTextbook t{knots(w, o.min_bin_width), knots(h, o.min_bin_height), {1.0L}, o.bound};
  const long double c = std::log(std::expm1(1.0L - o.min_derivative));
  for (std::size_t k = 0; k + 1 < bins; ++k) t.d.push_back(o.min_derivative + std::log1p(std::exp(d[k] + c)));
  t.d.push_back(1.0L);
  return t;
}

/// {g(x), log g'(x)}.
std::pair<double, double> spline_textbook(const SplineTextbook& t, double x) {
  if (x < -t.bound || x > t.bound) return {x, 0.0};
  std::size_t k = 0;
  while (k + 2 < t.xk.size() && t.xk[k + 1] <= x) ++k;
  const long double w = t.xk[k + 1] - t.xk[k], h = t.yk[k + 1] - t.yk[k], s = h / w;
  const long double xi = (x - t.xk[k]) / w;
  const long double beta = s + (t.d[k + 1] + t.d[k] - 2 * s) * xi * (1 - xi);
  const long double y = t.yk[k] + h * (s * xi * xi + t.d[k] * xi * (1 - xi)) / beta;
  const long double dy =
      s * s * (t.d[k + 1] * xi * xi + 2 * s * xi * (1 - xi) + t.d[k] * (1 - xi) * (1 - xi)) / (beta * beta);
  return {static_cast<double>(y), static_cast<double>(std::log(dy))};
}

/// The op on constants (x [n], raw [n, K] / [n, K - 1]): {value, log-derivative}.
std::pair<xt::xarray<double>, xt::xarray<double>> spline_apply(const xt::xarray<double>& x, const xt::xarray<double>& w,
                                                               const xt::xarray<double>& h, const xt::xarray<double>& d,
                                                               const RationalQuadraticSplineOptions& o, bool inverse) {
  Tape<double> tape;
  const auto r =
      inverse
          ? rational_quadratic_spline_inverse(tape.constant(x), tape.constant(w), tape.constant(h), tape.constant(d), o)
          : rational_quadratic_spline(tape.constant(x), tape.constant(w), tape.constant(h), tape.constant(d), o);
  return {r.value.value(), r.log_derivative.value()};
}

/// n copies of one element's raw parameters (row `i` of a [m, K] array) as [n, K].
xt::xarray<double> spline_rows(const xt::xarray<double>& raw, std::size_t i, std::size_t n) {
  const std::size_t k = raw.shape()[1];
  xt::xarray<double> out = xt::empty<double>({n, k});
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < k; ++c) out(r, c) = raw(i, c);
  return out;
}

const spline_reference::Params& spline_reference_params(std::size_t i) { return spline_reference::params[i]; }

RationalQuadraticSplineOptions spline_reference_options(const spline_reference::Params& p) {
  return {p.bound, p.min_bin_width, p.min_bin_height, p.min_derivative};
}

/// The reference parameter set as [1, K] / [1, K - 1] arrays.
xt::xarray<double> spline_reference_raw(const double* v, std::size_t n) {
  xt::xarray<double> out = xt::empty<double>({std::size_t{1}, n});
  for (std::size_t i = 0; i < n; ++i) out(0, i) = v[i];
  return out;
}

/// z [n, D] with its transformed part set to the knots of its own splines (the kept part,
/// random, fixes them): point r puts coordinate i on knot (r + i) mod (K + 1), 0 and K being
/// the edges -B and B.
xt::xarray<double> spline_points_on_knots(const SplineCouplingFlow<double>& f, std::size_t n, std::uint32_t seed) {
  xt::xarray<double> z = random_array({n, f.dim()}, -2.0, 2.0, seed);
  Tape<double> tape;
  const auto raw = f.raw_splines(tape.constant(z));
  const xt::xarray<double> w = raw.widths.value(), h = raw.heights.value(), d = raw.derivatives.value();
  const std::size_t bins = f.bins();
  const std::size_t first = f.flip() ? 0 : f.split();
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t i = 0; i < f.transformed_size(); ++i) {
      // d.data() + offset, not &d(r, i, 0): with K = 1 the derivatives are empty
      const double* d_ri = d.data() + (r * f.transformed_size() + i) * (bins - 1);
      const SplineTextbook t = spline_textbook_knots(&w(r, i, 0), &h(r, i, 0), d_ri, bins, f.spline_options());
      z(r, first + i) = static_cast<double>(t.xk[(r + i) % (bins + 1)]);
    }
  return z;
}

}  // namespace

// ---- the op ---------------------------------------------------------------------------------

TEST_CASE("rational_quadratic_spline: values, log-derivatives and inverse against 60-digit references", "[flows]") {
  namespace ref = spline_reference;
  for (const ref::Point& pt : ref::points) {
    const ref::Params& p = spline_reference_params(pt.params);
    INFO("parameter set " << pt.params << ", x = " << pt.x);
    Tape<double> tape;
    const Var<double> x = tape.constant(xt::xarray<double>{pt.x});
    const Var<double> w = tape.variable(spline_reference_raw(p.widths, ref::bins));
    const Var<double> h = tape.variable(spline_reference_raw(p.heights, ref::bins));
    const Var<double> d = tape.variable(spline_reference_raw(p.derivatives, ref::bins - 1));
    const auto r = rational_quadratic_spline(x, w, h, d, spline_reference_options(p));
    CHECK(r.value.value()(0) == Approx(pt.y).epsilon(1e-14).margin(1e-14));
    CHECK(r.log_derivative.value()(0) == Approx(pt.log_derivative).epsilon(1e-13).margin(1e-13));
    tape.backward(sum(r.value));
    CHECK(w.grad()(0, 1) == Approx(pt.dy_dwidth1).epsilon(1e-11).margin(1e-13));
    CHECK(h.grad()(0, 3) == Approx(pt.dy_dheight3).epsilon(1e-11).margin(1e-13));
    CHECK(d.grad()(0, 2) == Approx(pt.dy_dderivative2).epsilon(1e-11).margin(1e-13));
    tape.clear();
    const Var<double> w2 = tape.variable(spline_reference_raw(p.widths, ref::bins));
    const auto r2 = rational_quadratic_spline(
        tape.constant(xt::xarray<double>{pt.x}), w2, tape.constant(spline_reference_raw(p.heights, ref::bins)),
        tape.constant(spline_reference_raw(p.derivatives, ref::bins - 1)), spline_reference_options(p));
    tape.backward(sum(r2.log_derivative));
    CHECK(w2.grad()(0, 1) == Approx(pt.dlog_dwidth1).epsilon(1e-10).margin(1e-12));

    // float: the op computes in double, so only the inputs' and outputs' rounding remains
    Tape<float> tf;
    const auto rf = rational_quadratic_spline(
        tf.constant(xt::xarray<float>{static_cast<float>(pt.x)}),
        tf.constant(xt::xarray<float>(xt::cast<float>(spline_reference_raw(p.widths, ref::bins)))),
        tf.constant(xt::xarray<float>(xt::cast<float>(spline_reference_raw(p.heights, ref::bins)))),
        tf.constant(xt::xarray<float>(xt::cast<float>(spline_reference_raw(p.derivatives, ref::bins - 1)))),
        spline_reference_options(p));
    const double dx = static_cast<double>(static_cast<float>(pt.x)) - pt.x;  // x's own rounding, carried by g'
    CHECK(rf.value.value()(0) == Approx(pt.y + std::exp(pt.log_derivative) * dx).epsilon(2e-7).margin(2e-7));
    CHECK(rf.log_derivative.value()(0) == Approx(pt.log_derivative).epsilon(1e-5).margin(1e-5));
  }
  for (const ref::InversePoint& pt : ref::inverse_points) {
    const ref::Params& p = spline_reference_params(pt.params);
    INFO("parameter set " << pt.params << ", y = " << pt.y);
    const auto [x, log_d] = spline_apply(
        xt::xarray<double>{pt.y}, spline_reference_raw(p.widths, ref::bins), spline_reference_raw(p.heights, ref::bins),
        spline_reference_raw(p.derivatives, ref::bins - 1), spline_reference_options(p), true);
    CHECK(x(0) == Approx(pt.x).epsilon(1e-14).margin(1e-14));
    (void)log_d;
  }
}

TEST_CASE("rational_quadratic_spline: against the paper's formulas for random splines, K = 1, 2, 3, 8, 20", "[flows]") {
  for (std::size_t bins : {1, 2, 3, 8, 20}) {
    for (double bound : {0.5, 3.0}) {
      INFO("K = " << bins << ", B = " << bound);
      const RationalQuadraticSplineOptions o{bound, 1e-3, 2e-3, 1e-3};
      const std::size_t n = 300;
      const xt::xarray<double> x = random_array({n}, -1.3 * bound, 1.3 * bound, 1);
      const xt::xarray<double> w = random_array({n, bins}, -3.0, 3.0, 2);
      const xt::xarray<double> h = random_array({n, bins}, -3.0, 3.0, 3);
      const xt::xarray<double> d = random_array({n, bins - 1}, -3.0, 3.0, 4);
      const auto [y, log_d] = spline_apply(x, w, h, d, o, false);
      double worst_y = 0, worst_log = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double* d_i = d.data() + i * (bins - 1);  // not &d(i, 0): empty when K = 1
        const auto [ty, tl] = spline_textbook(spline_textbook_knots(&w(i, 0), &h(i, 0), d_i, bins, o), x(i));
        // the knots' rounding (cumulative sums of K terms) moves g by up to that times g'
        worst_y = std::max(worst_y, std::abs(y(i) - ty) / (1 + std::exp(tl)));
        worst_log = std::max(worst_log, std::abs(log_d(i) - tl));
      }
      CHECK(worst_y < 1e-14 * bound);
      CHECK(worst_log < 1e-12);
      // The inverse undoes it, and its log-derivative is minus the forward's. Rounding y moves x
      // by ~eps B / g'(x), so x comes back to that; y comes back to rounding.
      const auto [back, back_log] = spline_apply(y, w, h, d, o, true);
      const auto [again, again_log] = spline_apply(back, w, h, d, o, false);
      (void)again_log;
      require_close(again, y, 2e-15 * bound);
      double worst_x = 0, worst_log_back = 0;
      for (std::size_t i = 0; i < n; ++i) {
        worst_x = std::max(worst_x, std::abs(back(i) - x(i)) * std::min(1.0, std::exp(log_d(i))));
        worst_log_back = std::max(worst_log_back, std::abs(back_log(i) + log_d(i)) * std::min(1.0, std::exp(log_d(i))));
      }
      CHECK(worst_x < 2e-15 * bound);
      CHECK(worst_log_back < 1e-12);
    }
  }
}

TEST_CASE("rational_quadratic_spline: on the knots g = y_k and g' = delta_k; C^1 at the interval's edges", "[flows]") {
  const std::size_t bins = 6;
  const RationalQuadraticSplineOptions o{2.0, 1e-3, 1e-3, 1e-3};
  const xt::xarray<double> w = random_array({1, bins}, -1.5, 1.5, 5);
  const xt::xarray<double> h = random_array({1, bins}, -1.5, 1.5, 6);
  const xt::xarray<double> d = random_array({1, bins - 1}, -1.5, 1.5, 7);
  const SplineTextbook t = spline_textbook_knots(&w(0, 0), &h(0, 0), &d(0, 0), bins, o);
  xt::xarray<double> knots_x = xt::empty<double>({bins + 1}), knots_y = xt::empty<double>({bins + 1});
  for (std::size_t k = 0; k <= bins; ++k) {
    knots_x(k) = static_cast<double>(t.xk[k]);
    knots_y(k) = static_cast<double>(t.yk[k]);
  }
  INFO("x knots " << knots_x << "\ny knots " << knots_y);
  const auto [y, log_d] = spline_apply(knots_x, spline_rows(w, 0, bins + 1), spline_rows(h, 0, bins + 1),
                                       spline_rows(d, 0, bins + 1), o, false);
  require_close(y, knots_y, 1e-14);
  for (std::size_t k = 0; k <= bins; ++k)
    CHECK(log_d(k) == Approx(std::log(static_cast<double>(t.d[k]))).margin(1e-12));
  CHECK(y(0) == -2.0);  // the edges exactly
  CHECK(y(bins) == 2.0);
  const auto [back, back_log] = spline_apply(knots_y, spline_rows(w, 0, bins + 1), spline_rows(h, 0, bins + 1),
                                             spline_rows(d, 0, bins + 1), o, true);
  require_close(back, knots_x, 1e-14);
  // g is C^1 in x and in the raw parameters on the knots too (a moved knot leaves the point
  // in the bin below or above, with the same first derivatives): the value's gradient there
  // matches finite differences. (log g' has one-sided derivatives there and is left out.) g''
  // jumps on a knot, which costs central differences an error of the jump times step / 4:
  // hence the small step.
  require_gradient(
      [&](Tape<double>&, const Vars& v) { return rational_quadratic_spline(v[0], v[1], v[2], v[3], o).value; },
      {knots_x, spline_rows(w, 0, bins + 1), spline_rows(h, 0, bins + 1), spline_rows(d, 0, bins + 1)}, {.step = 1e-9});

  // Either side of the edges, value and slope meet the identity tails: g(B -+ e) = B -+ e + O(e^2).
  const double e = 1e-7;
  const xt::xarray<double> near{-2 - e, -2 + e, 2 - e, 2 + e};
  const auto [yn, log_n] =
      spline_apply(near, spline_rows(w, 0, 4), spline_rows(h, 0, 4), spline_rows(d, 0, 4), o, false);
  for (std::size_t i = 0; i < 4; ++i) {
    INFO("x = " << near(i));
    CHECK(std::abs(yn(i) - near(i)) < 1e3 * e * e);  // |g''| e^2 / 2, |g''| ~ 200 here
    CHECK(std::abs(log_n(i)) < 1e3 * e);
  }
  // the one-sided slopes by differences, inside and outside
  const xt::xarray<double> steps{-2.0, -2 + 1e-6, -2 + 2e-6, 2 - 2e-6, 2 - 1e-6, 2.0};
  const auto [ys, log_s] =
      spline_apply(steps, spline_rows(w, 0, 6), spline_rows(h, 0, 6), spline_rows(d, 0, 6), o, false);
  (void)log_s;
  CHECK((ys(1) - ys(0)) / 1e-6 == Approx(1.0).epsilon(1e-3));
  CHECK((ys(5) - ys(4)) / 1e-6 == Approx(1.0).epsilon(1e-3));
}

TEST_CASE("rational_quadratic_spline: strictly increasing over and beyond the interval", "[flows]") {
  for (std::size_t bins : {2, 8, 16}) {
    INFO("K = " << bins);
    const RationalQuadraticSplineOptions o{3.0, 1e-3, 1e-3, 1e-3};
    const std::size_t n = 20001;
    xt::xarray<double> x = xt::linspace<double>(-3.6, 3.6, n);
    for (std::uint32_t seed : {1u, 2u, 3u}) {
      const xt::xarray<double> w = random_array({1, bins}, -4.0, 4.0, seed);
      const xt::xarray<double> h = random_array({1, bins}, -4.0, 4.0, seed + 10);
      const xt::xarray<double> d = random_array({1, bins - 1}, -4.0, 4.0, seed + 20);
      const auto [y, log_d] =
          spline_apply(x, spline_rows(w, 0, n), spline_rows(h, 0, n), spline_rows(d, 0, n), o, false);
      bool increasing = true;
      for (std::size_t i = 1; i < n; ++i) increasing = increasing && y(i) > y(i - 1);
      CHECK(increasing);
      CHECK(xt::all(xt::isfinite(log_d)));
      CHECK(y(0) == -3.6);
      CHECK(y(n - 1) == 3.6);
    }
  }
}

TEST_CASE("rational_quadratic_spline: the inverse where the paper's root would cancel (b < 0)", "[flows]") {
  // Two equal bins (s = 1), delta_0 = 1 and a steep delta_1 ~ 8: near the top of bin 0,
  // b = h delta_0 - dy (delta_1 + delta_0 - 2 s) is negative.
  const RationalQuadraticSplineOptions o{1.0, 1e-3, 1e-3, 1e-3};
  const std::size_t n = 200;
  const xt::xarray<double> w = xt::zeros<double>({n, std::size_t{2}});
  const xt::xarray<double> h = xt::zeros<double>({n, std::size_t{2}});
  const xt::xarray<double> d = xt::full_like(xt::empty<double>({n, std::size_t{1}}), 8.0);
  const xt::xarray<double> x = xt::linspace<double>(-1.0, 0.0, n);
  const auto [y, log_d] = spline_apply(x, w, h, d, o, false);
  const SplineTextbook t = spline_textbook_knots(&w(0, 0), &h(0, 0), &d(0, 0), 2, o);
  std::size_t negative_b = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const long double dy = y(i) + 1.0L, hk = 1, delta0 = 1, delta1 = t.d[1];
    if (hk * delta0 - dy * (delta1 + delta0 - 2) < 0) ++negative_b;
  }
  CHECK(negative_b > n / 2);
  const auto [back, back_log] = spline_apply(y, w, h, d, o, true);
  require_close(back, x, 2e-15);
  require_close(back_log, xt::xarray<double>(-log_d), 1e-13);
  // and its gradients, on both sides of b = 0
  xt::xarray<double> y_few = xt::empty<double>({std::size_t{10}}),
                     w_few = xt::zeros<double>({std::size_t{10}, std::size_t{2}});
  for (std::size_t i = 0; i < 10; ++i) y_few(i) = y(20 * i + 5);
  require_gradient(
      [&](Tape<double>&, const Vars& v) {
        const auto r = rational_quadratic_spline_inverse(v[0], v[1], v[2], v[3], o);
        return r.value + r.log_derivative * 0.3;
      },
      {y_few, w_few, w_few, xt::full_like(xt::empty<double>({std::size_t{10}, std::size_t{1}}), 8.0)});
}

TEST_CASE("rational_quadratic_spline: gradients in x and every raw parameter by finite differences", "[flows]") {
  for (std::size_t bins : {1, 2, 5}) {
    INFO("K = " << bins);
    const RationalQuadraticSplineOptions o{2.0, 0.01, 0.02, 0.05};
    // inside at random, and one point in each tail (no gradient reaches the parameters there)
    xt::xarray<double> x = random_array({2, 3}, -1.9, 1.9, 8);
    x(1, 2) = 2.4;
    x(0, 1) = -3.0;
    const xt::xarray<double> w = random_array({2, 3, bins}, -2.0, 2.0, 9);
    const xt::xarray<double> h = random_array({2, 3, bins}, -2.0, 2.0, 10);
    const xt::xarray<double> d = random_array({2, 3, bins - 1}, -2.0, 2.0, 11);
    Tape<double> tape;
    const xt::xarray<double> y =
        rational_quadratic_spline(tape.constant(x), tape.constant(w), tape.constant(h), tape.constant(d), o)
            .value.value();
    for (bool inverse : {false, true}) {
      for (int output : {0, 1, 2}) {  // value, log-derivative, both
        INFO((inverse ? "inverse" : "forward") << ", output " << output);
        require_gradient(
            [&](Tape<double>&, const Vars& v) {
              const auto r = inverse ? rational_quadratic_spline_inverse(v[0], v[1], v[2], v[3], o)
                                     : rational_quadratic_spline(v[0], v[1], v[2], v[3], o);
              return output == 0 ? r.value : output == 1 ? r.log_derivative : r.value * 0.7 + r.log_derivative;
            },
            {inverse ? y : x, w, h, d});
      }
    }
    // the tails: the raw parameters of a point outside get exactly zero
    Tape<double> t2;
    const Var<double> wv = t2.variable(w);
    const auto r = rational_quadratic_spline(t2.constant(x), wv, t2.constant(h), t2.constant(d), o);
    t2.backward(sum(r.value) + sum(r.log_derivative));
    for (std::size_t k = 0; k < bins; ++k) {
      CHECK(wv.grad()(1, 2, k) == 0.0);
      CHECK(wv.grad()(0, 1, k) == 0.0);
    }
  }
}

TEST_CASE("rational_quadratic_spline: equal bins and zero raw derivatives are the identity", "[flows]") {
  for (std::size_t bins : {1, 4, 8}) {
    const RationalQuadraticSplineOptions o{3.0, 1e-3, 1e-3, 1e-3};
    const xt::xarray<double> x = random_array({50}, -4.0, 4.0, 12);
    const auto [y, log_d] =
        spline_apply(x, xt::zeros<double>({std::size_t{50}, bins}), xt::zeros<double>({std::size_t{50}, bins}),
                     xt::zeros<double>({std::size_t{50}, bins - 1}), o, false);
    require_close(y, x, 1e-15);
    CHECK(xt::amax(xt::abs(log_d))() < 1e-15);
  }
}

TEST_CASE("rational_quadratic_spline: errors name the op, the shapes and the options", "[flows]") {
  Tape<double> tape;
  const Var<double> x = tape.zeros({3});
  const Var<double> w = tape.zeros({3, 4});
  const Var<double> d = tape.zeros({3, 3});
  CHECK_THROWS_AS(rational_quadratic_spline(x, w, w, tape.zeros({3, 4})), ShapeError);
  CHECK_THROWS_WITH(rational_quadratic_spline(x, w, w, tape.zeros({3, 4})),
                    "rational_quadratic_spline: x has shape [3], widths [3, 4], heights [3, 4], derivatives [3, 4] "
                    "(expected widths and heights of shape x's + [K] with K >= 1, and derivatives of shape x's + "
                    "[K - 1])");
  CHECK_THROWS_WITH(rational_quadratic_spline_inverse(x, w, tape.zeros({3, 5}), d),
                    "rational_quadratic_spline_inverse: y has shape [3], widths [3, 4], heights [3, 5], derivatives "
                    "[3, 3] (expected widths and heights of shape y's + [K] with K >= 1, and derivatives of shape y's "
                    "+ [K - 1])");
  CHECK_THROWS_AS(rational_quadratic_spline(tape.zeros({2}), w, w, d), ShapeError);
  CHECK_THROWS_AS(rational_quadratic_spline(x, tape.zeros({3, 0}), tape.zeros({3, 0}), tape.zeros({3, 0})), ShapeError);
  CHECK_THROWS_AS(rational_quadratic_spline(x, w, w, d, {.bound = 0}), ArgumentError);
  CHECK_THROWS_WITH(
      rational_quadratic_spline(x, w, w, d, {.bound = 0}),
      "rational_quadratic_spline: bound must be positive and finite (the spline acts on [-bound, bound]), "
      "got 0");
  CHECK_THROWS_WITH(
      rational_quadratic_spline(x, w, w, d, {.min_bin_height = 0.25}),
      "rational_quadratic_spline: min_bin_height must lie in (0, 1/K) = (0, 0.25) for K = 4 bins, got 0.25");
  CHECK_THROWS_WITH(rational_quadratic_spline_inverse(x, w, w, d, {.min_derivative = 0}),
                    "rational_quadratic_spline_inverse: min_derivative must lie in (0, 1), got 0");
}

// ---- the flow -------------------------------------------------------------------------------

TEST_CASE(
    "SplineCouplingFlow: the conditioner's layers under <scope>/<name>/layer_*, shared by a flow of the same name",
    "[flows]") {
  ParameterStore<double> store(3);
  SplineCouplingFlowOptions o;
  o.hidden = {8, 6};
  o.bins = 4;
  const SplineCouplingFlow<double> f(store.scope("q"), "flow0", 5, o);
  CHECK(f.name() == "SplineCouplingFlow(q/flow0)");
  CHECK(f.dim() == 5);
  CHECK(f.split() == 2);
  CHECK(!f.flip());
  CHECK(f.conditioning_size() == 2);
  CHECK(f.transformed_size() == 3);
  CHECK(f.bins() == 4);
  REQUIRE(store.size() == 6);
  CHECK(store.at("q/flow0/layer_0/weight").shape == Shape{2, 8});
  CHECK(store.at("q/flow0/layer_0/bias").shape == Shape{8});
  CHECK(store.at("q/flow0/layer_1/weight").shape == Shape{8, 6});
  CHECK(store.at("q/flow0/layer_2/weight").shape == Shape{6, 3 * 11});  // 3 coordinates, K + K + (K - 1)
  CHECK(store.at("q/flow0/layer_2/bias").shape == Shape{33});
  CHECK(xt::all(xt::equal(store.at("q/flow0/layer_2/weight").value_view(), 0.0)));
  CHECK(xt::any(xt::not_equal(store.at("q/flow0/layer_1/weight").value_view(), 0.0)));
  CHECK(f.domain_event_rank() == 1);
  CHECK(f.codomain().kind() == SupportKind::real);
  CHECK(f.forward_shape({2, 7, 5}) == Shape{2, 7, 5});

  const SplineCouplingFlow<double> again(store.scope("q"), "flow0", 5, o);
  CHECK(store.size() == 6);
  CHECK(again.conditioner().at(0).weight == f.conditioner().at(0).weight);

  o.flip = true;
  const SplineCouplingFlow<double> flipped(store.scope("q"), "flow1", 5, o);
  CHECK(flipped.conditioning_size() == 3);
  CHECK(flipped.transformed_size() == 2);
  CHECK(store.at("q/flow1/layer_0/weight").shape == Shape{3, 8});
  CHECK(store.at("q/flow1/layer_2/weight").shape == Shape{6, 2 * 11});
  o.split = 1;
  o.hidden = {};
  const SplineCouplingFlow<double> linear(store.scope("q"), "flow2", 5, o);  // no hidden layer
  CHECK(linear.conditioning_size() == 4);
  CHECK(store.at("q/flow2/layer_0/weight").shape == Shape{4, 11});
}

TEST_CASE("SplineCouplingFlow: starts at the identity (zero last layer: equal bins, derivatives 1)", "[flows]") {
  for (std::size_t dim : {2, 3, 6}) {
    INFO("D = " << dim);
    ParameterStore<double> store(dim);
    SplineCouplingFlowOptions o;  // the defaults (64 x 64, K = 8, B = 3), with ReLU for a change
    o.activation = Activation::relu;
    const SplineCouplingFlow<double> f(store.scope("q"), "flow", dim, o);
    Tape<double> tape;
    const xt::xarray<double> x = random_array({20, dim}, -4.0, 4.0, 5);
    const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(x));
    require_close(r.y.value(), x, 1e-15);
    CHECK(xt::amax(xt::abs(r.log_abs_det_jacobian.value()))() < 1e-14);
    require_close(f.inverse(tape.constant(x)).value(), x, 1e-15);
  }
}

TEST_CASE("SplineCouplingFlow: log|det J| against the log-determinant of the tape's Jacobian, D = 2, 3, 5", "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    for (bool flip : {false, true}) {
      INFO("D = " << dim << (flip ? ", flipped" : ""));
      ParameterStore<double> store;
      SplineCouplingFlowOptions o = spline_small_options();
      o.flip = flip;
      const SplineCouplingFlow<double> f(store.scope("q"), "flow", dim, o);
      for (std::uint32_t seed : {1u, 2u}) {
        spline_set_random(store, seed);
        {  // the bins are far from equal
          Tape<double> tape;
          const xt::xarray<double> w =
              f.raw_splines(tape.constant(random_array({dim}, -2.0, 2.0, seed))).widths.value();
          CHECK(xt::amax(w)() - xt::amin(w)() > 2.0);
        }
        for (std::uint32_t point : {1u, 2u, 3u})  // inside [-3, 3]
          transform_check_log_det(f, random_array({dim}, -2.9, 2.9, 10 * seed + point), transform_first_entries(dim),
                                  1e-10);
        // in the tails (and a mix)
        transform_check_log_det(f, random_array({dim}, 3.1, 5.0, 50 + seed), transform_first_entries(dim), 1e-10);
        xt::xarray<double> mixed = random_array({dim}, -2.0, 2.0, 60 + seed);
        mixed(dim - 1) = -4.0;
        mixed(0) = 3.5;
        transform_check_log_det(f, mixed, transform_first_entries(dim), 1e-10);
        // exactly on knots (and on the edges -B and B)
        const xt::xarray<double> on_knots = spline_points_on_knots(f, 6, 70 + seed);
        for (std::size_t r = 0; r < 6; ++r) {
          const xt::xarray<double> z = xt::view(on_knots, r, xt::all());
          transform_check_log_det(f, z, transform_first_entries(dim), 1e-10);
        }
      }
    }
  }
  // another split
  ParameterStore<double> store;
  SplineCouplingFlowOptions o = spline_small_options(7);
  o.split = 1;
  const SplineCouplingFlow<double> f(store.scope("q"), "flow", 5, o);
  spline_set_random(store, 9);
  transform_check_log_det(f, random_array({5}, -2.9, 2.9, 91), transform_first_entries(5), 1e-10);
  transform_check_log_det(f, random_array({3, 5}, -2.9, 2.9, 92), transform_first_entries(15), 1e-10);
}

TEST_CASE("SplineCouplingFlow: y = g(z) coordinate by coordinate, the kept part unchanged", "[flows]") {
  ParameterStore<double> store;
  SplineCouplingFlowOptions o = spline_small_options();
  o.flip = true;
  o.split = 2;
  const SplineCouplingFlow<double> f(store.scope("q"), "flow", 3, o);  // condition on z[2:], transform z[:2]
  spline_set_random(store, 4);
  const xt::xarray<double> z = random_array({4, 3}, -3.5, 3.5, 13);
  Tape<double> tape;
  const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(z));
  const auto raw = f.raw_splines(tape.constant(z));
  const xt::xarray<double> w = raw.widths.value(), h = raw.heights.value(), d = raw.derivatives.value();
  REQUIRE(w.shape() == std::vector<std::size_t>{4, 2, 5});
  REQUIRE(d.shape() == std::vector<std::size_t>{4, 2, 4});
  for (std::size_t n = 0; n < 4; ++n) {
    CHECK(r.y.value()(n, 2) == z(n, 2));
    double log_det = 0;
    for (std::size_t i = 0; i < 2; ++i) {
      const auto [ty, tl] =
          spline_textbook(spline_textbook_knots(&w(n, i, 0), &h(n, i, 0), &d(n, i, 0), 5, f.spline_options()), z(n, i));
      CHECK(r.y.value()(n, i) == Approx(ty).epsilon(1e-14).margin(1e-14));
      log_det += tl;
    }
    CHECK(r.log_abs_det_jacobian.value()(n) == Approx(log_det).epsilon(1e-12).margin(1e-12));
  }
}

TEST_CASE("SplineCouplingFlow: inverse(forward(z)) = z and forward(inverse(y)) = y, D = 2, 3, 5", "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    for (bool flip : {false, true}) {
      INFO("D = " << dim << (flip ? ", flipped" : ""));
      ParameterStore<double> store;
      SplineCouplingFlowOptions o = spline_small_options(8);
      o.flip = flip;
      const SplineCouplingFlow<double> f(store.scope("q"), "flow", dim, o);
      for (std::uint32_t seed : {1u, 2u, 3u}) {
        spline_set_random(store, seed);
        transform_check_round_trip(f, random_array({20, dim}, -3.0, 3.0, seed + 50));
        transform_check_round_trip(f, random_array({4, dim}, -6.0, 6.0, seed + 60));  // tails too
        transform_check_round_trip(f, spline_points_on_knots(f, 5, seed + 70));
      }
    }
  }
}

TEST_CASE("SplineCouplingFlow: with steep splines the inverse still solves to rounding", "[flows]") {
  // Raw parameters up to ~+-10, slopes from ~1e-6 to ~1e3. Rounding moves x by ~eps / g' and
  // y by ~eps g', so each comes back to that; log|det J| stays the Jacobian's. One coordinate
  // is transformed, so log|det J| is its log g'.
  for (std::size_t dim : {2, 5}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    SplineCouplingFlowOptions o = spline_small_options(8);
    o.split = 1;
    o.flip = true;
    const SplineCouplingFlow<double> f(store.scope("q"), "flow", dim, o);
    REQUIRE(f.transformed_size() == 1);
    spline_set_random(store, 4, 2.0);
    Tape<double> tape;
    const xt::xarray<double> x = random_array({400, dim}, -3.5, 3.5, 8);
    const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(x));
    const xt::xarray<double> y = r.y.value(), slope = xt::exp(r.log_abs_det_jacobian.value());
    INFO("slopes from " << xt::amin(slope)() << " to " << xt::amax(slope)());
    CHECK(xt::amin(slope)() < 1e-3);
    CHECK(xt::amax(slope)() > 1e2);
    const Var<double> x_back = f.inverse(tape.constant(y));
    const auto again = f.forward_and_log_abs_det_jacobian(x_back);
    const xt::xarray<double> xb = x_back.value(), y_again = again.y.value();
    const xt::xarray<double> slope_back = xt::exp(again.log_abs_det_jacobian.value());
    double worst_x = 0, worst_y = 0;
    for (std::size_t i = 0; i < x.shape()[0]; ++i) {
      worst_x = std::max(worst_x, std::abs(xb(i, 0) - x(i, 0)) / (1 + 1 / slope(i)));
      worst_y = std::max(worst_y, std::abs(y_again(i, 0) - y(i, 0)) / (1 + slope_back(i)));
    }
    CHECK(worst_x < 4e-15);
    CHECK(worst_y < 4e-15);
    transform_check_log_det(f, random_array({dim}, -2.9, 2.9, 9), transform_first_entries(dim), 1e-10);
  }
}

TEST_CASE("SplineCouplingFlow: gradients in z and in every parameter (forward, log|det J|, inverse)", "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    SplineCouplingFlowOptions o = spline_small_options(4);
    o.hidden = {5};
    o.flip = dim == 3;
    const SplineCouplingFlow<double> f(store.scope("q"), "flow", dim, o);
    for (std::uint32_t seed : {1u, 2u}) {
      spline_set_random(store, seed);
      xt::xarray<double> x = random_array({2, dim}, -2.8, 2.8, seed + 20);
      x(1, dim - 1) = 3.4;  // a tail
      flow_check_all_gradients(f, store, x);
      // log q of a pushed-forward normal, through the inverse and the log-determinant together
      Tape<double> tape;
      const xt::xarray<double> y = f.forward(tape.constant(x)).value();
      flow_check_parameter_gradients(store, [&](Tape<double>& t) {
        const Var<double> yv = t.constant(y);
        const Var<double> z = f.inverse(yv);
        return sum(sum(square(z), {-1}) * -0.5 - f.log_abs_det_jacobian(z, yv));
      });
    }
  }
}

TEST_CASE("SplineCouplingFlow: a [3, 4, D] batch equals its events one by one; log|det J| has shape [3, 4]",
          "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    ParameterStore<double> store;
    SplineCouplingFlowOptions o = spline_small_options();
    o.flip = dim == 5;
    const SplineCouplingFlow<double> f(store.scope("q"), "flow", dim, o);
    spline_set_random(store, 7);
    flow_check_batching(f, dim, 9);
  }
}

TEST_CASE("SplineCouplingFlow: a standard normal pushed through two layers has a density of mass 1 (D = 2)",
          "[flows]") {
  ParameterStore<double> store;
  SplineCouplingFlowOptions o = spline_small_options(6);
  const auto f0 = std::make_shared<SplineCouplingFlow<double>>(store.scope("q"), "flow0", 2, o);
  o.flip = true;
  const auto f1 = std::make_shared<SplineCouplingFlow<double>>(store.scope("q"), "flow1", 2, o);
  spline_set_random(store, 3, 0.3);  // milder: a grid resolves the density's narrowest peaks
  const auto flow = std::make_shared<ComposeTransform<double>>(std::vector<TransformPtr<double>>{f0, f1});
  // The tails are the identity: [-8, 8]^2 holds all but ~1e-14 of the mass.
  CHECK(flow_pushed_forward_mass(flow, 8.0, 800) == Approx(1.0).margin(1e-4));
}

TEST_CASE("SplineCouplingFlow: float agrees with double to float precision", "[flows]") {
  ParameterStore<double> store_d;
  ParameterStore<float> store_f;
  const SplineCouplingFlow<double> fd(store_d.scope("q"), "flow", 3, spline_small_options());
  const SplineCouplingFlow<float> ff(store_f.scope("q"), "flow", 3, spline_small_options());
  for (std::uint32_t seed : {1u, 2u}) {
    spline_set_random(store_d, seed);
    flow_copy_parameters(store_d, store_f);
    flow_check_float_agrees(ff, fd, random_array({5, 3}, -3.5, 3.5, seed + 3));
  }
  flow_check_float_inverse_gradient(ff);
}

TEST_CASE("SplineCouplingFlow: with_detached_parameters gives the same values and no parameter gradients", "[flows]") {
  ParameterStore<double> store;
  const SplineCouplingFlow<double> f(store.scope("q"), "flow", 3, spline_small_options());
  spline_set_random(store, 5);
  const auto detached = f.with_detached_parameters();
  CHECK(!f.parameters_detached());
  CHECK(detached->parameters_detached());
  CHECK(detached->name() == f.name());
  const xt::xarray<double> x = random_array({4, 3}, -3.0, 3.0, 6);
  for (const VectorFlow<double>* flow : {static_cast<const VectorFlow<double>*>(&f), detached.get()}) {
    const bool is_detached = flow->parameters_detached();
    INFO((is_detached ? "detached" : "live"));
    Tape<double> tape;
    store.zero_grad();
    const Var<double> z = tape.variable(x);
    const auto r = flow->forward_and_log_abs_det_jacobian(z);
    const Var<double> back = flow->inverse(r.y);
    tape.backward(sum(r.y) + sum(r.log_abs_det_jacobian) + sum(back));
    double total = 0;
    for (const auto& p : store) total += xt::sum(xt::abs(p->grad_view()))();
    CHECK((total == 0) == is_detached);
    CHECK(xt::amax(xt::abs(z.grad()))() > 0);  // z still gets its gradient

    Tape<double> t2;
    const auto mine = flow->forward_and_log_abs_det_jacobian(t2.constant(x));
    const auto live = f.forward_and_log_abs_det_jacobian(t2.constant(x));
    CHECK(xt::all(xt::equal(mine.y.value(), live.y.value())));
    CHECK(xt::all(xt::equal(mine.log_abs_det_jacobian.value(), live.log_abs_det_jacobian.value())));
    CHECK(xt::all(xt::equal(flow->inverse(t2.constant(x)).value(), f.inverse(t2.constant(x)).value())));
  }
}

TEST_CASE("SplineCouplingFlow: errors name the flow, the shapes and the options", "[flows]") {
  ParameterStore<double> store;
  const SplineCouplingFlow<double> f(store.scope("q"), "flow0", 3, spline_small_options());
  flow_check_shape_errors(f, "SplineCouplingFlow(q/flow0)");
  Tape<double> tape;
  CHECK_THROWS_WITH(f.raw_splines(tape.zeros({2})),
                    "SplineCouplingFlow(q/flow0).raw_splines: z has shape [2], but the flow acts on vectors of size 3 "
                    "(expected a last axis of size 3)");

  const auto make = [&](std::size_t dim, const SplineCouplingFlowOptions& o) {
    return SplineCouplingFlow<double>(store.scope("q"), "bad", dim, o);
  };
  SplineCouplingFlowOptions o = spline_small_options(8);
  CHECK_THROWS_AS(make(0, o), ArgumentError);
  CHECK_THROWS_WITH(make(0, o), "SplineCouplingFlow(q/bad): the dimension must be at least 1, got 0");
  CHECK_THROWS_WITH(make(1, o),
                    "SplineCouplingFlow(q/bad): a coupling needs D >= 2 (a part to condition on and a part to "
                    "transform), got D = 1");
  o.split = 3;
  CHECK_THROWS_AS(make(3, o), ArgumentError);
  CHECK_THROWS_WITH(make(3, o),
                    "SplineCouplingFlow(q/bad): split = 3 leaves no coordinate to transform in D = 3 "
                    "(expected 1 <= split < 3, or 0 for D / 2)");
  o.flip = true;
  o.split = 5;
  CHECK_THROWS_WITH(make(4, o),
                    "SplineCouplingFlow(q/bad): split = 5 leaves no coordinate to condition on in D = 4 "
                    "(expected 1 <= split < 4, or 0 for D / 2)");
  o = spline_small_options(0);
  CHECK_THROWS_AS(make(3, o), ArgumentError);
  CHECK_THROWS_WITH(make(3, o), "SplineCouplingFlow(q/bad): the number of bins must be at least 1, got 0");
  o = spline_small_options(8);
  for (double bound : {0.0, -1.0}) {
    o.bound = bound;
    CHECK_THROWS_WITH(make(3, o),
                      "SplineCouplingFlow(q/bad): bound must be positive and finite (the spline acts on "
                      "[-bound, bound]), got " +
                          std::string(bound == 0 ? "0" : "-1"));
  }
  o.bound = INFINITY;
  CHECK_THROWS_WITH(make(3, o),
                    "SplineCouplingFlow(q/bad): bound must be positive and finite (the spline acts on "
                    "[-bound, bound]), got inf");
  o = spline_small_options(8);
  o.min_bin_width = 0.2;  // 8 bins of at least 0.2 do not fit in 1
  CHECK_THROWS_WITH(
      make(3, o), "SplineCouplingFlow(q/bad): min_bin_width must lie in (0, 1/K) = (0, 0.125) for K = 8 bins, got 0.2");
  o.min_bin_width = 0.125;
  CHECK_THROWS_WITH(make(3, o),
                    "SplineCouplingFlow(q/bad): min_bin_width must lie in (0, 1/K) = (0, 0.125) for K = 8 "
                    "bins, got 0.125");
  o.min_bin_width = 0;
  CHECK_THROWS_WITH(make(3, o),
                    "SplineCouplingFlow(q/bad): min_bin_width must lie in (0, 1/K) = (0, 0.125) for K = 8 bins, got 0");
  o = spline_small_options(4);
  o.min_bin_height = 0.3;
  CHECK_THROWS_WITH(
      make(3, o), "SplineCouplingFlow(q/bad): min_bin_height must lie in (0, 1/K) = (0, 0.25) for K = 4 bins, got 0.3");
  o = spline_small_options(4);
  o.min_derivative = 1;
  CHECK_THROWS_WITH(make(3, o), "SplineCouplingFlow(q/bad): min_derivative must lie in (0, 1), got 1");
  o.min_derivative = -0.5;
  CHECK_THROWS_WITH(make(3, o), "SplineCouplingFlow(q/bad): min_derivative must lie in (0, 1), got -0.5");
  o = spline_small_options(4);
  o.hidden = {8, 0};
  CHECK_THROWS_WITH(make(3, o), "SplineCouplingFlow(q/bad): hidden layer 1 has width 0 (expected widths >= 1)");
  CHECK(store.find("q/bad/layer_0/weight") == nullptr);  // nothing created by a refused flow
}

TEST_CASE("SplineCouplingFlow: K = 1 is the identity whatever the conditioner says", "[flows]") {
  // One bin spans [-B, B] with height 2B, so s = 1 and delta_0 = delta_1 = 1.
  ParameterStore<double> store;
  const SplineCouplingFlow<double> f(store.scope("q"), "flow", 4, spline_small_options(1));
  spline_set_random(store, 2, 3.0);
  const xt::xarray<double> x = random_array({10, 4}, -4.0, 4.0, 3);
  Tape<double> tape;
  const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(x));
  require_close(r.y.value(), x, 1e-15);
  CHECK(xt::amax(xt::abs(r.log_abs_det_jacobian.value()))() < 1e-14);
}
