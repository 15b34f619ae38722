#include "support/gradients.hpp"

#include <cmath>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Each activation's closed form, written independently of the library's kernels.
double activation_reference(Activation a, double x) {
  switch (a) {
    case Activation::none: return x;
    case Activation::relu: return x > 0 ? x : 0.0;
    case Activation::tanh: return std::tanh(x);
    case Activation::sigmoid: return 1.0 / (1.0 + std::exp(-x));
  }
  FAIL("activation_reference: no closed form for " << to_string(a));
  return 0;
}

/// Points in [-4, 4] (and far out, where sigmoid and tanh saturate) kept off relu's kink.
std::vector<double> activation_points() {
  std::vector<double> xs;
  for (int i = -40; i <= 40; ++i) xs.push_back(0.1 * i + 0.0137);
  xs.insert(xs.end(), {-30.0, -12.5, 12.5, 30.0});
  return xs;
}

}  // namespace

TEST_CASE("activation: every activation has its own name, and all_activations lists each once", "[activation]") {
  std::set<std::string> names;
  for (Activation a : all_activations) names.insert(to_string(a));
  CHECK(names.size() == std::size(all_activations));
  CHECK(names.count("none") == 1);
  CHECK(std::size(all_activations) == 4);
}

TEST_CASE("activation: each forward matches its closed form, each derivative finite differences", "[activation]") {
  const double h = 1e-6;
  for (Activation a : all_activations) {
    INFO("activation " << to_string(a));
    for (double x : activation_points()) {
      INFO("x = " << x);
      const double y = activation_value(a, x);
      CHECK(y == Approx(activation_reference(a, x)).epsilon(1e-14).margin(1e-300));
      const double numeric = (activation_value(a, x + h) - activation_value(a, x - h)) / (2 * h);
      CHECK(activation_derivative(a, y) == Approx(numeric).epsilon(1e-7).margin(1e-9));
      // float: the same formulas in single precision
      const float yf = activation_value(a, static_cast<float>(x));
      CHECK(yf == Approx(activation_reference(a, static_cast<float>(x))).epsilon(1e-6).margin(1e-30));
      CHECK(activation_derivative(a, yf) == Approx(activation_derivative(a, static_cast<double>(yf))).epsilon(1e-6).margin(1e-7));
    }
  }
}

TEST_CASE("activation: the vectorised kernels give the scalar formulas on every lane and the tail", "[activation]") {
  // 85 points: whole SIMD batches and a tail, for float and double.
  const std::vector<double> xs = activation_points();
  const std::size_t n = xs.size();
  for (Activation a : all_activations) {
    INFO("activation " << to_string(a));
    std::vector<double> y(n), g(n), dx(n, 0.5);
    for (std::size_t i = 0; i < n; ++i) g[i] = 0.25 * static_cast<double>(i % 7) - 0.75;
    detail::activation_forward(a, n, xs.data(), y.data());
    for (std::size_t i = 0; i < n; ++i) CHECK(y[i] == Approx(activation_value(a, xs[i])).epsilon(1e-14).margin(1e-300));
    detail::activation_backward(a, n, y.data(), g.data(), true, dx.data());  // adds onto 0.5
    for (std::size_t i = 0; i < n; ++i) CHECK(dx[i] == Approx(0.5 + g[i] * activation_derivative(a, y[i])).epsilon(1e-14));
    detail::activation_backward(a, n, y.data(), g.data(), false, dx.data());
    for (std::size_t i = 0; i < n; ++i) CHECK(dx[i] == Approx(g[i] * activation_derivative(a, y[i])).epsilon(1e-14));
    std::vector<float> xf(xs.begin(), xs.end()), yf(n);
    detail::activation_forward(a, n, xf.data(), yf.data());
    for (std::size_t i = 0; i < n; ++i) CHECK(yf[i] == Approx(activation_value(a, xf[i])).epsilon(1e-6).margin(1e-30));
  }
}

TEST_CASE("activation: relu's derivative is 0 at and below the kink, even against an infinite gradient",
          "[activation]") {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> y = {0.0, 0.0, 2.0}, g = {inf, -1.0, 3.0};
  std::vector<double> dx(3);
  detail::activation_backward(Activation::relu, 3, y.data(), g.data(), false, dx.data());
  CHECK(dx == std::vector<double>{0.0, 0.0, 3.0});
}

TEST_CASE("activation: activate applies relu, tanh, sigmoid or nothing, as an op named after it", "[activation]") {
  Tape<double> tape;
  const xt::xarray<double> a = {{-2.0, -0.5, 0.0}, {0.25, 1.0, 3.0}};
  const Var<double> x = tape.variable(a);
  const xt::xarray<double> relu_expected = {{0.0, 0.0, 0.0}, {0.25, 1.0, 3.0}};
  require_close(activate(x, Activation::relu).value(), relu_expected);
  require_close(activate(x, Activation::relu).value(), relu(x).value());
  xt::xarray<double> tanh_expected = a;
  xt::xarray<double> sigmoid_expected = a;
  for (std::size_t i = 0; i < a.size(); ++i) {
    tanh_expected.flat(i) = std::tanh(a.flat(i));
    sigmoid_expected.flat(i) = 1.0 / (1.0 + std::exp(-a.flat(i)));
  }
  require_close(activate(x, Activation::tanh).value(), tanh_expected, 1e-14);
  require_close(activate(x, Activation::tanh).value(), tanh(x).value());
  require_close(activate(x, Activation::sigmoid).value(), sigmoid_expected, 1e-14);
  require_close(activate(x, Activation::sigmoid).value(), sigmoid(x).value());
  CHECK(std::string(activate(x, Activation::relu).op()) == "relu");
  CHECK(std::string(activate(x, Activation::tanh).op()) == "tanh");
  CHECK(std::string(activate(x, Activation::sigmoid).op()) == "sigmoid");
  // none is the input itself: no node is recorded.
  const std::size_t nodes = tape.size();
  const Var<double> same = activate(x, Activation::none);
  CHECK(tape.size() == nodes);
  CHECK(same.index() == x.index());
  require_close(same.value(), a);
}

TEST_CASE("activation: activate works for float tapes", "[activation]") {
  Tape<float> tape;
  const Var<float> x = tape.constant(xt::xarray<float>{-1.0f, 0.5f, 2.0f});
  CHECK(activate(x, Activation::relu).value()(0) == 0.0f);
  CHECK(activate(x, Activation::relu).value()(2) == 2.0f);
  CHECK(activate(x, Activation::tanh).value()(1) == Approx(std::tanh(0.5)).epsilon(1e-6));
  CHECK(activate(x, Activation::sigmoid).value()(2) == Approx(1.0 / (1.0 + std::exp(-2.0))).epsilon(1e-6));
  CHECK(activate(x, Activation::none).value()(0) == -1.0f);
}

TEST_CASE("activation: gradients of activate match finite differences", "[activation]") {
  // Inputs kept away from relu's kink at 0.
  xt::xarray<double> a = random_array({3, 4}, -2.0, 2.0, 17);
  for (double& v : a)
    if (std::abs(v) < 0.05) v = 0.3;
  for (Activation act : all_activations) {
    INFO("activation " << to_string(act));
    require_gradient([act](Tape<double>&, const Vars& in) { return activate(in[0], act); }, {a});
  }
}

TEST_CASE("activation: activate equals linear's fused activation", "[activation]") {
  Tape<double> tape;
  const Var<double> x = tape.constant(random_array({5, 3}, -2.0, 2.0, 1));
  const Var<double> w = tape.constant(random_array({3, 4}, -1.0, 1.0, 2));
  const Var<double> b = tape.constant(random_array({4}, -1.0, 1.0, 3));
  const Var<double> pre = linear(x, w, b, Activation::none);
  for (Activation act : all_activations) {
    INFO("activation " << to_string(act));
    require_close(linear(x, w, b, act).value(), activate(pre, act).value(), 1e-13);
  }
}

TEST_CASE("activation: to_string names every activation", "[activation]") {
  CHECK(std::string(to_string(Activation::none)) == "none");
  CHECK(std::string(to_string(Activation::relu)) == "relu");
  CHECK(std::string(to_string(Activation::tanh)) == "tanh");
  CHECK(std::string(to_string(Activation::sigmoid)) == "sigmoid");
}
