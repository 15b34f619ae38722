#include "support/gradients.hpp"
#include "support/quadratic.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// The SGD trajectory in double with scalar loops: one vector of values per step.
std::vector<std::vector<double>> reference(double lr, double momentum, bool nesterov, double weight_decay, int steps) {
  std::vector<double> p = start;
  std::vector<double> buf(p.size(), 0.0);
  std::vector<std::vector<double>> out;
  for (int t = 0; t < steps; ++t) {
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double g = curvature[i] * p[i] + weight_decay * p[i];
      if (momentum == 0) {
        p[i] -= lr * g;
      } else {
        buf[i] = momentum * buf[i] + g;
        p[i] -= lr * (nesterov ? g + momentum * buf[i] : buf[i]);
      }
    }
    out.push_back(p);
  }
  return out;
}

template <class T>
void check_trajectory(const optim::SgdOptions& options, double tolerance) {
  const int steps = 8;
  const auto expected = reference(options.learning_rate, options.momentum, options.nesterov, options.weight_decay, steps);
  Quadratic<T> f;
  optim::SGD<T> sgd(f.store, options);
  for (int t = 0; t < steps; ++t) {
    f.gradient();
    sgd.step();
    for (std::size_t i = 0; i < curvature.size(); ++i) {
      INFO("step " << t + 1 << ", element " << i << ": " << f.value(i) << " vs " << expected[t][i]);
      CHECK(std::abs(static_cast<double>(f.value(i)) - expected[t][i]) <=
            tolerance * std::max(1.0, std::abs(expected[t][i])));
    }
  }
  CHECK(sgd.steps() == static_cast<std::uint64_t>(steps));
}

optim::SgdOptions sgd_options(double lr, double momentum = 0, bool nesterov = false, double weight_decay = 0) {
  optim::SgdOptions o;
  o.learning_rate = lr;
  o.momentum = momentum;
  o.nesterov = nesterov;
  o.weight_decay = weight_decay;
  return o;
}

}  // namespace

TEST_CASE("sgd: plain SGD follows p -= lr g, and the closed form p0 (1 - lr a)^t", "[sgd]") {
  check_trajectory<double>(sgd_options(0.1), 1e-12);
  check_trajectory<float>(sgd_options(0.1), 1e-6);
  // Independently of the reference loop: on a quadratic, plain SGD is a geometric sequence.
  Quadratic<double> f;
  optim::SGD<double> sgd(f.store, sgd_options(0.1));
  for (int t = 1; t <= 6; ++t) {
    f.gradient();
    sgd.step();
    for (std::size_t i = 0; i < curvature.size(); ++i)
      CHECK(f.value(i) == Approx(start[i] * std::pow(1 - 0.1 * curvature[i], t)).epsilon(1e-12).margin(1e-15));
  }
}

TEST_CASE("sgd: the first steps by hand", "[sgd]") {
  // One element, a = 2, p0 = 1, lr = 0.1, momentum 0.5:
  //   g1 = 2,   b1 = 2,            p1 = 1 - 0.2 = 0.8
  //   g2 = 1.6, b2 = 0.5*2 + 1.6 = 2.6, p2 = 0.8 - 0.26 = 0.54
  // Nesterov: p1 = 1 - 0.1 (2 + 0.5*2) = 0.7; g2 = 1.4, b2 = 1 + 1.4 = 2.4,
  //   p2 = 0.7 - 0.1 (1.4 + 1.2) = 0.44
  for (bool nesterov : {false, true}) {
    ParameterStore<double> store;
    Parameter<double>& p = store.create_from("p", Shape{1}, std::vector<double>{1.0});
    optim::SGD<double> sgd(store, sgd_options(0.1, 0.5, nesterov));
    p.grad[0] = 2.0 * p.value[0];
    sgd.step();
    CHECK(p.value[0] == Approx(nesterov ? 0.7 : 0.8).epsilon(1e-15));
    p.grad[0] = 2.0 * p.value[0];
    sgd.step();
    CHECK(p.value[0] == Approx(nesterov ? 0.44 : 0.54).epsilon(1e-14));
    CHECK(*sgd.slot(0, p) == Approx(nesterov ? 2.4 : 2.6).epsilon(1e-15));
  }
}

TEST_CASE("sgd: momentum follows b = mu b + g; p -= lr b", "[sgd]") {
  check_trajectory<double>(sgd_options(0.05, 0.9), 1e-12);
  check_trajectory<float>(sgd_options(0.05, 0.9), 1e-5);
}

TEST_CASE("sgd: Nesterov follows p -= lr (g + mu b)", "[sgd]") {
  check_trajectory<double>(sgd_options(0.05, 0.9, true), 1e-12);
  check_trajectory<float>(sgd_options(0.05, 0.9, true), 1e-5);
}

TEST_CASE("sgd: weight decay adds wd p to the gradient", "[sgd]") {
  check_trajectory<double>(sgd_options(0.1, 0, false, 0.3), 1e-12);
  check_trajectory<double>(sgd_options(0.05, 0.8, false, 0.1), 1e-12);
  check_trajectory<double>(sgd_options(0.05, 0.8, true, 0.1), 1e-12);
  check_trajectory<float>(sgd_options(0.05, 0.8, true, 0.1), 1e-5);
  // With a zero gradient only the decay acts: p (1 - lr wd)^t.
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{2}, std::vector<double>{1.0, -4.0});
  optim::SGD<double> sgd(store, sgd_options(0.1, 0, false, 0.5));
  for (int t = 0; t < 3; ++t) sgd.step();
  CHECK(p.value[0] == Approx(std::pow(0.95, 3)).epsilon(1e-14));
  CHECK(p.value[1] == Approx(-4.0 * std::pow(0.95, 3)).epsilon(1e-14));
}

TEST_CASE("sgd: bad options throw ArgumentError", "[sgd]") {
  ParameterStore<float> store;
  REQUIRE_THROWS_AS(optim::SGD<float>(store, sgd_options(0.1, 1.0)), ArgumentError);
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd_options(0.1, 1.0)), "SGD: momentum must be in [0, 1)");
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd_options(0.1, 1.5)), "SGD: momentum must be in [0, 1)");
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd_options(0.1, -0.1)), "SGD: momentum must be in [0, 1)");
  REQUIRE_THROWS_AS(optim::SGD<float>(store, sgd_options(0.1, 0.0, true)), ArgumentError);
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd_options(0.1, 0.0, true)),
                      "SGD: Nesterov momentum needs momentum > 0");
  REQUIRE_THROWS_WITH(optim::SGD<float>(store, sgd_options(-0.1)), "optimizer: learning_rate must be >= 0");
  REQUIRE_NOTHROW(optim::SGD<float>(store, sgd_options(0.0, 0.99, true)));
}

TEST_CASE("sgd: name and slots", "[sgd]") {
  ParameterStore<float> store;
  optim::SGD<float> sgd(store);
  CHECK(sgd.name() == "sgd");
  CHECK(sgd.slot_names() == std::vector<std::string>{"momentum"});
  const optim::Optimizer<float>& base = sgd;
  CHECK(base.name() == "sgd");
}
