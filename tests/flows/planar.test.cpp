#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "flows/flow_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// w, u and b drawn uniformly from [-1.5, 1.5] (seeded).
void planar_set_random(const PlanarFlow<double>& f, std::uint32_t seed) {
  flow_set(f.w(), random_array({f.dim()}, -1.5, 1.5, seed));
  flow_set(f.u(), random_array({f.dim()}, -1.5, 1.5, seed + 100));
  flow_set(f.b(), random_array({}, -1.5, 1.5, seed + 200));
}

/// A random w and b, and u with w^T u = `wu` exactly in exact arithmetic (plus a random part
/// across w): w^T u very negative is where the unconstrained flow would fold over.
void planar_set_with_wu(const PlanarFlow<double>& f, double wu, std::uint32_t seed) {
  const xt::xarray<double> w = random_array({f.dim()}, -1.5, 1.5, seed);
  xt::xarray<double> u = random_array({f.dim()}, -1.0, 1.0, seed + 100);
  const double w2 = xt::sum(w * w)();
  u += (wu - xt::sum(w * u)()) / w2 * w;
  flow_set(f.w(), w);
  flow_set(f.u(), u);
  flow_set(f.b(), random_array({}, -1.0, 1.0, seed + 200));
}

double planar_wu_hat(const PlanarFlow<double>& f) {
  Tape<double> tape;
  const Var<double> u_hat = f.u_hat(tape);
  return xt::sum(u_hat.value() * xt::adapt(f.w().value, f.dim(), xt::no_ownership(), Shape{f.dim()}))();
}

}  // namespace

TEST_CASE("PlanarFlow: w [D], u [D] and b [] under <scope>/<name>, shared by a flow of the same name", "[flows]") {
  ParameterStore<double> store(3);
  const PlanarFlow<double> f(store.scope("q"), "flow0", 3);
  CHECK(f.name() == "PlanarFlow(q/flow0)");
  CHECK(f.dim() == 3);
  REQUIRE(store.size() == 3);
  CHECK(store.at("q/flow0/w").shape == Shape{3});
  CHECK(store.at("q/flow0/u").shape == Shape{3});
  CHECK(store.at("q/flow0/b").shape == Shape{});
  CHECK(f.domain_event_rank() == 1);
  CHECK(f.codomain_event_rank() == 1);
  CHECK(f.codomain().kind() == SupportKind::real);
  CHECK(f.codomain().event_rank() == 1);
  CHECK(f.forward_shape({2, 5, 3}) == Shape{2, 5, 3});
  CHECK(f.inverse_shape({3}) == Shape{3});

  const PlanarFlow<double> again(store.scope("q"), "flow0", 3);
  CHECK(store.size() == 3);
  CHECK(again.w().value == f.w().value);
  const PlanarFlow<double> other(store.scope("q"), "flow1", 3);
  CHECK(store.size() == 6);
  CHECK(other.w().value[0] != f.w().value[0]);  // each parameter its own random stream
}

TEST_CASE("PlanarFlow: the default initialisers start the flow within about 1% of the identity", "[flows]") {
  for (std::size_t dim : {1, 2, 3, 10}) {
    INFO("D = " << dim);
    ParameterStore<double> store(dim);
    const PlanarFlow<double> f(store.scope("q"), "flow", dim);
    double w2 = 0;
    for (std::size_t i = 0; i < dim; ++i) w2 += f.w().value[i] * f.w().value[i];
    CHECK(w2 == Approx(1.0).epsilon(1e-12));  // a unit direction
    CHECK(f.b().value[0] == 0.0);
    Tape<double> tape;
    const xt::xarray<double> u_hat = f.u_hat(tape).value();
    INFO("u_hat = " << u_hat);
    CHECK(xt::amax(xt::abs(u_hat))() < 0.05);
    CHECK(std::abs(planar_wu_hat(f)) < 0.05);
    const xt::xarray<double> x = random_array({20, dim}, -3.0, 3.0, 5);
    const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(x));
    CHECK(xt::amax(xt::abs(r.y.value() - x))() < 0.05);
    CHECK(xt::amax(xt::abs(r.log_abs_det_jacobian.value()))() < 0.05);
  }
  // User initialisers replace the defaults.
  ParameterStore<float> store(1);
  PlanarFlowOptions<float> options;
  options.w_init = init::constant(2.0f);
  options.u_init = init::constant(-1.0f);
  options.b_init = init::constant(0.5f);
  const PlanarFlow<float> f(store.scope("q"), "flow", 2, options);
  CHECK(f.w().value[1] == 2.0f);
  CHECK(f.u().value[0] == -1.0f);
  CHECK(f.b().value[0] == 0.5f);
}

TEST_CASE("PlanarFlow: w^T u_hat = softplus(w^T u) - 1 > -1 whatever u is (the invertibility constraint)", "[flows]") {
  ParameterStore<double> store;
  const PlanarFlow<double> f(store.scope("q"), "flow", 3);
  for (double wu : {-30.0, -8.0, -1.0, 0.0, 0.5, 4.0}) {
    planar_set_with_wu(f, wu, 17);
    const double expected = std::log1p(std::exp(wu)) - 1;
    CHECK(planar_wu_hat(f) == Approx(expected).margin(1e-13));
    CHECK(planar_wu_hat(f) > -1.0);
  }
}

TEST_CASE("PlanarFlow: log|det J| against the log-determinant of the tape's Jacobian, D = 1, 2, 3", "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const PlanarFlow<double> f(store.scope("q"), "flow", dim);
    for (std::uint32_t seed : {1u, 2u, 3u}) {
      planar_set_random(f, seed);
      for (std::uint32_t point : {1u, 2u, 3u})
        transform_check_log_det(f, random_array({dim}, -2.5, 2.5, 10 * seed + point), transform_first_entries(dim),
                                1e-10);
    }
    // Near the fold (w^T u_hat barely above -1): the Jacobian is nearly singular along w.
    for (double wu : {-8.0, -30.0}) {
      INFO("w^T u = " << wu);
      planar_set_with_wu(f, wu, 4);
      transform_check_log_det(f, random_array({dim}, -2.5, 2.5, 41), transform_first_entries(dim), 1e-9);
    }
  }
}

TEST_CASE("PlanarFlow: log|det J| stays finite and exact where 1 + u_hat^T psi would cancel", "[flows]") {
  // D = 1: f(z) = z + u_hat tanh(w z + b), f'(z) = 1 + w u_hat (1 - t^2), with w u_hat = s - 1.
  ParameterStore<double> store;
  const PlanarFlow<double> f(store.scope("q"), "flow", 1);
  flow_set(f.w(), {1.0});
  flow_set(f.u(), {-40.0});
  flow_set(f.b(), {0.0});
  Tape<double> tape;
  const double s = std::exp(-40.0) * (1 - std::exp(-40.0) / 2);  // softplus(-40)
  for (double z : {0.0, 1e-10, 1e-3, 0.5}) {
    const double t = std::tanh(z);
    const double exact = std::log(t * t + (1 - t * t) * s);
    const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(xt::xarray<double>{z}));
    INFO("z = " << z);
    CHECK(r.log_abs_det_jacobian.item() == Approx(exact).epsilon(1e-12));
  }
}

TEST_CASE("PlanarFlow: inverse(forward(z)) = z and forward(inverse(y)) = y, D = 1, 2, 3", "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const PlanarFlow<double> f(store.scope("q"), "flow", dim);
    for (std::uint32_t seed : {1u, 2u, 3u}) {
      planar_set_random(f, seed);
      transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, seed + 50));
      transform_check_round_trip(f, random_array({2, dim}, -300.0, 300.0, seed + 60));  // tanh saturated
    }
    planar_set_with_wu(f, -8.0, 5);
    transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, 70));
    planar_set_with_wu(f, 6.0, 5);  // a steep step: u_hat large along w
    transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, 71));
  }
}

TEST_CASE("PlanarFlow: near the fold the inverse still solves to rounding", "[flows]") {
  // w^T u = -30: where w^T z + b is near 0 the map contracts up to 1e13-fold along w, so z
  // comes back only to rounding times that; y = forward(inverse(y)) holds to rounding anywhere.
  ParameterStore<double> store;
  const PlanarFlow<double> f(store.scope("q"), "flow", 2);
  planar_set_with_wu(f, -30.0, 6);
  Tape<double> tape;
  const xt::xarray<double> y = random_array({50, 2}, -4.0, 4.0, 8);
  const xt::xarray<double> back = f.forward(f.inverse(tape.constant(y))).value();
  require_close(back, y, 1e-12);
}

TEST_CASE("PlanarFlow: the scalar equation of the inverse is solved to rounding, also where Newton cycles", "[flows]") {
  // alpha + (s - 1) tanh(alpha + b) = c. The first case made plain Newton bounce between
  // tanh's two flat tails (alpha ~ -0.9 and ~ 5) for over a thousand steps.
  const auto planar_residual = [](double c, double s, double b) {
    const double alpha = vaelib::detail::planar_flow_solve_along_w(c, s, b);
    return std::abs(alpha + (s - 1) * std::tanh(alpha + b) - c) / (std::abs(c) + std::abs(s - 1));
  };
  CHECK(planar_residual(16.558625071085984, 18.504257976045725, -0.39355617600342008) < 4e-16);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  double worst = 0;
  for (int k = 0; k < 20000; ++k) {
    const double wu = unit(rng) * std::pow(10.0, 3 * std::abs(unit(rng)));
    const double s = std::max(wu, 0.0) + std::log1p(std::exp(-std::abs(wu)));
    const double b = 5 * unit(rng);
    const double alpha = k % 2 == 0 ? -b + unit(rng) * std::pow(10.0, -10 * std::abs(unit(rng)))
                                    : unit(rng) * std::pow(10.0, 6 * std::abs(unit(rng)));
    worst = std::max(worst, planar_residual(alpha + (s - 1) * std::tanh(alpha + b), s, b));
  }
  CHECK(worst < 4e-16);
  CHECK(std::isnan(vaelib::detail::planar_flow_solve_along_w(NAN, 2.0, 0.0)));
  CHECK(vaelib::detail::planar_flow_solve_along_w(INFINITY, 2.0, 0.0) == INFINITY);
}

TEST_CASE("PlanarFlow: gradients in z and in w, u, b (forward, log|det J| and inverse) by finite differences",
          "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const PlanarFlow<double> f(store.scope("q"), "flow", dim);
    for (std::uint32_t seed : {1u, 2u}) {
      planar_set_random(f, seed);
      const xt::xarray<double> x = random_array({2, dim}, -2.0, 2.0, seed + 20);
      flow_check_all_gradients(f, store, x);
    }
    planar_set_with_wu(f, -4.0, 3);
    const xt::xarray<double> x = random_array({2, dim}, -2.0, 2.0, 30);
    transform_check_gradients(f, x);
    flow_check_parameter_gradients(store, [&](Tape<double>& tape) { return flow_forward_loss(f, tape, x); });
    flow_check_parameter_gradients(store, [&](Tape<double>& tape) { return flow_inverse_loss(f, tape, x); });
  }
}

TEST_CASE("PlanarFlow: a [3, 4, D] batch equals its events one by one; log|det J| has shape [3, 4]", "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    ParameterStore<double> store;
    const PlanarFlow<double> f(store.scope("q"), "flow", dim);
    planar_set_random(f, 7);
    flow_check_batching(f, dim, 9);
  }
}

TEST_CASE("PlanarFlow: a standard normal pushed through the flow has a density of mass 1 (D = 2)", "[flows]") {
  ParameterStore<double> store;
  const auto f = std::make_shared<PlanarFlow<double>>(store.scope("q"), "flow", 2);
  flow_set(f->w(), {1.5, -0.8});
  flow_set(f->u(), {2.0, 1.0});
  flow_set(f->b(), {0.3});
  Tape<double> tape;
  INFO("u_hat = " << f->u_hat(tape).value());
  // The flow moves points by at most |u_hat| (about 2.2): [-11, 11]^2 holds all but ~1e-12.
  CHECK(flow_pushed_forward_mass(f, 11.0, 440) == Approx(1.0).margin(1e-3));
}

TEST_CASE("PlanarFlow: float agrees with double to float precision", "[flows]") {
  ParameterStore<double> store_d;
  ParameterStore<float> store_f;
  const PlanarFlow<double> fd(store_d.scope("q"), "flow", 3);
  const PlanarFlow<float> ff(store_f.scope("q"), "flow", 3);
  for (std::uint32_t seed : {1u, 2u}) {
    planar_set_random(fd, seed);
    flow_copy_parameters(store_d, store_f);
    flow_check_float_agrees(ff, fd, random_array({5, 3}, -2.0, 2.0, seed + 3));
  }
  flow_check_float_inverse_gradient(ff);
}

TEST_CASE("PlanarFlow: errors name the flow, the size expected and the shape got", "[flows]") {
  ParameterStore<double> store;
  const PlanarFlow<double> f(store.scope("q"), "flow0", 3);
  Tape<double> tape;
  flow_check_shape_errors(f, "PlanarFlow(q/flow0)");

  CHECK_THROWS_AS(PlanarFlow<double>(store.scope("q"), "empty", 0), ArgumentError);
  CHECK_THROWS_WITH(PlanarFlow<double>(store.scope("q"), "empty", 0),
                    "PlanarFlow(q/empty): the dimension must be at least 1, got 0");
  CHECK_THROWS_AS(PlanarFlow<double>(store.scope("q"), "flow0", 2), ShapeError);
  CHECK_THROWS_WITH(PlanarFlow<double>(store.scope("q"), "flow0", 2),
                    "parameter 'q/flow0/w': requested with shape [2] but it exists with shape [3] (a reused parameter "
                    "must keep its shape)");

  flow_set(f.w(), {0.0, 0.0, 0.0});
  const Var<double> x = tape.zeros({3});
  CHECK_THROWS_AS(f.forward(x), DomainError);
  CHECK_THROWS_WITH(f.inverse(x),
                    "PlanarFlow(q/flow0): |w|^2 is 0, where u_hat = u + (m(w^T u) - w^T u) w / |w|^2 "
                    "is undefined (expected a nonzero w)");
}

TEST_CASE("PlanarFlow: fitted by maximum likelihood through its inverse, it finds the data's flow", "[flows]") {
  // Data: a standard normal pushed through a planar flow with known parameters. A fresh flow
  // maximises the likelihood log N(f^{-1}(y)) - log|det J|(f^{-1}(y)): the gradient reaches
  // its parameters through the numerically solved inverse.
  ParameterStore<double> truth_store;
  const PlanarFlow<double> truth(truth_store.scope("truth"), "flow", 2);
  flow_set(truth.w(), {2.0, 0.5});
  flow_set(truth.u(), {1.5, -0.5});
  flow_set(truth.b(), {0.2});
  Rng rng(4);
  xt::xarray<double> noise = xt::empty<double>({std::size_t{400}, std::size_t{2}});
  rng.fill_normal(std::span<double>(noise.data(), noise.size()), 0.0, 1.0);
  Tape<double> tape;
  const xt::xarray<double> data = truth.forward(tape.constant(noise)).value();
  const auto mean_nll = [&](const PlanarFlow<double>& f, Tape<double>& t) {
    return mean(flow_pushed_forward_log_density(f, t, data)) * -1.0;
  };
  const double truth_nll = mean_nll(truth, tape).item();

  ParameterStore<double> store(2);
  const PlanarFlow<double> f(store.scope("fit"), "flow", 2);
  optim::Adam<double> adam(store, {.learning_rate = 0.05});
  tape.clear();
  const double start_nll = mean_nll(f, tape).item();
  for (int step = 0; step < 300; ++step) {
    tape.clear();
    adam.minimize(tape, mean_nll(f, tape));
  }
  tape.clear();
  const double end_nll = mean_nll(f, tape).item();
  INFO("mean negative log-likelihood: start " << start_nll << ", end " << end_nll << ", true flow " << truth_nll);
  CHECK(end_nll < start_nll - 0.1);
  CHECK(end_nll < truth_nll + 0.02);
}
