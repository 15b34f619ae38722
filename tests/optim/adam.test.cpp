#include "support/gradients.hpp"
#include "support/quadratic.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

struct State {
  std::vector<double> p, m, v;
};

/// The Adam / AdamW trajectory in double with scalar loops (state after each step).
std::vector<State> reference(const optim::AdamOptions& o, int steps) {
  State s{start, std::vector<double>(start.size(), 0.0), std::vector<double>(start.size(), 0.0)};
  std::vector<State> out;
  for (int t = 1; t <= steps; ++t) {
    const double lr = o.schedule ? o.schedule(static_cast<std::uint64_t>(t - 1)) : o.learning_rate;
    for (std::size_t i = 0; i < s.p.size(); ++i) {
      double g = curvature[i] * s.p[i];
      if (!o.decoupled_weight_decay) g += o.weight_decay * s.p[i];
      s.m[i] = o.beta1 * s.m[i] + (1 - o.beta1) * g;
      s.v[i] = o.beta2 * s.v[i] + (1 - o.beta2) * g * g;
      const double mhat = s.m[i] / (1 - std::pow(o.beta1, t));
      const double vhat = s.v[i] / (1 - std::pow(o.beta2, t));
      if (o.decoupled_weight_decay) s.p[i] -= lr * o.weight_decay * s.p[i];
      s.p[i] -= lr * mhat / (std::sqrt(vhat) + o.epsilon);
    }
    out.push_back(s);
  }
  return out;
}

template <class T>
void check_trajectory(const optim::AdamOptions& options, double tolerance, int steps = 8) {
  const std::vector<State> expected = reference(options, steps);
  Quadratic<T> f;
  optim::Adam<T> adam(f.store, options);
  for (int t = 0; t < steps; ++t) {
    f.gradient();
    adam.step();
    const T* m_p = adam.slot(0, f.store.at("p"));
    const T* v_q = adam.slot(1, f.store.at("q"));
    for (std::size_t i = 0; i < curvature.size(); ++i) {
      const double e = expected[t].p[i];
      INFO("step " << t + 1 << ", element " << i << ": " << f.value(i) << " vs " << e);
      CHECK(std::abs(static_cast<double>(f.value(i)) - e) <= tolerance * std::max(1.0, std::abs(e)));
    }
    for (std::size_t i = 0; i < 3; ++i)
      CHECK(std::abs(static_cast<double>(m_p[i]) - expected[t].m[i]) <= tolerance * std::max(1.0, std::abs(expected[t].m[i])));
    for (std::size_t i = 0; i < 2; ++i)
      CHECK(std::abs(static_cast<double>(v_q[i]) - expected[t].v[i + 3]) <=
            tolerance * std::max(1.0, std::abs(expected[t].v[i + 3])));
  }
}

optim::AdamOptions adam_options(double lr) {
  optim::AdamOptions o;
  o.learning_rate = lr;
  return o;
}

}  // namespace

TEST_CASE("adam: the first step moves each element by lr against the sign of its gradient", "[adam]") {
  // m1 / (1 - b1) = g and v1 / (1 - b2) = g^2, so the first update is lr g / (|g| + eps).
  Quadratic<double> f;
  optim::Adam<double> adam(f.store, adam_options(0.1));
  f.gradient();
  adam.step();
  for (std::size_t i = 0; i < curvature.size(); ++i) {
    const double g = curvature[i] * start[i];
    CHECK(f.value(i) == Approx(start[i] - 0.1 * g / (std::abs(g) + 1e-8)).epsilon(1e-13));
  }
  CHECK(adam.slot(0, f.store.at("p"))[1] == Approx(0.1 * 3.0 * -2.0).epsilon(1e-14));     // m = (1 - b1) g
  CHECK(adam.slot(1, f.store.at("p"))[1] == Approx(0.001 * 36.0).epsilon(1e-12));  // v = (1 - b2) g^2
}

TEST_CASE("adam: bias-corrected trajectory on a quadratic", "[adam]") {
  check_trajectory<double>(adam_options(0.1), 1e-12);
  check_trajectory<double>(adam_options(0.01), 1e-12, 20);
  optim::AdamOptions betas = adam_options(0.05);
  betas.beta1 = 0.5;
  betas.beta2 = 0.9;
  betas.epsilon = 1e-3;
  check_trajectory<double>(betas, 1e-12);
  check_trajectory<float>(adam_options(0.1), 1e-5);
}

TEST_CASE("adam: L2 weight decay is added to the gradient", "[adam]") {
  optim::AdamOptions o = adam_options(0.1);
  o.weight_decay = 0.2;
  check_trajectory<double>(o, 1e-12);
  check_trajectory<float>(o, 1e-5);
}

TEST_CASE("adam: AdamW decays the weights decoupled from the gradient", "[adam]") {
  optim::AdamOptions o = adam_options(0.1);
  o.weight_decay = 0.2;
  o.decoupled_weight_decay = true;
  check_trajectory<double>(o, 1e-12);
  check_trajectory<float>(o, 1e-5);
  // With a zero gradient, AdamW only decays: p (1 - lr wd)^t (Adam with L2 would move by ~lr).
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{1}, std::vector<double>{2.0});
  optim::Adam<double> adamw(store, o);
  for (int t = 0; t < 4; ++t) adamw.step();
  CHECK(p.value[0] == Approx(2.0 * std::pow(1 - 0.1 * 0.2, 4)).epsilon(1e-14));
}

TEST_CASE("adam: a schedule sets the learning rate of each step, AdamW's decay included", "[adam]") {
  optim::AdamOptions o = adam_options(123.0);  // overridden by the schedule
  o.schedule = optim::exponential_schedule(0.1, 0.5, 3);
  o.weight_decay = 0.1;
  o.decoupled_weight_decay = true;
  check_trajectory<double>(o, 1e-12);
}

TEST_CASE("adam: bad betas throw ArgumentError", "[adam]") {
  ParameterStore<float> store;
  const std::string message = "Adam: beta1 and beta2 must be in [0, 1)";
  for (auto [b1, b2] : {std::pair{1.0, 0.999}, std::pair{0.9, 1.0}, std::pair{-0.1, 0.999}, std::pair{0.9, 1.5},
                        std::pair{std::nan(""), 0.999}}) {
    INFO("beta1 " << b1 << ", beta2 " << b2);
    optim::AdamOptions o;
    o.beta1 = b1;
    o.beta2 = b2;
    REQUIRE_THROWS_AS(optim::Adam<float>(store, o), ArgumentError);
    REQUIRE_THROWS_WITH(optim::Adam<float>(store, o), message);
  }
  optim::AdamOptions zero;
  zero.beta1 = 0;
  zero.beta2 = 0;
  REQUIRE_NOTHROW(optim::Adam<float>(store, zero));
}

TEST_CASE("adam: name and slots", "[adam]") {
  ParameterStore<float> store;
  optim::Adam<float> adam(store);
  CHECK(adam.name() == "adam");
  CHECK(adam.slot_names() == std::vector<std::string>{"m", "v"});
}
