#include "support/gradients.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("mlp: layers are named layer_0, layer_1, ... under the MLP's scope", "[mlp]") {
  ParameterStore<float> store(1);
  const MLP<float> mlp(store.scope("enc"), "mlp", {4, 3, 2});
  CHECK(mlp.sizes() == std::vector<std::size_t>{4, 3, 2});
  CHECK(store.size() == 0);  // parameters are created on first use
  Tape<float> tape;
  const Var<float> y = mlp(tape.constant(xt::xarray<float>(xt::ones<float>({5, 6}))));
  CHECK(y.shape() == Shape{5, 2});
  std::vector<std::string> names;
  std::vector<Shape> shapes;
  for (const auto& p : store) {
    names.push_back(p->name);
    shapes.push_back(p->shape);
  }
  CHECK(names == std::vector<std::string>{"enc/mlp/layer_0/weight", "enc/mlp/layer_0/bias", "enc/mlp/layer_1/weight",
                                          "enc/mlp/layer_1/bias", "enc/mlp/layer_2/weight", "enc/mlp/layer_2/bias"});
  CHECK(shapes == std::vector<Shape>{Shape{6, 4}, Shape{4}, Shape{4, 3}, Shape{3}, Shape{3, 2}, Shape{2}});
  // Reused on a second call, with another batch size.
  mlp(tape.constant(xt::xarray<float>(xt::ones<float>({9, 6}))));
  CHECK(store.size() == 6);
}

TEST_CASE("mlp: output equals the stacked dense layers with hidden and output activations", "[mlp]") {
  ParameterStore<double> store(2);
  MlpOptions<double> options;
  options.hidden_activation = Activation::tanh;
  options.output_activation = Activation::sigmoid;
  options.bias_init = init::uniform<double>(-0.3, 0.3);
  const MLP<double> mlp(store.scope("net"), "mlp", {5, 3}, options);
  Tape<double> tape;
  const xt::xarray<double> a = random_array({4, 2}, -2.0, 2.0, 3);
  const Var<double> y = mlp(tape.constant(a));
  // By hand.
  auto layer = [&store](const xt::xarray<double>& x, const std::string& name, bool last) {
    const Parameter<double>& w = store.at("net/mlp/" + name + "/weight");
    const Parameter<double>& b = store.at("net/mlp/" + name + "/bias");
    const std::size_t rows = x.shape()[0], in = x.shape()[1], out = w.shape[1];
    REQUIRE(w.shape[0] == in);
    xt::xarray<double> h = xt::zeros<double>({rows, out});
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < out; ++j) {
        double s = b.value[j];
        for (std::size_t k = 0; k < in; ++k) s += x(r, k) * w.value[k * out + j];
        h(r, j) = last ? 1.0 / (1.0 + std::exp(-s)) : std::tanh(s);
      }
    }
    return h;
  };
  const xt::xarray<double> expected = layer(layer(a, "layer_0", false), "layer_1", true);
  require_close(y.value(), expected, 1e-13);
  // A user initialiser reaches every layer's weight.
  ParameterStore<double> other;
  MlpOptions<double> constant_options;
  constant_options.weight_init = init::constant<double>(0.5);
  constant_options.bias_init = init::constant<double>(-1.0);
  const MLP<double> constant_mlp(other.scope("c"), "m", {2, 1}, constant_options);
  const Var<double> yc = constant_mlp(tape.constant(xt::xarray<double>{{1.0, 2.0}}));
  // hidden: relu(0.5 * 3 - 1) = 0.5 each; output: 0.5 * (0.5 + 0.5) - 1 = -0.5 (no activation)
  CHECK(yc.item() == Approx(-0.5).margin(1e-15));
  CHECK(other.at("c/m/layer_1/weight").value[0] == 0.5);
}

TEST_CASE("mlp: at least one layer is needed", "[mlp]") {
  ParameterStore<float> store;
  REQUIRE_THROWS_AS(MLP<float>(store.scope("enc"), "mlp", {}), ArgumentError);
  REQUIRE_THROWS_WITH(MLP<float>(store.scope("enc"), "mlp", {}), "MLP 'mlp': expected at least one layer size");
}

TEST_CASE("mlp: learns y = sin(x) on [-3, 3] with Adam", "[mlp]") {
  const std::size_t n = 64;
  xt::xarray<float> xs = xt::empty<float>({n, std::size_t{1}});
  xt::xarray<float> ys = xt::empty<float>({n, std::size_t{1}});
  for (std::size_t i = 0; i < n; ++i) {
    xs(i, 0) = -3.0f + 6.0f * static_cast<float>(i) / static_cast<float>(n - 1);
    ys(i, 0) = std::sin(xs(i, 0));
  }
  ParameterStore<float> store(2024);
  MlpOptions<float> options;
  options.hidden_activation = Activation::tanh;
  const MLP<float> mlp(store.scope("reg"), "mlp", {32, 32, 1}, options);
  optim::AdamOptions adam_options;
  adam_options.learning_rate = 0.01;
  optim::Adam<float> adam(store, adam_options);
  Tape<float> tape;
  float first_loss = 0;
  float loss_value = 0;
  const int steps = 2000;
  for (int step = 0; step < steps; ++step) {
    tape.clear();
    const Var<float> pred = mlp(tape.constant(xs));
    const Var<float> loss = mean(square(pred - tape.constant(ys)));
    loss_value = loss.item();
    if (step == 0) first_loss = loss_value;
    adam.zero_grad();
    tape.backward(loss);
    adam.step();
  }
  tape.clear();
  const float final_loss = mean(square(mlp(tape.constant(xs)) - tape.constant(ys))).item();
  INFO("first loss " << first_loss << ", loss at the last step " << loss_value << ", final " << final_loss);
  CHECK(adam.steps() == static_cast<std::uint64_t>(steps));
  CHECK(first_loss > 0.1f);
  CHECK(final_loss < 0.01f);
}

TEST_CASE("mlp: learns XOR", "[mlp]") {
  const xt::xarray<float> xs = {{0.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 0.0f}, {1.0f, 1.0f}};
  xt::xarray<float> ys = xt::zeros<float>({4, 1});
  ys(1, 0) = 1.0f;
  ys(2, 0) = 1.0f;
  ParameterStore<float> store(7);
  MlpOptions<float> options;
  options.hidden_activation = Activation::tanh;  // output: logits
  const MLP<float> mlp(store.scope("xor"), "mlp", {8, 1}, options);
  optim::AdamOptions adam_options;
  adam_options.learning_rate = 0.05;
  optim::Adam<float> adam(store, adam_options);
  Tape<float> tape;
  for (int step = 0; step < 1000; ++step) {
    tape.clear();
    const Var<float> logits = mlp(tape.constant(xs));
    // Binary cross-entropy from logits, stable: softplus(z) - y z.
    const Var<float> loss = mean(softplus(logits) - tape.constant(ys) * logits);
    adam.zero_grad();
    tape.backward(loss);
    adam.step();
  }
  tape.clear();
  const Var<float> p = sigmoid(mlp(tape.constant(xs)));
  for (std::size_t i = 0; i < 4; ++i) {
    INFO("input " << xs(i, 0) << ", " << xs(i, 1) << ": prediction " << p.value()(i, 0));
    CHECK(std::abs(p.value()(i, 0) - ys(i, 0)) < 0.1f);
  }
}
