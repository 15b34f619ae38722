#include "support/gradients.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// f(p) = 0.5 * sum(a * p^2) over two parameters, "p" [3] and "q" [2]; gradient a * p.
template <class T>
struct PairQuadratic {
  ParameterStore<T> store;
  std::vector<double> a = {1.0, 3.0, 0.5, 2.0, 0.2};
  std::vector<double> initial = {1.0, -2.0, 0.5, 0.3, -0.7};

  PairQuadratic() {
    store.create_from("p", Shape{3}, std::vector<T>{T(1.0), T(-2.0), T(0.5)});
    store.create_from("q", Shape{2}, std::vector<T>{T(0.3), T(-0.7)});
  }
  std::vector<T*> values() {
    return {store.at("p").value, store.at("p").value + 1, store.at("p").value + 2, store.at("q").value,
            store.at("q").value + 1};
  }
  std::vector<T*> grads() {
    return {store.at("p").grad, store.at("p").grad + 1, store.at("p").grad + 2, store.at("q").grad,
            store.at("q").grad + 1};
  }
  /// Writes the gradient a * p by hand (no tape).
  void gradient() {
    const std::vector<T*> v = values();
    const std::vector<T*> g = grads();
    for (std::size_t i = 0; i < a.size(); ++i) *g[i] = static_cast<T>(a[i]) * *v[i];
  }
};

void require_near(double actual, double expected, double tolerance) {
  INFO("actual " << actual << ", expected " << expected);
  REQUIRE(std::abs(actual - expected) <= tolerance * std::max(1.0, std::abs(expected)));
}

/// Reference Adam with clipping of the global norm, in double.
struct ReferenceAdam {
  double lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, clip = 0;
  std::vector<double> m = {}, v = {};
  int t = 0;
  void step(std::vector<double>& p, const std::vector<double>& a) {
    ++t;
    std::vector<double> g(p.size());
    double norm2 = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      g[i] = a[i] * p[i];
      norm2 += g[i] * g[i];
    }
    const double norm = std::sqrt(norm2);
    const double scale = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1.0;
    m.resize(p.size(), 0.0);
    v.resize(p.size(), 0.0);
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double gi = g[i] * scale;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double mhat = m[i] / (1 - std::pow(b1, t));
      const double vhat = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
    }
  }
};

}  // namespace

TEST_CASE("optimizer: clipping scales the gradient to clip_norm / (norm + 1e-6)", "[optimizer]") {
  PairQuadratic<double> f;
  const std::vector<double*> g = f.grads();
  const std::vector<double> big = {30.0, 0.0, -40.0, 0.0, 120.0};  // global norm 130
  for (std::size_t i = 0; i < big.size(); ++i) *g[i] = big[i];
  optim::SgdOptions options;
  options.learning_rate = 0.1;
  options.clip_norm = 1.0;
  optim::SGD<double> sgd(f.store, options);
  CHECK(sgd.last_gradient_norm() == 0.0);
  sgd.step();
  CHECK(sgd.last_gradient_norm() == 130.0);  // before clipping
  const double scale = 1.0 / (130.0 + 1e-6);
  const std::vector<double*> v = f.values();
  double update_norm2 = 0;
  for (std::size_t i = 0; i < big.size(); ++i) {
    const double expected = f.initial[i] - 0.1 * scale * big[i];
    require_near(*v[i], expected, 1e-15);
    update_norm2 += (f.initial[i] - *v[i]) * (f.initial[i] - *v[i]);
  }
  CHECK(std::sqrt(update_norm2) == Approx(0.1 * 1.0).epsilon(1e-7));  // lr * clip_norm
  // The gradient itself is not modified.
  for (std::size_t i = 0; i < big.size(); ++i) CHECK(*g[i] == big[i]);
}

TEST_CASE("optimizer: no clipping when the norm is at most clip_norm", "[optimizer]") {
  PairQuadratic<double> f;
  const std::vector<double*> g = f.grads();
  const std::vector<double> grad = {3.0, 0.0, -4.0, 0.0, 12.0};  // norm 13
  for (std::size_t i = 0; i < grad.size(); ++i) *g[i] = grad[i];
  optim::SgdOptions options;
  options.learning_rate = 0.1;
  options.clip_norm = 13.0;
  optim::SGD<double> sgd(f.store, options);
  sgd.step();
  CHECK(sgd.last_gradient_norm() == 13.0);
  const std::vector<double*> v = f.values();
  for (std::size_t i = 0; i < grad.size(); ++i) require_near(*v[i], f.initial[i] - 0.1 * grad[i], 1e-15);
}

TEST_CASE("optimizer: Adam with clipping follows the clipped trajectory", "[optimizer]") {
  PairQuadratic<double> f;
  optim::AdamOptions options;
  options.learning_rate = 0.05;
  options.clip_norm = 0.5;  // the quadratic's gradient norm starts near 6
  optim::Adam<double> adam(f.store, options);
  ReferenceAdam ref{.lr = 0.05, .clip = 0.5};
  std::vector<double> p = f.initial;
  for (int step = 1; step <= 8; ++step) {
    INFO("step " << step);
    double norm2 = 0;
    for (std::size_t i = 0; i < p.size(); ++i) norm2 += (f.a[i] * p[i]) * (f.a[i] * p[i]);
    f.gradient();
    adam.step();
    ref.step(p, f.a);
    CHECK(adam.last_gradient_norm() == Approx(std::sqrt(norm2)).epsilon(1e-12));
    const std::vector<double*> v = f.values();
    for (std::size_t i = 0; i < p.size(); ++i) require_near(*v[i], p[i], 1e-12);
  }
}

TEST_CASE("optimizer: the gradient norm is global over parameters and blocks", "[optimizer]") {
  ParameterStore<float> store;
  Parameter<float>& a = store.get_or_create("a", Shape{4}, {});
  Parameter<float>& big = store.get_or_create("big", Shape{ParameterStore<float>::default_block_elements}, {});
  REQUIRE(store.blocks().size() == 2);
  a.grad[0] = 3.0f;
  big.grad[big.size - 1] = 4.0f;
  optim::SGD<float> sgd(store, {.learning_rate = 0.5, .schedule = {}, .weight_decay = 0, .clip_norm = 1.0});
  sgd.step();
  CHECK(sgd.last_gradient_norm() == 5.0);
  CHECK(a.value[0] == Approx(-0.5 * 3.0 / 5.0).epsilon(1e-6));
  CHECK(big.value[big.size - 1] == Approx(-0.5 * 4.0 / 5.0).epsilon(1e-6));
  CHECK(a.value[1] == 0.0f);
}

TEST_CASE("optimizer: bad common options throw ArgumentError", "[optimizer]") {
  ParameterStore<float> store;
  const std::string lr = "optimizer: learning_rate must be >= 0";
  const std::string wd = "optimizer: weight_decay must be >= 0";
  const std::string clip = "optimizer: clip_norm must be >= 0 (0 turns clipping off)";
  optim::SgdOptions sgd;
  sgd.learning_rate = -0.1;
  REQUIRE_THROWS_AS(optim::SGD<float>(store, sgd), ArgumentError);
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd), lr);
  sgd.learning_rate = std::nan("");
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd), lr);
  sgd.learning_rate = 0.1;
  sgd.weight_decay = -1e-4;
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd), wd);
  sgd.weight_decay = 0;
  sgd.clip_norm = -1;
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd), clip);

  optim::AdamOptions adam;
  adam.learning_rate = -1e-3;
  REQUIRE_THROWS_AS(optim::Adam<float>(store, adam), ArgumentError);
  REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), lr);
  adam.learning_rate = 1e-3;
  adam.weight_decay = -0.01;
  REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), wd);
  adam.decoupled_weight_decay = true;  // AdamW checks its decay too
  REQUIRE_THROWS_AS(optim::Adam<float>(store, adam), ArgumentError);
  REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), wd);
  adam.weight_decay = 0;
  adam.clip_norm = -0.5;
  REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), clip);

  optim::AdamaxOptions adamax;
  adamax.learning_rate = -2e-3;
  REQUIRE_THROWS_WITH(optim::Adamax<float>(store, adamax), lr);
  adamax.learning_rate = 2e-3;
  adamax.weight_decay = -1;
  REQUIRE_THROWS_WITH(optim::Adamax<float>(store, adamax), wd);
  adamax.weight_decay = 0;
  adamax.clip_norm = -1;
  REQUIRE_THROWS_WITH(optim::Adamax<float>(store, adamax), clip);
}

TEST_CASE("optimizer: parameters created after the optimiser are updated", "[optimizer]") {
  ParameterStore<double> store;
  optim::AdamOptions options;
  options.learning_rate = 0.1;
  optim::Adam<double> adam(store, options);
  adam.step();  // nothing to update yet
  CHECK(adam.steps() == 1);
  CHECK(adam.last_gradient_norm() == 0.0);
  adam.set_steps(0);
  Parameter<double>& p = store.create_from("p", Shape{3}, std::vector<double>{1.0, -2.0, 0.5});
  const std::vector<double> a = {1.0, 3.0, 0.5};
  ReferenceAdam ref{.lr = 0.1};
  std::vector<double> expected = {1.0, -2.0, 0.5};
  for (int step = 1; step <= 6; ++step) {
    INFO("step " << step);
    for (std::size_t i = 0; i < 3; ++i) p.grad[i] = a[i] * p.value[i];
    adam.step();
    ref.step(expected, a);
    for (std::size_t i = 0; i < 3; ++i) require_near(p.value[i], expected[i], 1e-12);
  }
  // A parameter in a new block, created after several steps, has zero state: with SGD
  // momentum its first update is exactly lr * g.
  ParameterStore<float> fstore;
  optim::SGD<float> sgd(fstore, {.learning_rate = 0.5, .schedule = {}, .weight_decay = 0, .clip_norm = 0,
                                 .momentum = 0.9, .nesterov = false});
  Parameter<float>& small = fstore.create_from("small", Shape{2}, std::vector<float>{1.0f, 1.0f});
  for (int step = 0; step < 3; ++step) {
    small.grad[0] = 1.0f;
    sgd.step();
  }
  CHECK(small.value[0] == Approx(1.0 - 0.5 * (1.0 + 1.9 + 2.71)).epsilon(1e-6));
  Parameter<float>& big = fstore.get_or_create("big", Shape{ParameterStore<float>::default_block_elements}, {});
  REQUIRE(big.block == 1);
  Parameter<float>& later = fstore.create_from("later", Shape{2}, std::vector<float>{2.0f, 2.0f});
  fstore.zero_grad();
  big.grad[7] = 2.0f;
  later.grad[1] = 4.0f;
  sgd.step();
  CHECK(big.value[7] == -1.0f);
  CHECK(later.value[1] == 0.0f);
  CHECK(later.value[0] == 2.0f);
  // The old parameter keeps its momentum: buffer 0.9 * 2.71 + 0.
  CHECK(small.value[0] == Approx(1.0 - 0.5 * (1.0 + 1.9 + 2.71 + 0.9 * 2.71)).epsilon(1e-6));
}

TEST_CASE("optimizer: padding between parameters stays zero under every optimiser", "[optimizer]") {
  ParameterStore<float> store(1);
  Parameter<float>& p = store.get_or_create("p", Shape{3}, init::constant<float>(1.0f));
  Parameter<float>& q = store.get_or_create("q", Shape{5}, init::constant<float>(-1.0f));
  optim::SGD<float> sgd(store, {.learning_rate = 0.1, .schedule = {}, .weight_decay = 0.1, .clip_norm = 1.0,
                                .momentum = 0.9, .nesterov = true});
  optim::AdamOptions adam_options;
  adam_options.weight_decay = 0.1;
  optim::Adam<float> adam(store, adam_options);
  adam_options.decoupled_weight_decay = true;
  optim::Adam<float> adamw(store, adam_options);
  optim::AdamaxOptions adamax_options;
  adamax_options.weight_decay = 0.1;
  optim::Adamax<float> adamax(store, adamax_options);
  std::vector<optim::Optimizer<float>*> all = {&sgd, &adam, &adamw, &adamax};
  for (int step = 0; step < 3; ++step) {
    for (optim::Optimizer<float>* o : all) {
      for (std::size_t i = 0; i < 3; ++i) p.grad[i] = 2.0f;
      for (std::size_t i = 0; i < 5; ++i) q.grad[i] = -3.0f;
      o->step();
    }
  }
  CHECK(p.value[0] != 1.0f);
  CHECK(q.value[0] != -1.0f);
  const std::size_t used = store.blocks()[0]->used;
  const float* values = store.blocks()[0]->values.data();
  REQUIRE(used == 32);
  for (std::size_t i = 0; i < used; ++i) {
    const bool padding = (i >= 3 && i < 16) || i >= 21;
    if (padding) {
      INFO("element " << i);
      CHECK(values[i] == 0.0f);
    }
  }
  for (optim::Optimizer<float>* o : all)
    for (std::size_t s = 0; s < o->slot_names().size(); ++s)
      for (std::size_t i = p.size; i < q.offset; ++i) CHECK(o->slot(s, p)[i] == 0.0f);
}

TEST_CASE("optimizer: steps, set_steps, learning_rate and zero_grad", "[optimizer]") {
  PairQuadratic<float> f;
  optim::AdamOptions options;
  options.learning_rate = 0.01;
  optim::Adam<float> adam(f.store, options);
  CHECK(adam.steps() == 0);
  CHECK(adam.learning_rate() == 0.01);
  CHECK(&adam.parameters() == &f.store);
  f.gradient();
  adam.step();
  adam.step();
  CHECK(adam.steps() == 2);
  adam.zero_grad();
  for (float* g : f.grads()) CHECK(*g == 0.0f);
  adam.set_steps(41);
  CHECK(adam.steps() == 41);
  adam.step();
  CHECK(adam.steps() == 42);
  optim::SGD<float> sgd(f.store);
  CHECK(sgd.learning_rate() == 1e-2);  // SGD's default
  optim::Adamax<float> adamax(f.store);
  CHECK(adamax.learning_rate() == 2e-3);
  CHECK(optim::Adam<float>(f.store).learning_rate() == 1e-3);
}

TEST_CASE("optimizer: set_steps moves Adam's bias correction", "[optimizer]") {
  // Resuming at step 10: the first update uses t = 11.
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{1}, std::vector<double>{2.0});
  optim::Adam<double> adam(store, {.learning_rate = 0.1});
  adam.set_steps(10);
  p.grad[0] = 4.0;
  adam.step();
  const double m = 0.1 * 4.0, v = 0.001 * 16.0;
  const double mhat = m / (1 - std::pow(0.9, 11)), vhat = v / (1 - std::pow(0.999, 11));
  require_near(p.value[0], 2.0 - 0.1 * mhat / (std::sqrt(vhat) + 1e-8), 1e-12);
}

TEST_CASE("optimizer: step_and_zero_grad is step then zero_grad, in one pass", "[optimizer]") {
  // large enough to split over threads and over the norm's spans
  constexpr std::size_t n = 300007;
  const auto make = [] {
    auto store = std::make_unique<ParameterStore<float>>(1);
    std::vector<float> init(n);
    for (std::size_t i = 0; i < n; ++i) init[i] = static_cast<float>(std::sin(0.001 * static_cast<double>(i)));
    store->create_from("w", Shape{n}, init);
    store->create_from("b", Shape{3}, std::vector<float>{0.5f, -1.0f, 2.0f});
    return store;
  };
  const auto fill_gradient = [](ParameterStore<float>& store, int step) {
    for (const char* name : {"w", "b"}) {
      Parameter<float>& p = store.at(name);
      for (std::size_t i = 0; i < p.size; ++i) p.grad[i] = p.value[i] * 0.5f + 0.01f * static_cast<float>(step);
    }
  };
  auto a = make(), b = make();
  optim::Adam<float> adam_a(*a, {}), adam_b(*b, {});
  for (int step = 0; step < 3; ++step) {
    fill_gradient(*a, step);
    fill_gradient(*b, step);
    double norm2 = 0;
    for (const char* name : {"w", "b"}) {
      const Parameter<float>& p = a->at(name);
      for (std::size_t i = 0; i < p.size; ++i) norm2 += static_cast<double>(p.grad[i]) * p.grad[i];
    }
    adam_a.step();
    adam_a.zero_grad();
    adam_b.step_and_zero_grad();
    CHECK(adam_a.last_gradient_norm() == adam_b.last_gradient_norm());
    CHECK(adam_b.last_gradient_norm() == Approx(std::sqrt(norm2)).epsilon(1e-6));
  }
  for (const char* name : {"w", "b"}) {
    const Parameter<float>& pa = a->at(name);
    const Parameter<float>& pb = b->at(name);
    CHECK(std::equal(pa.value, pa.value + pa.size, pb.value));
    CHECK(std::all_of(pb.grad, pb.grad + pb.size, [](float g) { return g == 0.0f; }));
  }
}

namespace {

/// Two MLPs sharing their parameters (each recorded on the tape twice), a parameter the cost
/// does not use, and a cost mixing both: the case where a parameter's gradient is complete
/// only at its earliest node.
struct SharedMlpModel {
  ParameterStore<float> store{7};
  MLP<float> mlp{store.scope("net"), "mlp", {300, 40}};
  xt::xarray<float> x1 = xt::empty<float>({16, 200}), x2 = xt::empty<float>({16, 200});

  SharedMlpModel() {
    store.create_from("idle", Shape{5}, std::vector<float>{1.0f, -1.0f, 0.5f, 2.0f, -0.25f});
    for (std::size_t i = 0; i < x1.size(); ++i) {
      x1.flat(i) = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
      x2.flat(i) = static_cast<float>(std::cos(0.11 * static_cast<double>(i)));
    }
  }
  Var<float> cost(Tape<float>& tape) const {
    tape.clear();
    const Var<float> a = mlp(tape.constant(x1));
    const Var<float> b = mlp(tape.constant(x2));
    return mean(square(a - 0.5f)) + mean(a * b);
  }
};

template <class Optimiser, class Options>
void check_minimize_matches_backward_then_step(const Options& options, bool anomaly_mode = false) {
  SharedMlpModel fused, plain;
  Optimiser fused_opt(fused.store, options), plain_opt(plain.store, options);
  Tape<float> fused_tape, plain_tape;
  fused_tape.detect_anomaly(anomaly_mode);
  plain_tape.detect_anomaly(anomaly_mode);
  for (int step = 0; step < 4; ++step) {
    fused_opt.minimize(fused_tape, fused.cost(fused_tape));
    plain_tape.backward(plain.cost(plain_tape));
    plain_opt.step_and_zero_grad();
    CHECK(fused_opt.last_gradient_norm() == Approx(plain_opt.last_gradient_norm()).epsilon(1e-6));
  }
  CHECK(fused_opt.steps() == plain_opt.steps());
  for (const auto& parameter : plain.store) {
    INFO("parameter " << parameter->name);
    const Parameter<float>& f = fused.store.at(parameter->name);
    CHECK(std::equal(parameter->value, parameter->value + parameter->size, f.value));
    CHECK(std::all_of(f.grad, f.grad + f.size, [](float g) { return g == 0.0f; }));
    for (std::size_t s = 0; s < plain_opt.slot_names().size(); ++s) {
      const float* ps = plain_opt.slot(s, *parameter);
      CHECK(std::equal(ps, ps + parameter->size, fused_opt.slot(s, f)));
    }
  }
}

}  // namespace

TEST_CASE("optimizer: minimize updates during the sweep with the values of backward then step", "[optimizer]") {
  SECTION("Adam") { check_minimize_matches_backward_then_step<optim::Adam<float>>(optim::AdamOptions{}); }
  SECTION("Adam, L2 weight decay") {
    check_minimize_matches_backward_then_step<optim::Adam<float>>(optim::AdamOptions{.weight_decay = 0.01});
  }
  SECTION("AdamW") {
    check_minimize_matches_backward_then_step<optim::Adam<float>>(
        optim::AdamOptions{.weight_decay = 0.01, .decoupled_weight_decay = true});
  }
  SECTION("Adamax") { check_minimize_matches_backward_then_step<optim::Adamax<float>>(optim::AdamaxOptions{}); }
  SECTION("SGD, Nesterov momentum") {
    check_minimize_matches_backward_then_step<optim::SGD<float>>(optim::SgdOptions{.momentum = 0.9, .nesterov = true});
  }
  SECTION("clipping: the norm first, then the same two calls") {
    check_minimize_matches_backward_then_step<optim::Adam<float>>(optim::AdamOptions{.clip_norm = 0.05});
  }
  SECTION("anomaly mode: the same two calls") {
    check_minimize_matches_backward_then_step<optim::Adam<float>>(optim::AdamOptions{}, true);
  }
}

TEST_CASE("optimizer: minimize leaves memory outside its store alone", "[optimizer]") {
  ParameterStore<double> store(1);
  Parameter<double>& w = store.create_from("w", Shape{2}, std::vector<double>{1.0, 2.0});
  std::vector<double> own_value = {3.0}, own_grad = {0.0};
  optim::SGD<double> sgd(store, {.learning_rate = 0.1});
  Tape<double> tape;
  const Var<double> cost = sum(w.on(tape) * tape.external(own_value.data(), own_grad.data(), Shape{1}));
  sgd.minimize(tape, cost);
  CHECK(w.value[0] == Approx(1.0 - 0.1 * 3.0));
  CHECK(w.value[1] == Approx(2.0 - 0.1 * 3.0));
  CHECK(own_value[0] == 3.0);  // not the optimiser's: its gradient is the user's to use
  CHECK(own_grad[0] == Approx(3.0));
}

TEST_CASE("optimizer: minimize with a cost the tape refuses changes nothing", "[optimizer]") {
  ParameterStore<double> store(1);
  Parameter<double>& w = store.create_from("w", Shape{2}, std::vector<double>{1.0, 2.0});
  optim::Adam<double> adam(store, {});
  Tape<double> tape;
  const Var<double> not_scalar = w.on(tape) * 3.0;
  REQUIRE_THROWS_AS(adam.minimize(tape, not_scalar), TapeError);
  REQUIRE_THROWS_WITH(adam.minimize(tape, not_scalar), Catch::Matchers::Contains("the root must be a scalar"));
  CHECK(adam.steps() == 0);
  CHECK(w.value[0] == 1.0);
  CHECK(w.value[1] == 2.0);
  adam.minimize(tape, sum(not_scalar));  // the next good step is the first
  CHECK(adam.steps() == 1);
  CHECK(w.value[0] == Approx(1.0 - 1e-3));  // Adam's first step moves each weight by lr
}

TEST_CASE("optimizer: infinite or NaN hyperparameters and schedules are refused (issue 20)", "[optimizer]") {
  ParameterStore<float> store;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  optim::AdamOptions adam;
  adam.learning_rate = inf;  // once accepted: the first step made every parameter NaN
  REQUIRE_THROWS_AS(optim::Adam<float>(store, adam), ArgumentError);
  REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), "optimizer: learning_rate must be finite, got inf");
  adam.learning_rate = 1e-3;
  adam.weight_decay = inf;
  REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), "optimizer: weight_decay must be finite, got inf");
  adam.decoupled_weight_decay = true;
  REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), "optimizer: weight_decay must be finite, got inf");
  adam.weight_decay = 0;
  adam.clip_norm = inf;
  REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), "optimizer: clip_norm must be finite, got inf");
  adam.clip_norm = 0;
  for (double eps : {inf, nan, -1.0}) {
    adam.epsilon = eps;
    REQUIRE_THROWS_WITH(optim::Adam<float>(store, adam), Catch::Matchers::Contains("Adam: epsilon must be finite and >= 0"));
  }
  optim::AdamaxOptions adamax;
  adamax.learning_rate = inf;
  REQUIRE_THROWS_WITH(optim::Adamax<float>(store, adamax), "optimizer: learning_rate must be finite, got inf");
  adamax.learning_rate = 2e-3;
  adamax.epsilon = nan;
  REQUIRE_THROWS_WITH(optim::Adamax<float>(store, adamax), Catch::Matchers::Contains("Adamax: epsilon must be finite and >= 0"));
  optim::SgdOptions sgd;
  sgd.learning_rate = inf;
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd), "optimizer: learning_rate must be finite, got inf");

  // a schedule that gives an infinite rate is refused at that step, before anything changes
  Parameter<float>& p = store.get_or_create("p", Shape{2}, {});
  p.grad[0] = 1.0f;
  optim::SgdOptions scheduled;
  scheduled.schedule = [](std::uint64_t step) { return step == 0 ? 0.1 : std::numeric_limits<double>::infinity(); };
  optim::SGD<float> opt(store, scheduled);
  opt.step();
  const float after_first = p.value[0];
  REQUIRE_THROWS_AS(opt.step(), ArgumentError);
  REQUIRE_THROWS_WITH(opt.step(), "optimizer: the schedule gave the learning rate inf at step 1 (expected a finite number >= 0)");
  CHECK(p.value[0] == after_first);
}

TEST_CASE("optimizer: a ranged step updates stretches in any order with the values of step_and_zero_grad", "[optimizer]") {
  SharedMlpModel ranged, plain;
  optim::Adam<float> ranged_opt(ranged.store, {}), plain_opt(plain.store, {});
  Tape<float> ranged_tape, plain_tape;
  for (int step = 0; step < 3; ++step) {
    ranged_tape.backward(ranged.cost(ranged_tape));
    auto ranged_step = ranged_opt.begin_ranged_step();
    // the parameters in creation order (the sweep's is the reverse), one of them twice in halves
    for (const auto& parameter : ranged.store) {
      const std::size_t half = parameter->size / 2;
      ranged_step.update(parameter->grad, half);
      ranged_step.update(parameter->grad + half, parameter->size - half);
    }
    float outside = 1.0f;  // memory that is not the store's: left alone
    ranged_step.update(&outside, 1);
    ranged_step.finish();
    CHECK(outside == 1.0f);
    plain_tape.backward(plain.cost(plain_tape));
    plain_opt.step_and_zero_grad();
    CHECK(ranged_opt.last_gradient_norm() == Approx(plain_opt.last_gradient_norm()).epsilon(1e-6));
  }
  CHECK(ranged_opt.steps() == 3);
  for (const auto& parameter : plain.store) {
    const Parameter<float>& r = ranged.store.at(parameter->name);
    CHECK(std::equal(parameter->value, parameter->value + parameter->size, r.value));
    CHECK(std::all_of(r.grad, r.grad + r.size, [](float g) { return g == 0.0f; }));
  }
  // a step abandoned before its first update is not counted
  (void)ranged_opt.begin_ranged_step();
  CHECK(ranged_opt.steps() == 3);
  optim::Adam<float> clipping(plain.store, {.clip_norm = 1.0});
  CHECK_THROWS_WITH(clipping.begin_ranged_step(), Catch::Contains("cannot clip the gradient norm (clip_norm = 1"));
}
