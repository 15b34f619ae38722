#include "support/conjugate_models.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t replicates = 20000;

Var<double> sgvb_cost(ReplicatedStep& s) { return elbo(s.model, {{"x", s.x}}, s.q, 0).sgvb(); }

}  // namespace

TEST_CASE("elbo: below log p(x), and equal to it at the true posterior", "[variational]") {
  GaussianModel m;
  // At q = p(z | x) every particle's log-weight is log p(x): the bound is exact.
  GaussianModel exact = m;
  exact.params[0] = m.posterior_mean();
  exact.params[1] = m.posterior_log_std();
  gaussian_estimates(exact, 8, 5, 1, [&](ReplicatedStep& s) {
    const auto value = elbo(s.model, {{"x", s.x}}, s.q, 0).value();
    REQUIRE(value.shape() == Shape{8});
    for (double v : value.value()) CHECK(v == Approx(exact.log_marginal()).epsilon(1e-12));
    return sgvb_cost(s);
  });
  // Elsewhere the estimates average to the closed-form ELBO, which is below log p(x).
  std::vector<double> values;
  gaussian_estimates(m, replicates, 1, 2, [&](ReplicatedStep& s) {
    const auto value = elbo(s.model, {{"x", s.x}}, s.q, 0).value();
    values.assign(value.data(), value.data() + value.size());
    return sgvb_cost(s);
  });
  const MeanAndError e = mean_and_error(values);
  INFO("mean ELBO estimate " << e.mean << " +- " << e.standard_error << ", closed form " << m.elbo(m.params));
  CHECK(std::abs(e.mean - m.elbo(m.params)) <= 4 * e.standard_error);
  CHECK(m.elbo(m.params) < m.log_marginal() - 0.1);
}

TEST_CASE("elbo: the value averages over the particle axis (any axis) or keeps particles without one", "[variational]") {
  GaussianModel m;
  gaussian_estimates(m, 3, 4, 3, [&](ReplicatedStep& s) {
    auto lb = elbo(s.model, {{"x", s.x}}, s.q, 0);
    const auto per_particle = elbo(s.model, {{"x", s.x}}, s.q).value();  // no axis: [k, R]
    REQUIRE(per_particle.shape() == Shape{4, 3});
    const auto by_hand = mean(s.model.observe({{"x", s.x}, {"z", s.q["z"].value()}}).log_joint() - s.q["z"].log_prob(), {0});
    require_close(lb.value().value(), by_hand.value(), 1e-12);
    require_close(elbo(s.model, {{"x", s.x}}, s.q, -2).value().value(), by_hand.value(), 1e-12);
    return lb.sgvb();
  });
}

TEST_CASE("elbo.sgvb: unbiased gradients (reparameterisation, and the path derivative)", "[variational]") {
  GaussianModel m;
  require_unbiased(gaussian_estimates(m, replicates, 1, 4, sgvb_cost), m.elbo_gradient());
  require_unbiased(gaussian_estimates(m, replicates, 3, 5, sgvb_cost, /*path_derivative=*/true), m.elbo_gradient());
}

TEST_CASE("elbo: analytic KL gives the same bound and unbiased gradients with less variance", "[variational]") {
  GaussianModel m;
  std::vector<double> values;
  auto analytic = [&](ReplicatedStep& s) {
    auto lb = elbo(s.model, {{"x", s.x}}, s.q, 0, {.analytic_kl = true});
    const auto v = lb.value();
    values.assign(v.data(), v.data() + v.size());
    return lb.sgvb();
  };
  const Estimates with_kl = gaussian_estimates(m, replicates, 1, 6, analytic);
  require_unbiased(with_kl, m.elbo_gradient());
  const MeanAndError e = mean_and_error(values);
  CHECK(std::abs(e.mean - m.elbo(m.params)) <= 4 * e.standard_error);
  const Estimates sampled = gaussian_estimates(m, replicates, 1, 6, sgvb_cost);
  // d/da is mu - a exactly with the closed form, (z - a) with sampling
  CHECK(mean_and_error(with_kl[2]).variance < 1e-20);
  CHECK(mean_and_error(sampled[2]).variance > 0.1);
}

TEST_CASE("elbo: a KL weight scales the KL part of the surrogate, not the reported bound", "[variational]") {
  GaussianModel m;
  const double beta = 0.4;
  const double mu = m.params[0], var = std::exp(2 * m.params[1]), a = m.params[2], s2 = m.s * m.s;
  // d/d(mu, log sigma, a) of E_q[log N(x; z, s^2)] - beta KL(N(mu, sigma^2) || N(a, 1))
  const std::array<double, 3> expected{(m.x - mu) / s2 - beta * (mu - a), -var / s2 - beta * (var - 1), beta * (mu - a)};
  for (bool analytic : {false, true}) {
    std::vector<double> values;
    const Estimates est = gaussian_estimates(m, replicates, 1, 7, [&](ReplicatedStep& s) {
      auto lb = elbo(s.model, {{"x", s.x}}, s.q, 0, {.analytic_kl = analytic, .kl_weight = beta});
      const auto v = lb.value();
      values.assign(v.data(), v.data() + v.size());
      return lb.sgvb();
    });
    require_unbiased(est, expected);
    const MeanAndError e = mean_and_error(values);
    CHECK(std::abs(e.mean - m.elbo(m.params)) <= 4 * e.standard_error);  // the true bound
  }
}

TEST_CASE("KLWarmup: linear from start to 1", "[variational]") {
  const KLWarmup warmup{.steps = 100, .start = 0.2};
  CHECK(warmup.weight(0) == 0.2);
  CHECK(warmup.weight(50) == Approx(0.6));
  CHECK(warmup.weight(100) == 1.0);
  CHECK(warmup.weight(1000) == 1.0);
  CHECK(KLWarmup{}.weight(0) == 1.0);
}

TEST_CASE("elbo.reinforce: unbiased, and baselines cut its variance", "[variational]") {
  GaussianModel m;
  const auto expected = m.elbo_gradient();
  auto plain = [](ReplicatedStep& s) { return elbo(s.model, {{"x", s.x}}, s.q, 0).reinforce(); };
  const Estimates without = gaussian_estimates(m, replicates, 1, 8, plain);
  require_unbiased(without, expected);

  // Moving average: warmed up on earlier steps, then each step's estimates stay unbiased.
  MovingAverageBaseline moving(0.5);
  auto averaged = [&](ReplicatedStep& s) {
    return elbo(s.model, {{"x", s.x}}, s.q, 0).reinforce({.moving_average = &moving});
  };
  for (std::uint64_t warm = 0; warm < 4; ++warm) gaussian_estimates(m, 1000, 1, 100 + warm, averaged);
  CHECK(moving.value() == Approx(m.elbo(m.params)).margin(0.2));
  const Estimates with_average = gaussian_estimates(m, replicates, 1, 9, averaged);
  require_unbiased(with_average, expected);

  // A learned baseline c(x), here at the value training would drive it to (the ELBO).
  std::vector<double> baseline_grad;
  const Estimates with_learned = gaussian_estimates(m, replicates, 1, 10, [&](ReplicatedStep& s) {
    const auto c = s.tape.variable(xt::xarray<double>(xt::ones<double>({replicates}) * (m.elbo(m.params) + 0.1)));
    auto [cost, baseline_cost] = elbo(s.model, {{"x", s.x}}, s.q, 0).reinforce(c);
    REQUIRE(baseline_cost.shape() == Shape{replicates});
    const auto total = cost + baseline_cost;
    s.tape.backward(sum(baseline_cost));
    baseline_grad.assign(c.grad().begin(), c.grad().end());
    return total;
  });
  require_unbiased(with_learned, expected);
  // d/dc (f - c)^2 / 2 = c - f, whose mean is c - ELBO = 0.1
  CHECK(mean_and_error(baseline_grad).mean == Approx(0.1).margin(4 * mean_and_error(baseline_grad).standard_error));

  // q's parameters: the score term's variance is what a baseline cuts (most for the mean, whose
  // score (z - mu) / sigma^2 is uncorrelated with the signal's own spread)
  const double ratios[2][2] = {{0.4, 0.4}, {0.75, 0.75}};  // measured: 0.21, 0.19 and 0.53, 0.40
  for (std::size_t i : {0, 1}) {
    INFO("parameter " << i << ": variance without baseline " << mean_and_error(without[i]).variance
                      << ", moving average " << mean_and_error(with_average[i]).variance << ", learned "
                      << mean_and_error(with_learned[i]).variance);
    CHECK(mean_and_error(with_average[i]).variance < ratios[i][0] * mean_and_error(without[i]).variance);
    CHECK(mean_and_error(with_learned[i]).variance < ratios[i][1] * mean_and_error(without[i]).variance);
  }
}

TEST_CASE("elbo.reinforce: unbiased for Bernoulli latents (seed 004), sgvb refuses them", "[variational]") {
  BernoulliModel m;
  const auto expected = m.elbo_gradient();
  require_unbiased(bernoulli_estimates(m, replicates, 1, 11,
                                       [](ReplicatedStep& s) { return elbo(s.model, {{"x", s.x}}, s.q, 0).reinforce(); }),
                   expected);
  MovingAverageBaseline moving;
  auto averaged = [&](ReplicatedStep& s) {
    return elbo(s.model, {{"x", s.x}}, s.q, 0).reinforce({.moving_average = &moving});
  };
  for (std::uint64_t warm = 0; warm < 4; ++warm) bernoulli_estimates(m, 1000, 1, 200 + warm, averaged);
  require_unbiased(bernoulli_estimates(m, replicates, 4, 12, averaged), expected);
  // analytic KL (Bernoulli-Bernoulli) with the score function for the likelihood term
  require_unbiased(bernoulli_estimates(m, replicates, 1, 13,
                                       [](ReplicatedStep& s) {
                                         return elbo(s.model, {{"x", s.x}}, s.q, 0, {.analytic_kl = true}).reinforce();
                                       }),
                   expected);
  bernoulli_estimates(m, 4, 1, 14, [](ReplicatedStep& s) {
    auto lb = elbo(s.model, {{"x", s.x}}, s.q, 0);
    CHECK_THROWS_WITH(lb.sgvb(), Contains("elbo.sgvb: latent 'z' follows a Bernoulli distribution, which is not "
                                          "reparameterised"));
    return lb.reinforce();
  });
}

TEST_CASE("elbo.sgvb of a small VAE equals the same quantity written by hand", "[variational]") {
  Tape<float> tape;
  Rng rng(21);
  ParameterStore<float> params(22);
  const std::size_t n = 5, k = 3, d = 4, z_dim = 2;
  const xt::xarray<float> x_values = xt::cast<float>(random_array({n, d}, 0, 1, 23) > 0.5);
  auto model = meta_bayesian_net(tape, rng, params.scope("gen"), [&](BayesianNet<float>& bn) {
    const auto z = bn.normal("z", tape.constant(xt::xarray<float>(xt::zeros<float>({n, z_dim}))), 1.0f,
                             {.group_ndims = 1, .n_samples = k});
    const auto h = dense(bn.scope(), "h", z, 8, {.activation = Activation::tanh});
    bn.bernoulli("x", dense(bn.scope(), "logits", h, d), {.group_ndims = 1});
  });
  auto run = [&](bool by_hand) {
    tape.clear();
    params.zero_grad();
    rng = Rng(24);
    const auto x = tape.constant(x_values);
    const ParameterScope<float> q_scope = params.scope("q");
    const auto h = dense(q_scope, "h", x, 8, {.activation = Activation::relu});
    BayesianNet<float> q(tape, rng);
    const auto z = q.normal_logstd("z", dense(q_scope, "mean", h, z_dim), dense(q_scope, "logstd", h, z_dim),
                                   {.group_ndims = 1, .n_samples = k});
    Var<float> cost;
    if (by_hand) {
      const Normal<float> prior = Normal<float>::with_std(tape.constant(xt::xarray<float>(xt::zeros<float>({n, z_dim}))),
                                                          tape.constant(1.0f), {.group_ndims = 1});
      const auto hg = dense(params.scope("gen"), "h", z, 8, {.activation = Activation::tanh});
      const Bernoulli<float> likelihood(dense(params.scope("gen"), "logits", hg, d), {.group_ndims = 1});
      const auto log_w = prior.log_prob(z) + likelihood.log_prob(x) - q["z"].distribution().log_prob(z);
      cost = mean(-mean(log_w, {0}));
    } else {
      cost = mean(elbo(model, {{"x", x}}, q, 0).sgvb());
    }
    tape.backward(cost);
    std::vector<float> grads;
    for (const auto& block : params.blocks())
      grads.insert(grads.end(), block->grads.data(), block->grads.data() + block->used);
    return std::pair{cost.item(), grads};
  };
  const auto [by_hand, hand_grads] = run(true);
  const auto [objective, objective_grads] = run(false);
  CHECK(objective == Approx(by_hand).epsilon(1e-6));
  REQUIRE(objective_grads.size() == hand_grads.size());
  for (std::size_t i = 0; i < hand_grads.size(); ++i) CHECK(objective_grads[i] == Approx(hand_grads[i]).margin(1e-6));
}

TEST_CASE("elbo: errors name the latent, the node and the shapes", "[variational]") {
  GaussianModel m;
  gaussian_estimates(m, 3, 2, 30, [&](ReplicatedStep& s) {
    const auto z = s.q["z"].value();
    CHECK_THROWS_WITH(elbo(s.model, {{"x", s.x}, {"z", z}}, s.q, 0).value(),
                      Contains("elbo: 'z' is both observed and a latent of the variational posterior"));
    CHECK_THROWS_WITH(elbo(s.model, {}, s.q, 0).value(),
                      Contains("elbo: the model's stochastic node 'x' is neither observed nor a latent of the "
                               "variational posterior (latents: z)"));
    CHECK_THROWS_WITH(elbo(s.model, {{"x", s.x}, {"y", s.x}}, s.q, 0).value(),
                      Contains("the observation 'y' names no stochastic node"));
    CHECK_THROWS_WITH(elbo(s.model, {{"x", s.x}}, s.q, 2).value(),
                      Contains("elbo: the particle axis 2 is out of range for the per-particle objective of shape [2, 3]"));
    CHECK_THROWS_WITH(elbo(s.model, {{"x", s.x}}, s.q, 0, {.kl_weight = -1}),
                      Contains("elbo: kl_weight must be non-negative"));
    const auto bad_baseline = s.tape.variable(xt::xarray<double>(xt::ones<double>({4})));
    CHECK_THROWS_WITH(elbo(s.model, {{"x", s.x}}, s.q, 0).reinforce(bad_baseline),
                      Contains("elbo.reinforce: the baseline has shape [4], which does not broadcast with the "
                               "per-particle learning signal's [2, 3]"));
    BayesianNet<double> all_observed(s.tape, s.rng, {{"z", z}});
    all_observed.normal("z", s.params[0], 1.0, {.n_samples = 2});
    CHECK_THROWS_WITH(elbo(s.model, {{"x", s.x}}, all_observed, 0),
                      Contains("elbo: the variational net has no latent (every stochastic node is observed)"));
    return sgvb_cost(s);
  });
}

TEST_CASE("elbo: a model with an overridden log joint", "[variational]") {
  GaussianModel m;
  gaussian_estimates(m, 3, 2, 31, [&](ReplicatedStep& s) {
    MetaBayesianNet<double> tempered = s.model;
    tempered.set_log_joint([](BayesianNet<double>& bn) { return bn.default_log_joint() * 0.5; });
    auto lb = elbo(tempered, {{"x", s.x}}, s.q, 0);
    const auto by_hand =
        mean(s.model.observe({{"x", s.x}, {"z", s.q["z"].value()}}).log_joint() * 0.5 - s.q["z"].log_prob(), {0});
    require_close(lb.value().value(), by_hand.value(), 1e-12);
    CHECK_THROWS_WITH(elbo(tempered, {{"x", s.x}}, s.q, 0, {.analytic_kl = true}).value(),
                      Contains("elbo: analytic_kl and kl_weight split the model's log joint"));
    return lb.sgvb();
  });
}

TEST_CASE("elbo: latents given as (sample, log q) pairs", "[variational]") {
  GaussianModel m;
  require_unbiased(gaussian_estimates(m, replicates, 1, 32,
                                      [](ReplicatedStep& s) {
                                        const LatentSamples<double> latents{
                                            {"z", {s.q["z"].value(), s.q["z"].log_prob()}}};
                                        return elbo(s.model, {{"x", s.x}}, latents, 0).sgvb();
                                      }),
                   m.elbo_gradient());
}
