#include "support/conjugate_models.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t iw_replicates = 40000;

std::vector<double> bound_values(const GaussianModel& m, std::size_t n, std::size_t k, std::uint64_t seed) {
  std::vector<double> values;
  gaussian_estimates(m, n, k, seed, [&](ReplicatedStep& s) {
    auto iw = iw_objective(s.model, {{"x", s.x}}, s.q, 0);
    const auto v = iw.value();
    values.assign(v.data(), v.data() + v.size());
    return iw.sgvb();
  });
  return values;
}

}  // namespace

TEST_CASE("iw_objective: the bound rises with k towards log p(x)", "[variational]") {
  GaussianModel m;
  const double log_p = m.log_marginal();
  double previous = -INFINITY;
  for (std::size_t k : {1, 3, 10, 100, 1000}) {
    const MeanAndError e = mean_and_error(bound_values(m, k < 1000 ? 4000 : 400, k, 40 + k));
    INFO("k = " << k << ": " << e.mean << " +- " << e.standard_error << ", log p(x) = " << log_p);
    CHECK(e.mean > previous);
    CHECK(e.mean < log_p + 4 * e.standard_error);
    if (k == 1) CHECK(std::abs(e.mean - m.elbo(m.params)) < 4 * e.standard_error);
    if (k == 3) CHECK(std::abs(e.mean - m.iw_bound(3, m.params)) < 4 * e.standard_error);
    previous = e.mean;
  }
  const double elbo_gap = log_p - m.elbo(m.params);
  CHECK(log_p - previous < 0.2 * elbo_gap);
}

TEST_CASE("iw_objective: value is logsumexp of the log-weights minus log k", "[variational]") {
  GaussianModel m;
  gaussian_estimates(m, 3, 5, 50, [&](ReplicatedStep& s) {
    auto iw = iw_objective(s.model, {{"x", s.x}}, s.q, 0);
    auto lb = elbo(s.model, {{"x", s.x}}, s.q, 0);
    const auto log_w = s.model.observe({{"x", s.x}, {"z", s.q["z"].value()}}).log_joint() - s.q["z"].log_prob();
    require_close(iw.value().value(), xt::xarray<double>(logsumexp(log_w, 0).value() - std::log(5.0)), 1e-12);
    CHECK(xt::all(iw.value().value() >= lb.value().value()));  // Jensen, sample by sample
    return iw.sgvb();
  });
}

TEST_CASE("iw_objective: sgvb, dreg and vimco gradients are unbiased (Gaussian, k = 3)", "[variational]") {
  GaussianModel m;
  const auto expected = m.iw_gradient(3);
  auto estimator = [](int which) {
    return [which](ReplicatedStep& s) {
      auto iw = iw_objective(s.model, {{"x", s.x}}, s.q, 0);
      return which == 0 ? iw.sgvb() : which == 1 ? iw.dreg() : iw.vimco();
    };
  };
  const Estimates sgvb = gaussian_estimates(m, iw_replicates, 3, 51, estimator(0));
  const Estimates dreg = gaussian_estimates(m, iw_replicates, 3, 52, estimator(1));
  const Estimates vimco = gaussian_estimates(m, 4 * iw_replicates, 3, 53, estimator(2));
  {
    INFO("sgvb");
    require_unbiased(sgvb, expected);
  }
  {
    INFO("dreg");
    require_unbiased(dreg, expected);
  }
  {
    INFO("vimco");
    require_unbiased(vimco, expected);
  }
  // the model's parameter gets the same estimator from both
  CHECK(mean_and_error(dreg[2]).variance == Approx(mean_and_error(sgvb[2]).variance).epsilon(0.1));
}

TEST_CASE("iw_objective.dreg: q's gradient keeps its signal-to-noise ratio as k grows", "[variational]") {
  // IWAE's gradient for q vanishes as k grows while its noise does not (Rainforth et al.,
  // 2018); DReG's noise shrinks with it.
  GaussianModel m;
  m.params = {0.9, -0.4, 0.3};  // near the posterior, where training spends its time
  for (std::size_t k : {30, 300}) {
    auto run = [&](bool dreg) {
      return gaussian_estimates(m, 4000, k, 90 + dreg, [dreg](ReplicatedStep& s) {
        auto iw = iw_objective(s.model, {{"x", s.x}}, s.q, 0);
        return dreg ? iw.dreg() : iw.sgvb();
      });
    };
    const Estimates sgvb = run(false), dreg = run(true);
    auto snr = [](const std::vector<double>& v) {
      const MeanAndError e = mean_and_error(v);
      return std::abs(e.mean) / std::sqrt(e.variance);
    };
    for (std::size_t i : {0, 1}) {
      INFO("k = " << k << ", parameter " << i << ": signal-to-noise sgvb " << snr(sgvb[i]) << ", dreg " << snr(dreg[i]));
      CHECK(snr(dreg[i]) > 10 * snr(sgvb[i]));
    }
  }
}

TEST_CASE("iw_objective.vimco: unbiased for Bernoulli latents (exact 2^k enumeration)", "[variational]") {
  BernoulliModel m;
  for (std::size_t k : {2, 4}) {
    INFO("k = " << k);
    require_unbiased(bernoulli_estimates(m, iw_replicates, k, 60 + k,
                                         [](ReplicatedStep& s) {
                                           return iw_objective(s.model, {{"x", s.x}}, s.q, 0).vimco();
                                         }),
                     m.iw_gradient(k));
  }
}

TEST_CASE("iw_objective: errors", "[variational]") {
  BernoulliModel m;
  bernoulli_estimates(m, 3, 1, 70, [](ReplicatedStep& s) {
    auto iw = iw_objective(s.model, {{"x", s.x}}, s.q, 0);
    CHECK_THROWS_WITH(iw.vimco(), Contains("iw_objective.vimco: needs at least 2 particles on axis 0"));
    CHECK_THROWS_WITH(iw.sgvb(), Contains("iw_objective.sgvb: latent 'z' follows a Bernoulli distribution"));
    CHECK_THROWS_WITH(iw.dreg(), Contains("iw_objective.dreg: latent 'z' follows a Bernoulli distribution"));
    CHECK_THROWS_WITH(iw_objective(s.model, {{"x", s.x}}, s.q, 3).value(),
                      Contains("iw_objective: the particle axis 3 is out of range"));
    return elbo(s.model, {{"x", s.x}}, s.q, 0).reinforce();
  });
  GaussianModel g;
  gaussian_estimates(g, 3, 2, 71, [](ReplicatedStep& s) {
    const LatentSamples<double> pairs{{"z", {s.q["z"].value(), s.q["z"].log_prob()}}};
    CHECK_THROWS_WITH(iw_objective(s.model, {{"x", s.x}}, pairs, 0).dreg(),
                      Contains("iw_objective.dreg: latent 'z' was given as a (sample, log q) pair, but DReG "
                               "re-evaluates log q with q's parameters detached"));
    return iw_objective(s.model, {{"x", s.x}}, pairs, 0).sgvb();
  });
}
