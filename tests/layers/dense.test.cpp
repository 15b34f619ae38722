#include "support/gradients.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

const Activation dense_activations[] = {Activation::none, Activation::relu, Activation::tanh, Activation::sigmoid};

double apply(Activation act, double v) {
  switch (act) {
    case Activation::relu: return v > 0 ? v : 0.0;
    case Activation::tanh: return std::tanh(v);
    case Activation::sigmoid: return 1.0 / (1.0 + std::exp(-v));
    case Activation::none: break;
  }
  return v;
}

/// act(x W + b) with plain loops; x [rows, in], W [in, units], b [units] or null.
xt::xarray<double> dense_by_hand(const xt::xarray<double>& x, const Parameter<double>& w, const Parameter<double>* b,
                                 Activation act) {
  const std::size_t rows = x.shape()[0], in = x.shape()[1], units = w.shape[1];
  xt::xarray<double> y = xt::zeros<double>({rows, units});
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t j = 0; j < units; ++j) {
      double s = b != nullptr ? b->value[j] : 0.0;
      for (std::size_t k = 0; k < in; ++k) s += x(r, k) * w.value[k * units + j];
      y(r, j) = apply(act, s);
    }
  }
  return y;
}

DenseOptions<double> with(Activation act, bool use_bias = true) {
  DenseOptions<double> o;
  o.activation = act;
  o.use_bias = use_bias;
  o.bias_init = init::uniform<double>(-0.5, 0.5);  // non-zero, so the bias shows in the output
  return o;
}

}  // namespace

TEST_CASE("dense: creates <scope>/<name>/weight [in, units] and bias [units]", "[dense]") {
  ParameterStore<float> store(1);
  Tape<float> tape;
  const Var<float> x = tape.constant(xt::xarray<float>(xt::ones<float>({4, 3})));
  const Var<float> y = dense(store.scope("enc"), "h1", x, 5);
  CHECK(y.shape() == Shape{4, 5});
  REQUIRE(store.size() == 2);
  const Parameter<float>& w = store.at("enc/h1/weight");
  const Parameter<float>& b = store.at("enc/h1/bias");
  CHECK(w.shape == Shape{3, 5});
  CHECK(b.shape == Shape{5});
  CHECK((*store.begin())->name == "enc/h1/weight");
  // Default initialisers: Glorot uniform weight, zero bias.
  const double limit = std::sqrt(6.0 / 8.0);
  for (std::size_t i = 0; i < w.size; ++i) CHECK(std::abs(w.value[i]) <= limit);
  CHECK(std::vector<float>(b.value, b.value + 5) == std::vector<float>(5, 0.0f));
  ParameterStore<float> same_seed(1);
  same_seed.get_or_create("enc/h1/weight", Shape{3, 5}, init::glorot_uniform<float>());
  CHECK(std::vector<float>(w.value, w.value + w.size) ==
        std::vector<float>(same_seed.at("enc/h1/weight").value, same_seed.at("enc/h1/weight").value + w.size));
  CHECK(std::string(y.op()) == "linear");
}

TEST_CASE("dense: output equals act(x W + b) for every activation", "[dense]") {
  const xt::xarray<double> a = random_array({6, 4}, -2.0, 2.0, 5);
  for (Activation act : dense_activations) {
    INFO("activation " << to_string(act));
    ParameterStore<double> store(9);
    Tape<double> tape;
    const Var<double> y = dense(store.scope("net"), "layer", tape.constant(a), 3, with(act));
    const xt::xarray<double> expected =
        dense_by_hand(a, store.at("net/layer/weight"), &store.at("net/layer/bias"), act);
    require_close(y.value(), expected, 1e-13);
  }
}

TEST_CASE("dense: use_bias = false creates no bias and computes act(x W)", "[dense]") {
  const xt::xarray<double> a = random_array({5, 4}, -2.0, 2.0, 6);
  for (Activation act : dense_activations) {
    INFO("activation " << to_string(act));
    ParameterStore<double> store(2);
    Tape<double> tape;
    const Var<double> y = dense(store.scope("net"), "nobias", tape.constant(a), 3, with(act, false));
    CHECK(store.size() == 1);
    CHECK(store.find("net/nobias/bias") == nullptr);
    require_close(y.value(), dense_by_hand(a, store.at("net/nobias/weight"), nullptr, act), 1e-13);
  }
}

TEST_CASE("dense: inputs of rank 1 and rank 3 map the last axis", "[dense]") {
  for (bool use_bias : {true, false}) {
    INFO("use_bias " << use_bias);
    ParameterStore<double> store(4);
    Tape<double> tape;
    const ParameterScope<double> scope = store.scope("s");
    const xt::xarray<double> a3 = random_array({2, 3, 4}, -1.0, 1.0, 7);
    const Var<double> y3 = dense(scope, "d", tape.constant(a3), 5, with(Activation::tanh, use_bias));
    CHECK(y3.shape() == Shape{2, 3, 5});
    const Parameter<double>* b = use_bias ? &store.at("s/d/bias") : nullptr;
    const xt::xarray<double> flat = xt::reshape_view(a3, {6, 4});
    const xt::xarray<double> expected = dense_by_hand(flat, store.at("s/d/weight"), b, Activation::tanh);
    require_close(xt::xarray<double>(xt::reshape_view(y3.value(), {6, 5})), expected, 1e-13);

    const xt::xarray<double> a1 = {0.5, -1.0, 2.0, 0.25};
    const Var<double> y1 = dense(scope, "d", tape.constant(a1), 5, with(Activation::tanh, use_bias));
    CHECK(y1.shape() == Shape{5});
    const xt::xarray<double> row = xt::reshape_view(a1, {1, 4});
    require_close(xt::xarray<double>(xt::reshape_view(y1.value(), {1, 5})),
                  dense_by_hand(row, store.at("s/d/weight"), b, Activation::tanh), 1e-13);
    CHECK(store.size() == (use_bias ? 2U : 1U));
  }
}

TEST_CASE("dense: backward of sum(dense(x)) gives dW = x^T 1 and db = batch", "[dense]") {
  ParameterStore<double> store(3);
  Tape<double> tape;
  const xt::xarray<double> a = random_array({4, 3}, -2.0, 2.0, 8);
  const Var<double> x = tape.variable(a);
  const Var<double> y = dense(store.scope("m"), "d", x, 2, with(Activation::none));
  tape.backward(sum(y));
  const Parameter<double>& w = store.at("m/d/weight");
  const Parameter<double>& b = store.at("m/d/bias");
  for (std::size_t i = 0; i < 3; ++i) {
    double column_sum = 0;
    for (std::size_t r = 0; r < 4; ++r) column_sum += a(r, i);
    for (std::size_t j = 0; j < 2; ++j) CHECK(w.grad[i * 2 + j] == Approx(column_sum).margin(1e-13));
  }
  CHECK(b.grad[0] == 4.0);
  CHECK(b.grad[1] == 4.0);
  // dx = 1 W^T: each row holds the row sums of W.
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t i = 0; i < 3; ++i) CHECK(x.grad()(r, i) == Approx(w.value[i * 2] + w.value[i * 2 + 1]).margin(1e-13));
  // Parameter gradients accumulate until zero_grad.
  tape.backward(sum(y));
  CHECK(b.grad[0] == 8.0);
  store.zero_grad();
  CHECK(b.grad[0] == 0.0);
  CHECK(w.grad[0] == 0.0);
}

TEST_CASE("dense: parameter gradients match finite differences through the store", "[dense]") {
  const xt::xarray<double> a = random_array({5, 3}, -1.5, 1.5, 10);
  const xt::xarray<double> target = random_array({5, 2}, -1.0, 1.0, 11);
  for (Activation act : dense_activations) {
    for (bool use_bias : {true, false}) {
      INFO("activation " << to_string(act) << ", use_bias " << use_bias);
      ParameterStore<double> store(12);
      Tape<double> tape;
      auto loss = [&] {
        tape.clear();
        const Var<double> y = dense(store.scope("m"), "d", tape.constant(a), 2, with(act, use_bias));
        return sum(square(y - tape.constant(target)));
      };
      const Var<double> l = loss();
      store.zero_grad();
      tape.backward(l);
      // Analytic gradients, copied before the finite differences re-record the tape.
      std::vector<std::vector<double>> analytic;
      for (const auto& p : store) analytic.emplace_back(p->grad, p->grad + p->size);
      std::size_t k = 0;
      for (const auto& p : store) {
        for (std::size_t i = 0; i < p->size; ++i) {
          const double h = 1e-6;
          const double saved = p->value[i];
          p->value[i] = saved + h;
          const double up = loss().item();
          p->value[i] = saved - h;
          const double down = loss().item();
          p->value[i] = saved;
          const double numeric = (up - down) / (2 * h);
          INFO(p->name << "[" << i << "]");
          CHECK(analytic[k][i] == Approx(numeric).margin(1e-7).epsilon(1e-6));
        }
        ++k;
      }
      CHECK(k == (use_bias ? 2U : 1U));
    }
  }
}

TEST_CASE("dense: the Dense class behaves like dense()", "[dense]") {
  ParameterStore<double> store(13);
  const Dense<double> layer(store.scope("enc"), "h", 4, with(Activation::sigmoid));
  CHECK(layer.units() == 4);
  Tape<double> tape;
  const xt::xarray<double> a = random_array({3, 2}, -1.0, 1.0, 14);
  const Var<double> y = layer(tape.constant(a));
  CHECK(store.size() == 2);
  CHECK(store.at("enc/h/weight").shape == Shape{2, 4});
  CHECK(store.at("enc/h/bias").shape == Shape{4});
  require_close(y.value(), dense_by_hand(a, store.at("enc/h/weight"), &store.at("enc/h/bias"), Activation::sigmoid),
                1e-13);
  const Var<double> y2 = dense(store.scope("enc"), "h", tape.constant(a), 4, with(Activation::sigmoid));
  CHECK(store.size() == 2);
  require_close(y2.value(), y.value());
  // Calling the layer again reuses its parameters.
  layer(tape.constant(random_array({7, 2})));
  CHECK(store.size() == 2);
}

TEST_CASE("dense: bad inputs throw", "[dense]") {
  ParameterStore<float> store;
  Tape<float> tape;
  REQUIRE_THROWS_AS(dense(store.scope("enc"), "h1", tape.constant(1.0f), 3), ShapeError);
  REQUIRE_THROWS_WITH(dense(store.scope("enc"), "h1", tape.constant(1.0f), 3),
                      "dense 'h1': input must have rank >= 1, got shape []");
  CHECK(store.size() == 0);
  // A reused layer must see the same input width.
  dense(store.scope("enc"), "h1", tape.constant(xt::xarray<float>(xt::ones<float>({2, 3}))), 4);
  REQUIRE_THROWS_AS(dense(store.scope("enc"), "h1", tape.constant(xt::xarray<float>(xt::ones<float>({2, 5}))), 4),
                    ShapeError);
  REQUIRE_THROWS_WITH(dense(store.scope("enc"), "h1", tape.constant(xt::xarray<float>(xt::ones<float>({2, 5}))), 4),
                      "parameter 'enc/h1/weight': requested with shape [5, 4] but it exists with shape [3, 4] (a "
                      "reused parameter must keep its shape)");
}
