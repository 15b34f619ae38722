#include "support/conjugate_models.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

/// A mean-field proposal for the multivariate model: the posterior means shifted and the
/// marginal standard deviations inflated (so importance sampling is good but not exact).
struct MeanFieldProposal {
  Tape<double>& tape;
  Rng& rng;
  Var<double> mean, logstd;

  BayesianNet<double> operator()(std::size_t n) const {
    BayesianNet<double> q(tape, rng);
    q.normal_logstd("z", mean, logstd, {.group_ndims = 1, .n_samples = n});
    return q;
  }
};

MeanFieldProposal mean_field(Tape<double>& tape, Rng& rng, const MultivariateGaussianModel& m) {
  const auto cov = m.posterior_covariance();
  xt::xarray<double> logstd = xt::zeros<double>({m.data.size(), MultivariateGaussianModel::d});
  for (std::size_t i = 0; i < m.data.size(); ++i)
    for (std::size_t r = 0; r < MultivariateGaussianModel::d; ++r)
      logstd(i, r) = 0.5 * std::log(cov[r * MultivariateGaussianModel::d + r]) + 0.3;
  return {tape, rng, tape.constant(xt::xarray<double>(m.posterior_means() + 0.2)), tape.constant(logstd)};
}

}  // namespace

TEST_CASE("is_loglikelihood: converges to log p(x) within 3 standard errors (1-D)", "[variational]") {
  GaussianModel m;
  const std::vector<double> xs{-1.0, 0.3, 1.5, 3.0};
  Tape<double> tape;
  Rng rng(100);
  ParameterStore<double> store(100);
  const double s = m.s, a = m.params[2];
  const auto model = meta_bayesian_net(tape, rng, store.scope("m"), [&](BayesianNet<double>& bn) {
    const auto z = bn.normal("z", tape.constant(xt::xarray<double>(xt::ones<double>({xs.size()}) * a)), 1.0);
    bn.normal("x", z, s);
  });
  xt::xarray<double> x = xt::zeros<double>({xs.size()});
  for (std::size_t i = 0; i < xs.size(); ++i) x(i) = xs[i];
  const auto x_var = tape.constant(x);
  const auto q_mean = tape.constant(xt::xarray<double>(x * 0.5));
  const auto q_logstd = tape.constant(xt::xarray<double>(xt::zeros<double>({xs.size()})));
  auto proposal = [&](std::size_t n) {
    BayesianNet<double> q(tape, rng);
    q.normal_logstd("z", q_mean, q_logstd, {.n_samples = n});
    return q;
  };
  const std::size_t nodes_before = tape.size();
  const auto ll = is_loglikelihood(model, {{"x", x_var}}, proposal, 0, {.n_particles = 5000, .chunk_size = 100});
  CHECK(tape.size() == nodes_before);  // every chunk was rewound
  REQUIRE(ll.log_likelihood.shape() == std::vector<std::size_t>{xs.size()});
  CHECK(ll.n_particles == 5000);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double exact = log_normal_pdf(xs[i], a, 1 + s * s);
    INFO("x = " << xs[i] << ": estimate " << ll.log_likelihood(i) << " +- " << ll.standard_error(i) << ", exact " << exact);
    CHECK(ll.standard_error(i) > 0);
    CHECK(ll.standard_error(i) < 0.05);
    CHECK(std::abs(ll.log_likelihood(i) - exact) <= 3 * ll.standard_error(i));
  }
}

TEST_CASE("is_loglikelihood: multivariate model, streaming in uneven chunks", "[variational]") {
  MultivariateGaussianModel m;
  Tape<double> tape;
  Rng rng(101);
  ParameterStore<double> store(101);
  const auto model = m.meta_net(tape, rng, store, 1);
  const auto x = tape.constant(m.data_array());
  const MeanFieldProposal proposal = mean_field(tape, rng, m);
  const auto ll = is_loglikelihood(model, {{"x", x}}, proposal, 0, {.n_particles = 5000, .chunk_size = 333});
  for (std::size_t i = 0; i < m.data.size(); ++i) {
    INFO("data point " << i << ": " << ll.log_likelihood(i) << " +- " << ll.standard_error(i) << ", exact "
                       << m.log_marginal(i));
    CHECK(std::abs(ll.log_likelihood(i) - m.log_marginal(i)) <= 3 * ll.standard_error(i));
  }
  // With the exact posterior as proposal every weight is p(x): no error at all.
  const auto exact_mean = tape.constant(m.posterior_means());
  const auto exact_tril = tape.constant(m.posterior_cov_tril());
  auto exact = [&](std::size_t n) {
    BayesianNet<double> q(tape, rng);
    q.multivariate_normal_cholesky("z", exact_mean, exact_tril, {.n_samples = n});
    return q;
  };
  const auto perfect = is_loglikelihood(model, {{"x", x}}, exact, 0, {.n_particles = 250, .chunk_size = 100});
  for (std::size_t i = 0; i < m.data.size(); ++i) {
    CHECK(perfect.log_likelihood(i) == Approx(m.log_marginal(i)).epsilon(1e-10));
    CHECK(perfect.standard_error(i) < 1e-6);
  }
}

TEST_CASE("multivariate model: ELBO exact at the posterior, IW bound rising with k", "[variational]") {
  MultivariateGaussianModel m;
  Tape<double> tape;
  Rng rng(102);
  ParameterStore<double> store(102);
  const auto x = tape.constant(m.data_array());
  {
    const auto model = m.meta_net(tape, rng, store, 4);
    BayesianNet<double> q(tape, rng);
    q.multivariate_normal_cholesky("z", tape.constant(m.posterior_means()), tape.constant(m.posterior_cov_tril()),
                                   {.n_samples = 4});
    const auto value = elbo(model, {{"x", x}}, q, 0).value();
    for (std::size_t i = 0; i < m.data.size(); ++i) CHECK(value.value()(i) == Approx(m.log_marginal(i)).epsilon(1e-10));
  }
  const MeanFieldProposal proposal = mean_field(tape, rng, m);
  std::vector<double> previous(m.data.size(), -INFINITY);
  for (std::size_t k : {1, 10, 100}) {
    const auto model = m.meta_net(tape, rng, store, k);
    // 200 independent draws of the k-particle bound per data point
    std::vector<std::vector<double>> draws(m.data.size());
    for (int r = 0; r < 200; ++r) {
      const auto mark = tape.mark();
      const auto q = proposal(k);
      const auto value = iw_objective(model, {{"x", x}}, q, 0).value();
      for (std::size_t i = 0; i < m.data.size(); ++i) draws[i].push_back(value.value()(i));
      tape.rewind(mark);
    }
    for (std::size_t i = 0; i < m.data.size(); ++i) {
      const MeanAndError e = mean_and_error(draws[i]);
      INFO("k = " << k << ", data point " << i << ": " << e.mean << " +- " << e.standard_error << ", log p(x) "
                  << m.log_marginal(i));
      CHECK(e.mean > previous[i]);
      CHECK(e.mean < m.log_marginal(i) + 4 * e.standard_error);
      previous[i] = e.mean;
    }
  }
  for (std::size_t i = 0; i < m.data.size(); ++i) CHECK(previous[i] == Approx(m.log_marginal(i)).margin(0.05));
}

TEST_CASE("is_loglikelihood: ZhuSuan's form on a net that already drew its particles", "[variational]") {
  MultivariateGaussianModel m;
  Tape<double> tape;
  Rng rng(103);
  ParameterStore<double> store(103);
  const auto model = m.meta_net(tape, rng, store, 7);
  const auto x = tape.constant(m.data_array());
  const BayesianNet<double> q = mean_field(tape, rng, m)(7);
  require_close(is_loglikelihood(model, {{"x", x}}, q, 0).value(),
                iw_objective(model, {{"x", x}}, q, 0).value().value(), 1e-12);
}

TEST_CASE("is_loglikelihood: errors", "[variational]") {
  MultivariateGaussianModel m;
  Tape<double> tape;
  Rng rng(104);
  ParameterStore<double> store(104);
  const auto model = m.meta_net(tape, rng, store, 1);
  const auto x = tape.constant(m.data_array());
  const MeanFieldProposal proposal = mean_field(tape, rng, m);
  CHECK_THROWS_WITH(is_loglikelihood(model, {{"x", x}}, proposal, 0, {.n_particles = 0}),
                    Contains("is_loglikelihood: n_particles and chunk_size must be at least 1"));
  auto fixed = [&](std::size_t) { return proposal(3); };  // ignores the count it is asked for
  const std::size_t before = tape.size();
  CHECK_THROWS_WITH(is_loglikelihood(model, {{"x", x}}, fixed, 0, {.n_particles = 10, .chunk_size = 5}),
                    Contains("is_loglikelihood: asked the proposal for 5 particles, but the log-weights have shape "
                             "[3, 4] with 3 on axis 0"));
  CHECK(tape.size() == before);  // rewound on the error too
  CHECK_THROWS_WITH(is_loglikelihood(model, {{"x", x}}, proposal, 2, {.n_particles = 10}),
                    Contains("is_loglikelihood: the particle axis 2 is out of range"));
}
