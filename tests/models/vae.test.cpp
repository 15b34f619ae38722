#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

/// Eight binary 4x4 "images": two prototypes with flipped pixels.
xt::xarray<float> toy_images() {
  xt::xarray<float> x = xt::zeros<float>({8, 16});
  for (std::size_t i = 0; i < 8; ++i)
    for (std::size_t j = 0; j < 16; ++j) x(i, j) = ((i % 2 == 0) == (j < 8)) != ((i * 7 + j * 3) % 11 == 0) ? 1.0f : 0.0f;
  return x;
}

models::VaeConfig toy_config(models::LatentKind latent = models::LatentKind::normal) {
  return {.x_dim = 16, .z_dim = 2, .encoder = {12}, .decoder = {12}, .activation = Activation::tanh, .latent = latent};
}

/// How much 300 training steps raise the bound: the mean of the last 10 steps' bounds (what
/// `step()` returns) minus the mean of the first 10.
template <class Step>
double vae_bound_rise(Step&& step) {
  double first = 0, last = 0;
  for (int i = 0; i < 300; ++i) (i < 10 ? first : last) += step() / 10.0 * (i < 10 || i >= 290);
  return last - first;
}

}  // namespace

TEST_CASE("models::VAE: the ZhuSuan VAE's nodes and shapes", "[models]") {
  Tape<float> tape;
  Rng rng(1);
  ParameterStore<float> params(2);
  models::VAE<float> vae(tape, rng, params.scope("vae"), toy_config(), models::bernoulli_likelihood<float>());
  const auto x = tape.constant(toy_images());
  const auto q = vae.variational(x, 3);
  CHECK(q["z"].value().shape() == Shape{3, 8, 2});
  auto lb = elbo(vae.model(8), {{"x", x}}, q, 0);
  CHECK(lb.value().shape() == Shape{8});
  tape.backward(mean(lb.sgvb()));
  for (const char* name : {"vae/q/h1/weight", "vae/q/z_mean/weight", "vae/q/z_logstd/bias", "vae/gen/h1/weight",
                           "vae/gen/x/weight"}) {
    INFO(name);
    const Parameter<float>* p = params.find(name);
    REQUIRE(p != nullptr);
    CHECK(xt::amax(xt::abs(p->grad_view()))() > 0.0f);
  }
  const auto generated = vae.model(5).observe();
  CHECK(generated["x_mean"].value().shape() == Shape{1, 5, 16});
  const auto means = vae.decode_mean(tape.constant(xt::xarray<float>(xt::zeros<float>({4, 2}))));
  CHECK(means.shape() == Shape{4, 16});
  CHECK(xt::all(means.value() >= 0.0f && means.value() <= 1.0f));
}

TEST_CASE("models::VAE: the likelihood is one parameter (Normal, discretised logistic, a user's Laplace)", "[models]") {
  Tape<double> tape;
  Rng rng(3);
  ParameterStore<double> params(4);
  const auto x = tape.constant(xt::xarray<double>(xt::cast<double>(toy_images())));
  // Normal: mean and log-std heads; log p(x | z) by hand from the same heads
  models::VAE<double> normal(tape, rng, params.scope("n"), toy_config(), models::normal_likelihood<double>(-3.0));
  const auto q = normal.variational(x, 1);
  const auto bn = normal.model(8).observe({{"x", x}, {"z", q["z"].value()}});
  const auto& d = bn["x"].distribution_as<Normal<double>>();
  const auto by_hand = sum(Normal<double>::with_logstd(d.mean(), d.logstd()).log_prob(x), {-1});
  require_close(bn.cond_log_prob("x").value(), by_hand.value(), 1e-12);
  CHECK(xt::all(d.logstd().value() >= -3.0));
  // DiscretizedLogistic: mean and log-scale heads over values in [-1, 1] (2 v - 1)
  const auto centred = tape.constant(xt::xarray<double>(2.0 * xt::cast<double>(toy_images()) - 1.0));
  models::VAE<double> logistic(tape, rng, params.scope("d"), toy_config(),
                               models::discretized_logistic_likelihood<double>(-2.0));
  const auto q_logistic = logistic.variational(centred, 1);
  const auto bn_logistic = logistic.model(8).observe({{"x", centred}, {"z", q_logistic["z"].value()}});
  const auto& dl = bn_logistic["x"].distribution_as<DiscretizedLogistic<double>>();
  require_close(bn_logistic.cond_log_prob("x").value(),
                sum(DiscretizedLogistic<double>(dl.loc(), dl.log_scale()).log_prob(centred), {-1}).value(), 1e-12);
  CHECK(xt::all(dl.log_scale().value() >= -2.0 && dl.log_scale().value() <= 5.0));
  const auto logistic_means = logistic.decode_mean(tape.constant(xt::xarray<double>(10.0 * xt::ones<double>({3, 2}))));
  CHECK(xt::all(logistic_means.value() >= -1.0 && logistic_means.value() <= 1.0));
  // a likelihood written in user code: Laplace with a learned scale
  models::Likelihood<double> laplace{
      "Laplace", 2,
      [](std::span<const Var<double>> h, DistributionOptions o) -> std::unique_ptr<Distribution<double>> {
        return std::make_unique<Laplace<double>>(h[0], exp(h[1]), o);
      },
      [](std::span<const Var<double>> h) { return h[0]; }};
  models::VAE<double> custom(tape, rng, params.scope("l"), toy_config(), laplace);
  const auto q_custom = custom.variational(x, 2);  // q must outlive the objective
  auto lb = elbo(custom.model(8), {{"x", x}}, q_custom, 0);
  CHECK(lb.model_net()["x"].distribution().name() == "Laplace");
  tape.backward(mean(lb.sgvb()));
  CHECK(xt::amax(xt::abs(params.at("l/gen/x_1/weight").grad_view()))() > 0.0);
}

TEST_CASE("models::VAE: Bernoulli latents train with reinforce, not sgvb", "[models]") {
  Tape<float> tape;
  Rng rng(5);
  ParameterStore<float> params(6);
  models::VAE<float> vae(tape, rng, params.scope("b"), toy_config(models::LatentKind::bernoulli),
                         models::bernoulli_likelihood<float>());
  const auto x = tape.constant(toy_images());
  const auto q = vae.variational(x, 2);
  CHECK(q["z"].distribution().name() == "Bernoulli");
  auto lb = elbo(vae.model(8), {{"x", x}}, q, 0);
  CHECK_THROWS_WITH(lb.sgvb(), Contains("latent 'z' follows a Bernoulli distribution"));
  MovingAverageBaseline baseline;
  tape.backward(mean(lb.reinforce({.moving_average = &baseline})));
  CHECK(xt::amax(xt::abs(params.at("b/q/z_logits/weight").grad_view()))() > 0.0f);
  CHECK(baseline.updates() == 1);
}

TEST_CASE("models::VAE: training raises the bound on a toy set", "[models]") {
  Tape<float> tape;
  Rng rng(7);
  ParameterStore<float> params(8);
  models::VAE<float> vae(tape, rng, params.scope("vae"), toy_config(), models::bernoulli_likelihood<float>());
  optim::Adam<float> adam(params, {.learning_rate = 0.02});
  const xt::xarray<float> images = toy_images();
  auto step = [&] {
    tape.clear();
    const auto x = tape.constant(images);
    const auto q = vae.variational(x, 4);
    auto lb = elbo(vae.model(8), {{"x", x}}, q, 0, {.analytic_kl = true});
    const double value = mean(lb.value()).item();
    adam.zero_grad();
    tape.backward(mean(lb.sgvb()));
    adam.step();
    return value;
  };
  CHECK(vae_bound_rise(step) > 3.0);  // nats per 16-pixel image
}

TEST_CASE("models::VAE: a flow posterior is one config line; ELBO, IWAE, DReG and IS run on it unchanged",
          "[models]") {
  for (const models::FlowKind kind :
       {models::FlowKind::planar, models::FlowKind::radial, models::FlowKind::sylvester, models::FlowKind::iaf}) {
    INFO(models::flow_kind_name(kind));
    Tape<float> tape;
    Rng rng(21);
    ParameterStore<float> params(22);
    models::VaeConfig config = toy_config();
    config.flow = {.kind = kind, .length = 3, .hidden = {4}};
    models::VAE<float> vae(tape, rng, params.scope("vae"), config, models::bernoulli_likelihood<float>());
    REQUIRE(vae.flows().size() == 3);
    const auto x = tape.constant(toy_images());
    const auto q = vae.variational(x, 3);
    const auto* flow_q = dynamic_cast<const FlowDistribution<float>*>(&q["z"].distribution());
    REQUIRE(flow_q != nullptr);
    CHECK(q["z"].value().shape() == Shape{3, 8, 2});
    CHECK(q["z"].log_prob().shape() == Shape{3, 8});
    // q's own draws are scored as sampled: the same value from scratch, through the inverses
    const auto rescored = flow_q->log_prob(tape.constant(xt::xarray<float>(q["z"].value().value())));
    CHECK(xt::allclose(rescored.value(), q["z"].log_prob().value(), 1e-4, 1e-4));

    auto lb = elbo(vae.model(8), {{"x", x}}, q, 0);
    auto iw = iw_objective(vae.model(8), {{"x", x}}, q, 0);
    CHECK(xt::all(iw.value().value() >= lb.value().value() - 1e-4f));
    for (int objective = 0; objective < 3; ++objective) {
      params.zero_grad();
      tape.backward(mean(objective == 0 ? lb.sgvb() : objective == 1 ? iw.sgvb() : iw.dreg()));
      for (const std::string name : {"vae/q/flow0", "vae/q/flow2", "vae/q/z_mean/weight", "vae/gen/x/weight"}) {
        double largest = 0;
        for (const auto& p : params)
          if (p->name.rfind(name, 0) == 0) largest = std::max(largest, double(xt::amax(xt::abs(p->grad_view()))()));
        INFO("objective " << objective << ", " << name);
        CHECK(largest > 0.0);
      }
    }
    if (kind == models::FlowKind::iaf) {  // the IAF reads the encoder's hidden layer
      CHECK(params.at("vae/q/flow0/context").shape == Shape{12, 4});
      CHECK_FALSE(vae.flows()[0]->name() == vae.flows()[1]->name());
    }
    tape.clear();
    const auto e = vae.encode(tape.constant(toy_images()));
    const auto ll = is_loglikelihood(vae.model(8), {{"x", tape.constant(toy_images())}},
                                     [&](std::size_t k) { return vae.variational(e, k); }, 0, {.n_particles = 200});
    tape.clear();
    const auto q1 = vae.variational(tape.constant(toy_images()), 50);
    auto lb1 = elbo(vae.model(8), {{"x", tape.constant(toy_images())}}, q1, 0);
    for (std::size_t i = 0; i < 8; ++i) {
      CHECK(std::isfinite(ll.log_likelihood(i)));
      CHECK(ll.log_likelihood(i) > xt::mean(lb1.value().value())() - 5.0);  // log p(x) >= ELBO, loosely
    }
  }
}

TEST_CASE("models::VAE: a flow posterior trains (the bound rises on a toy set with an IAF)", "[models]") {
  Tape<float> tape;
  Rng rng(7);
  ParameterStore<float> params(8);
  models::VaeConfig config = toy_config();
  config.flow = {.kind = models::FlowKind::iaf, .length = 2};
  models::VAE<float> vae(tape, rng, params.scope("vae"), config, models::bernoulli_likelihood<float>());
  optim::Adam<float> adam(params, {.learning_rate = 0.02});
  const xt::xarray<float> images = toy_images();
  auto step = [&] {
    tape.clear();
    const auto x = tape.constant(images);
    const auto q = vae.variational(x, 4);
    auto lb = elbo(vae.model(8), {{"x", x}}, q, 0);
    const double value = mean(lb.value()).item();
    adam.zero_grad();
    tape.backward(mean(lb.sgvb()));
    adam.step();
    return value;
  };
  CHECK(vae_bound_rise(step) > 3.0);
}

namespace {

/// A convolutional encoder and decoder for the toy 4x4 images: conv 1->4 (3x3, padding 1)
/// then flatten; dense to 4x4x4, a transposed conv 4->1, flattened to the pixels' logits.
models::VaeNetworks<float> toy_conv_networks() {
  models::VaeNetworks<float> n;
  n.encoder = [](const ParameterScope<float>& scope, const Var<float>& x) {
    const Var<float> image = reshape(x, {-1, 1, 4, 4});
    return flatten(conv2d(scope, "conv", image, 4, {3, 3}, {.padding = {1, 1}, .activation = Activation::tanh}));
  };
  n.decoder = [](const ParameterScope<float>& scope, const Var<float>& z) {
    Shape out(z.shape().begin(), z.shape().end() - 1);  // z's leading axes, then 16 logits
    out.push_back(16);
    const Var<float> h = dense(scope, "h", reshape(z, {-1, 2}), 64, {.activation = Activation::tanh});
    const Var<float> logits = conv_transpose2d(scope, "deconv", unflatten(h, {4, 4, 4}), 1, {3, 3}, {.padding = {1, 1}});
    return reshape(logits, out);
  };
  n.decoder_gives_heads = true;
  return n;
}

}  // namespace

TEST_CASE("models::VAE: networks of your own (a convolutional encoder and decoder) in place of the dense layers",
          "[models]") {
  Tape<float> tape;
  Rng rng(31);
  ParameterStore<float> params(32);
  models::VAE<float> vae(tape, rng, params.scope("vae"), toy_config(), models::bernoulli_likelihood<float>(),
                         toy_conv_networks());
  optim::Adam<float> adam(params, {.learning_rate = 0.02});
  const xt::xarray<float> images = toy_images();
  auto step = [&] {
    tape.clear();
    const auto x = tape.constant(images);
    const auto q = vae.variational(x, 3);
    REQUIRE(q["z"].value().shape() == Shape{3, 8, 2});
    auto lb = elbo(vae.model(8), {{"x", x}}, q, 0);
    const double value = mean(lb.value()).item();
    adam.minimize(tape, mean(lb.sgvb()));
    return value;
  };
  CHECK(vae_bound_rise(step) > 3.0);
  for (const char* name : {"vae/q/conv/weight", "vae/q/z_mean/weight", "vae/gen/h/weight", "vae/gen/deconv/weight",
                           "vae/gen/deconv/bias"})
    CHECK(params.find(name) != nullptr);
  CHECK(params.find("vae/q/h1/weight") == nullptr);  // no dense hidden layer
  CHECK(params.find("vae/gen/x/weight") == nullptr);  // the decoder gives the logits itself
  tape.clear();
  CHECK(vae.decode_mean(tape.constant(xt::xarray<float>(xt::zeros<float>({5, 2})))).shape() == Shape{5, 16});

  // a decoder whose output is not heads x x_dim wide is refused, naming the shapes
  models::VaeNetworks<float> wrong = toy_conv_networks();
  wrong.decoder = [](const ParameterScope<float>& scope, const Var<float>& z) { return dense(scope, "h", z, 15); };
  models::VAE<float> bad(tape, rng, params.scope("bad"), toy_config(), models::bernoulli_likelihood<float>(), wrong);
  CHECK_THROWS_WITH(bad.decode_mean(tape.constant(xt::xarray<float>(xt::zeros<float>({5, 2})))),
                    "models::VAE: the decoder network returned shape [5, 15] for z of shape [5, 2], expected z's leading "
                    "axes and a last axis of 16 (heads x x_dim)");
  models::VaeConfig iaf = toy_config();
  iaf.flow = {.kind = models::FlowKind::iaf, .length = 2};
  CHECK_THROWS_WITH(models::VAE<float>(tape, rng, params.scope("iaf"), iaf, models::bernoulli_likelihood<float>(),
                                       toy_conv_networks()),
                    Contains("set config.flow.context = false"));
}

TEST_CASE("models::VAE: a second stochastic layer (Burda et al.'s two-layer model): nodes, the bound's terms, training",
          "[models]") {
  Tape<float> tape;
  Rng rng(11);
  ParameterStore<float> params(12);
  models::VaeConfig config = toy_config();
  config.z_dim = 4;
  config.top = {.z_dim = 2, .hidden = {6, 6}};
  models::VAE<float> vae(tape, rng, params.scope("vae"), config, models::bernoulli_likelihood<float>());
  CHECK(vae.has_top_layer());
  const xt::xarray<float> images = toy_images();
  const auto x = tape.constant(images);
  const auto q = vae.variational(x, 3);
  CHECK(q["z"].value().shape() == Shape{3, 8, 4});
  CHECK(q["z2"].value().shape() == Shape{3, 8, 2});  // one draw of z2 per draw of z
  // the bound is log p(x | z) + log p(z | z2) + log p(z2) - log q(z | x) - log q(z2 | z), node by node
  auto lb = elbo(vae.model(8), {{"x", x}}, q, 0);
  const auto p = vae.model(8).observe({{"x", x}, {"z", q["z"].value()}, {"z2", q["z2"].value()}});
  const xt::xarray<float> by_hand = xt::mean((p.cond_log_prob("x") + p.cond_log_prob("z") + p.cond_log_prob("z2") -
                                              q["z"].log_prob() - q["z2"].log_prob()).value(), {0});
  CHECK(xt::allclose(lb.value().value(), by_hand, 1e-5, 1e-4));
  CHECK(p["z2"].value().shape() == Shape{3, 8, 2});
  tape.backward(mean(lb.sgvb()));
  for (const char* name : {"vae/q/z2/h1/weight", "vae/q/z2/mean/weight", "vae/q/z2/logstd/bias", "vae/gen/z/h2/weight",
                           "vae/gen/z/mean/bias", "vae/gen/z/logstd/weight", "vae/q/z_mean/weight", "vae/gen/x/weight"}) {
    INFO(name);
    const Parameter<float>* parameter = params.find(name);
    REQUIRE(parameter != nullptr);
    CHECK(xt::amax(xt::abs(parameter->grad_view()))() > 0.0f);
  }
  // sampling from the prior: z2, then z, then x
  const auto generated = vae.model().observe({}, 5, 1);
  CHECK(generated["z2"].value().shape() == Shape{1, 5, 2});
  CHECK(generated["x_mean"].value().shape() == Shape{1, 5, 16});
  // the IWAE bound and its training raise the bound on the toy set
  optim::Adam<float> adam(params, {.learning_rate = 0.02});
  params.zero_grad();
  auto step = [&] {
    tape.clear();
    const auto xs = tape.constant(images);
    const auto posterior = vae.variational(xs, 5);
    auto bound = iw_objective(vae.model(8), {{"x", xs}}, posterior, 0);
    const double value = mean(bound.value()).item();
    adam.minimize(tape, mean(bound.sgvb()));
    return value;
  };
  CHECK(vae_bound_rise(step) > 3.0);
  models::VaeConfig with_flow = config;
  with_flow.flow = {.kind = models::FlowKind::planar, .length = 2};
  CHECK_THROWS_WITH(models::VAE<float>(tape, rng, params.scope("v2"), with_flow, models::bernoulli_likelihood<float>()),
                    Contains("a second stochastic layer (config.top) needs normal latents without a flow"));
}

TEST_CASE("models::VAE: bad configurations are refused", "[models]") {
  Tape<float> tape;
  Rng rng(9);
  ParameterStore<float> params(10);
  CHECK_THROWS_WITH(models::VAE<float>(tape, rng, params.scope("v"), {.x_dim = 0}, models::bernoulli_likelihood<float>()),
                    Contains("x_dim and z_dim must be positive"));
  CHECK_THROWS_WITH(models::VAE<float>(tape, rng, params.scope("v"), {}, models::Likelihood<float>{"mine", 1, {}, {}}),
                    Contains("the likelihood 'mine' needs heads, make and mean"));
  models::VaeConfig no_length = toy_config();
  no_length.flow.kind = models::FlowKind::planar;
  CHECK_THROWS_WITH(models::VAE<float>(tape, rng, params.scope("v"), no_length, models::bernoulli_likelihood<float>()),
                    "models::VAE: config.flow.length must be at least 1 for a flow posterior (config.flow.kind = planar)");
  models::VaeConfig binary = toy_config(models::LatentKind::bernoulli);
  binary.flow = {.kind = models::FlowKind::iaf, .length = 2};
  CHECK_THROWS_WITH(models::VAE<float>(tape, rng, params.scope("v"), binary, models::bernoulli_likelihood<float>()),
                    "models::VAE: a flow posterior (config.flow.kind = iaf) needs normal latents (config.latent), not Bernoulli ones");
}

TEST_CASE("models::VAE: inputs of the wrong width, an empty batch and zero particles", "[models]") {
  Tape<float> tape;
  Rng rng(11);
  ParameterStore<float> params(12);
  models::VAE<float> vae(tape, rng, params.scope("vae"), toy_config(), models::bernoulli_likelihood<float>());
  // checked before any parameter is made: a fresh model would otherwise build a 15-wide encoder
  CHECK_THROWS_AS(vae.encode(tape.constant(xt::xarray<float>(xt::zeros<float>({4, 15})))), ShapeError);
  CHECK_THROWS_WITH(vae.encode(tape.constant(xt::xarray<float>(xt::zeros<float>({4, 15})))),
                    "models::VAE.encode: x has shape [4, 15], expected [..., 16] (config.x_dim)");
  CHECK(params.size() == 0);
  CHECK_THROWS_WITH(vae.decode_mean(tape.constant(xt::xarray<float>(xt::zeros<float>({4, 3})))),
                    "models::VAE.decode_mean: z has shape [4, 3], expected [..., 2] (config.z_dim)");
  CHECK_THROWS_WITH(vae.encode(tape.constant(0.0f)), Contains("x has shape [], expected [..., 16]"));
  CHECK_THROWS_WITH(vae.variational(tape.constant(toy_images()), 0), "Normal.sample: n_samples must be at least 1");
  // An empty batch: the bound of each of no images is an empty tensor; averaging it is refused.
  const auto empty = tape.constant(xt::xarray<float>(xt::zeros<float>({0, 16})));
  const auto q = vae.variational(empty, 1);
  auto lb = elbo(vae.model(0), {{"x", empty}}, q, 0);
  CHECK(lb.value().shape() == Shape{0});
  CHECK_THROWS_WITH(mean(lb.sgvb()),
                    "mean: cannot average over an empty axis of shape [0] (the mean of no elements is undefined)");
  const auto q3 = vae.variational(empty, 3);
  auto iw = iw_objective(vae.model(0), {{"x", empty}}, q3, 0);
  CHECK(iw.value().shape() == Shape{0});
  CHECK_THROWS_WITH(mean(iw.sgvb()), Contains("mean: cannot average over an empty axis"));
  // A NaN pixel is refused by the Bernoulli likelihood, naming where it is.
  tape.clear();
  xt::xarray<float> x = toy_images();
  x(1, 3) = std::nanf("");
  const auto xv = tape.constant(x);
  const auto qv = vae.variational(xv, 1);
  CHECK_THROWS_WITH(elbo(vae.model(8), {{"x", xv}}, qv, 0).value(),
                    Contains("Bernoulli: logits must be finite (an infinite logit is a probability of exactly 0 "
                             "or 1), got nan at flat index"));
  // anomaly mode names the input itself
  tape.clear();
  tape.detect_anomaly(true);
  const auto xa = tape.constant(x);
  auto with_anomaly_mode = [&] {
    const auto qa = vae.variational(xa, 1);
    return elbo(vae.model(8), {{"x", xa}}, qa, 0).value();
  };
  CHECK_THROWS_WITH(with_anomaly_mode(),
                    Contains("anomaly: NaN in the forward value of node") &&
                        Contains("(op 'constant', shape [8, 16]) at element 19"));
  tape.detect_anomaly(false);
}
