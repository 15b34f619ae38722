#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "flows/flow_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// z0 from [-1.5, 1.5], alpha_raw and beta_raw from [-2, 2] (seeded): beta from strong
/// contraction (about -alpha) to expansion.
void radial_set_random(const RadialFlow<double>& f, std::uint32_t seed) {
  flow_set(f.z0(), random_array({f.dim()}, -1.5, 1.5, seed));
  flow_set(f.alpha_raw(), random_array({}, -2.0, 2.0, seed + 100));
  flow_set(f.beta_raw(), random_array({}, -2.0, 2.0, seed + 200));
}

double radial_softplus(double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))); }

struct RadialValues {
  double alpha, beta;
};

RadialValues radial_values(const RadialFlow<double>& f) {
  Tape<double> tape;
  return {f.alpha(tape).item(), f.beta(tape).item()};
}

}  // namespace

TEST_CASE("RadialFlow: z0 [D], alpha_raw [] and beta_raw [] under <scope>/<name>, shared by a flow of the same name",
          "[flows]") {
  ParameterStore<double> store(3);
  const RadialFlow<double> f(store.scope("q"), "flow0", 3);
  CHECK(f.name() == "RadialFlow(q/flow0)");
  CHECK(f.dim() == 3);
  REQUIRE(store.size() == 3);
  CHECK(store.at("q/flow0/z0").shape == Shape{3});
  CHECK(store.at("q/flow0/alpha_raw").shape == Shape{});
  CHECK(store.at("q/flow0/beta_raw").shape == Shape{});
  CHECK(f.domain_event_rank() == 1);
  CHECK(f.codomain_event_rank() == 1);
  CHECK(f.codomain().kind() == SupportKind::real);
  CHECK(f.codomain().event_rank() == 1);
  CHECK(f.forward_shape({2, 5, 3}) == Shape{2, 5, 3});
  CHECK(f.inverse_shape({3}) == Shape{3});
  const RadialFlow<double> again(store.scope("q"), "flow0", 3);
  CHECK(store.size() == 3);
  CHECK(again.z0().value == f.z0().value);
}

TEST_CASE("RadialFlow: the default initialisers start the flow within about 1% of the identity", "[flows]") {
  for (std::size_t dim : {1, 2, 3, 10}) {
    INFO("D = " << dim);
    ParameterStore<double> store(dim);
    const RadialFlow<double> f(store.scope("q"), "flow", dim);
    const RadialValues v = radial_values(f);
    CHECK(v.alpha == Approx(std::log(2.0)).margin(0.03));
    CHECK(std::abs(v.beta) < 0.03);
    Tape<double> tape;
    const xt::xarray<double> x = random_array({20, dim}, -3.0, 3.0, 5);
    const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(x));
    CHECK(xt::amax(xt::abs(r.y.value() - x))() < 0.05);
    CHECK(xt::amax(xt::abs(r.log_abs_det_jacobian.value()))() < 0.05 * static_cast<double>(dim));
  }
  ParameterStore<float> store(1);
  RadialFlowOptions<float> options;
  options.z0_init = init::constant(2.0f);
  options.alpha_raw_init = init::constant(-1.0f);
  options.beta_raw_init = init::constant(0.5f);
  const RadialFlow<float> f(store.scope("q"), "flow", 2, options);
  CHECK(f.z0().value[1] == 2.0f);
  CHECK(f.alpha_raw().value[0] == -1.0f);
  CHECK(f.beta_raw().value[0] == 0.5f);
}

TEST_CASE("RadialFlow: alpha = softplus(alpha_raw) > 0 and beta = softplus(beta_raw) - alpha > -alpha", "[flows]") {
  ParameterStore<double> store;
  const RadialFlow<double> f(store.scope("q"), "flow", 2);
  for (double a : {-3.0, 0.0, 2.0})
    for (double b : {-30.0, -2.0, 0.0, 3.0}) {
      flow_set(f.alpha_raw(), {a});
      flow_set(f.beta_raw(), {b});
      const RadialValues v = radial_values(f);
      CHECK(v.alpha == Approx(radial_softplus(a)).epsilon(1e-14));
      CHECK(v.beta == Approx(radial_softplus(b) - radial_softplus(a)).epsilon(1e-14).margin(1e-15));
      CHECK(v.alpha > 0);
      CHECK(v.beta > -v.alpha);
    }
}

TEST_CASE("RadialFlow: log|det J| against the log-determinant of the tape's Jacobian, D = 1, 2, 3", "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const RadialFlow<double> f(store.scope("q"), "flow", dim);
    for (std::uint32_t seed : {1u, 2u, 3u}) {
      radial_set_random(f, seed);
      for (std::uint32_t point : {1u, 2u, 3u})
        transform_check_log_det(f, random_array({dim}, -2.5, 2.5, 10 * seed + point), transform_first_entries(dim),
                                1e-10);
    }
    // At the constraint's edge (beta = -alpha + 1e-13): near z0 the flow squeezes r to ~r^2 / alpha.
    flow_set(f.alpha_raw(), {0.5});
    flow_set(f.beta_raw(), {-30.0});
    for (double offset : {0.01, 0.3, 2.0}) {
      INFO("|z - z0| about " << offset);
      xt::xarray<double> x = xt::adapt(f.z0().value, dim, xt::no_ownership(), Shape{dim});
      x += offset * random_array({dim}, 0.5, 1.0, 43) / std::sqrt(static_cast<double>(dim));
      transform_check_log_det(f, x, transform_first_entries(dim), 1e-9);
    }
  }
}

TEST_CASE("RadialFlow: at z = z0 the flow is (1 + beta / alpha) z, with finite gradients", "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const RadialFlow<double> f(store.scope("q"), "flow", dim);
    radial_set_random(f, 4);
    const RadialValues v = radial_values(f);
    const xt::xarray<double> z0 = xt::adapt(f.z0().value, dim, xt::no_ownership(), Shape{dim});
    Tape<double> tape;
    const Var<double> x = tape.variable(z0);
    const auto r = f.forward_and_log_abs_det_jacobian(x);
    require_close(r.y.value(), z0, 1e-15);
    CHECK(r.log_abs_det_jacobian.item() ==
          Approx(static_cast<double>(dim) * std::log1p(v.beta / v.alpha)).epsilon(1e-13));
    tape.backward(sum(r.y));  // J = (1 + beta / alpha) I, so each column sums to that
    require_close(x.grad(), xt::xarray<double>(xt::ones<double>({dim}) * (1 + v.beta / v.alpha)), 1e-13);
    tape.clear();
    const Var<double> x2 = tape.variable(z0);
    tape.backward(f.log_abs_det_jacobian(x2, f.forward(x2)));
    CHECK(xt::all(xt::isfinite(x2.grad())));
    tape.clear();
    const Var<double> y = tape.variable(z0);  // f(z0) = z0
    const Var<double> back = f.inverse(y);
    require_close(back.value(), z0, 1e-15);
    tape.backward(sum(back));  // J^{-1} = alpha / (alpha + beta) I
    require_close(y.grad(), xt::xarray<double>(xt::ones<double>({dim}) * (v.alpha / (v.alpha + v.beta))), 1e-13);
  }
}

TEST_CASE("RadialFlow: inverse(forward(z)) = z and forward(inverse(y)) = y, D = 1, 2, 3", "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const RadialFlow<double> f(store.scope("q"), "flow", dim);
    for (std::uint32_t seed : {1u, 2u, 3u}) {
      radial_set_random(f, seed);
      transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, seed + 50));
      transform_check_round_trip(f, random_array({2, dim}, -300.0, 300.0, seed + 60));
    }
    flow_set(f.alpha_raw(), {0.5});
    flow_set(f.beta_raw(), {-30.0});  // r -> ~r^2 / alpha near z0
    transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, 70));
    flow_set(f.beta_raw(), {6.0});  // a strong expansion
    transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, 71));
  }
}

TEST_CASE(
    "RadialFlow: gradients in z and in z0, alpha_raw, beta_raw (forward, log|det J| and inverse) by finite "
    "differences",
    "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const RadialFlow<double> f(store.scope("q"), "flow", dim);
    for (std::uint32_t seed : {1u, 2u}) {
      radial_set_random(f, seed);
      const xt::xarray<double> x = random_array({2, dim}, -2.0, 2.0, seed + 20);
      flow_check_all_gradients(f, store, x);
      // Points on both sides of |y - z0| = alpha + beta, where the inverse's closed form changes branch.
      flow_check_parameter_gradients(store, [&](Tape<double>& t) { return flow_inverse_loss(f, t, x * 0.1); });
    }
  }
}

TEST_CASE("RadialFlow: a [3, 4, D] batch equals its events one by one; log|det J| has shape [3, 4]", "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    ParameterStore<double> store;
    const RadialFlow<double> f(store.scope("q"), "flow", dim);
    radial_set_random(f, 7);
    flow_check_batching(f, dim, 9);
  }
}

TEST_CASE("RadialFlow: a standard normal pushed through the flow has a density of mass 1 (D = 2)", "[flows]") {
  for (double beta_raw : {-0.5, 1.5}) {  // beta = -0.22 (contracting), 1.01 (expanding)
    INFO("beta_raw = " << beta_raw);
    ParameterStore<double> store;
    const auto f = std::make_shared<RadialFlow<double>>(store.scope("q"), "flow", 2);
    flow_set(f->z0(), {0.5, -0.3});
    flow_set(f->alpha_raw(), {0.0});
    flow_set(f->beta_raw(), {beta_raw});
    // |f(z) - z| <= |beta|: [-11, 11]^2 holds all but ~1e-12 of the mass.
    CHECK(flow_pushed_forward_mass(f, 11.0, 440) == Approx(1.0).margin(1e-3));
  }
}

TEST_CASE("RadialFlow: float agrees with double to float precision", "[flows]") {
  ParameterStore<double> store_d;
  ParameterStore<float> store_f;
  const RadialFlow<double> fd(store_d.scope("q"), "flow", 3);
  const RadialFlow<float> ff(store_f.scope("q"), "flow", 3);
  for (std::uint32_t seed : {1u, 2u}) {
    radial_set_random(fd, seed);
    flow_copy_parameters(store_d, store_f);
    flow_check_float_agrees(ff, fd, random_array({5, 3}, -2.0, 2.0, seed + 3));
  }
  flow_check_float_inverse_gradient(ff);
}

TEST_CASE("RadialFlow: errors name the flow, the size expected and the shape got", "[flows]") {
  ParameterStore<double> store;
  const RadialFlow<double> f(store.scope("q"), "flow0", 3);
  flow_check_shape_errors(f, "RadialFlow(q/flow0)");

  CHECK_THROWS_AS(RadialFlow<double>(store.scope("q"), "empty", 0), ArgumentError);
  CHECK_THROWS_WITH(RadialFlow<double>(store.scope("q"), "empty", 0),
                    "RadialFlow(q/empty): the dimension must be at least 1, got 0");
  CHECK_THROWS_WITH(RadialFlow<double>(store.scope("q"), "flow0", 2),
                    "parameter 'q/flow0/z0': requested with shape [2] but it exists with shape [3] (a reused parameter "
                    "must keep its shape)");
}

TEST_CASE(
    "RadialFlow and PlanarFlow chain: ComposeTransform's round trip, log|det J| and a sampled "
    "TransformedDistribution",
    "[flows]") {
  ParameterStore<double> store(5);
  const ParameterScope<double> q = store.scope("q");
  auto p0 = std::make_shared<PlanarFlow<double>>(q, "flow0", 2);
  auto r1 = std::make_shared<RadialFlow<double>>(q, "flow1", 2);
  auto p2 = std::make_shared<PlanarFlow<double>>(q, "flow2", 2);
  flow_set(p0->u(), {1.0, -0.5});
  flow_set(r1->beta_raw(), {1.0});
  flow_set(p2->b(), {-0.4});
  const auto chain = std::make_shared<ComposeTransform<double>>(std::vector<TransformPtr<double>>{p0, r1, p2});
  CHECK(chain->name() == "Compose(PlanarFlow(q/flow0), RadialFlow(q/flow1), PlanarFlow(q/flow2))");
  transform_check_round_trip(*chain, random_array({5, 2}, -3.0, 3.0, 1));
  transform_check_log_det(*chain, xt::xarray<double>{0.3, -1.1}, transform_first_entries(2), 1e-10);
  Tape<double> tape;
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.zeros({2}), tape.full({2}, 1.0))), chain);
  Rng rng(8);
  const Var<double> samples = d.sample(rng, 6);
  REQUIRE(samples.shape() == Shape{6, 2});
  const Var<double> lp = d.log_prob(samples);
  REQUIRE(lp.shape() == Shape{6});
  CHECK(xt::all(xt::isfinite(lp.value())));
  CHECK(flow_pushed_forward_mass(chain, 12.0, 400) == Approx(1.0).margin(1e-3));
}
