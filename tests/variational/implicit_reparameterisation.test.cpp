// Gamma and Beta latents trained with elbo(...).sgvb(): their draws carry implicit-
// reparameterisation gradients (include/vaelib/distributions/detail/gamma_cdf_gradient.hpp),
// checked here on conjugate models whose exact posterior is known.
//
// Poisson-Gamma: lambda ~ Gamma(a0, b0), x_i | lambda ~ Poisson(lambda), i = 1..N;
//   p(lambda | x) = Gamma(a0 + sum x, b0 + N).
// Beta-Bernoulli: p ~ Beta(a0, b0), x_i | p ~ Bernoulli(p);
//   p(p | x) = Beta(a0 + sum x, b0 + N - sum x).

#include <cmath>
#include <numeric>

#include "support/conjugate_models.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

constexpr double implicit_prior_alpha = 2.0, implicit_prior_beta = 1.0;
const xt::xarray<double> implicit_counts = {3, 5, 4, 6, 2};                // sum 20, N = 5: posterior Gamma(22, 6)
const xt::xarray<double> implicit_coins = {1, 1, 0, 1, 1, 1, 0, 1, 0, 1};  // 7 of 10: posterior Beta(8, 4)

/// The Poisson-Gamma ELBO for q = Gamma(alpha, beta), in closed form:
///   E_q log p(x, lambda) + H(q),  E_q lambda = alpha / beta,  E_q log lambda = digamma(alpha) - log beta
double implicit_poisson_gamma_elbo(double alpha, double beta) {
  const double a0 = implicit_prior_alpha, b0 = implicit_prior_beta;
  const double n = static_cast<double>(implicit_counts.size());
  double sum_x = 0, log_factorials = 0;
  for (double x : implicit_counts) sum_x += x, log_factorials += std::lgamma(x + 1);
  const double mean = alpha / beta, mean_log = vaelib::detail::digamma(alpha) - std::log(beta);
  const double log_joint =
      (a0 - 1 + sum_x) * mean_log - (b0 + n) * mean + a0 * std::log(b0) - std::lgamma(a0) - log_factorials;
  const double entropy = alpha - std::log(beta) + std::lgamma(alpha) + (1 - alpha) * vaelib::detail::digamma(alpha);
  return log_joint + entropy;
}

/// The Poisson-Gamma model on `tape`, its latent of shape `shape` (+ the particle axis when k
/// is given); the counts broadcast along a trailing axis of size 1.
auto implicit_poisson_gamma_model(Tape<double>& tape, Rng& rng, ParameterStore<double>& store, const Shape& shape,
                                  std::optional<std::size_t> k) {
  return meta_bayesian_net(tape, rng, store.scope("model"), [&tape, shape, k](BayesianNet<double>& bn) {
    const auto lambda = bn.gamma("lambda", tape.full(shape, implicit_prior_alpha),
                                 tape.full(shape, implicit_prior_beta), {.group_ndims = 1, .n_samples = k});
    bn.poisson("x", lambda, {.group_ndims = 1});
  });
}

/// Adam on a few scalars (the variational parameters), written out: the test needs nothing
/// from the optimiser module.
struct ImplicitAdam {
  std::vector<double> m, v;
  int t = 0;
  void step(std::vector<double>& params, const std::vector<double>& grads, double lr) {
    if (m.empty()) m.assign(params.size(), 0.0), v.assign(params.size(), 0.0);
    ++t;
    for (std::size_t i = 0; i < params.size(); ++i) {
      m[i] = 0.9 * m[i] + 0.1 * grads[i];
      v[i] = 0.999 * v[i] + 0.001 * grads[i] * grads[i];
      const double mhat = m[i] / (1 - std::pow(0.9, t)), vhat = v[i] / (1 - std::pow(0.999, t));
      params[i] -= lr * mhat / (std::sqrt(vhat) + 1e-8);
    }
  }
};

}  // namespace

TEST_CASE(
    "implicit reparameterisation: elbo.sgvb accepts Gamma and Beta latents, and its gradient for a Gamma q is "
    "unbiased",
    "[variational]") {
  // R replicates of the Poisson-Gamma model, each with its own q = Gamma(alpha, beta) (all
  // equal): R independent estimates of the ELBO's gradient, against central differences of
  // its closed form.
  const std::size_t replicates = 20000;
  const double alpha0 = 6.0, beta0 = 2.5;
  Tape<double> tape;
  Rng rng(81);
  ParameterStore<double> store(81);
  const auto alpha = tape.variable(xt::xarray<double>(xt::ones<double>({replicates, std::size_t{1}}) * alpha0));
  const auto beta = tape.variable(xt::xarray<double>(xt::ones<double>({replicates, std::size_t{1}}) * beta0));
  auto model = implicit_poisson_gamma_model(tape, rng, store, {replicates, 1}, std::nullopt);
  BayesianNet<double> q(tape, rng);
  q.gamma("lambda", alpha, beta, {.group_ndims = 1});
  auto lower_bound = elbo(model, {{"x", tape.constant(implicit_counts)}}, q);
  const auto cost = lower_bound.sgvb();
  REQUIRE(cost.shape() == Shape{replicates});
  tape.backward(sum(cost));
  Estimates estimates(2);
  for (double g : alpha.grad()) estimates[0].push_back(-g);
  for (double g : beta.grad()) estimates[1].push_back(-g);
  const std::array<double, 2> expected = numeric_gradient<2>(
      [](const std::array<double, 2>& p) { return implicit_poisson_gamma_elbo(p[0], p[1]); }, {alpha0, beta0}, 1e-5);
  require_unbiased(estimates, expected);
  // and the bound's value averages to the closed form
  const MeanAndError value =
      mean_and_error(std::vector<double>(lower_bound.value().value().begin(), lower_bound.value().value().end()));
  CHECK(std::abs(value.mean - implicit_poisson_gamma_elbo(alpha0, beta0)) <= 4 * value.standard_error);

  // A Beta latent is accepted too (the Beta-Bernoulli model)
  BayesianNet<double> beta_q(tape, rng);
  beta_q.beta("p", tape.variable(xt::xarray<double>{2.0}), tape.variable(xt::xarray<double>{3.0}),
              {.group_ndims = 1, .n_samples = 4});
  auto beta_model = meta_bayesian_net(tape, rng, store.scope("beta_model"), [&tape](BayesianNet<double>& bn) {
    const auto p = bn.beta("p", tape.full({1}, 1.0), tape.full({1}, 1.0), {.group_ndims = 1, .n_samples = 4});
    bn.bernoulli("x", log(p) - log1p(-p), {.group_ndims = 1});
  });
  const auto beta_cost = elbo(beta_model, {{"x", tape.constant(implicit_coins)}}, beta_q, 0).sgvb();
  CHECK(beta_cost.shape() == Shape{});
  CHECK(beta_cost.requires_grad());
}

TEST_CASE("implicit reparameterisation: a Gamma q and a Beta q trained with elbo.sgvb reach the exact posterior",
          "[variational]") {
  // q's log-parameters by Adam on mean(elbo(...).sgvb()) with k particles, the step cut in the
  // second half, whose iterates are averaged (the gradient stays noisy at the optimum). The
  // mean alpha / beta is found in a few hundred steps; the spread, along the flat ridge of
  // equal means, takes thousands (at 4000 steps the Gamma q is still 2% short).
  const std::size_t k = 16, steps = 16000;
  struct Case {
    const char* name;
    double posterior_alpha, posterior_beta;
  };
  for (const Case c : {Case{"Poisson-Gamma", 22.0, 6.0}, Case{"Beta-Bernoulli", 8.0, 4.0}}) {
    const bool gamma_model = std::string(c.name) == "Poisson-Gamma";
    Tape<double> tape;
    Rng rng(gamma_model ? 91 : 92);
    ParameterStore<double> store(93);
    auto model = gamma_model ? implicit_poisson_gamma_model(tape, rng, store, {1}, k)
                             : meta_bayesian_net(tape, rng, store.scope("model"), [&tape, k](BayesianNet<double>& bn) {
                                 const auto p = bn.beta("z", tape.full({1}, 1.0), tape.full({1}, 1.0),
                                                        {.group_ndims = 1, .n_samples = k});
                                 bn.bernoulli("x", log(p) - log1p(-p), {.group_ndims = 1});
                               });
    const xt::xarray<double> data = gamma_model ? implicit_counts : implicit_coins;
    std::vector<double> log_params{0.0, 0.0};  // q starts at (1, 1)
    std::vector<double> averaged{0.0, 0.0};
    ImplicitAdam adam;
    for (std::size_t step = 0; step < steps; ++step) {
      tape.clear();
      const auto log_alpha = tape.variable(xt::xarray<double>{log_params[0]});
      const auto log_beta = tape.variable(xt::xarray<double>{log_params[1]});
      BayesianNet<double> q(tape, rng);
      if (gamma_model) {
        q.gamma("lambda", exp(log_alpha), exp(log_beta), {.group_ndims = 1, .n_samples = k});
      } else {
        q.beta("z", exp(log_alpha), exp(log_beta), {.group_ndims = 1, .n_samples = k});
      }
      const auto cost = mean(elbo(model, {{"x", tape.constant(data)}}, q, 0).sgvb());
      tape.backward(cost);
      adam.step(log_params, {log_alpha.grad()(0), log_beta.grad()(0)}, step < steps / 2 ? 0.05 : 0.01);
      if (step >= steps / 2)
        for (std::size_t i = 0; i < 2; ++i)
          averaged[i] += std::exp(log_params[i]) / static_cast<double>(steps - steps / 2);
    }
    INFO(c.name << ": q = (" << averaged[0] << ", " << averaged[1] << "), posterior (" << c.posterior_alpha << ", "
                << c.posterior_beta << ")");
    CHECK(std::abs(averaged[0] - c.posterior_alpha) < 0.03 * c.posterior_alpha);
    CHECK(std::abs(averaged[1] - c.posterior_beta) < 0.03 * c.posterior_beta);
  }
}
