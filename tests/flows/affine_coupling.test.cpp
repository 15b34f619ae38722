#include "vaelib/flows/affine_coupling.hpp"

#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "flows/flow_checks.hpp"
#include "vaelib/flows/permute.hpp"
#include "vaelib/transforms/compose.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Every parameter of `store` drawn uniformly from [-scale, scale] (seeded): a conditioner far
/// from its zero start, so that s and t vary with z_a.
void coupling_set_random(ParameterStore<double>& store, double scale, std::uint32_t seed) {
  for (const auto& p : store) flow_set(*p, random_array(p->shape, -scale, scale, seed++));
}

/// The indices of part a (kept) and part b (transformed) of a flow.
struct CouplingParts {
  std::vector<std::size_t> kept, moved;
};

CouplingParts coupling_parts(const AffineCouplingFlow<double>& f) {
  CouplingParts p;
  for (std::size_t i = 0; i < f.dim(); ++i) ((i < f.split()) != f.flip() ? p.kept : p.moved).push_back(i);
  return p;
}

/// A parameter of the flow's layer `layer` ("weight" or "bias") as an array.
xt::xarray<double> coupling_parameter(ParameterStore<double>& store, const std::string& flow, std::size_t layer,
                                      const std::string& which) {
  const Parameter<double>& p = store.at(flow + "/layer_" + std::to_string(layer) + "/" + which);
  return xt::adapt(p.value, p.size, xt::no_ownership(), p.shape);
}

}  // namespace

TEST_CASE("AffineCouplingFlow: layer_<i>/weight and bias under <scope>/<name>, sized by split and flip", "[flows]") {
  ParameterStore<double> store(3);
  const AffineCouplingFlow<double> f(store.scope("q"), "coupling0", 5, {.hidden = {8, 6}});
  CHECK(f.name() == "AffineCouplingFlow(q/coupling0)");
  CHECK(f.dim() == 5);
  CHECK(f.split() == 2);  // D / 2
  CHECK_FALSE(f.flip());
  CHECK(f.scale_bound() == 2.0);
  CHECK(f.layers() == 3);
  REQUIRE(store.size() == 6);
  CHECK(store.at("q/coupling0/layer_0/weight").shape == Shape{2, 8});  // from z_a, the first 2
  CHECK(store.at("q/coupling0/layer_0/bias").shape == Shape{8});
  CHECK(store.at("q/coupling0/layer_1/weight").shape == Shape{8, 6});
  CHECK(store.at("q/coupling0/layer_1/bias").shape == Shape{6});
  CHECK(store.at("q/coupling0/layer_2/weight").shape == Shape{6, 6});  // s_raw and t for the last 3
  CHECK(store.at("q/coupling0/layer_2/bias").shape == Shape{6});
  CHECK(f.domain_event_rank() == 1);
  CHECK(f.codomain_event_rank() == 1);
  CHECK(f.codomain().kind() == SupportKind::real);
  CHECK(f.codomain().event_rank() == 1);
  CHECK(f.forward_shape({2, 4, 5}) == Shape{2, 4, 5});
  CHECK(f.inverse_shape({5}) == Shape{5});

  const AffineCouplingFlow<double> again(store.scope("q"), "coupling0", 5, {.hidden = {8, 6}});
  CHECK(store.size() == 6);
  CHECK(again.parameters_detached() == false);

  // Flipped: conditioned on the last 3, transforming the first 2.
  const AffineCouplingFlow<double> flipped(store.scope("q"), "coupling1", 5, {.hidden = {8, 6}, .flip = true});
  CHECK(flipped.flip());
  CHECK(store.at("q/coupling1/layer_0/weight").shape == Shape{3, 8});
  CHECK(store.at("q/coupling1/layer_2/weight").shape == Shape{6, 4});
  CHECK(store.at("q/coupling1/layer_2/bias").shape == Shape{4});

  // A split of 4 and no hidden layer: s_raw and t affine in z_a.
  const AffineCouplingFlow<double> affine(store.scope("q"), "coupling2", 5, {.hidden = {}, .split = 4});
  CHECK(affine.split() == 4);
  CHECK(affine.layers() == 1);
  CHECK(store.at("q/coupling2/layer_0/weight").shape == Shape{4, 2});
  CHECK(store.at("q/coupling2/layer_0/bias").shape == Shape{2});
  CHECK(store.size() == 6 + 6 + 2);

  // D = 3 splits at 1.
  const AffineCouplingFlow<double> odd(store.scope("q"), "coupling3", 3, {.hidden = {4}});
  CHECK(odd.split() == 1);
  CHECK(store.at("q/coupling3/layer_1/weight").shape == Shape{4, 4});
}

TEST_CASE("AffineCouplingFlow: it starts at the identity (the last layer at zero, the others random)", "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    for (bool flip : {false, true}) {
      INFO("D = " << dim << ", flip = " << flip);
      ParameterStore<double> store(dim);
      const AffineCouplingFlow<double> f(store.scope("q"), "flow", dim, {.flip = flip});
      REQUIRE(f.layers() == 3);  // the default hidden {64, 64}
      CHECK(store.at("q/flow/layer_0/weight").shape[1] == 64);
      CHECK(xt::amax(xt::abs(coupling_parameter(store, "q/flow", 0, "weight")))() > 0.05);
      CHECK(xt::amax(xt::abs(coupling_parameter(store, "q/flow", 1, "weight")))() > 0.05);
      CHECK(xt::all(xt::equal(coupling_parameter(store, "q/flow", 2, "weight"), 0.0)));
      CHECK(xt::all(xt::equal(coupling_parameter(store, "q/flow", 2, "bias"), 0.0)));
      Tape<double> tape;
      const xt::xarray<double> x = random_array({20, dim}, -3.0, 3.0, 5);
      const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(x));
      CHECK(xt::all(xt::equal(r.y.value(), x)));
      CHECK(xt::all(xt::equal(r.log_abs_det_jacobian.value(), 0.0)));
      CHECK(xt::all(xt::equal(f.inverse(tape.constant(x)).value(), x)));
    }
  }
}

TEST_CASE("AffineCouplingFlow: forward is z_a, z_b exp(B tanh(s_raw / B)) + t, computed by hand", "[flows]") {
  // D = 3, split 1, one hidden tanh layer of 4: s_raw, t = (tanh(z_a W0 + b0) W1 + b1) split in two.
  for (bool flip : {false, true}) {
    INFO("flip = " << flip);
    ParameterStore<double> store;
    const AffineCouplingFlow<double> f(store.scope("q"), "flow", 3, {.hidden = {4}, .flip = flip, .scale_bound = 1.5});
    coupling_set_random(store, 1.5, 7);
    const CouplingParts parts = coupling_parts(f);
    const xt::xarray<double> w0 = coupling_parameter(store, "q/flow", 0, "weight");
    const xt::xarray<double> b0 = coupling_parameter(store, "q/flow", 0, "bias");
    const xt::xarray<double> w1 = coupling_parameter(store, "q/flow", 1, "weight");
    const xt::xarray<double> b1 = coupling_parameter(store, "q/flow", 1, "bias");
    const std::size_t na = parts.kept.size(), nb = parts.moved.size();
    REQUIRE(na + nb == 3);
    const xt::xarray<double> x = random_array({3}, -2.0, 2.0, 8);
    std::vector<double> h(4), out(2 * nb);
    for (std::size_t k = 0; k < 4; ++k) {
      double v = b0(k);
      for (std::size_t i = 0; i < na; ++i) v += x(parts.kept[i]) * w0(i, k);
      h[k] = std::tanh(v);
    }
    for (std::size_t o = 0; o < 2 * nb; ++o) {
      out[o] = b1(o);
      for (std::size_t k = 0; k < 4; ++k) out[o] += h[k] * w1(k, o);
    }
    xt::xarray<double> expected = x;
    double log_det = 0;
    for (std::size_t i = 0; i < nb; ++i) {
      const double s = 1.5 * std::tanh(out[i] / 1.5);
      expected(parts.moved[i]) = x(parts.moved[i]) * std::exp(s) + out[nb + i];
      log_det += s;
    }
    Tape<double> tape;
    const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(x));
    INFO("y = " << r.y.value() << ", by hand " << expected);
    require_close(r.y.value(), expected, 1e-14);
    CHECK(r.log_abs_det_jacobian.item() == Approx(log_det).epsilon(1e-14));
    CHECK(std::abs(log_det) > 0.01);  // the conditioner does something
    const auto st = f.scale_and_shift(tape.constant(x));
    REQUIRE(st.s.shape() == Shape{nb});
    REQUIRE(st.t.shape() == Shape{nb});
    for (std::size_t i = 0; i < nb; ++i) {
      CHECK(st.s.value()(i) == Approx(1.5 * std::tanh(out[i] / 1.5)).epsilon(1e-14));
      CHECK(st.t.value()(i) == Approx(out[nb + i]).epsilon(1e-14));
    }
  }
}

TEST_CASE("AffineCouplingFlow: |s| < scale_bound however large the conditioner's output", "[flows]") {
  for (double bound : {0.5, 2.0}) {
    INFO("scale_bound = " << bound);
    ParameterStore<double> store;
    const AffineCouplingFlow<double> f(store.scope("q"), "flow", 4, {.hidden = {6}, .scale_bound = bound});
    coupling_set_random(store, 40.0, 3);  // s_raw of order 100
    Tape<double> tape;
    const Var<double> x = tape.constant(random_array({50, 4}, -3.0, 3.0, 4));
    const xt::xarray<double> s = f.scale_and_shift(x).s.value();
    CHECK(xt::amax(xt::abs(s))() <= bound);
    CHECK(xt::amax(xt::abs(s))() > 0.9 * bound);  // saturated somewhere
    const xt::xarray<double> log_det = f.log_abs_det_jacobian(x, f.forward(x)).value();
    CHECK(xt::amax(xt::abs(log_det))() <= 2 * bound);  // |b| = 2 terms
    CHECK(xt::all(xt::isfinite(f.inverse(f.forward(x)).value())));
  }
}

TEST_CASE("AffineCouplingFlow: log|det J| against the log-determinant of the tape's Jacobian, D = 2, 3, 5", "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    for (bool flip : {false, true}) {
      INFO("D = " << dim << ", flip = " << flip);
      ParameterStore<double> store;
      const AffineCouplingFlow<double> f(store.scope("q"), "flow", dim, {.hidden = {6, 5}, .flip = flip});
      for (std::uint32_t seed : {1u, 2u, 3u}) {
        coupling_set_random(store, 0.9, 100 * seed);
        for (std::uint32_t point : {1u, 2u, 3u}) {
          const xt::xarray<double> x = random_array({dim}, -2.5, 2.5, 10 * seed + point);
          transform_check_log_det(f, x, transform_first_entries(dim), 1e-10);
          Tape<double> tape;
          const Var<double> xv = tape.constant(x);
          CHECK(std::abs(f.log_abs_det_jacobian(xv, f.forward(xv)).item()) > 1e-3);  // not the identity's 0
        }
      }
    }
  }
}

TEST_CASE("AffineCouplingFlow: the Jacobian is [I 0; * diag(exp(s))] in the (a, b) blocks", "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    for (bool flip : {false, true}) {
      for (std::size_t split : {std::size_t{0}, dim - 1}) {
        INFO("D = " << dim << ", flip = " << flip << ", split = " << split);
        ParameterStore<double> store;
        const AffineCouplingFlow<double> f(store.scope("q"), "flow", dim,
                                           {.hidden = {5}, .split = split, .flip = flip});
        coupling_set_random(store, 1.0, 11);
        const CouplingParts parts = coupling_parts(f);
        REQUIRE(!parts.kept.empty());
        REQUIRE(!parts.moved.empty());
        const xt::xarray<double> x = random_array({dim}, -2.0, 2.0, 12);
        const xt::xarray<double> jacobian = flow_jacobian(f, x);
        INFO("J =\n" << jacobian);
        Tape<double> tape;
        const xt::xarray<double> s = f.scale_and_shift(tape.constant(x)).s.value();
        for (std::size_t i : parts.kept)  // y_a = z_a: rows of the identity
          for (std::size_t j = 0; j < dim; ++j) CHECK(jacobian(i, j) == (i == j ? 1.0 : 0.0));
        double off_block = 0;  // dy_b / dz_a: what makes it a coupling
        for (std::size_t k = 0; k < parts.moved.size(); ++k) {
          const std::size_t i = parts.moved[k];
          for (std::size_t l = 0; l < parts.moved.size(); ++l) {
            const std::size_t j = parts.moved[l];
            if (i == j)
              CHECK(jacobian(i, j) == Approx(std::exp(s(k))).epsilon(1e-14));
            else
              CHECK(jacobian(i, j) == 0.0);
          }
          for (std::size_t j : parts.kept) off_block = std::max(off_block, std::abs(jacobian(i, j)));
        }
        CHECK(off_block > 1e-3);
      }
    }
  }
}

TEST_CASE("AffineCouplingFlow: inverse(forward(z)) = z and forward(inverse(y)) = y, D = 2, 3, 5", "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    for (bool flip : {false, true}) {
      INFO("D = " << dim << ", flip = " << flip);
      ParameterStore<double> store;
      const AffineCouplingFlow<double> f(store.scope("q"), "flow", dim, {.hidden = {6, 5}, .flip = flip});
      for (std::uint32_t seed : {1u, 2u}) {
        coupling_set_random(store, 1.0, 200 * seed);
        transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, seed + 50));
        transform_check_round_trip(f, random_array({2, 3, dim}, -30.0, 30.0, seed + 60));
      }
      coupling_set_random(store, 20.0, 5);  // s saturated at +-B, large shifts
      transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, 70));
    }
  }
}

TEST_CASE("AffineCouplingFlow: gradients in z and in every parameter (forward, log|det J| and inverse)", "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    for (bool flip : {false, true}) {
      INFO("D = " << dim << ", flip = " << flip);
      ParameterStore<double> store;
      const AffineCouplingFlow<double> f(store.scope("q"), "flow", dim, {.hidden = {4, 3}, .flip = flip});
      coupling_set_random(store, 1.0, 300 + static_cast<std::uint32_t>(dim));
      const xt::xarray<double> x = random_array({2, dim}, -2.0, 2.0, 20);
      flow_check_all_gradients(f, store, x);
      // The log-determinant alone: the forward loss weighs it beside y, which dominates.
      flow_check_parameter_gradients(store, [&](Tape<double>& t) {
        const Var<double> xv = t.constant(x);
        return sum(f.log_abs_det_jacobian(xv, f.forward(xv)));
      });
    }
  }
}

TEST_CASE("AffineCouplingFlow: a [3, 4, D] batch equals its events one by one; log|det J| has shape [3, 4]",
          "[flows]") {
  for (std::size_t dim : {2, 3, 5}) {
    for (bool flip : {false, true}) {
      ParameterStore<double> store;
      const AffineCouplingFlow<double> f(store.scope("q"), "flow", dim, {.hidden = {6}, .flip = flip});
      coupling_set_random(store, 1.0, 9);
      flow_check_batching(f, dim, 9);
    }
  }
}

TEST_CASE("AffineCouplingFlow: float agrees with double to float precision", "[flows]") {
  for (bool flip : {false, true}) {
    ParameterStore<double> store_d;
    ParameterStore<float> store_f;
    const AffineCouplingFlow<double> fd(store_d.scope("q"), "flow", 3, {.hidden = {8, 8}, .flip = flip});
    const AffineCouplingFlow<float> ff(store_f.scope("q"), "flow", 3, {.hidden = {8, 8}, .flip = flip});
    for (std::uint32_t seed : {1u, 2u}) {
      coupling_set_random(store_d, 0.8, 40 * seed);
      flow_copy_parameters(store_d, store_f);
      flow_check_float_agrees(ff, fd, random_array({5, 3}, -2.0, 2.0, seed + 3));
    }
    flow_check_float_inverse_gradient(ff);
  }
}

TEST_CASE("AffineCouplingFlow: with_detached_parameters gives the same values and no gradient to the parameters",
          "[flows]") {
  ParameterStore<double> store;
  const AffineCouplingFlow<double> f(store.scope("q"), "flow", 3, {.hidden = {5}});
  coupling_set_random(store, 1.0, 13);
  const std::shared_ptr<const VectorFlow<double>> detached = f.with_detached_parameters();
  CHECK_FALSE(f.parameters_detached());
  CHECK(detached->parameters_detached());
  CHECK(detached->name() == f.name());
  CHECK(detached->dim() == 3);
  const xt::xarray<double> x = random_array({4, 3}, -2.0, 2.0, 14);

  // loss = sum(y) + sum(log|det J|) + sum(inverse(x)), with its gradients in x and the parameters.
  const auto run = [&](const Transform<double>& t, xt::xarray<double>& x_grad, double& param_grad_norm) {
    Tape<double> tape;
    store.zero_grad();
    const Var<double> xv = tape.variable(x);
    const auto r = t.forward_and_log_abs_det_jacobian(xv);
    const Var<double> loss = sum(r.y) + sum(r.log_abs_det_jacobian) + sum(t.inverse(xv));
    tape.backward(loss);
    x_grad = xv.grad();
    param_grad_norm = 0;
    for (const auto& p : store)
      for (std::size_t i = 0; i < p->size; ++i) param_grad_norm += std::abs(p->grad[i]);
    return std::make_pair(xt::xarray<double>(r.y.value()), xt::xarray<double>(r.log_abs_det_jacobian.value()));
  };
  xt::xarray<double> live_x_grad, detached_x_grad;
  double live_norm = 0, detached_norm = 1;
  const auto live = run(f, live_x_grad, live_norm);
  const auto copy = run(*detached, detached_x_grad, detached_norm);
  CHECK(xt::all(xt::equal(copy.first, live.first)));
  CHECK(xt::all(xt::equal(copy.second, live.second)));
  CHECK(live_norm > 0.1);
  CHECK(detached_norm == 0.0);
  require_close(detached_x_grad, live_x_grad, 1e-15);  // z's gradient is untouched

  // The copy shares the parameters: a change shows in both.
  store.at("q/flow/layer_1/bias").value[0] += 0.5;
  Tape<double> tape;
  require_close(detached->forward(tape.constant(x)).value(), f.forward(tape.constant(x)).value(), 0.0);
}

TEST_CASE("AffineCouplingFlow: errors name the flow, the size expected and the shape got", "[flows]") {
  ParameterStore<double> store;
  const AffineCouplingFlow<double> f(store.scope("q"), "flow0", 3, {.hidden = {4}});
  flow_check_shape_errors(f, "AffineCouplingFlow(q/flow0)");
  Tape<double> tape;
  CHECK_THROWS_AS(f.scale_and_shift(tape.zeros({2, 4})), ShapeError);
  CHECK_THROWS_WITH(f.scale_and_shift(tape.zeros({2, 4})),
                    "AffineCouplingFlow(q/flow0).scale_and_shift: z has shape [2, 4], but the flow acts on vectors of "
                    "size 3 (expected a last axis of size 3)");

  const std::size_t before = store.size();
  CHECK_THROWS_AS(AffineCouplingFlow<double>(store.scope("q"), "bad", 1), ArgumentError);
  CHECK_THROWS_WITH(AffineCouplingFlow<double>(store.scope("q"), "bad", 1),
                    "AffineCouplingFlow(q/bad): a coupling needs D >= 2 (a part to condition on and a part to "
                    "transform), got D = 1");
  CHECK_THROWS_WITH(AffineCouplingFlow<double>(store.scope("q"), "bad", 0),
                    "AffineCouplingFlow(q/bad): the dimension must be at least 1, got 0");
  CHECK_THROWS_AS(AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.split = 3}), ArgumentError);
  CHECK_THROWS_WITH(AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.split = 3}),
                    "AffineCouplingFlow(q/bad): split = 3 leaves no coordinate to transform in D = 3 (expected 1 <= "
                    "split < 3, or 0 for D / 2)");
  CHECK_THROWS_WITH(AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.split = 7, .flip = true}),
                    "AffineCouplingFlow(q/bad): split = 7 leaves no coordinate to condition on in D = 3 (expected 1 "
                    "<= split < 3, or 0 for D / 2)");
  CHECK_THROWS_AS(AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.scale_bound = 0}), ArgumentError);
  CHECK_THROWS_WITH(AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.scale_bound = -1}),
                    "AffineCouplingFlow(q/bad): scale_bound must be finite and > 0 (it bounds |s|), got -1");
  CHECK_THROWS_AS(
      AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.scale_bound = std::numeric_limits<double>::infinity()}),
      ArgumentError);
  CHECK_THROWS_AS(
      AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.scale_bound = std::numeric_limits<double>::quiet_NaN()}),
      ArgumentError);
  ParameterStore<float> store_f;
  CHECK_THROWS_WITH(AffineCouplingFlow<float>(store_f.scope("q"), "bad", 3, {.scale_bound = 1e300}),
                    "AffineCouplingFlow(q/bad): scale_bound must be finite and > 0 (it bounds |s|), got 1e+300");
  CHECK_THROWS_AS(AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.hidden = {4, 0}}), ArgumentError);
  CHECK_THROWS_WITH(AffineCouplingFlow<double>(store.scope("q"), "bad", 3, {.hidden = {4, 0}}),
                    "AffineCouplingFlow(q/bad): hidden layer 1 has width 0 (expected widths >= 1)");
  CHECK(store.size() == before);  // a refused flow creates no parameter
  CHECK(store_f.size() == 0);

  CHECK_THROWS_AS(AffineCouplingFlow<double>(store.scope("q"), "flow0", 4, {.hidden = {4}}), ShapeError);
  CHECK_THROWS_WITH(AffineCouplingFlow<double>(store.scope("q"), "flow0", 4, {.hidden = {4}}),
                    "parameter 'q/flow0/layer_0/weight': requested with shape [2, 4] but it exists with shape [1, 4] "
                    "(a reused parameter must keep its shape)");
}

TEST_CASE("AffineCouplingFlow: a normal pushed through coupling, permute, coupling has a density of mass 1 (D = 2)",
          "[flows]") {
  ParameterStore<double> store;
  const auto first = std::make_shared<AffineCouplingFlow<double>>(store.scope("q"), "flow0", 2,
                                                                  AffineCouplingFlowOptions{.hidden = {8}});
  const auto swap = std::make_shared<PermuteFlow<double>>(store.scope("q"), "flow1", 2);
  const auto second = std::make_shared<AffineCouplingFlow<double>>(store.scope("q"), "flow2", 2,
                                                                   AffineCouplingFlowOptions{.hidden = {8}});
  coupling_set_random(store, 0.5, 21);
  const auto stack = std::make_shared<ComposeTransform<double>>(std::vector<TransformPtr<double>>{first, swap, second});
  CHECK(stack->name() == "Compose(AffineCouplingFlow(q/flow0), PermuteFlow(q/flow1), AffineCouplingFlow(q/flow2))");
  // Each coordinate is transformed once: the stack's Jacobian has no zero entry.
  const xt::xarray<double> jacobian = flow_jacobian(*stack, xt::xarray<double>{0.3, -0.7});
  INFO("J =\n" << jacobian);
  CHECK(xt::amin(xt::abs(jacobian))() > 1e-3);
  transform_check_log_det(*stack, xt::xarray<double>{0.3, -0.7}, transform_first_entries(2), 1e-10);
  transform_check_round_trip(*stack, random_array({10, 2}, -3.0, 3.0, 22));
  // Each coordinate is moved once, to at most e^max|s| |z_i| + max|t|: with the bounds below
  // (sampled over the box), |z_i| <= 6 (all but 4e-9 of the normal's mass) stays in [-15, 15]^2.
  Tape<double> tape;
  const Var<double> z = tape.constant(random_array({4000, 2}, -15.0, 15.0, 23));
  for (const auto& layer : {first, second}) {
    const auto st = layer->scale_and_shift(z);
    CHECK(xt::amax(xt::abs(st.s.value()))() < 0.8);
    CHECK(xt::amax(xt::abs(st.t.value()))() < 1.0);
    CHECK(xt::amax(xt::abs(st.s.value()))() > 0.2);  // a real deformation
  }
  // The midpoint rule on a smooth density that decays fast: about 1e-13 off here.
  CHECK(flow_pushed_forward_mass(stack, 15.0, 600) == Approx(1.0).margin(1e-8));
}
