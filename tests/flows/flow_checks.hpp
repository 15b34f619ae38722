#pragma once
// The checks the flow tests share, beside tests/transforms/transform_checks.hpp (round trip,
// log|det J| against the tape's Jacobian, gradients in x): gradients in the parameters by
// finite differences (a flow reads them from its ParameterStore), a batch against one event
// at a time, the mass of a pushed-forward normal on a grid, and float against double.

#include <cmath>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <numbers>
#include <string>

#include "transforms/transform_checks.hpp"
#include "vaelib/flows/planar.hpp"
#include "vaelib/flows/radial.hpp"

namespace vaelib::testing {

/// Writes `values` into a parameter in place (its size must match).
template <class T>
void flow_set(const Parameter<T>& p, std::initializer_list<double> values) {
  REQUIRE(values.size() == p.size);
  std::size_t i = 0;
  for (double v : values) p.value[i++] = static_cast<T>(v);
}

template <class T>
void flow_set(const Parameter<T>& p, const xt::xarray<double>& values) {
  REQUIRE(values.size() == p.size);
  for (std::size_t i = 0; i < p.size; ++i) p.value[i] = static_cast<T>(values.data()[i]);
}

/// Copies every parameter of `from` into the parameter of the same name in `to`.
inline void flow_copy_parameters(const ParameterStore<double>& from, ParameterStore<float>& to) {
  for (const auto& p : from) {
    Parameter<float>& q = to.at(p->name);
    REQUIRE(q.size == p->size);
    for (std::size_t i = 0; i < p->size; ++i) q.value[i] = static_cast<float>(p->value[i]);
  }
}

/// The loss a parameter-gradient check differentiates: a scalar built on `tape` from the
/// store's parameters (through a flow).
using FlowLoss = std::function<Var<double>(Tape<double>& tape)>;

/// The tape's gradient of `loss` in every element of every parameter of `store` against
/// central differences (|analytic - numeric| <= atol + rtol max(|analytic|, |numeric|)).
inline void flow_check_parameter_gradients(ParameterStore<double>& store, const FlowLoss& loss, double step = 1e-6,
                                           double atol = 1e-6, double rtol = 1e-5) {
  Tape<double> tape;
  store.zero_grad();
  tape.backward(loss(tape));
  std::size_t checked = 0;
  for (const auto& p : store) {
    for (std::size_t j = 0; j < p->size; ++j) {
      const double analytic = p->grad[j];
      const double saved = p->value[j];
      p->value[j] = saved + step;
      tape.clear();
      const double up = loss(tape).item();
      p->value[j] = saved - step;
      tape.clear();
      const double down = loss(tape).item();
      p->value[j] = saved;
      const double numeric = (up - down) / (2 * step);
      INFO("d loss / d " << p->name << "[" << j << "]: tape " << analytic << ", finite differences " << numeric);
      CHECK(std::abs(analytic - numeric) <= atol + rtol * std::max(std::abs(analytic), std::abs(numeric)));
      ++checked;
    }
  }
  REQUIRE(checked > 0);
}

/// sum(w1 * y) + sum(w2 * log|det J|) for y = f(x): every output weighted differently.
inline Var<double> flow_forward_loss(const Transform<double>& t, Tape<double>& tape, const xt::xarray<double>& x) {
  const auto r = t.forward_and_log_abs_det_jacobian(tape.constant(x));
  return sum(r.y * tape.constant(random_array(r.y.shape(), 0.25, 1.0, 11))) +
         sum(r.log_abs_det_jacobian * tape.constant(random_array(r.log_abs_det_jacobian.shape(), 0.25, 1.0, 12)));
}

/// sum(w * f^{-1}(y)).
inline Var<double> flow_inverse_loss(const Transform<double>& t, Tape<double>& tape, const xt::xarray<double>& y) {
  const Var<double> x = t.inverse(tape.constant(y));
  return sum(x * tape.constant(random_array(x.shape(), 0.25, 1.0, 13)));
}

/// The tape's Jacobian of a flow at one event x [D]: [D, D], row i the gradient of y_i.
inline xt::xarray<double> flow_jacobian(const Transform<double>& f, const xt::xarray<double>& x) {
  const std::size_t n = x.size();
  xt::xarray<double> jacobian = xt::zeros<double>({n, n});
  Tape<double> tape;
  for (std::size_t row = 0; row < n; ++row) {
    tape.clear();
    const Var<double> xv = tape.variable(x);
    xt::xarray<double> pick = xt::zeros<double>({n});
    pick(row) = 1;
    tape.backward(sum(f.forward(xv) * tape.constant(pick)));
    for (std::size_t j = 0; j < n; ++j) jacobian(row, j) = xv.grad_data()[j];
  }
  return jacobian;
}

/// Every gradient of a flow with parameters at x [n, D], against finite differences: of
/// forward, inverse and log|det J| in x (transform_check_gradients), of forward and log|det J|
/// together, and in every parameter of `store` through forward (with log|det J|) and through
/// the inverse at y = f(x).
inline void flow_check_all_gradients(const Transform<double>& f, ParameterStore<double>& store,
                                     const xt::xarray<double>& x) {
  transform_check_gradients(f, x);
  require_gradient(
      [&](Tape<double>&, const Vars& in) {
        const auto r = f.forward_and_log_abs_det_jacobian(in[0]);
        return sum(r.y) + sum(r.log_abs_det_jacobian);
      },
      {x});
  flow_check_parameter_gradients(store, [&](Tape<double>& tape) { return flow_forward_loss(f, tape, x); });
  Tape<double> tape;
  const xt::xarray<double> y = f.forward(tape.constant(x)).value();
  flow_check_parameter_gradients(store, [&](Tape<double>& t) { return flow_inverse_loss(f, t, y); });
}

/// forward, log|det J|, forward_and_log_abs_det_jacobian and inverse of a [3, 4, D] batch
/// against each event alone; the log-determinant has the batch shape [3, 4].
inline void flow_check_batching(const Transform<double>& t, std::size_t dim, std::uint32_t seed) {
  INFO(t.name() << " batching, D = " << dim);
  const xt::xarray<double> x = random_array({3, 4, dim}, -2.5, 2.5, seed);
  Tape<double> tape;
  const Var<double> xv = tape.constant(x);
  const auto both = t.forward_and_log_abs_det_jacobian(xv);
  const Var<double> y = t.forward(xv);
  const Var<double> log_det = t.log_abs_det_jacobian(xv, y);
  const Var<double> back = t.inverse(y);
  REQUIRE(y.shape() == Shape{3, 4, dim});
  REQUIRE(log_det.shape() == Shape{3, 4});
  REQUIRE(both.log_abs_det_jacobian.shape() == Shape{3, 4});
  REQUIRE(back.shape() == Shape{3, 4, dim});
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      const xt::xarray<double> xi = xt::view(x, i, j, xt::all());
      const Var<double> one = tape.constant(xi);
      const Var<double> yi = t.forward(one);
      const Var<double> ldi = t.log_abs_det_jacobian(one, yi);
      REQUIRE(ldi.shape() == Shape{});
      require_close(xt::xarray<double>(xt::view(y.value(), i, j, xt::all())), xt::xarray<double>(yi.value()), 1e-14);
      require_close(xt::xarray<double>(xt::view(both.y.value(), i, j, xt::all())), xt::xarray<double>(yi.value()),
                    1e-14);
      CHECK(log_det.value()(i, j) == Approx(ldi.item()).epsilon(1e-13).margin(1e-14));
      CHECK(both.log_abs_det_jacobian.value()(i, j) == Approx(ldi.item()).epsilon(1e-13).margin(1e-14));
      const Var<double> back_i = t.inverse(yi);
      require_close(xt::xarray<double>(xt::view(back.value(), i, j, xt::all())), xt::xarray<double>(back_i.value()),
                    1e-14);
    }
  }
}

/// log N(f^{-1}(y); 0, I) - log|det J|(f^{-1}(y)) for y [n, 2]: [n].
inline Var<double> flow_pushed_forward_log_density(const Transform<double>& t, Tape<double>& tape,
                                                   const xt::xarray<double>& y) {
  const Var<double> yv = tape.constant(y);
  const Var<double> x = t.inverse(yv);
  const Var<double> log_normal = sum(square(x), {-1}) * -0.5 - std::log(2 * std::numbers::pi);
  return log_normal - t.log_abs_det_jacobian(x, yv);
}

/// The mass on [-half_width, half_width]^2 (n x n midpoints) of the density of y = f(x),
/// x ~ N(0, I_2); checks on the way that TransformedDistribution scores the same values.
inline double flow_pushed_forward_mass(const TransformPtr<double>& t, double half_width, std::size_t n) {
  const double h = 2 * half_width / static_cast<double>(n);
  xt::xarray<double> y = xt::empty<double>({n * n, std::size_t{2}});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      y(i * n + j, 0) = -half_width + (static_cast<double>(i) + 0.5) * h;
      y(i * n + j, 1) = -half_width + (static_cast<double>(j) + 0.5) * h;
    }
  Tape<double> tape;
  const xt::xarray<double> lp = flow_pushed_forward_log_density(*t, tape, y).value();
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.zeros({2}), tape.full({2}, 1.0))), t);
  REQUIRE(d.value_shape() == Shape{2});
  const xt::xarray<double> y_few = xt::view(y, xt::range(0, n * n, n * n / 7), xt::all());
  const xt::xarray<double> lp_few = xt::view(lp, xt::range(0, n * n, n * n / 7));
  require_close(d.log_prob(tape.constant(y_few)).value(), lp_few, 1e-12);
  return xt::sum(xt::exp(lp))() * h * h;
}

/// Forward, log|det J| and inverse of a float flow against a double one with the same
/// parameter values, at x [5, D], to float precision.
inline void flow_check_float_agrees(const Transform<float>& tf, const Transform<double>& td,
                                    const xt::xarray<double>& x) {
  INFO(td.name() << ": float against double");
  Tape<double> tape_d;
  Tape<float> tape_f;
  const auto rd = td.forward_and_log_abs_det_jacobian(tape_d.constant(x));
  const auto rf = tf.forward_and_log_abs_det_jacobian(tape_f.constant(xt::xarray<float>(xt::cast<float>(x))));
  const xt::xarray<double> yd = rd.y.value();
  const xt::xarray<double> yf = xt::cast<double>(rf.y.value());
  INFO("y double:\n" << yd << "\ny float:\n" << yf);
  CHECK(xt::allclose(yf, yd, 2e-6, 2e-6));
  const xt::xarray<double> ld = rd.log_abs_det_jacobian.value();
  const xt::xarray<double> lf = xt::cast<double>(rf.log_abs_det_jacobian.value());
  INFO("log|det J| double:\n" << ld << "\nfloat:\n" << lf);
  CHECK(xt::allclose(lf, ld, 2e-5, 2e-5));
  const xt::xarray<double> xd = td.inverse(tape_d.constant(yd)).value();
  const xt::xarray<double> xf =
      xt::cast<double>(tf.inverse(tape_f.constant(xt::xarray<float>(xt::cast<float>(yd)))).value());
  INFO("inverse double:\n" << xd << "\nfloat:\n" << xf);
  CHECK(xt::allclose(xf, xd, 2e-5, 2e-5));
}

/// The shape errors every flow on R^3 gives, each naming the flow (`name`, as name() says),
/// the method, the operand and its shape: a last axis of size 2, and rank 0.
inline void flow_check_shape_errors(const Transform<double>& f, const std::string& name) {
  Tape<double> tape;
  const Var<double> wrong = tape.zeros({4, 2});
  const Var<double> scalar = tape.constant(1.0);
  const auto wrong_size = [&](const std::string& method, const std::string& operand, const std::string& shape) {
    return name + "." + method + ": " + operand + " has shape " + shape +
           ", but the flow acts on vectors of size 3 (expected a last axis of size 3)";
  };
  const auto rank_zero = [&](const std::string& method, const std::string& operand) {
    return name + "." + method + ": " + operand +
           " has shape [], but the transform acts on its last 1 axes (expected rank >= 1)";
  };
  CHECK_THROWS_AS(f.forward(wrong), ShapeError);
  CHECK_THROWS_WITH(f.forward(wrong), wrong_size("forward", "x", "[4, 2]"));
  CHECK_THROWS_WITH(f.inverse(wrong), wrong_size("inverse", "y", "[4, 2]"));
  CHECK_THROWS_WITH(f.log_abs_det_jacobian(wrong, wrong), wrong_size("log_abs_det_jacobian", "x", "[4, 2]"));
  CHECK_THROWS_WITH(f.forward_and_log_abs_det_jacobian(wrong),
                    wrong_size("forward_and_log_abs_det_jacobian", "x", "[4, 2]"));
  CHECK_THROWS_WITH(f.forward_shape({2}), wrong_size("forward_shape", "x", "[2]"));
  CHECK_THROWS_WITH(f.inverse_shape({5, 4}), wrong_size("inverse_shape", "y", "[5, 4]"));
  CHECK_THROWS_AS(f.forward(scalar), ShapeError);
  CHECK_THROWS_WITH(f.forward(scalar), rank_zero("forward", "x"));
  CHECK_THROWS_WITH(f.inverse(scalar), rank_zero("inverse", "y"));
  CHECK_THROWS_WITH(f.forward_and_log_abs_det_jacobian(scalar), rank_zero("forward_and_log_abs_det_jacobian", "x"));
  CHECK_THROWS_WITH(f.forward_shape({}), rank_zero("forward_shape", "x"));
  CHECK_THROWS_WITH(f.inverse_shape({}), rank_zero("inverse_shape", "y"));
}

/// A float flow's inverse has finite gradients (at a point of R^3).
inline void flow_check_float_inverse_gradient(const Transform<float>& f) {
  Tape<float> tape;
  const Var<float> y = tape.variable(xt::xarray<float>{{0.5f, -1.0f, 2.0f}});
  tape.backward(sum(f.inverse(y)));
  CHECK(xt::all(xt::isfinite(y.grad())));
}

}  // namespace vaelib::testing
