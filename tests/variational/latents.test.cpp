#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("VariationalLatents: q's unobserved stochastic nodes, in order, with their log q", "[variational]") {
  Tape<double> tape;
  Rng rng(1);
  const auto zeros = tape.constant(xt::xarray<double>(xt::zeros<double>({2, 3})));
  BayesianNet<double> q(tape, rng, {{"x", zeros}});
  q.normal("x", zeros, 1.0);  // observed in q: an input, not a latent
  q.normal("z2", zeros, 1.0, {.group_ndims = 1});
  q.bernoulli("z1", zeros, {.group_ndims = 1});
  const VariationalLatents<double> latents("elbo", q);
  REQUIRE(latents.latents().size() == 2);
  CHECK(latents.latents()[0].name == "z2");
  CHECK(latents.latents()[1].name == "z1");
  CHECK(latents.names() == "z2, z1");
  CHECK_FALSE(latents.all_reparameterized());
  CHECK_THROWS_WITH(latents.require_reparameterized("elbo.sgvb"),
                    Contains("elbo.sgvb: latent 'z1' follows a Bernoulli distribution, which is not reparameterised"));
  // log q summed over the latents, live or detached in q's parameters
  const auto total = latents.log_q_total(latents.values(), LogQ::as_scored);
  require_close(total.value(), xt::xarray<double>(q["z2"].log_prob().value() + q["z1"].log_prob().value()));
  const auto detached = latents.log_q_total(latents.detached_values(), LogQ::detached);
  require_close(detached.value(), total.value());
  CHECK_FALSE(detached.requires_grad());
}

TEST_CASE("VariationalLatents: (sample, log q) pairs", "[variational]") {
  Tape<double> tape;
  const auto v = tape.variable(xt::xarray<double>{1.0, 2.0});
  const VariationalLatents<double> latents("elbo", LatentSamples<double>{{"z", {v, v * 2.0}}});
  CHECK(latents.all_reparameterized());
  CHECK_THROWS_WITH(latents.require_distributions("iw_objective.dreg", "it needs q"),
                    Contains("iw_objective.dreg: latent 'z' was given as a (sample, log q) pair, but it needs q"));
  CHECK_THROWS_WITH(VariationalLatents<double>("elbo", LatentSamples<double>{{"z", {v, Var<double>()}}}),
                    Contains("elbo: latent 'z' needs both a sample and its log q"));
  CHECK_THROWS_WITH(VariationalLatents<double>("elbo", LatentSamples<double>{}), Contains("elbo: no latent given"));
}

TEST_CASE("objectives work on float tapes", "[variational]") {
  Tape<float> tape;
  Rng rng(2);
  ParameterStore<float> store(3);
  const auto zeros = tape.constant(xt::xarray<float>(xt::zeros<float>({4, 2})));
  const auto x = tape.constant(xt::xarray<float>(xt::ones<float>({4, 2})));
  const auto model = meta_bayesian_net(tape, rng, store.scope("m"), [&](BayesianNet<float>& bn) {
    const auto z = bn.normal("z", zeros, 1.0f, {.group_ndims = 1});
    bn.normal("x", z, 0.5f, {.group_ndims = 1});
  });
  const auto q_mean = tape.variable(xt::xarray<float>(xt::zeros<float>({4, 2})));
  const auto logstd = tape.variable(xt::xarray<float>(xt::zeros<float>({4, 2})));
  BayesianNet<float> q(tape, rng);
  q.normal_logstd("z", q_mean, logstd, {.group_ndims = 1, .n_samples = 5});
  const auto cost = mean(iw_objective(model, {{"x", x}}, q, 0).dreg()) +
                    mean(iw_objective(model, {{"x", x}}, q, 0).vimco()) +
                    mean(elbo(model, {{"x", x}}, q, 0, {.analytic_kl = true}).sgvb()) +
                    mean(klpq(model, {{"x", x}}, q, 0).importance());
  tape.backward(cost);
  CHECK(std::isfinite(q_mean.grad()(0, 0)));
  auto proposal = [&](std::size_t n) {
    BayesianNet<float> p(tape, rng);
    p.normal_logstd("z", q_mean, logstd, {.group_ndims = 1, .n_samples = n});
    return p;
  };
  const auto ll = is_loglikelihood(model, {{"x", x}}, proposal, 0, {.n_particles = 50, .chunk_size = 20});
  CHECK(ll.log_likelihood.shape() == std::vector<std::size_t>{4});
}
