#include <cmath>
#include <filesystem>
#include <string>

#include "support/gradients.hpp"
#include "vaelib/io/checkpoint.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Per-channel mean and unbiased variance of x [N, C, H, W] by plain loops.
void bn_layer_channel_stats(const xt::xarray<double>& x, std::size_t c, double& mean, double& unbiased) {
  const std::size_t n = x.shape()[0], h = x.shape()[2], w = x.shape()[3];
  double s = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t a = 0; a < h; ++a)
      for (std::size_t b = 0; b < w; ++b) s += x(i, c, a, b);
  const double m = static_cast<double>(n * h * w);
  mean = s / m;
  double q = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t a = 0; a < h; ++a)
      for (std::size_t b = 0; b < w; ++b) q += (x(i, c, a, b) - mean) * (x(i, c, a, b) - mean);
  unbiased = q / (m - 1);
}

}  // namespace

TEST_CASE("batch_norm layer: gamma and beta are parameters, the running statistics state buffers", "[batch_norm]") {
  ParameterStore<float> store(1);
  Tape<float> tape;
  const Var<float> y = batch_norm(store.scope("enc"), "bn", tape.constant(xt::xarray<float>(xt::ones<float>({2, 3, 4, 4}))));
  CHECK(y.shape() == Shape{2, 3, 4, 4});
  REQUIRE(store.size() == 2);
  CHECK((*store.begin())->name == "enc/bn/gamma");
  CHECK(store.at("enc/bn/gamma").shape == Shape{3});
  CHECK(store.at("enc/bn/beta").shape == Shape{3});
  CHECK(xt::all(xt::equal(store.at("enc/bn/gamma").value_view(), 1.0f)));
  CHECK(xt::all(xt::equal(store.at("enc/bn/beta").value_view(), 0.0f)));
  REQUIRE(store.buffers().size() == 2);
  const StateBuffer<float>* mean = store.find_buffer("enc/bn/running_mean");
  const StateBuffer<float>* var = store.find_buffer("enc/bn/running_var");
  REQUIRE(mean != nullptr);
  REQUIRE(var != nullptr);
  CHECK(mean->shape() == Shape{3});
  // one training step on a constant batch: mean 1, variance 0
  CHECK(xt::allclose(mean->value, 0.1f));
  CHECK(xt::allclose(var->value, 0.9f));
  // [N, C] inputs too, and a second call reuses everything
  batch_norm(store.scope("enc"), "bn", tape.constant(xt::xarray<float>(xt::ones<float>({5, 3}))));
  CHECK(store.size() == 2);
  CHECK(store.buffers().size() == 2);
}

TEST_CASE("batch_norm layer: the output is the op's with the same parameters and statistics", "[batch_norm]") {
  for (const bool training : {true, false}) {
    INFO("training " << training);
    ParameterStore<double> store(2);
    Tape<double> tape;
    const Var<double> x = tape.constant(random_array({3, 2, 3, 4}, -1, 2, 8));
    const ParameterScope<double> scope = store.scope("m");
    batch_norm(scope, "bn", x);  // create; the statistics move away from 0 and 1
    store.at("m/bn/gamma").value[1] = 1.5;
    store.at("m/bn/beta").value[0] = -0.25;
    xt::xarray<double> mean = store.find_buffer("m/bn/running_mean")->value;
    xt::xarray<double> var = store.find_buffer("m/bn/running_var")->value;
    const BatchNormOptions options{.training = training, .momentum = 0.3, .eps = 1e-3};
    const Var<double> y = batch_norm(scope, "bn", x, options);
    const Var<double> z =
        batch_norm(x, store.at("m/bn/gamma").on(tape), store.at("m/bn/beta").on(tape), mean, var, options);
    require_close(xt::xarray<double>(y.value()), xt::xarray<double>(z.value()), 0);
    require_close(store.find_buffer("m/bn/running_mean")->value, mean, 0);
    require_close(store.find_buffer("m/bn/running_var")->value, var, 0);
  }
}

TEST_CASE("batch_norm layer: running statistics after training steps, and evaluation with them", "[batch_norm]") {
  ParameterStore<double> store(3);
  BatchNorm<double> bn(store.scope("s"), "bn", {.momentum = 0.2});
  CHECK(bn.training());
  const xt::xarray<double> xv = random_array({4, 2, 3, 3}, -1, 3, 21);
  const int steps = 5;
  for (int k = 0; k < steps; ++k) {
    Tape<double> tape;
    const Var<double> y = bn(tape.constant(xv));
    // training output: normalised by the batch statistics (biased variance)
    CHECK(std::abs(xt::mean(xt::view(y.value(), xt::all(), 0))()) < 1e-12);
  }
  // the same batch each step: running = (1 - 0.8^k) statistic + 0.8^k initial
  const double keep = std::pow(0.8, steps);
  const auto& mean = store.find_buffer("s/bn/running_mean")->value;
  const auto& var = store.find_buffer("s/bn/running_var")->value;
  for (std::size_t c = 0; c < 2; ++c) {
    double mu = 0, unbiased = 0;
    bn_layer_channel_stats(xv, c, mu, unbiased);
    CHECK(mean(c) == Approx((1 - keep) * mu).epsilon(1e-12));
    CHECK(var(c) == Approx((1 - keep) * unbiased + keep).epsilon(1e-12));
  }

  bn.eval();
  CHECK_FALSE(bn.training());
  const xt::xarray<double> mean_before = mean, var_before = var;
  store.at("s/bn/gamma").value[0] = 2.0;
  store.at("s/bn/beta").value[1] = 0.5;
  Tape<double> tape;
  const xt::xarray<double> x2 = random_array({2, 2, 3, 3}, -1, 1, 22);
  const xt::xarray<double> y = bn(tape.constant(x2)).value();
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t a = 0; a < 3; ++a)
        for (std::size_t b = 0; b < 3; ++b) {
          const double g = c == 0 ? 2.0 : 1.0, beta = c == 1 ? 0.5 : 0.0;
          CHECK(y(i, c, a, b) == Approx((x2(i, c, a, b) - mean(c)) / std::sqrt(var(c) + 1e-5) * g + beta).epsilon(1e-12));
        }
  CHECK((mean == mean_before));  // evaluation leaves them as they are
  CHECK((var == var_before));
  // evaluation of one image works (training refuses a single value per channel)
  CHECK(bn(tape.constant(xt::xarray<double>(xt::ones<double>({1, 2, 1, 1})))).shape() == Shape{1, 2, 1, 1});
  bn.train();
  CHECK(bn.training());
}

TEST_CASE("batch_norm layer: gradients reach gamma and beta; optimisers never change the statistics", "[batch_norm]") {
  ParameterStore<double> store(4);
  BatchNorm<double> bn(store.scope("g"), "bn");
  optim::Adam<double> adam(store, {.learning_rate = 0.1, .weight_decay = 0.5});
  const xt::xarray<double> xv = random_array({3, 2, 2, 2}, -1, 1, 30);
  const xt::xarray<double> target = random_array({3, 2, 2, 2}, -1, 1, 31);
  {
    Tape<double> tape;
    tape.backward(sum(square(bn(tape.constant(xv)) - tape.constant(target))));
    for (const auto& p : store) {
      INFO(p->name);
      CHECK(xt::all(xt::not_equal(p->grad_view(), 0.0)));
    }
    adam.step_and_zero_grad();
  }
  bn.eval();
  const xt::xarray<double> mean = store.find_buffer("g/bn/running_mean")->value;
  const xt::xarray<double> var = store.find_buffer("g/bn/running_var")->value;
  const xt::xarray<double> gamma = store.at("g/bn/gamma").value_view();
  for (int k = 0; k < 3; ++k) {  // weight decay and Adam's update reach parameters only
    Tape<double> tape;
    adam.minimize(tape, sum(square(bn(tape.constant(xv)) - tape.constant(target))));
  }
  CHECK((store.find_buffer("g/bn/running_mean")->value == mean));
  CHECK((store.find_buffer("g/bn/running_var")->value == var));
  CHECK_FALSE((xt::xarray<double>(store.at("g/bn/gamma").value_view()) == gamma));
}

TEST_CASE("batch_norm layer: the running statistics survive a checkpoint round trip", "[batch_norm]") {
  const auto folder = std::filesystem::temp_directory_path() / "vaelib_batch_norm_layer";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const xt::xarray<float> x = xt::cast<float>(random_array({6, 3, 4, 4}, -2, 3, 40));
  const auto evaluate = [&](ParameterStore<float>& store) {
    Tape<float> tape;
    return xt::xarray<float>(batch_norm(store.scope("net"), "bn", tape.constant(x), {.training = false}).value());
  };
  ParameterStore<float> a(5);
  optim::Adam<float> adam(a, {.learning_rate = 0.05});
  for (int k = 0; k < 10; ++k) {
    Tape<float> tape;
    const xt::xarray<float> batch = x + static_cast<float>(k) * 0.1f;
    adam.minimize(tape, sum(square(batch_norm(a.scope("net"), "bn", tape.constant(batch)) - 1.0f)));
  }
  const xt::xarray<float> expected = evaluate(a);
  io::save_checkpoint(folder / "bn.npz", io::TrainingState<float>{&a});

  ParameterStore<float> b;  // fresh: everything comes from the file
  io::load_checkpoint(folder / "bn.npz", io::TrainingState<float>{&b});
  REQUIRE(b.buffers().size() == 2);
  for (const char* name : {"net/bn/running_mean", "net/bn/running_var"}) {
    INFO(name);
    REQUIRE(b.find_buffer(name) != nullptr);
    CHECK((b.find_buffer(name)->value == a.find_buffer(name)->value));
  }
  // the statistics really moved, so the check means something
  CHECK_FALSE((a.find_buffer("net/bn/running_mean")->value == xt::xarray<float>(xt::zeros<float>({3}))));
  const xt::xarray<float> got = evaluate(b);
  CHECK((got == expected));
  // a model built first (default statistics) is overwritten by the file, in place
  ParameterStore<float> c(99);
  evaluate(c);
  CHECK_FALSE((evaluate(c) == expected));
  io::load_checkpoint(folder / "bn.npz", io::TrainingState<float>{&c});
  CHECK((evaluate(c) == expected));
  std::filesystem::remove_all(folder);
}

TEST_CASE("batch_norm layer: errors name the layer and leave the store as it was", "[batch_norm]") {
  ParameterStore<float> store(1);
  Tape<float> tape;
  REQUIRE_THROWS_AS(batch_norm(store.scope("e"), "bn", tape.constant(xt::xarray<float>(xt::ones<float>({2, 3, 4})))),
                    ShapeError);
  REQUIRE_THROWS_WITH(batch_norm(store.scope("e"), "bn", tape.constant(xt::xarray<float>(xt::ones<float>({2, 3, 4})))),
                      "batch_norm 'bn': input must be [N, C] or [N, C, H, W], got shape [2, 3, 4]");
  const Var<float> x = tape.constant(xt::xarray<float>(xt::ones<float>({2, 3})));
  REQUIRE_THROWS_AS(batch_norm(store.scope("e"), "bn", x, {.momentum = 1.5}), ArgumentError);
  REQUIRE_THROWS_WITH(batch_norm(store.scope("e"), "bn", x, {.momentum = 1.5}),
                      "batch_norm 'bn': expected momentum in [0, 1] and eps > 0; got momentum 1.5, eps 1e-05");
  REQUIRE_THROWS_WITH(batch_norm(store.scope("e"), "bn", x, {.eps = 0}),
                      "batch_norm 'bn': expected momentum in [0, 1] and eps > 0; got momentum 0.1, eps 0");
  CHECK(store.size() == 0);
  CHECK(store.buffers().empty());
  // training needs more than one value per channel (the op's message)
  REQUIRE_THROWS_WITH(batch_norm(store.scope("e"), "bn", tape.constant(xt::xarray<float>(xt::ones<float>({1, 3})))),
                      "batch_norm: x has shape [1, 3]; training needs more than one value per channel (N H W = 1)");
  // a reused layer keeps its channel count
  batch_norm(store.scope("e"), "bn", x);
  REQUIRE_THROWS_WITH(batch_norm(store.scope("e"), "bn", tape.constant(xt::xarray<float>(xt::ones<float>({2, 4})))),
                      "parameter 'e/bn/gamma': requested with shape [4] but it exists with shape [3] (a reused "
                      "parameter must keep its shape)");
}
