#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

// The ZhuSuan tutorial's generative model, small: the batch size and the particle count are
// the builder's arguments.
using Generator = MetaBayesianNet<float, std::size_t, std::size_t>;

Generator build_gen(Tape<float>& tape, Rng& rng, ParameterStore<float>& params) {
  return meta_bayesian_net(tape, rng, params.scope("gen"), [&tape](BayesianNet<float>& bn, std::size_t n, std::size_t k) {
    const auto z = bn.normal("z", tape.zeros({n, 2}), 1.0f, {.group_ndims = 1, .n_samples = k});
    const auto h = dense(bn.scope(), "h1", z, 8, {.activation = Activation::relu});
    bn.bernoulli("x", dense(bn.scope(), "logits", h, 6), {.group_ndims = 1});
    bn.deterministic("x_mean", sigmoid(bn["x"].logits()));
  });
}

}  // namespace

TEST_CASE("meta_bayesian_net: observe() builds new nets that reuse the parameters", "[bayesian_net]") {
  Tape<float> tape;
  Rng rng(1);
  ParameterStore<float> params(7);
  auto model = build_gen(tape, rng, params);
  static_assert(std::is_same_v<decltype(model), Generator>, "the builder's arguments are the model's");
  auto generated = model.observe({}, 4, 3);
  const std::size_t n_parameters = params.size();
  CHECK(n_parameters == 4);
  const float* weight = params.at("gen/h1/weight").value;
  CHECK(generated["x"].value().shape() == Shape{3, 4, 6});
  CHECK_FALSE(generated["x"].is_observed());

  const auto x = tape.constant(xt::xarray<float>(xt::ones<float>({std::size_t{4}, std::size_t{6}})));
  auto conditioned = model(4, 3).observe({{"x", x}});  // bound once, as the objectives take it
  CHECK(conditioned["x"].is_observed());
  CHECK(params.size() == n_parameters);
  CHECK(params.at("gen/h1/weight").value == weight);
  CHECK(conditioned.log_joint().shape() == Shape{3, 4});

  // Another batch size and sample count: same parameters.
  auto other = model.observe({}, 2, 1);
  CHECK(params.size() == n_parameters);
  CHECK(other["x_mean"].value().shape() == Shape{1, 2, 6});
}

TEST_CASE("meta_bayesian_net: observing the latent gives the model's log joint at that latent", "[bayesian_net]") {
  Tape<float> tape;
  Rng rng(2);
  ParameterStore<float> params(8);
  auto model = build_gen(tape, rng, params)(4, 2);
  const auto z = tape.constant(xt::xarray<float>(xt::zeros<float>({std::size_t{2}, std::size_t{4}, std::size_t{2}})));
  const auto x = tape.constant(xt::xarray<float>(xt::zeros<float>({std::size_t{4}, std::size_t{6}})));
  auto bn = model.observe({{"z", z}, {"x", x}});
  // z = 0: log N(0 | 0, 1) over 2 dims
  CHECK(bn.cond_log_prob("z").value()(0, 0) == Approx(-std::log(2 * M_PI)).epsilon(1e-6));
  // x given z = 0 depends only on the biases (zero) of a ReLU net: logits = 0, log p = 6 log 0.5
  CHECK(bn.cond_log_prob("x").value()(1, 3) == Approx(6 * std::log(0.5)).epsilon(1e-6));
}

TEST_CASE("meta_bayesian_net: log_joint can be overridden", "[bayesian_net]") {
  Tape<float> tape;
  Rng rng(3);
  ParameterStore<float> params(9);
  auto model = build_gen(tape, rng, params);
  const auto plain = model;
  model.set_log_joint([](BayesianNet<float>& bn) { return bn.cond_log_prob("x") + 2.0f * bn.cond_log_prob("z"); });
  const auto x = tape.constant(xt::xarray<float>(xt::zeros<float>({std::size_t{2}, std::size_t{6}})));
  auto bn = model(2, 1).observe({{"x", x}});  // a bound model keeps the override
  const auto expected = bn.cond_log_prob("x").value() + 2.0f * bn.cond_log_prob("z").value();
  CHECK(xt::allclose(bn.log_joint().value(), expected));
  CHECK_FALSE(xt::allclose(bn.default_log_joint().value(), expected));
  // a copy taken before the override keeps the model's own log joint
  auto unchanged = plain.observe({{"x", x}, {"z", bn["z"].value()}}, 2, 1);
  CHECK(xt::allclose(unchanged.log_joint().value(), bn.default_log_joint().value()));
}

TEST_CASE("meta_bayesian_net: a bound model outlives the expression that bound it", "[bayesian_net]") {
  Tape<float> tape;
  Rng rng(5);
  ParameterStore<float> params(10);
  std::optional<MetaBayesianNet<float>> bound;
  {
    const auto model = build_gen(tape, rng, params);
    bound = model(3, 2);
  }  // the unbound model is gone; the bound one shares its definition
  const auto bn = bound->observe();
  CHECK(bn["x"].value().shape() == Shape{2, 3, 6});
  CHECK(&bound->tape() == &tape);
  CHECK(bound->scope().prefix() == "gen");
}

TEST_CASE("meta_bayesian_net: a misspelt observation is an error, not a silent sample", "[bayesian_net]") {
  Tape<float> tape;
  Rng rng(4);
  ParameterStore<float> params(1);
  auto model = build_gen(tape, rng, params)(2, 1);
  REQUIRE_THROWS_WITH(model.observe({{"X", tape.constant(xt::xarray<float>(xt::zeros<float>({std::size_t{2}, std::size_t{6}})))}}),
                      "BayesianNet: the observation 'X' names no stochastic node (stochastic nodes: z, x)");
  REQUIRE_THROWS_WITH(MetaBayesianNet<float>(tape, rng, params.scope("m"), {}),
                      "MetaBayesianNet: no model-building function given");
}

TEST_CASE("meta_bayesian_net: build() runs the model on a net made elsewhere, with its checks and override", "[bayesian_net]") {
  Tape<float> tape;
  Rng rng(1);
  ParameterStore<float> params(7);
  auto model = build_gen(tape, rng, params);
  model.set_log_joint([](BayesianNet<float>& bn) { return bn.default_log_joint() * 2.0f; });
  const Var<float> x = tape.constant(xt::xarray<float>(xt::zeros<float>({4, 6})));
  BayesianNet<float> bn(tape, rng, {{"x", x}}, params.scope("gen"));
  model.build(bn, 4, 1);
  REQUIRE(bn.has_log_joint_override());
  CHECK(xt::allclose(xt::adapt(bn.log_joint().data(), bn.log_joint().size(), xt::no_ownership(), std::vector<std::size_t>{bn.log_joint().size()}),
                     2.0f * xt::adapt(bn.default_log_joint().data(), bn.default_log_joint().size(), xt::no_ownership(), std::vector<std::size_t>{bn.default_log_joint().size()})));
  BayesianNet<float> typo(tape, rng, {{"xx", x}}, params.scope("gen"));
  CHECK_THROWS_WITH(model.build(typo, 4, 1), Contains("'xx' names no stochastic node"));
}
