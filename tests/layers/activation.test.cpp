#include "support/gradients.hpp"

#include <string>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

const Activation all_activations[] = {Activation::none, Activation::relu, Activation::tanh, Activation::sigmoid};

}  // namespace

TEST_CASE("activation: activate applies relu, tanh, sigmoid or nothing", "[activation]") {
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
