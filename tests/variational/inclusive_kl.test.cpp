#include "support/conjugate_models.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

// The self-normalised importance estimate of grad KL(p || q) has an O(1/k) bias; with k = 200
// it is far below the tolerance used here.

TEST_CASE("klpq.importance: follows the gradient of KL(p || q) (Bernoulli latent)", "[variational]") {
  BernoulliModel m;
  const double q_one = 1 / (1 + std::exp(-m.params[0]));
  const double p_one = m.posterior_one();
  const double prior_one = 1 / (1 + std::exp(-m.params[1]));
  const Estimates est = bernoulli_estimates(m, 2000, 200, 80, [](ReplicatedStep& s) {
    return klpq(s.model, {{"x", s.x}}, s.q, 0).importance({.train_model = true});
  });
  // -d KL(p || q) / d lambda = p(z=1|x) - q(z=1);  d log p(x) / d eta = p(z=1|x) - sigmoid(eta)
  const MeanAndError lambda = mean_and_error(est[0]), eta = mean_and_error(est[1]);
  CHECK(std::abs(lambda.mean - (p_one - q_one)) < 4 * lambda.standard_error + 0.01);
  CHECK(std::abs(eta.mean - (p_one - prior_one)) < 4 * eta.standard_error + 0.01);
  // Without train_model the model gets nothing.
  const Estimates proposal_only = bernoulli_estimates(
      m, 10, 20, 81, [](ReplicatedStep& s) { return klpq(s.model, {{"x", s.x}}, s.q, 0).importance(); });
  for (double g : proposal_only[1]) CHECK(g == 0.0);
}

TEST_CASE("klpq.importance: a Gaussian proposal moves towards the posterior", "[variational]") {
  GaussianModel m;
  m.params = {0.8, -0.3, 0.3};  // q a little wider than the posterior: a good proposal
  const double mu = m.params[0], var = std::exp(2 * m.params[1]);
  const double post_mean = m.posterior_mean(), post_var = std::exp(2 * m.posterior_log_std());
  // -grad KL(p || q): d/dmu = (m_p - mu) / var, d/dlog sigma = (v_p + (m_p - mu)^2) / var - 1
  const std::array<double, 2> expected{(post_mean - mu) / var, (post_var + (post_mean - mu) * (post_mean - mu)) / var - 1};
  const Estimates est = gaussian_estimates(
      m, 2000, 200, 82, [](ReplicatedStep& s) { return klpq(s.model, {{"x", s.x}}, s.q, 0).importance(); });
  for (std::size_t i : {0, 1}) {
    const MeanAndError e = mean_and_error(est[i]);
    INFO("parameter " << i << ": " << e.mean << " +- " << e.standard_error << ", expected " << expected[i]);
    CHECK(std::abs(e.mean - expected[i]) < 4 * e.standard_error + 0.02 * std::abs(expected[i]));
  }
}
