#include "support/gradients.hpp"

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// The parameter's values as a copy in its shape.
xt::xarray<double> conv_layer_values(const Parameter<double>& p) { return xt::xarray<double>(p.value_view()); }

/// Mean and variance of a parameter's values, and the largest magnitude.
struct ConvLayerStats {
  double mean = 0, variance = 0, max_abs = 0;
};

template <class T>
ConvLayerStats conv_layer_stats(const Parameter<T>& p) {
  ConvLayerStats s;
  for (std::size_t i = 0; i < p.size; ++i) s.mean += static_cast<double>(p.value[i]);
  s.mean /= static_cast<double>(p.size);
  for (std::size_t i = 0; i < p.size; ++i) {
    const double d = static_cast<double>(p.value[i]) - s.mean;
    s.variance += d * d;
    s.max_abs = std::max(s.max_abs, std::abs(static_cast<double>(p.value[i])));
  }
  s.variance /= static_cast<double>(p.size - 1);
  return s;
}

}  // namespace

TEST_CASE("conv2d layer: creates <scope>/<name>/weight [C_out, C_in/G, kH, kW] and bias [C_out]", "[conv2d]") {
  ParameterStore<float> store(1);
  Tape<float> tape;
  const Var<float> x = tape.constant(xt::xarray<float>(xt::ones<float>({2, 4, 7, 6})));
  Conv2dLayerOptions<float> options;
  options.groups = 2;
  options.stride = {2, 1};
  options.padding = {1, 1};
  const Var<float> y = conv2d(store.scope("enc"), "c1", x, 6, {3, 2}, options);
  CHECK(y.shape() == Shape{2, 6, 4, 7});
  REQUIRE(store.size() == 2);
  CHECK((*store.begin())->name == "enc/c1/weight");
  CHECK(store.at("enc/c1/weight").shape == Shape{6, 2, 3, 2});
  CHECK(store.at("enc/c1/bias").shape == Shape{6});

  // a second call (another batch size) reuses them
  conv2d(store.scope("enc"), "c1", tape.constant(xt::xarray<float>(xt::ones<float>({3, 4, 7, 6}))), 6, {3, 2}, options);
  CHECK(store.size() == 2);

  options.use_bias = false;
  options.groups = 1;
  conv2d(store.scope("enc"), "c2", x, 3, {1, 1}, options);
  CHECK(store.size() == 3);
  CHECK(store.at("enc/c2/weight").shape == Shape{3, 4, 1, 1});
  CHECK(store.find("enc/c2/bias") == nullptr);
}

TEST_CASE("conv_transpose2d layer: weight [C_in, C_out/G, kH, kW], bias [C_out], output_padding", "[conv2d]") {
  ParameterStore<float> store(1);
  Tape<float> tape;
  const Var<float> x = tape.constant(xt::xarray<float>(xt::ones<float>({2, 4, 3, 3})));
  ConvTranspose2dLayerOptions<float> options;
  options.groups = 2;
  options.stride = {2, 2};
  options.padding = {1, 1};
  options.output_padding = {1, 0};
  const Var<float> y = conv_transpose2d(store.scope("dec"), "t1", x, 6, {3, 3}, options);
  // (3 - 1) 2 - 2 + 3 + output_padding
  CHECK(y.shape() == Shape{2, 6, 6, 5});
  REQUIRE(store.size() == 2);
  CHECK(store.at("dec/t1/weight").shape == Shape{4, 3, 3, 3});
  CHECK(store.at("dec/t1/bias").shape == Shape{6});
}

TEST_CASE("conv2d layer: the output is the op's with the same weights, bias and fused activation", "[conv2d]") {
  for (const Activation act : {Activation::none, Activation::relu, Activation::tanh, Activation::sigmoid}) {
    for (const bool use_bias : {true, false}) {
      INFO(to_string(act) << ", bias " << use_bias);
      ParameterStore<double> store(7);
      Tape<double> tape;
      const Var<double> x = tape.constant(random_array({2, 4, 6, 5}, -1, 1, 3));
      Conv2dLayerOptions<double> options;
      options.stride = {2, 1};
      options.padding = {1, 2};
      options.dilation = {1, 2};
      options.groups = 2;
      options.activation = act;
      options.use_bias = use_bias;
      const Var<double> y = conv2d(store.scope("m"), "c", x, 4, {3, 2}, options);
      const Conv2dOptions op_options{{2, 1}, {1, 2}, {1, 2}, 2};
      const Var<double> w = store.at("m/c/weight").on(tape);
      const Var<double> z = use_bias ? conv2d(x, w, store.at("m/c/bias").on(tape), op_options) : conv2d(x, w, op_options);
      require_close(xt::xarray<double>(y.value()), xt::xarray<double>(activate(z, act).value()), 0);
      // the class form gives the same
      const Conv2d<double> layer(store.scope("m"), "c", 4, {3, 2}, options);
      require_close(xt::xarray<double>(layer(x).value()), xt::xarray<double>(y.value()), 0);
      CHECK(layer.out_channels() == 4);
      CHECK(store.size() == (use_bias ? 2u : 1u));
    }
  }
}

TEST_CASE("conv_transpose2d layer: the output is the op's with the same weights and bias", "[conv2d]") {
  ParameterStore<double> store(7);
  Tape<double> tape;
  const Var<double> x = tape.constant(random_array({2, 4, 3, 4}, -1, 1, 5));
  ConvTranspose2dLayerOptions<double> options;
  options.stride = {2, 2};
  options.padding = {1, 0};
  options.output_padding = {1, 1};
  options.groups = 2;
  options.activation = Activation::relu;
  const ConvTranspose2d<double> layer(store.scope("m"), "t", 6, {3, 3}, options);
  const Var<double> y = layer(x);
  const ConvTranspose2dOptions op_options{{2, 2}, {1, 0}, {1, 1}, {1, 1}, 2};
  const Var<double> z =
      conv_transpose2d(x, store.at("m/t/weight").on(tape), store.at("m/t/bias").on(tape), op_options);
  require_close(xt::xarray<double>(y.value()), xt::xarray<double>(relu(z).value()), 0);
  CHECK(xt::amax(y.value())() > 0);
}

TEST_CASE("conv2d layer: the default initialisers are PyTorch's, with the fans of a conv weight", "[conv2d]") {
  ParameterStore<double> store(11);
  Tape<double> tape;
  // C_in 12, groups 3: fan_in = 4 * 5 * 5 = 100, bound 0.1
  conv2d(store.scope("s"), "c", tape.constant(xt::xarray<double>(xt::zeros<double>({1, 12, 5, 5}))), 300, {5, 5},
         Conv2dLayerOptions<double>{.groups = 3});
  const ConvLayerStats w = conv_layer_stats(store.at("s/c/weight"));
  CHECK(w.max_abs <= 0.1);
  CHECK(w.max_abs > 0.0999);
  CHECK(std::abs(w.mean) < 0.002);                           // 30000 values: sd of the mean 0.00033
  CHECK(std::abs(w.variance / (0.01 / 3) - 1) < 0.03);       // U(-b, b) has variance b^2 / 3
  const ConvLayerStats b = conv_layer_stats(store.at("s/c/bias"));
  CHECK(b.max_abs <= 0.1);
  CHECK(b.max_abs > 0.09);  // 300 values
  CHECK(std::abs(b.variance / (0.01 / 3) - 1) < 0.25);

  // transposed: fan_in = C_out / G kH kW = 50 / 2 * 2 * 2 = 100 (PyTorch's count)
  conv_transpose2d(store.scope("s"), "t", tape.constant(xt::xarray<double>(xt::zeros<double>({1, 200, 2, 2}))), 50,
                   {2, 2}, ConvTranspose2dLayerOptions<double>{.groups = 2});
  const ConvLayerStats t = conv_layer_stats(store.at("s/t/weight"));
  CHECK(t.max_abs <= 0.1);
  CHECK(t.max_abs > 0.0999);
  CHECK(std::abs(t.variance / (0.01 / 3) - 1) < 0.03);
  CHECK(conv_layer_stats(store.at("s/t/bias")).max_abs <= 0.1);
}

TEST_CASE("conv2d layer: generic initialisers see the conv fans (Glorot, He)", "[conv2d]") {
  ParameterStore<double> store(12);
  Tape<double> tape;
  const Var<double> x = tape.constant(xt::xarray<double>(xt::zeros<double>({1, 16, 3, 3})));
  // fan_in = 16 * 3 * 3 = 144, fan_out = 32 * 3 * 3 = 288: Glorot limit sqrt(6 / 432)
  Conv2dLayerOptions<double> options;
  options.weight_init = init::glorot_uniform<double>();
  options.bias_init = init::constant(0.25);
  conv2d(store.scope("g"), "c", x, 32, {3, 3}, options);
  const double limit = std::sqrt(6.0 / 432.0);
  const ConvLayerStats g = conv_layer_stats(store.at("g/c/weight"));
  CHECK(g.max_abs <= limit);
  CHECK(g.max_abs > 0.999 * limit);
  CHECK(xt::all(xt::equal(store.at("g/c/bias").value_view(), 0.25)));
  // He normal: sd sqrt(2 / 144)
  options.weight_init = init::he_normal<double>();
  conv2d(store.scope("g"), "h", x, 32, {3, 3}, options);
  const ConvLayerStats h = conv_layer_stats(store.at("g/h/weight"));
  CHECK(std::abs(h.variance / (2.0 / 144.0) - 1) < 0.06);  // 4608 values: sd of the ratio 0.021
  // a user initialiser is told the fan shape [kH, kW, fan-in channels, fan-out channels]
  Shape seen;
  options.weight_init = [&seen](std::span<double> v, const Shape& shape, Rng&) {
    seen = shape;
    std::fill(v.begin(), v.end(), 1.0);
  };
  conv2d(store.scope("g"), "u", x, 8, {3, 2}, options);
  CHECK(seen == Shape{3, 2, 16, 8});
  CHECK(store.at("g/u/weight").shape == Shape{8, 16, 3, 2});
}

TEST_CASE("conv2d layer: gradients reach every parameter and match the op's", "[conv2d]") {
  ParameterStore<double> store(3);
  Tape<double> tape;
  const Var<double> x = tape.constant(random_array({2, 2, 5, 5}, -1, 1, 9));
  Conv2dLayerOptions<double> c_options;
  c_options.padding = {1, 1};
  c_options.activation = Activation::tanh;
  ConvTranspose2dLayerOptions<double> t_options;
  t_options.stride = {2, 2};
  const Var<double> h = conv2d(store.scope("net"), "c", x, 3, {3, 3}, c_options);
  const Var<double> y = conv_transpose2d(store.scope("net"), "t", h, 2, {2, 2}, t_options);
  CHECK(y.shape() == Shape{2, 2, 10, 10});
  tape.backward(sum(square(y)));
  REQUIRE(store.size() == 4);
  for (const auto& p : store) {
    INFO(p->name);
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < p->size; ++i) nonzero += p->grad[i] != 0;
    CHECK(nonzero == p->size);
  }
  // the same graph through the ops, on copies of the values, gives the same gradients
  Tape<double> ops;
  xt::xarray<double> wc = conv_layer_values(store.at("net/c/weight")), bc = conv_layer_values(store.at("net/c/bias"));
  xt::xarray<double> wt = conv_layer_values(store.at("net/t/weight")), bt = conv_layer_values(store.at("net/t/bias"));
  xt::xarray<double> gwc = xt::zeros_like(wc), gbc = xt::zeros_like(bc), gwt = xt::zeros_like(wt), gbt = xt::zeros_like(bt);
  const Var<double> h2 = tanh(conv2d(ops.constant(xt::xarray<double>(x.value())), ops.parameter(wc, gwc),
                                     ops.parameter(bc, gbc), Conv2dOptions{.padding = {1, 1}}));
  const Var<double> y2 =
      conv_transpose2d(h2, ops.parameter(wt, gwt), ops.parameter(bt, gbt), ConvTranspose2dOptions{.stride = {2, 2}});
  ops.backward(sum(square(y2)));
  require_close(xt::xarray<double>(store.at("net/c/weight").grad_view()), gwc, 1e-12);
  require_close(xt::xarray<double>(store.at("net/c/bias").grad_view()), gbc, 1e-12);
  require_close(xt::xarray<double>(store.at("net/t/weight").grad_view()), gwt, 1e-12);
  require_close(xt::xarray<double>(store.at("net/t/bias").grad_view()), gbt, 1e-12);
}

TEST_CASE("conv2d layer: finite differences through the layer's parameters", "[conv2d]") {
  // the layer reads its parameters in place: perturbing them moves the loss as the gradient says
  ParameterStore<double> store(5);
  const xt::xarray<double> xv = random_array({1, 2, 4, 4}, -1, 1, 4);
  Conv2dLayerOptions<double> options;
  options.stride = {2, 2};
  options.padding = {1, 1};
  options.activation = Activation::sigmoid;
  const auto loss = [&] {
    Tape<double> tape;
    const Var<double> y = conv2d(store.scope("fd"), "c", tape.constant(xv), 3, {3, 3}, options);
    const Var<double> l = sum(square(y));
    const double value = l.item();
    store.zero_grad();
    tape.backward(l);
    return value;
  };
  loss();
  for (const auto& p : store) {
    for (std::size_t i = 0; i < p->size; i += 5) {
      loss();
      const double analytic = p->grad[i];
      const double saved = p->value[i];
      const double eps = 1e-6;
      p->value[i] = saved + eps;
      const double up = loss();
      p->value[i] = saved - eps;
      const double down = loss();
      p->value[i] = saved;
      INFO(p->name << "[" << i << "]");
      CHECK(std::abs((up - down) / (2 * eps) - analytic) < 1e-7);
    }
  }
}

TEST_CASE("conv2d layer: errors name the layer and leave the store as it was", "[conv2d]") {
  ParameterStore<float> store(1);
  Tape<float> tape;
  const Var<float> x = tape.constant(xt::xarray<float>(xt::ones<float>({2, 3, 4, 4})));
  REQUIRE_THROWS_AS(conv2d(store.scope("e"), "c", tape.constant(xt::xarray<float>(xt::ones<float>({3, 4, 4}))), 2, {1, 1}),
                    ShapeError);
  REQUIRE_THROWS_WITH(conv2d(store.scope("e"), "c", tape.constant(xt::xarray<float>(xt::ones<float>({3, 4, 4}))), 2,
                             {1, 1}),
                      "conv2d 'c': input must be [N, C_in, H, W], got shape [3, 4, 4]");
  REQUIRE_THROWS_AS(conv2d(store.scope("e"), "c", x, 4, {3, 0}), ArgumentError);
  REQUIRE_THROWS_WITH(conv2d(store.scope("e"), "c", x, 4, {3, 0}),
                      "conv2d 'c': expected out_channels, kernel and groups >= 1; got out_channels 4, kernel {3, 0}, "
                      "groups 1");
  REQUIRE_THROWS_WITH(conv2d(store.scope("e"), "c", x, 4, {3, 3}, Conv2dLayerOptions<float>{.groups = 2}),
                      "conv2d 'c': C_in (3) and out_channels (4) must be divisible by groups (2)");
  REQUIRE_THROWS_WITH(conv_transpose2d(store.scope("e"), "t", x, 0, {3, 3}),
                      "conv_transpose2d 't': expected out_channels, kernel and groups >= 1; got out_channels 0, kernel "
                      "{3, 3}, groups 1");
  // the op's own checks run before the first call creates the parameters
  REQUIRE_THROWS_WITH(conv2d(store.scope("e"), "c", x, 4, {5, 3}),
                      "conv2d: x has shape [2, 3, 4, 4], weight has shape [4, 3, 5, 3], bias has shape [4]; the kernel "
                      "(5 x 3 with dilation {1, 1}) is larger than the padded input (4 x 4 with padding {0, 0})");
  REQUIRE_THROWS_WITH(conv2d(store.scope("e"), "c", x, 4, {3, 3}, Conv2dLayerOptions<float>{.stride = {0, 1}}),
                      "conv2d: expected stride, dilation and groups >= 1; got stride {0, 1}, dilation {1, 1}, groups 1");
  REQUIRE_THROWS_WITH(conv_transpose2d(store.scope("e"), "t", x, 4, {3, 3},
                                       ConvTranspose2dLayerOptions<float>{.output_padding = {1, 0}}),
                      "conv_transpose2d: output_padding {1, 0} must be smaller than the stride {1, 1} or the dilation "
                      "{1, 1} in each dimension");
  CHECK(store.size() == 0);
  // a reused layer keeps its shapes: other input channels are refused by the store
  conv2d(store.scope("e"), "c", x, 4, {3, 3});
  REQUIRE_THROWS_WITH(conv2d(store.scope("e"), "c", tape.constant(xt::xarray<float>(xt::ones<float>({2, 5, 4, 4}))), 4,
                             {3, 3}),
                      "parameter 'e/c/weight': requested with shape [4, 5, 3, 3] but it exists with shape [4, 3, 3, 3] "
                      "(a reused parameter must keep its shape)");
}

namespace {

/// 8 x 8 one-channel images of a horizontal bar (class 0), a vertical bar (1) or a diagonal
/// (2) at a random place, plus uniform noise; labels one-hot [n, 3].
void conv_layer_bars(std::size_t n, std::uint32_t seed, xt::xarray<float>& images, xt::xarray<float>& onehot,
                     std::vector<std::size_t>& labels) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> noise(-0.3f, 0.3f);
  images = xt::zeros<float>({n, std::size_t{1}, std::size_t{8}, std::size_t{8}});
  onehot = xt::zeros<float>({n, std::size_t{3}});
  labels.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t label = i % 3, at = rng() % 6 + 1;
    labels[i] = label;
    onehot(i, label) = 1;
    for (std::size_t a = 0; a < 8; ++a)
      for (std::size_t b = 0; b < 8; ++b) {
        const bool on = label == 0 ? a == at : label == 1 ? b == at : (a + 8 - b) % 8 == at;
        images(i, 0, a, b) = (on ? 1.0f : 0.0f) + noise(rng);
      }
  }
}

}  // namespace

TEST_CASE("conv2d layer: a tiny conv net (conv, batch norm, relu, pool, flatten, dense) learns bars", "[conv2d]") {
  xt::xarray<float> images, onehot;
  std::vector<std::size_t> labels;
  conv_layer_bars(48, 70, images, onehot, labels);
  ParameterStore<float> store(2025);
  const ParameterScope<float> net = store.scope("net");
  const Conv2d<float> conv(net, "conv", 6, {3, 3}, {.padding = {1, 1}, .use_bias = false});
  BatchNorm<float> bn(net, "bn");
  const Dense<float> head(net, "head", 3);
  const auto logits = [&](const Var<float>& x) {
    return head(flatten(max_pool2d(relu(bn(conv(x))), {2, 2})));
  };
  optim::Adam<float> adam(store, {.learning_rate = 0.01});
  Tape<float> tape;
  const auto loss_of = [&](const Var<float>& z) { return -sum(log_softmax(z) * tape.constant(onehot)) / 48.0f; };
  float first = 0, last = 0;
  const int steps = 300;
  for (int step = 0; step < steps; ++step) {
    tape.clear();
    const Var<float> loss = loss_of(logits(tape.constant(images)));
    last = loss.item();
    if (step == 0) first = last;
    adam.minimize(tape, loss);
  }
  // conv weight, bn gamma and beta, dense weight and bias; the running statistics are buffers
  CHECK(store.size() == 5);
  CHECK(store.buffers().size() == 2);
  INFO("loss " << first << " -> " << last);
  CHECK(first > 0.9f);   // about log 3 at the start
  CHECK(last < 0.1f * first);
  // evaluation mode (running statistics) classifies the training images and fresh ones
  bn.eval();
  const auto accuracy = [&](const xt::xarray<float>& x, const std::vector<std::size_t>& y) {
    tape.clear();
    const xt::xarray<float> z = logits(tape.constant(x)).value();
    std::size_t right = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      std::size_t best = 0;
      for (std::size_t k = 1; k < 3; ++k) best = z(i, k) > z(i, best) ? k : best;
      right += best == y[i];
    }
    return static_cast<double>(right) / static_cast<double>(y.size());
  };
  CHECK(accuracy(images, labels) >= 0.95);
  xt::xarray<float> test_images, test_onehot;
  std::vector<std::size_t> test_labels;
  conv_layer_bars(60, 71, test_images, test_onehot, test_labels);
  CHECK(accuracy(test_images, test_labels) >= 0.8);
}
