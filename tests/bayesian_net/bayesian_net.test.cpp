#include <cmath>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
Var<double> zeros(Tape<double>& t, std::size_t n, std::size_t d) {
  return t.constant(xt::xarray<double>(xt::zeros<double>({n, d})));
}
}  // namespace

TEST_CASE("bayesian_net: stochastic nodes sample, observed nodes take the observation", "[bayesian_net]") {
  Tape<double> tape;
  Rng rng(1);
  const auto x_obs = tape.constant(xt::xarray<double>{{1, 0, 1}, {0, 0, 1}});
  BayesianNet<double> bn(tape, rng, {{"x", x_obs}});
  const auto z = bn.normal("z", zeros(tape, 2, 4), 1.0, {.group_ndims = 1, .n_samples = 5});
  CHECK(z.shape() == Shape{5, 2, 4});
  CHECK_FALSE(bn["z"].is_observed());
  const auto logits = matmul(z, tape.constant(random_array({4, 3}, -1, 1, 2)));
  const auto x = bn.bernoulli("x", logits, {.group_ndims = 1});
  CHECK(bn["x"].is_observed());
  CHECK(x.data() == x_obs.data());  // the observation itself, not a copy
  bn.deterministic("x_mean", sigmoid(bn["x"].logits()));
  CHECK(bn["x_mean"].value().shape() == Shape{5, 2, 3});
  CHECK(bn.stochastic_names() == std::vector<std::string>{"z", "x"});
  CHECK(bn.contains("x_mean"));
  CHECK_FALSE(bn["x_mean"].is_stochastic());
}

TEST_CASE("bayesian_net: a lazy deterministic node is computed on its first read only", "[bayesian_net]") {
  Tape<double> tape;
  Rng rng(1);
  BayesianNet<double> bn(tape, rng);
  const auto z = bn.normal("z", zeros(tape, 2, 4), 1.0, {.group_ndims = 1});
  int computed = 0;
  bn.deterministic("z_sigmoid", [&] {
    ++computed;
    return sigmoid(z);
  });
  const std::size_t recorded = tape.size();
  CHECK(computed == 0);
  CHECK(bn.contains("z_sigmoid"));
  CHECK_FALSE(bn["z_sigmoid"].is_stochastic());
  CHECK(tape.size() == recorded);  // nothing recorded until read
  const Var<double> first = bn["z_sigmoid"].value();
  const Var<double> again = bn["z_sigmoid"];
  CHECK(computed == 1);
  CHECK(first.data() == again.data());
  require_close(first.value(), xt::xarray<double>(1.0 / (1.0 + xt::exp(-z.value()))));

  // a node never read costs nothing; the usual checks still apply
  bn.deterministic("unread", [&] {
    ++computed;
    return z;
  });
  CHECK(computed == 1);
  REQUIRE_THROWS_WITH(bn.deterministic("empty", std::function<Var<double>()>{}), Contains("'empty' has nothing to compute"));
  REQUIRE_THROWS_WITH(bn.deterministic("z", [&] { return z; }), Contains("'z' already exists"));
  BayesianNet<double> observed(tape, rng, {{"m", z}});
  REQUIRE_THROWS_WITH(observed.deterministic("m", [&] { return z; }), Contains("cannot be observed"));
  Tape<double> other;
  bn.deterministic("elsewhere", [&] { return other.constant(1.0); });
  REQUIRE_THROWS_WITH(bn["elsewhere"].value(), Contains("different tapes"));
}

TEST_CASE("bayesian_net: cond_log_prob and log_joint equal the distributions' log-probs", "[bayesian_net]") {
  Tape<double> tape;
  Rng rng(2);
  const auto x_obs = tape.constant(xt::xarray<double>{{1, 0, 1}, {0, 0, 1}});
  BayesianNet<double> bn(tape, rng, {{"x", x_obs}});
  const auto z = bn.normal("z", zeros(tape, 2, 4), 1.0, {.group_ndims = 1, .n_samples = 3});
  const auto logits = matmul(z, tape.constant(random_array({4, 3}, -1, 1, 3)));
  bn.bernoulli("x", logits, {.group_ndims = 1});

  const auto lz = bn.cond_log_prob("z");
  const auto lx = bn.cond_log_prob("x");
  CHECK(lz.shape() == Shape{3, 2});
  CHECK(lx.shape() == Shape{3, 2});
  // by hand: N(0, 1) over the 4 latent dims, Bernoulli over the 3 pixels
  const auto zv = z.value();
  const auto lv = logits.value();
  for (std::size_t s = 0; s < 3; ++s) {
    for (std::size_t i = 0; i < 2; ++i) {
      double expected_z = 0, expected_x = 0;
      for (std::size_t j = 0; j < 4; ++j) expected_z += -0.5 * std::log(2 * M_PI) - 0.5 * zv(s, i, j) * zv(s, i, j);
      for (std::size_t j = 0; j < 3; ++j) {
        const double l = lv(s, i, j);
        expected_x += x_obs.value()(i, j) * l - std::log1p(std::exp(l));
      }
      CHECK(lz.value()(s, i) == Approx(expected_z).epsilon(1e-12));
      CHECK(lx.value()(s, i) == Approx(expected_x).epsilon(1e-12));
      CHECK(bn.log_joint().value()(s, i) == Approx(expected_z + expected_x).epsilon(1e-12));
    }
  }
  const auto both = bn.cond_log_prob(std::vector<std::string>{"x", "z"});
  CHECK(both.size() == 2);
  CHECK(both[0].data() == lx.data());  // computed once, kept
}

TEST_CASE("bayesian_net: errors name the node and the shapes", "[bayesian_net]") {
  Tape<double> tape;
  Rng rng(3);
  SECTION("duplicate and unknown names") {
    BayesianNet<double> bn(tape, rng);
    bn.normal("z", zeros(tape, 2, 2), 1.0);
    REQUIRE_THROWS_WITH(bn.normal("z", zeros(tape, 2, 2), 1.0), "BayesianNet: a node named 'z' already exists");
    REQUIRE_THROWS_WITH(bn.get("w"), "BayesianNet: no node named 'w' (nodes: z)");
    REQUIRE_THROWS_WITH(bn.deterministic("z", zeros(tape, 1, 1)), "BayesianNet: a node named 'z' already exists");
  }
  SECTION("an observation of the wrong shape") {
    BayesianNet<double> bn(tape, rng, {{"x", tape.constant(xt::xarray<double>(xt::zeros<double>({3, 5})))}});
    REQUIRE_THROWS_AS(bn.bernoulli("x", zeros(tape, 2, 5), {.group_ndims = 1}), ShapeError);
    BayesianNet<double> again(tape, rng, {{"x", tape.constant(xt::xarray<double>(xt::zeros<double>({3, 5})))}});
    REQUIRE_THROWS_WITH(again.bernoulli("x", zeros(tape, 2, 5), {.group_ndims = 1, .n_samples = 4}),
                        "BayesianNet: the observed value of node 'x' has shape [3, 5], which does not broadcast with the "
                        "node's batch_shape + value_shape [2, 5] (Bernoulli)");
    // n_samples shapes a draw only: an observation may hold any number of particles
    BayesianNet<double> particles(tape, rng, {{"x", tape.constant(xt::xarray<double>(xt::zeros<double>({7, 2, 5})))}});
    CHECK(particles.bernoulli("x", zeros(tape, 2, 5), {.group_ndims = 1, .n_samples = 4}).shape() == Shape{7, 2, 5});
  }
  SECTION("observations that name no stochastic node") {
    BayesianNet<double> bn(tape, rng, {{"y", zeros(tape, 1, 1)}});
    bn.normal("z", zeros(tape, 1, 1), 1.0);
    REQUIRE_THROWS_WITH(bn.check_observations_used(),
                        "BayesianNet: the observation 'y' names no stochastic node (stochastic nodes: z)");
  }
  SECTION("deterministic nodes have no distribution or log_prob") {
    BayesianNet<double> bn(tape, rng);
    bn.deterministic("h", zeros(tape, 1, 1));
    REQUIRE_THROWS_WITH(bn.cond_log_prob("h"), "BayesianNet: node 'h' is deterministic: it has no log_prob");
    REQUIRE_THROWS_WITH(bn["h"].distribution(), "BayesianNet: node 'h' is deterministic: it has no distribution");
  }
  SECTION("log_joint of nodes whose log-probs do not broadcast") {
    BayesianNet<double> bn(tape, rng);
    bn.normal("a", zeros(tape, 2, 3), 1.0);
    bn.normal("b", zeros(tape, 4, 5), 1.0);
    REQUIRE_THROWS_WITH(bn.log_joint(), Contains("the log-probability of node 'b' has shape [4, 5]"));
  }
  SECTION("a net without a scope") {
    BayesianNet<double> bn(tape, rng);
    REQUIRE_THROWS_WITH(bn.scope(), "BayesianNet: this net was built without a parameter scope");
  }
}

TEST_CASE("bayesian_net: gradients flow from log_joint through samples to parameters", "[bayesian_net]") {
  // log_joint of a reparameterised latent and an observed Normal child, w.r.t. the prior
  // mean, the child's weight and the observation.
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        Rng rng(9);
        BayesianNet<double> bn(t, rng, {{"y", v[2]}});
        const auto z = bn.normal("z", v[0], 0.5, {.group_ndims = 1, .n_samples = 2});
        bn.normal("y", matmul(z, v[1]), 0.3, {.group_ndims = 1});
        return bn.log_joint();
      },
      {random_array({3, 2}, -1, 1, 1), random_array({2, 4}, -1, 1, 2), random_array({3, 4}, -1, 1, 3)});
}

TEST_CASE("bayesian_net: one helper per built-in distribution, each a node like the others", "[bayesian_net]") {
  Tape<double> tape;
  Rng rng(11);
  BayesianNet<double> bn(tape, rng);
  const auto logits = tape.constant(random_array({2, 3}, -1, 1, 1));
  const auto positive = tape.constant(random_array({2, 3}, 0.5, 2, 2));
  const auto loc = tape.constant(random_array({2, 3}, -1, 1, 3));
  const StochasticOptions opts{.group_ndims = 1, .n_samples = 4};
  struct Expected {
    const char* node;
    const char* distribution;
    Shape sample;
  };
  std::vector<Expected> expected;
  bn.categorical("categorical", logits, opts);
  expected.push_back({"categorical", "Categorical", Shape{4, 2}});
  bn.onehot_categorical("onehot", logits, {.n_samples = 4});
  expected.push_back({"onehot", "OnehotCategorical", Shape{4, 2, 3}});
  bn.concrete("concrete", 0.5, logits, {.n_samples = 4});
  expected.push_back({"concrete", "Concrete", Shape{4, 2, 3}});
  bn.bin_concrete("bin_concrete", 0.5, logits, opts);
  expected.push_back({"bin_concrete", "BinConcrete", Shape{4, 2, 3}});
  bn.uniform("uniform", loc, loc + 1.0, opts);
  expected.push_back({"uniform", "Uniform", Shape{4, 2, 3}});
  bn.laplace("laplace", loc, positive, opts);
  expected.push_back({"laplace", "Laplace", Shape{4, 2, 3}});
  bn.logistic("logistic", loc, positive, opts);
  expected.push_back({"logistic", "Logistic", Shape{4, 2, 3}});
  bn.poisson("poisson", positive, opts);
  expected.push_back({"poisson", "Poisson", Shape{4, 2, 3}});
  bn.gamma("gamma", positive, positive, opts);
  expected.push_back({"gamma", "Gamma", Shape{4, 2, 3}});
  bn.beta("beta", positive, positive, opts);
  expected.push_back({"beta", "Beta", Shape{4, 2, 3}});
  bn.multivariate_normal_cholesky("mvn", loc, tape.constant(xt::xarray<double>(xt::eye<double>(3))), {.n_samples = 4});
  expected.push_back({"mvn", "MultivariateNormalCholesky", Shape{4, 2, 3}});
  bn.mixture_normal("mixture", logits, tape.constant(random_array({2, 3, 5}, -1, 1, 4)),
                    tape.constant(random_array({2, 3, 5}, 0.5, 1, 5)), {.n_samples = 4});
  expected.push_back({"mixture", "MixtureNormal", Shape{4, 2, 5}});
  bn.add<Normal<double>>("generic", opts, loc, positive, Normal<double>::Scale::std);
  expected.push_back({"generic", "Normal", Shape{4, 2, 3}});
  for (const auto& e : expected) {
    INFO(e.node);
    CHECK(std::string(bn[e.node].distribution().name()) == e.distribution);
    CHECK(bn[e.node].value().shape() == e.sample);
    CHECK(bn.cond_log_prob(e.node).shape().front() == 4);
  }
}

namespace {
// A latent on the whole numbers (declared here: the built-in discrete distributions declare
// their supports in their own headers).
class BayesianNetCountLatent final : public Distribution<double> {
 public:
  explicit BayesianNetCountLatent(Tape<double>& tape) : Distribution<double>(tape, Shape{2}, Shape{}, {}) {}
  std::string_view name() const override { return "CountLatent"; }
  bool is_reparameterized() const override { return false; }
  Support<double> support() const override { return Support<double>::nonnegative_integer(); }

 protected:
  Var<double> log_prob_impl(const Var<double>& given, bool) const override { return given * 0.0; }
  Var<double> sample_impl(std::size_t n, Rng&) const override { return tape().zeros({n, 2}); }
};
}  // namespace

TEST_CASE("bayesian_net: each latent reports the transform from the reals onto its support", "[bayesian_net]") {
  Tape<double> tape;
  Rng rng(3);
  BayesianNet<double> bn(tape, rng, {{"x", tape.constant(xt::xarray<double>{1.0, 0.0})}});
  bn.normal("z", zeros(tape, 4, 3), 1.0, {.group_ndims = 1, .n_samples = 2});
  bn.stochastic("w", std::make_unique<TransformedDistribution<double>>(
                         std::make_unique<Normal<double>>(Normal<double>::with_std(zeros(tape, 4, 2), tape.constant(1.0))),
                         std::make_shared<StickBreakingTransform<double>>()));
  bn.stochastic("s", std::make_unique<TransformedDistribution<double>>(
                         std::make_unique<Normal<double>>(
                             Normal<double>::with_std(tape.constant(xt::xarray<double>{0.5, -1.0}), tape.constant(0.7))),
                         std::make_shared<ExpTransform<double>>()));
  bn.deterministic("total", bn["s"].value() * 2.0);
  bn.bernoulli("x", bn["s"].value(), {.group_ndims = 1});

  CHECK(bn.support("z").kind() == SupportKind::real);
  CHECK(bn.support("w").kind() == SupportKind::simplex);
  CHECK(bn.support("s").kind() == SupportKind::positive);
  CHECK(bn.support("x").describe() == "boolean");  // observed nodes have supports too

  const auto latents = bn.latent_transforms();
  REQUIRE(latents.size() == 3);
  CHECK(latents[0].first == "z");
  CHECK(latents[1].first == "w");
  CHECK(latents[2].first == "s");
  for (const auto& [name, t] : latents) {
    INFO(name << ": " << t->name());
    const Var<double> value = bn[name].value();
    const Var<double> u = t->inverse(value);
    CHECK(u.shape() == t->inverse_shape(value.shape()));
    require_close(t->forward(u).value(), value.value(), 1e-12);
    // log|det J| has the node's log_prob shape: the two add up to a density on the reals.
    CHECK(t->log_abs_det_jacobian(u, value).shape() == bn.cond_log_prob(name).shape());
  }
  CHECK(bn.transform_to_support("w")->inverse_shape({4, 3}) == Shape{4, 2});
  CHECK(bn.transform_to_support("z")->codomain().event_rank() == 1);  // group_ndims = 1: one event per row

  // For s = exp(u), u ~ N(m, 0.7^2): log p_s(exp(u)) + log|det J|(u) is the normal density of u.
  const auto t = bn.transform_to_support("s");
  const Var<double> u = tape.constant(xt::xarray<double>{0.2, -2.0});
  const auto [s, log_det] = t->forward_and_log_abs_det_jacobian(u);
  const xt::xarray<double> on_reals = (bn["s"].distribution().log_prob(s) + log_det).value();
  const xt::xarray<double> z = (xt::xarray<double>{0.2, -2.0} - xt::xarray<double>{0.5, -1.0}) / 0.7;
  require_close(on_reals, xt::xarray<double>(-0.5 * z * z - std::log(0.7) - 0.5 * std::log(2 * M_PI)), 1e-12);

  CHECK_THROWS_WITH(bn.transform_to_support("total"), Contains("node 'total' is deterministic"));
  CHECK_THROWS_WITH(bn.support("nope"), Contains("no node named 'nope'"));
  bn.stochastic("k", std::make_unique<BayesianNetCountLatent>(tape));
  CHECK_THROWS_WITH(bn.transform_to_support("k"),
                    Contains("node 'k' (CountLatent) has the discrete support nonnegative_integer"));
  CHECK_THROWS_WITH(bn.latent_transforms(), Contains("node 'k'"));
}

TEST_CASE("bayesian_net: set_latent_values gives latents their values as they are added, from their distributions",
          "[bayesian_net]") {
  Tape<double> tape;
  Rng rng(3);
  BayesianNet<double> bn(tape, rng, {{"y", tape.constant(0.5)}});
  std::vector<std::string> asked;
  bn.set_latent_values([&](const std::string& name, const Distribution<double>& d) -> std::optional<Var<double>> {
    asked.push_back(name + ":" + std::string(d.name()));
    if (name == "b") return std::nullopt;  // drawn as usual
    return tape.constant(0.25);            // a = 0.25
  });
  const Var<double> a = bn.uniform("a", tape.constant(0.0), tape.constant(1.0));
  const Var<double> b = bn.uniform("b", tape.constant(0.0), 1.0 - a);  // its bound depends on a's value
  bn.normal("y", b, 1.0);
  CHECK(asked == std::vector<std::string>{"a:Uniform", "b:Uniform"});  // observed y is not asked for
  CHECK(a.item() == 0.25);
  CHECK((b.item() >= 0.0 && b.item() < 0.75));
  CHECK_FALSE(bn["a"].is_observed());  // a given latent stays a latent
  CHECK(bn["y"].is_observed());
  CHECK(bn.cond_log_prob("b").item() == Approx(-std::log(0.75)));

  // A value that does not fit the node is refused as an observation would be.
  BayesianNet<double> wrong(tape, rng);
  wrong.set_latent_values([&](const std::string&, const Distribution<double>&) -> std::optional<Var<double>> {
    return tape.zeros({3});
  });
  CHECK_THROWS_WITH(wrong.normal("z", tape.zeros({2}), 1.0), Contains("'z'") && Contains("[3]"));
}

namespace {
double bayesian_net_scaled_log_normal(double x, double mean, double sd) {
  const double z = (x - mean) / sd;
  return -0.5 * z * z - std::log(sd) - 0.5 * std::log(2 * std::numbers::pi);
}
}  // namespace

TEST_CASE("bayesian_net: log_prob_scale multiplies a node's log-probability in log_joint and the ELBO",
          "[bayesian_net]") {
  // A minibatch of 3 out of N = 12 observations: the likelihood counts N / |B| = 4 times.
  const std::vector<double> x = {0.5, -1.0, 2.0}, y = {0.7, -0.2, 1.9};
  const double batch_scale = 12.0 / 3.0;
  Tape<double> tape;
  Rng rng(7);
  ParameterStore<double> store(7);
  const Var<double> xs = tape.constant(xt::xarray<double>{0.5, -1.0, 2.0});
  const Var<double> ys = tape.constant(xt::xarray<double>{0.7, -0.2, 1.9});

  SECTION("log_joint, cond_log_prob and the gradient of a net") {
    const Var<double> w = tape.variable(xt::xarray<double>{0.3});
    BayesianNet<double> bn(tape, rng, {{"y", ys}, {"w", w}});
    bn.normal("w", tape.zeros({1}), 1.0, {.group_ndims = 1});
    bn.normal("y", w * xs, 1.0, {.group_ndims = 1, .log_prob_scale = batch_scale});
    double log_likelihood = 0, score = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      log_likelihood += bayesian_net_scaled_log_normal(y[i], 0.3 * x[i], 1.0);
      score += x[i] * (y[i] - 0.3 * x[i]);
    }
    CHECK(bn["y"].log_prob_scale() == batch_scale);
    CHECK(bn["w"].log_prob_scale() == 1.0);
    CHECK(bn.cond_log_prob("y").item() == Approx(batch_scale * log_likelihood).epsilon(1e-14));
    const double expected = bayesian_net_scaled_log_normal(0.3, 0.0, 1.0) + batch_scale * log_likelihood;
    const Var<double> log_joint = bn.log_joint();
    CHECK(log_joint.item() == Approx(expected).epsilon(1e-14));
    tape.backward(sum(log_joint));
    CHECK(w.grad()(0) == Approx(-0.3 + batch_scale * score).epsilon(1e-14));
  }

  SECTION("the ELBO, sampled and with the analytic KL") {
    const double q_mean = 0.3, q_sd = 0.5;
    const std::size_t k = 4;
    double prior_scale = 1.0;
    auto model = meta_bayesian_net(tape, rng, store.scope("model"), [&](BayesianNet<double>& bn) {
      const Var<double> w = bn.normal("w", tape.zeros({1}), 1.0, {.group_ndims = 1, .n_samples = k,
                                                                   .log_prob_scale = prior_scale});
      bn.normal("y", w * xs, 1.0, {.group_ndims = 1, .log_prob_scale = batch_scale});  // [k, 3] -> [k]
    });
    BayesianNet<double> q(tape, rng);
    q.normal("w", tape.constant(xt::xarray<double>{q_mean}), q_sd, {.group_ndims = 1, .n_samples = k});
    const auto w = q["w"].value().value();  // [k, 1]
    double sampled = 0, likelihood_part = 0, scaled_prior = 0;
    for (std::size_t j = 0; j < k; ++j) {
      double log_likelihood = 0;
      for (std::size_t i = 0; i < x.size(); ++i) log_likelihood += bayesian_net_scaled_log_normal(y[i], w(j, 0) * x[i], 1.0);
      const double log_q = bayesian_net_scaled_log_normal(w(j, 0), q_mean, q_sd);
      const double log_prior = bayesian_net_scaled_log_normal(w(j, 0), 0.0, 1.0);
      sampled += (log_prior + batch_scale * log_likelihood - log_q) / k;
      scaled_prior += (2.0 * log_prior + batch_scale * log_likelihood - log_q) / k;
      likelihood_part += batch_scale * log_likelihood / k;
    }
    const double kl = -std::log(q_sd) + 0.5 * (q_sd * q_sd + q_mean * q_mean) - 0.5;
    CHECK(elbo(model, {{"y", ys}}, q, 0).value().item() == Approx(sampled).epsilon(1e-13));
    CHECK(elbo(model, {{"y", ys}}, q, 0, {.analytic_kl = true}).value().item() ==
          Approx(likelihood_part - kl).epsilon(1e-13));
    // A scaled latent has no closed-form term (scale * E[log p] - E[log q] is no multiple of
    // the KL): it keeps the sampled one.
    prior_scale = 2.0;
    CHECK(elbo(model, {{"y", ys}}, q, 0, {.analytic_kl = true}).value().item() ==
          Approx(scaled_prior).epsilon(1e-13));
  }

  SECTION("a scale that is not finite and positive is refused, naming the node") {
    BayesianNet<double> bn(tape, rng, {{"y", ys}});
    for (double bad : {0.0, -4.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
      CHECK_THROWS_AS(bn.normal("y", xs, 1.0, {.log_prob_scale = bad}), ArgumentError);
      CHECK_THROWS_WITH(bn.normal("y", xs, 1.0, {.log_prob_scale = bad}),
                        Contains("'y'") && Contains("log_prob_scale must be finite and > 0"));
    }
    CHECK_THROWS_WITH(bn.normal("y", xs, 1.0, {.log_prob_scale = -4.0}), Contains("got -4"));
    CHECK_FALSE(bn.contains("y"));  // nothing was added
  }
}
