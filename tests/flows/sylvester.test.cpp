#include "vaelib/flows/sylvester.hpp"

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "flows/flow_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Every parameter drawn uniformly from [-1.5, 1.5] (seeded): diagonals r_ii = tanh(raw) of
/// either sign, off-diagonals of order 1, and reflections in random directions.
void sylvester_set_random(const SylvesterFlow<double>& f, std::uint32_t seed) {
  const std::size_t d = f.dim();
  flow_set(f.v(), random_array({f.reflections(), d}, -1.5, 1.5, seed));
  flow_set(f.r(), random_array({d, d}, -1.5, 1.5, seed + 100));
  flow_set(f.r_tilde(), random_array({d, d}, -1.5, 1.5, seed + 200));
  flow_set(f.b(), random_array({d}, -1.5, 1.5, seed + 300));
}

/// Random parameters, then the diagonal entry `only` (every one if `only` >= D) at the
/// constraint's edge: r_ii r~_ii = -tanh(raw)^2 (-1 + 6.7e-5 for raw = 5.5), so 1 + r_ii r~_ii h'
/// is small where x_i is near 0. With one entry at the edge the tape's own Jacobian stays well
/// enough conditioned to check against; with all of them its inverse grows like 1 / s^D.
void sylvester_set_edge(const SylvesterFlow<double>& f, double raw, std::uint32_t seed, std::size_t only = SIZE_MAX) {
  sylvester_set_random(f, seed);
  const std::size_t d = f.dim();
  for (std::size_t i = 0; i < d; ++i) {
    if (only < d && i != only) continue;
    const double sign = i % 2 == 0 ? 1.0 : -1.0;
    f.r().value[i * d + i] = sign * raw;
    f.r_tilde().value[i * d + i] = -sign * raw;
  }
}

/// a b for 2-D a [n, k] and b [k, m], or b [k] (a vector).
xt::xarray<double> sylvester_dot(const xt::xarray<double>& a, const xt::xarray<double>& b) {
  const std::size_t n = a.shape()[0], k = a.shape()[1];
  const bool vector = b.dimension() == 1;
  const std::size_t m = vector ? 1 : b.shape()[1];
  xt::xarray<double> out =
      vector ? xt::xarray<double>(xt::zeros<double>({n})) : xt::xarray<double>(xt::zeros<double>({n, m}));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      double acc = 0;
      for (std::size_t l = 0; l < k; ++l) acc += a(i, l) * b.data()[l * m + j];
      out.data()[i * m + j] = acc;
    }
  return out;
}

/// Q, R, R~ and b computed in plain double from the parameter values (not through the flow).
struct SylvesterReference {
  xt::xarray<double> q, r, rt, b;
};

SylvesterReference sylvester_reference(const SylvesterFlow<double>& f) {
  const std::size_t d = f.dim();
  SylvesterReference m{xt::eye<double>(d), xt::zeros<double>({d, d}), xt::zeros<double>({d, d}),
                       xt::zeros<double>({d})};
  for (std::size_t k = 0; k < f.reflections(); ++k) {
    xt::xarray<double> h = xt::eye<double>(d);
    double n2 = 0;
    for (std::size_t i = 0; i < d; ++i) n2 += f.v().value[k * d + i] * f.v().value[k * d + i];
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) h(i, j) -= 2 * f.v().value[k * d + i] * f.v().value[k * d + j] / n2;
    m.q = sylvester_dot(m.q, h);
  }
  for (std::size_t i = 0; i < d; ++i) {
    m.b(i) = f.b().value[i];
    for (std::size_t j = i; j < d; ++j) {
      m.r(i, j) = j == i ? std::tanh(f.r().value[i * d + j]) : f.r().value[i * d + j];
      m.rt(i, j) = j == i ? std::tanh(f.r_tilde().value[i * d + j]) : f.r_tilde().value[i * d + j];
    }
  }
  return m;
}

/// z + Q R tanh(R~ Q^T z + b) for one z [D].
xt::xarray<double> sylvester_reference_forward(const SylvesterReference& m, const xt::xarray<double>& z) {
  const xt::xarray<double> u = sylvester_dot(xt::transpose(m.q), z);
  const xt::xarray<double> h = xt::tanh(sylvester_dot(m.rt, u) + m.b);
  return z + sylvester_dot(m.q, sylvester_dot(m.r, h));
}

/// The z with R~ Q^T z + b = x exactly in exact arithmetic (back substitution in R~): there
/// h'(x_i) = 1 - tanh(x_i)^2, so x = 0 is where 1 + r_ii r~_ii h' is smallest.
xt::xarray<double> sylvester_point_with_hidden(const SylvesterReference& m, const xt::xarray<double>& x) {
  const std::size_t d = m.b.size();
  xt::xarray<double> u = xt::zeros<double>({d});
  for (std::size_t i = d; i-- > 0;) {
    double rhs = x(i) - m.b(i);
    for (std::size_t k = i + 1; k < d; ++k) rhs -= m.rt(i, k) * u(k);
    u(i) = rhs / m.rt(i, i);
  }
  return sylvester_dot(m.q, u);
}

/// A stack of points, one per row, with hidden values x_i of about 1e-3 at index `only` (every
/// index if `only` >= D) and of order 1 elsewhere: near the edge of a sylvester_set_edge flow.
xt::xarray<double> sylvester_points_near_edge(const SylvesterReference& m, std::size_t count, std::uint32_t seed,
                                              std::size_t only = SIZE_MAX) {
  const std::size_t d = m.b.size();
  xt::xarray<double> out = xt::empty<double>({count, d});
  for (std::size_t p = 0; p < count; ++p) {
    xt::xarray<double> x = random_array({d}, -1.0, 1.0, seed + static_cast<std::uint32_t>(p));
    for (std::size_t i = 0; i < d; ++i)
      if (only >= d || i == only) x(i) *= 1e-3;
    xt::view(out, p, xt::all()) = sylvester_point_with_hidden(m, x);
  }
  return out;
}

constexpr std::size_t sylvester_dims[] = {1, 2, 3, 5};

}  // namespace

TEST_CASE("SylvesterFlow: v [K, D], r and r_tilde [D, D], b [D] under <scope>/<name>, shared by name", "[flows]") {
  ParameterStore<double> store(3);
  const SylvesterFlow<double> f(store.scope("q"), "flow0", 3);
  CHECK(f.name() == "SylvesterFlow(q/flow0)");
  CHECK(f.dim() == 3);
  CHECK(f.reflections() == 3);  // 0 means D
  REQUIRE(store.size() == 4);
  CHECK(store.at("q/flow0/v").shape == Shape{3, 3});
  CHECK(store.at("q/flow0/r").shape == Shape{3, 3});
  CHECK(store.at("q/flow0/r_tilde").shape == Shape{3, 3});
  CHECK(store.at("q/flow0/b").shape == Shape{3});
  CHECK(f.domain_event_rank() == 1);
  CHECK(f.codomain_event_rank() == 1);
  CHECK(f.codomain().kind() == SupportKind::real);
  CHECK(f.forward_shape({2, 5, 3}) == Shape{2, 5, 3});
  CHECK(f.inverse_shape({3}) == Shape{3});

  const SylvesterFlow<double> again(store.scope("q"), "flow0", 3);
  CHECK(store.size() == 4);
  CHECK(again.r().value == f.r().value);
  const SylvesterFlow<double> one(store.scope("q"), "flow1", 3, {.reflections = 1});
  CHECK(one.reflections() == 1);
  CHECK(store.at("q/flow1/v").shape == Shape{1, 3});
  CHECK(store.size() == 8);
}

TEST_CASE("SylvesterFlow: Q is orthogonal and equals H_1 ... H_K; R and R~ are upper-triangular, tanh on the diagonal",
          "[flows]") {
  for (std::size_t dim : sylvester_dims) {
    for (std::size_t k : {std::size_t{1}, dim}) {
      INFO("D = " << dim << ", reflections = " << k);
      ParameterStore<double> store;
      const SylvesterFlow<double> f(store.scope("q"), "flow", dim, {.reflections = k});
      sylvester_set_random(f, 3 + static_cast<std::uint32_t>(dim));
      Tape<double> tape;
      const xt::xarray<double> q = f.q_matrix(tape).value();
      REQUIRE(q.shape() == std::vector<std::size_t>{dim, dim});
      require_close(sylvester_dot(xt::transpose(q), q), xt::eye<double>(dim), 1e-12);
      require_close(sylvester_dot(q, xt::transpose(q)), xt::eye<double>(dim), 1e-12);
      const SylvesterReference m = sylvester_reference(f);
      require_close(q, m.q, 1e-13);
      // One reflection has determinant -1, K of them (-1)^K.
      const double det_sign = k % 2 == 0 ? 1.0 : -1.0;
      std::vector<double> q_flat(q.begin(), q.end());
      CHECK(std::exp(transform_log_abs_det(q_flat, dim)) == Approx(1.0).epsilon(1e-12));
      if (dim == 1) CHECK(q(0, 0) == Approx(det_sign).epsilon(1e-14));
      require_close(f.r_matrix(tape).value(), m.r, 1e-15);
      require_close(f.r_tilde_matrix(tape).value(), m.rt, 1e-15);
      for (std::size_t i = 0; i < dim; ++i)
        for (std::size_t j = 0; j < i; ++j) {
          CHECK(f.r_matrix(tape).value()(i, j) == 0.0);
          CHECK(f.r_tilde_matrix(tape).value()(i, j) == 0.0);
        }
    }
  }
}

TEST_CASE("SylvesterFlow: forward is z + Q R tanh(R~ Q^T z + b), computed independently", "[flows]") {
  for (std::size_t dim : sylvester_dims) {
    for (std::size_t k : {std::size_t{1}, dim}) {
      INFO("D = " << dim << ", reflections = " << k);
      ParameterStore<double> store;
      const SylvesterFlow<double> f(store.scope("q"), "flow", dim, {.reflections = k});
      sylvester_set_random(f, 21);
      const SylvesterReference m = sylvester_reference(f);
      const xt::xarray<double> x = random_array({4, dim}, -2.5, 2.5, 22);
      Tape<double> tape;
      const xt::xarray<double> y = f.forward(tape.constant(x)).value();
      for (std::size_t p = 0; p < 4; ++p) {
        const xt::xarray<double> expected = sylvester_reference_forward(m, xt::view(x, p, xt::all()));
        require_close(xt::xarray<double>(xt::view(y, p, xt::all())), expected, 1e-13);
      }
      // Moving a strictly lower entry of r or r_tilde changes nothing: it is masked out.
      if (dim > 1) {
        f.r().value[dim] += 3.0;        // (1, 0)
        f.r_tilde().value[dim] -= 2.0;  // (1, 0)
        require_close(f.forward(tape.constant(x)).value(), y, 0.0);
      }
    }
  }
}

TEST_CASE("SylvesterFlow: the defaults start the flow near the identity", "[flows]") {
  for (std::size_t dim : {1, 2, 3, 5, 10}) {
    INFO("D = " << dim);
    ParameterStore<double> store(dim);
    const SylvesterFlow<double> f(store.scope("q"), "flow", dim);
    for (std::size_t i = 0; i < dim; ++i) CHECK(f.b().value[i] == 0.0);
    Tape<double> tape;
    const xt::xarray<double> r = f.r_matrix(tape).value();
    const xt::xarray<double> rt = f.r_tilde_matrix(tape).value();
    CHECK(xt::amax(xt::abs(r))() < 0.05);
    for (std::size_t i = 0; i < dim; ++i) CHECK(rt(i, i) == Approx(std::tanh(1.0)).epsilon(1e-15));
    const xt::xarray<double> x = random_array({20, dim}, -3.0, 3.0, 5);
    const auto out = f.forward_and_log_abs_det_jacobian(tape.constant(x));
    const double moved = xt::amax(xt::abs(out.y.value() - x))();
    const double log_det = xt::amax(xt::abs(out.log_abs_det_jacobian.value()))();
    INFO("max |y - z| = " << moved << ", max |log det J| = " << log_det);
    CHECK(moved < 0.1);
    CHECK(log_det < 0.1);
    CHECK(moved > 0.0);  // but not the identity: the gradient in R is h(x), of order 1
  }
  // User initialisers replace the defaults.
  ParameterStore<float> store(1);
  SylvesterFlowOptions<float> options;
  options.v_init = init::constant(2.0f);
  options.r_init = init::constant(-0.5f);
  options.r_tilde_init = init::constant(0.25f);
  options.b_init = init::constant(0.5f);
  const SylvesterFlow<float> f(store.scope("q"), "flow", 2, options);
  CHECK(f.v().value[3] == 2.0f);
  CHECK(f.r().value[1] == -0.5f);
  CHECK(f.r_tilde().value[2] == 0.25f);
  CHECK(f.b().value[1] == 0.5f);
}

TEST_CASE("SylvesterFlow: log|det J| against the log-determinant of the tape's Jacobian, D = 1, 2, 3, 5", "[flows]") {
  for (std::size_t dim : sylvester_dims) {
    for (std::size_t k : {std::size_t{1}, dim}) {
      INFO("D = " << dim << ", reflections = " << k);
      ParameterStore<double> store;
      const SylvesterFlow<double> f(store.scope("q"), "flow", dim, {.reflections = k});
      for (std::uint32_t seed : {1u, 2u, 3u}) {
        sylvester_set_random(f, seed);
        for (std::uint32_t point : {1u, 2u, 3u})
          transform_check_log_det(f, random_array({dim}, -2.5, 2.5, 10 * seed + point), transform_first_entries(dim),
                                  1e-10);
      }
      // Near the edge: 1 + r_ii r~_ii h' about 7e-5 on one diagonal entry, each in turn.
      for (std::size_t edge = 0; edge < dim; ++edge) {
        INFO("at the edge: entry " << edge);
        sylvester_set_edge(f, 5.5, 4, edge);
        const xt::xarray<double> near = sylvester_points_near_edge(sylvester_reference(f), 2, 7, edge);
        for (std::size_t p = 0; p < 2; ++p) {
          const xt::xarray<double> z = xt::view(near, p, xt::all());
          Tape<double> tape;
          const double log_det = f.log_abs_det_jacobian(tape.constant(z), f.forward(tape.constant(z))).item();
          // the other entries, t^2 + (1 - t^2) s_i, are below 2: so this one is below 1e-3
          CHECK(log_det < std::log(1e-3) + static_cast<double>(dim - 1) * std::log(2.0));
          transform_check_log_det(f, z, transform_first_entries(dim), 1e-10);
        }
      }
    }
  }
}

TEST_CASE("SylvesterFlow: log|det J| stays exact where 1 + r r~ h' would cancel", "[flows]") {
  // D = 1: Q = -1, y = z + r tanh(-r~ z + b), dy/dz = 1 + r r~ (1 - t^2). With r = tanh(20),
  // r~ = tanh(-20), 1 + r r~ is 4 e^-40 / (1 + e^-40)^2 ~ 1.7e-17, which 1 - tanh(20)^2 rounds to 0.
  ParameterStore<double> store;
  const SylvesterFlow<double> f(store.scope("q"), "flow", 1);
  flow_set(f.v(), {0.7});
  flow_set(f.r(), {20.0});
  flow_set(f.r_tilde(), {-20.0});
  flow_set(f.b(), {0.0});
  const double e = std::exp(-40.0);
  const double s = 4 * e / ((1 + e) * (1 + e));
  CHECK(1 + std::tanh(20.0) * std::tanh(-20.0) == 0.0);  // the textbook form cancels
  Tape<double> tape;
  for (double z : {0.0, 1e-10, 1e-3, 0.5}) {
    const double t = std::tanh(std::tanh(-20.0) * -z);
    const double exact = std::log(t * t + (1 - t * t) * s);
    const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(xt::xarray<double>{z}));
    INFO("z = " << z);
    CHECK(std::isfinite(r.log_abs_det_jacobian.item()));
    CHECK(r.log_abs_det_jacobian.item() == Approx(exact).epsilon(1e-12));
  }
}

TEST_CASE("SylvesterFlow: inverse(forward(z)) = z and forward(inverse(y)) = y, D = 1, 2, 3, 5", "[flows]") {
  for (std::size_t dim : sylvester_dims) {
    for (std::size_t k : {std::size_t{1}, dim}) {
      INFO("D = " << dim << ", reflections = " << k);
      ParameterStore<double> store;
      const SylvesterFlow<double> f(store.scope("q"), "flow", dim, {.reflections = k});
      for (std::uint32_t seed : {1u, 2u, 3u}) {
        sylvester_set_random(f, seed);
        transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, seed + 50));
        transform_check_round_trip(f, random_array({2, dim}, -300.0, 300.0, seed + 60));  // tanh saturated
        transform_check_round_trip(f, random_array({dim}, -3.0, 3.0, seed + 70));         // one event
      }
      for (std::size_t edge = 0; edge < dim; ++edge) {  // 1 + r r~ h' down to about 4e-4 on one entry
        INFO("at the edge: entry " << edge);
        sylvester_set_edge(f, 4.6, 5, edge);
        transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, 71));
        transform_check_round_trip(f, sylvester_points_near_edge(sylvester_reference(f), 3, 72, edge));
      }
      // Every entry nearer the edge (1 + r r~ = 1 / cosh(3)^2 ~ 0.01): z comes back to rounding
      // times J's condition, which grows like 1 / (1 + r r~)^D, so not too near.
      sylvester_set_edge(f, 3.0, 5);
      transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, 73));
    }
  }
}

TEST_CASE("SylvesterFlow: at the very edge forward(inverse(y)) = y still holds to rounding", "[flows]") {
  // r r~ = -tanh(15)^2: the map contracts up to ~1e12-fold along some directions, so z comes
  // back only to rounding times that, but y = forward(inverse(y)) holds to rounding anywhere.
  ParameterStore<double> store;
  const SylvesterFlow<double> f(store.scope("q"), "flow", 3);
  sylvester_set_edge(f, 15.0, 6);
  Tape<double> tape;
  const xt::xarray<double> y = random_array({50, 3}, -4.0, 4.0, 8);
  require_close(f.forward(f.inverse(tape.constant(y))).value(), y, 1e-12);
}

TEST_CASE("SylvesterFlow: each scalar equation of the back substitution is solved to rounding", "[flows]") {
  // alpha + r tanh(rt alpha + c) = d with |r|, |rt| < 1 and s = 1 + r rt > 0.
  const auto sylvester_residual = [](double d, double r, double rt, double c, double s) {
    const double alpha = vaelib::detail::sylvester_flow_solve_diagonal(d, r, rt, c, s);
    return std::abs(alpha + r * std::tanh(rt * alpha + c) - d) / (std::abs(d) + std::abs(r));
  };
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  double worst = 0;
  for (int k = 0; k < 20000; ++k) {
    const double a = 20 * unit(rng), cc = 20 * unit(rng);
    const double r = std::tanh(a), rt = std::tanh(cc);
    const double s =
        2 * (1 / (1 + std::exp(-2 * a)) / (1 + std::exp(-2 * cc)) + 1 / (1 + std::exp(2 * a)) / (1 + std::exp(2 * cc)));
    const double c = 5 * unit(rng);
    // roots near where the slope is smallest (rt alpha + c = 0) and far out
    const double alpha = k % 2 == 0 && rt != 0 ? (-c + unit(rng) * std::pow(10.0, -10 * std::abs(unit(rng)))) / rt
                                               : unit(rng) * std::pow(10.0, 6 * std::abs(unit(rng)));
    worst = std::max(worst, sylvester_residual(alpha + r * std::tanh(rt * alpha + c), r, rt, c, s));
  }
  INFO("worst relative residual " << worst);
  CHECK(worst < 4e-16);
  CHECK(vaelib::detail::sylvester_flow_solve_diagonal(2.0, 0.0, 0.5, 0.1, 1.0) == 2.0);  // r = 0: alpha = d
  CHECK(std::isnan(vaelib::detail::sylvester_flow_solve_diagonal(NAN, 0.5, 0.5, 0.0, 1.25)));
  CHECK(vaelib::detail::sylvester_flow_solve_diagonal(INFINITY, 0.5, 0.5, 0.0, 1.25) == INFINITY);
}

TEST_CASE("SylvesterFlow: gradients in z and every parameter (forward, log|det J| and inverse) by finite differences",
          "[flows]") {
  for (std::size_t dim : sylvester_dims) {
    for (std::size_t k : {std::size_t{1}, dim}) {
      INFO("D = " << dim << ", reflections = " << k);
      ParameterStore<double> store;
      const SylvesterFlow<double> f(store.scope("q"), "flow", dim, {.reflections = k});
      for (std::uint32_t seed : {1u, 2u}) {
        sylvester_set_random(f, seed);
        const xt::xarray<double> x = random_array({2, dim}, -2.0, 2.0, seed + 20);
        flow_check_all_gradients(f, store, x);
      }
      // Towards the edge (1 + r r~ = 1 / cosh(2)^2, about 0.07): steeper, still smooth.
      sylvester_set_edge(f, 2.0, 3);
      const xt::xarray<double> x = random_array({2, dim}, -2.0, 2.0, 30);
      transform_check_gradients(f, x);
      flow_check_parameter_gradients(store, [&](Tape<double>& tape) { return flow_forward_loss(f, tape, x); });
      flow_check_parameter_gradients(store, [&](Tape<double>& tape) { return flow_inverse_loss(f, tape, x); });
    }
  }
}

TEST_CASE("SylvesterFlow: a [3, 4, D] batch equals its events one by one; log|det J| has shape [3, 4]", "[flows]") {
  for (std::size_t dim : sylvester_dims) {
    for (std::size_t k : {std::size_t{1}, dim}) {
      INFO("reflections = " << k);
      ParameterStore<double> store;
      const SylvesterFlow<double> f(store.scope("q"), "flow", dim, {.reflections = k});
      sylvester_set_random(f, 7);
      flow_check_batching(f, dim, 9);
    }
  }
}

TEST_CASE("SylvesterFlow: a standard normal pushed through the flow has a density of mass 1 (D = 2)", "[flows]") {
  for (std::size_t k : {1, 2}) {
    INFO("reflections = " << k);
    ParameterStore<double> store;
    const auto f = std::make_shared<SylvesterFlow<double>>(store.scope("q"), "flow", 2,
                                                           SylvesterFlowOptions<double>{.reflections = k});
    flow_set(f->v(), k == 1 ? xt::xarray<double>{{1.0, -0.6}} : xt::xarray<double>{{1.0, -0.6}, {0.3, 0.8}});
    flow_set(f->r(), {1.5, -1.2, 0.0, -1.0});
    flow_set(f->r_tilde(), {2.0, 0.9, 0.0, 1.3});
    flow_set(f->b(), {0.3, -0.5});
    // The flow moves points by at most |R|_F sqrt(2) < 3.5: [-12, 12]^2 holds all but ~1e-12.
    CHECK(flow_pushed_forward_mass(f, 12.0, 480) == Approx(1.0).margin(1e-3));
  }
}

TEST_CASE("SylvesterFlow: float agrees with double to float precision", "[flows]") {
  for (std::size_t k : {1, 3}) {
    INFO("reflections = " << k);
    ParameterStore<double> store_d;
    ParameterStore<float> store_f;
    const SylvesterFlow<double> fd(store_d.scope("q"), "flow", 3, {.reflections = k});
    const SylvesterFlow<float> ff(store_f.scope("q"), "flow", 3, {.reflections = k});
    for (std::uint32_t seed : {1u, 2u}) {
      sylvester_set_random(fd, seed);
      flow_copy_parameters(store_d, store_f);
      flow_check_float_agrees(ff, fd, random_array({5, 3}, -2.0, 2.0, seed + 3));
    }
    flow_check_float_inverse_gradient(ff);
  }
}

TEST_CASE("SylvesterFlow: the detached copy gives the same values and no gradient to the parameters", "[flows]") {
  ParameterStore<double> store;
  const SylvesterFlow<double> f(store.scope("q"), "flow", 3);
  sylvester_set_random(f, 13);
  const auto detached = f.with_detached_parameters();
  CHECK_FALSE(f.parameters_detached());
  CHECK(detached->parameters_detached());
  CHECK(detached->name() == f.name());
  Tape<double> tape;
  const Var<double> x = tape.variable(random_array({2, 3}, -1.0, 1.0, 2));
  const auto a = f.forward_and_log_abs_det_jacobian(x);
  const auto b = detached->forward_and_log_abs_det_jacobian(x);
  require_close(b.y.value(), a.y.value(), 0.0);
  require_close(b.log_abs_det_jacobian.value(), a.log_abs_det_jacobian.value(), 0.0);
  require_close(detached->inverse(x).value(), f.inverse(x).value(), 0.0);
  store.zero_grad();
  tape.backward(sum(b.y) + sum(b.log_abs_det_jacobian) + sum(detached->inverse(x)));
  for (const auto& p : store)
    for (std::size_t i = 0; i < p->size; ++i) CHECK(p->grad[i] == 0.0);
  CHECK(xt::any(xt::not_equal(x.grad(), 0.0)));  // but z keeps its gradient
  // The live flow does pass gradients to every kind of parameter.
  store.zero_grad();
  const Var<double> x2 = tape.variable(random_array({2, 3}, -1.0, 1.0, 2));
  const auto c = f.forward_and_log_abs_det_jacobian(x2);
  tape.backward(sum(c.y) + sum(c.log_abs_det_jacobian) + sum(f.inverse(x2)));
  for (const auto& p : store) {
    INFO(p->name);
    double total = 0;
    for (std::size_t i = 0; i < p->size; ++i) total += std::abs(p->grad[i]);
    CHECK(total > 0.0);
  }
}

TEST_CASE("SylvesterFlow: errors name the flow, the size expected and the shape got", "[flows]") {
  ParameterStore<double> store;
  const SylvesterFlow<double> f(store.scope("q"), "flow0", 3);
  flow_check_shape_errors(f, "SylvesterFlow(q/flow0)");

  CHECK_THROWS_AS(SylvesterFlow<double>(store.scope("q"), "empty", 0), ArgumentError);
  CHECK_THROWS_WITH(SylvesterFlow<double>(store.scope("q"), "empty", 0),
                    "SylvesterFlow(q/empty): the dimension must be at least 1, got 0");
  CHECK_THROWS_AS(SylvesterFlow<double>(store.scope("q"), "flow0", 3, {.reflections = 1}), ShapeError);
  CHECK_THROWS_WITH(SylvesterFlow<double>(store.scope("q"), "flow0", 3, {.reflections = 1}),
                    "parameter 'q/flow0/v': requested with shape [1, 3] but it exists with shape [3, 3] (a reused "
                    "parameter must keep its shape)");

  for (std::size_t i = 3; i < 6; ++i) f.v().value[i] = 0.0;  // v_1 = 0
  Tape<double> tape;
  const Var<double> x = tape.zeros({3});
  CHECK_THROWS_AS(f.forward(x), DomainError);
  CHECK_THROWS_WITH(f.inverse(x),
                    "SylvesterFlow(q/flow0): |v_1|^2 is 0 (reflection 1), where H = I - 2 v v^T / |v|^2 is undefined "
                    "(expected nonzero Householder vectors)");
}
