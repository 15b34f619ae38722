#include "support/gradients.hpp"
#include "support/quadratic.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

struct AdamaxState {
  std::vector<double> p, m, u;
};

/// Adamax (Kingma & Ba, section 7.1) in double with scalar loops:
/// m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);  p -= lr / (1 - b1^t) * m / (u + eps)
std::vector<AdamaxState> reference(const optim::AdamaxOptions& o, int steps) {
  AdamaxState s{start, std::vector<double>(start.size(), 0.0), std::vector<double>(start.size(), 0.0)};
  std::vector<AdamaxState> out;
  for (int t = 1; t <= steps; ++t) {
    for (std::size_t i = 0; i < s.p.size(); ++i) {
      const double g = curvature[i] * s.p[i] + o.weight_decay * s.p[i];
      s.m[i] = o.beta1 * s.m[i] + (1 - o.beta1) * g;
      s.u[i] = std::max(o.beta2 * s.u[i], std::abs(g));
      s.p[i] -= o.learning_rate / (1 - std::pow(o.beta1, t)) * s.m[i] / (s.u[i] + o.epsilon);
    }
    out.push_back(s);
  }
  return out;
}

double relative_error(double actual, double expected) {
  return std::abs(actual - expected) / std::max(1.0, std::abs(expected));
}

template <class T>
void check_trajectory(const optim::AdamaxOptions& options, double tolerance, int steps = 10) {
  const std::vector<AdamaxState> expected = reference(options, steps);
  Quadratic<T> f;
  optim::Adamax<T> adamax(f.store, options);
  for (int t = 0; t < steps; ++t) {
    f.gradient();
    adamax.step();
    const T* m = adamax.slot(0, f.store.at("p"));
    const T* u = adamax.slot(1, f.store.at("p"));
    for (std::size_t i = 0; i < curvature.size(); ++i) {
      INFO("step " << t + 1 << ", element " << i << ": " << f.value(i) << " vs " << expected[t].p[i]);
      CHECK(relative_error(static_cast<double>(f.value(i)), expected[t].p[i]) <= tolerance);
    }
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(relative_error(static_cast<double>(m[i]), expected[t].m[i]) <= tolerance);
      CHECK(relative_error(static_cast<double>(u[i]), expected[t].u[i]) <= tolerance);
    }
  }
}

optim::AdamaxOptions adamax_options(double lr, double weight_decay = 0) {
  optim::AdamaxOptions o;
  o.learning_rate = lr;
  o.weight_decay = weight_decay;
  return o;
}

}  // namespace

TEST_CASE("adamax: the first steps by hand", "[adamax]") {
  // One element, p0 = 1, g = 2 p, lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 0:
  //   t = 1: g = 2, m = 0.2, u = 2, p = 1 - 0.1 / 0.1 * 0.2 / 2 = 0.9
  //   t = 2: g = 1.8, m = 0.18 + 0.18 = 0.36, u = max(1.998, 1.8) = 1.998,
  //          p = 0.9 - 0.1 / 0.19 * 0.36 / 1.998
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{1}, std::vector<double>{1.0});
  optim::AdamaxOptions o = adamax_options(0.1);
  o.epsilon = 0;
  optim::Adamax<double> adamax(store, o);
  p.grad[0] = 2.0 * p.value[0];
  adamax.step();
  CHECK(p.value[0] == Approx(0.9).epsilon(1e-14));
  CHECK(*adamax.slot(1, p) == 2.0);
  p.grad[0] = 2.0 * p.value[0];
  adamax.step();
  CHECK(*adamax.slot(1, p) == Approx(1.998).epsilon(1e-14));  // b2 u won over |g|
  CHECK(*adamax.slot(0, p) == Approx(0.36).epsilon(1e-14));
  CHECK(p.value[0] == Approx(0.9 - 0.1 / 0.19 * 0.36 / 1.998).epsilon(1e-13));
}

TEST_CASE("adamax: trajectory on a quadratic", "[adamax]") {
  check_trajectory<double>(adamax_options(0.1), 1e-12);
  check_trajectory<double>(adamax_options(0.002), 1e-12, 20);
  optim::AdamaxOptions o = adamax_options(0.05);
  o.beta1 = 0.5;
  o.beta2 = 0.8;  // u decays fast, so |g| wins the max on some steps
  check_trajectory<double>(o, 1e-12);
  check_trajectory<float>(adamax_options(0.1), 1e-5);
}

TEST_CASE("adamax: weight decay is added to the gradient", "[adamax]") {
  check_trajectory<double>(adamax_options(0.1, 0.3), 1e-12);
  check_trajectory<float>(adamax_options(0.1, 0.3), 1e-5);
}

TEST_CASE("adamax: bad betas throw ArgumentError", "[adamax]") {
  ParameterStore<double> store;
  for (auto [b1, b2] : {std::pair{1.0, 0.999}, std::pair{0.9, 1.0}, std::pair{-0.5, 0.999}, std::pair{0.9, -1.0}}) {
    INFO("beta1 " << b1 << ", beta2 " << b2);
    optim::AdamaxOptions o;
    o.beta1 = b1;
    o.beta2 = b2;
    REQUIRE_THROWS_AS(optim::Adamax<double>(store, o), ArgumentError);
    REQUIRE_THROWS_WITH(optim::Adamax<double>(store, o), "Adamax: beta1 and beta2 must be in [0, 1)");
  }
}

TEST_CASE("adamax: name and slots", "[adamax]") {
  ParameterStore<float> store;
  optim::Adamax<float> adamax(store);
  CHECK(adamax.name() == "adamax");
  CHECK(adamax.slot_names() == std::vector<std::string>{"m", "u"});
  CHECK(adamax.learning_rate() == 2e-3);
}
