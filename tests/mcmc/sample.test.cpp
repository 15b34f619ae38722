#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "support/mcmc.hpp"
#include "vaelib/mcmc/model_density.hpp"
#include "vaelib/mcmc/sample.hpp"

using namespace vaelib;
using vaelib::testing::McmcDenseGaussian;
using vaelib::testing::McmcIndependentGaussian;

namespace {

mcmc::SampleOptions sample_test_options(std::size_t threads = 0) {
  mcmc::SampleOptions o;
  o.chains = 4;
  o.warmup = 300;
  o.draws = 500;
  o.seed = 11;
  o.threads = threads;
  return o;
}

// A density that is -inf everywhere (no starting point exists).
struct SampleTestNowhere {
  std::size_t dimension() const { return 2; }
  double log_density_and_gradient(std::span<const double>, std::span<double> g) {
    g[0] = g[1] = 0;
    return -std::numeric_limits<double>::infinity();
  }
};

// A density that fails after a number of evaluations (a bug in a user's model).
struct SampleTestThrows {
  std::size_t calls = 0;
  std::size_t dimension() const { return 1; }
  double log_density_and_gradient(std::span<const double> q, std::span<double> g) {
    if (++calls > 50) throw std::runtime_error("model bug at evaluation 51");
    g[0] = -q[0];
    return -0.5 * q[0] * q[0];
  }
};

}  // namespace

TEST_CASE("mcmc::sample: four NUTS chains on a correlated Gaussian recover its moments, named q[1], q[2]") {
  const auto samples = mcmc::sample([] { return McmcDenseGaussian::correlated(0.9, 1.0, 3.0); }, mcmc::Nuts(),
                                    sample_test_options());
  REQUIRE(samples.n_chains == 4);
  REQUIRE(samples.n_draws == 500);
  REQUIRE(samples.names == std::vector<std::string>{"q[1]", "q[2]"});
  REQUIRE(samples.values.size() == 4 * 500 * 2);
  const mcmc::Summary summary = samples.summary();
  for (const auto& [name, sd] : std::vector<std::pair<std::string, double>>{{"q[1]", 1.0}, {"q[2]", 3.0}}) {
    const mcmc::SummaryRow& row = summary[name];
    INFO(name << ": mean " << row.mean << " mcse " << row.mcse_mean << " sd " << row.sd << " rhat " << row.rhat);
    CHECK(std::abs(row.mean) < 4 * row.mcse_mean);
    CHECK(row.sd == Approx(sd).epsilon(0.1));
    CHECK(row.rhat < 1.02);
    CHECK(row.ess_bulk > 400);
  }
  CHECK(samples.divergences() == 0);
  for (double e : samples.ebfmi_per_chain()) CHECK(e > 0.3);
  // lp__ is the density at each draw.
  McmcDenseGaussian target = McmcDenseGaussian::correlated(0.9, 1.0, 3.0);
  std::vector<double> g(2);
  const std::vector<double> q{samples(2, 7, 0), samples(2, 7, 1)};
  CHECK(samples.log_density[2 * 500 + 7] == target.log_density_and_gradient(q, g));
}

TEST_CASE("mcmc::sample: the same seed gives the same draws whatever the number of threads") {
  auto make = [] { return McmcIndependentGaussian::standard(3); };
  const auto one = mcmc::sample(make, mcmc::Nuts(), sample_test_options(1));
  const auto two = mcmc::sample(make, mcmc::Nuts(), sample_test_options(2));
  CHECK(one.values == two.values);
  CHECK(one.log_density == two.log_density);
  CHECK(one.step_sizes == two.step_sizes);
  mcmc::SampleOptions other = sample_test_options(2);
  other.seed = 12;
  CHECK(mcmc::sample(make, mcmc::Nuts(), other).values != one.values);
  // Chains differ from each other (their own streams).
  CHECK(one(0, 0, 0) != one(1, 0, 0));
}

TEST_CASE("mcmc::sample: HMC, thinning, chosen initial points and the progress callback") {
  mcmc::SampleOptions o = sample_test_options();
  o.chains = 2;
  o.draws = 400;
  o.thin = 3;
  o.inits = {{0.5, -0.5}, {1.0, 2.0}};
  std::vector<std::size_t> calls(2, 0);
  std::size_t last_total = 0;
  o.progress = [&](std::size_t chain, std::size_t done, std::size_t total) {
    ++calls[chain];
    CHECK(done <= total);
    last_total = total;
  };
  const auto samples =
      mcmc::sample([] { return McmcIndependentGaussian::standard(2); }, mcmc::Hmc({.n_leapfrog = 8}), o);
  CHECK(samples.n_draws == 134);  // draws 0, 3, ..., 399
  CHECK(calls == std::vector<std::size_t>{700, 700});
  CHECK(last_total == 700);
  for (const auto& chain : samples.info) CHECK(chain.size() == 134);
}

TEST_CASE("mcmc::sample: a BayesianNet model is sampled in its natural parameters") {
  // mu ~ N(0, 10), sigma ~ HalfNormal(5), y_i ~ N(mu, sigma): 20 observations.
  auto model = [](BayesianNet<double>& bn) {
    const Var<double> mu = bn.normal("mu", bn.tape().constant(0.0), 10.0);
    const Var<double> sigma = bn.add<HalfNormal<double>>("sigma", {}, bn.tape().constant(5.0));
    bn.normal("y", mu, sigma);
  };
  xt::xarray<double> y = {2.1, 1.4, 3.3, 2.7, 1.9, 2.2, 2.8, 1.2, 2.5, 3.0,
                          2.0, 1.7, 2.9, 2.4, 1.6, 2.3, 3.1, 1.8, 2.6, 2.2};
  const auto samples = mcmc::sample([&] { return mcmc::ModelDensity<double>(model, {{"y", y}}); }, mcmc::Nuts(),
                                    sample_test_options());
  REQUIRE(samples.names == std::vector<std::string>{"mu", "sigma"});
  const mcmc::Summary summary = samples.summary();
  CHECK(summary["mu"].mean == Approx(xt::mean(y)()).margin(0.1));
  for (std::size_t c = 0; c < samples.n_chains; ++c)
    for (std::size_t i = 0; i < samples.n_draws; ++i) REQUIRE(samples(c, i, 1) > 0);
  CHECK(summary["sigma"].mean == Approx(0.6).margin(0.15));
}

TEST_CASE("mcmc::sample: bad options, densities without a starting point and failing chains give clear errors") {
  auto make = [] { return McmcIndependentGaussian::standard(2); };
  mcmc::SampleOptions o = sample_test_options();
  o.chains = 0;
  CHECK_THROWS_WITH(mcmc::sample(make, mcmc::Nuts(), o), Catch::Contains("chains = 0"));
  o = sample_test_options();
  o.inits = {{0.0, 0.0}};
  CHECK_THROWS_WITH(mcmc::sample(make, mcmc::Nuts(), o), Catch::Contains("1 initial points given for 4 chains"));
  o = sample_test_options();
  o.init_radius = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(mcmc::sample(make, mcmc::Nuts(), o), Catch::Contains("init_radius"));
  CHECK_THROWS_WITH(mcmc::sample([] { return SampleTestNowhere(); }, mcmc::Nuts(), sample_test_options()),
                    Catch::Contains("no initial point") && Catch::Contains("100 tries"));
  CHECK_THROWS_WITH(mcmc::sample([] { return SampleTestThrows(); }, mcmc::Nuts(), sample_test_options(2)),
                    Catch::Contains("model bug at evaluation 51"));
}
