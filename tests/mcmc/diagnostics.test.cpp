#include "vaelib/mcmc/diagnostics.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "reference/mcmc_diagnostics.inc"

using namespace vaelib;
namespace diagref = vaelib::testing::mcmc_diagnostics_reference;

namespace {

/// Equal within rel (relative to max(1, |expected|)), NaN matching NaN, inf matching inf.
bool diagnostics_close(double actual, double expected, double rel) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return actual == expected;
  return std::abs(actual - expected) <= rel * std::max(1.0, std::abs(expected));
}

mcmc::DrawsView diagnostics_view_of(const diagref::DiagnosticsCase& c) {
  return {std::span<const double>(c.draws, c.n_chains * c.n_draws), c.n_chains, c.n_draws};
}

/// n_chains stationary AR(1) chains x_t = rho x_{t-1} + sqrt(1 - rho^2) e_t, unit marginal variance.
std::vector<double> diagnostics_ar1_chains(std::size_t n_chains, std::size_t n_draws, double rho, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> out;
  out.reserve(n_chains * n_draws);
  for (std::size_t c = 0; c < n_chains; ++c) {
    double x = normal(rng);
    for (std::size_t t = 0; t < n_draws; ++t) {
      x = rho * x + std::sqrt(1 - rho * rho) * normal(rng);
      out.push_back(x);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("mcmc diagnostics: every diagnostic matches the reference (check_draws.py, numpy, scipy)", "[mcmc]") {
  // The ESS and R-hat references are the posteriordb checker's own implementation of Stan's
  // estimators (exact sums below lag 64, FFT above): agreement to rounding.
  constexpr double tolerance = 1e-9;
  for (const auto& c : diagref::kDiagnosticsCases) {
    INFO("case " << c.name << " (" << c.n_chains << " chains x " << c.n_draws << " draws)");
    const mcmc::DrawsView draws = diagnostics_view_of(c);
    const std::span<const double> all = draws.values;
    const auto check = [&](const char* what, double actual, double expected) {
      INFO(what << ": vaelib " << actual << ", reference " << expected);
      CHECK(diagnostics_close(actual, expected, tolerance));
    };
    check("geyer_ess", mcmc::geyer_ess(draws), c.geyer_ess);
    check("ess_basic", mcmc::ess_basic(draws), c.ess_basic);
    check("ess_bulk", mcmc::ess_bulk(draws), c.ess_bulk);
    check("ess_tail", mcmc::ess_tail(draws), c.ess_tail);
    check("ess_quantile 0.05", mcmc::ess_quantile(draws, 0.05), c.ess_q05);
    check("ess_quantile 0.95", mcmc::ess_quantile(draws, 0.95), c.ess_q95);
    check("rhat_basic", mcmc::rhat_basic(draws), c.rhat_basic);
    check("rhat_bulk", mcmc::rhat_bulk(draws), c.rhat_bulk);
    check("rhat_tail", mcmc::rhat_tail(draws), c.rhat_tail);
    check("rhat", mcmc::rhat(draws), c.rhat);
    check("quantile 0.05", mcmc::quantile(all, 0.05), c.q05);
    check("quantile 0.5", mcmc::quantile(all, 0.5), c.q50);
    check("quantile 0.95", mcmc::quantile(all, 0.95), c.q95);
    check("mcse_mean", mcmc::mcse_mean(draws), c.mcse_mean);
    // the quantile MCSE picks two order statistics by floor/ceil of Beta quantiles times S:
    // exact as long as no product lands within rounding of an integer
    check("mcse_quantile 0.05", mcmc::mcse_quantile(draws, 0.05), c.mcse_q05);
    check("mcse_quantile 0.5", mcmc::mcse_quantile(draws, 0.5), c.mcse_q50);
    check("mcse_quantile 0.95", mcmc::mcse_quantile(draws, 0.95), c.mcse_q95);
  }
}

TEST_CASE("mcmc diagnostics: normal_quantile matches mpmath to 1e-15 relative, over the whole range", "[mcmc]") {
  for (const auto& c : diagref::kNormalQuantile) {
    const double x = mcmc::normal_quantile(c.p);
    INFO("p = " << c.p << ": vaelib " << x << ", mpmath " << c.x);
    CHECK(std::abs(x - c.x) <= 1e-15 * std::abs(c.x) + 1e-300);
  }
  CHECK(mcmc::normal_quantile(0.5) == 0.0);
  CHECK(mcmc::normal_quantile(0.0) == -std::numeric_limits<double>::infinity());
  CHECK(mcmc::normal_quantile(1.0) == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(mcmc::normal_quantile(-0.1)));
  CHECK(std::isnan(mcmc::normal_quantile(1.5)));
  CHECK(std::isnan(mcmc::normal_quantile(std::numeric_limits<double>::quiet_NaN())));
  // symmetric where 1 - p is exact (dyadic p)
  for (double p : {0x1p-40, 0.0078125, 0.3125, 0.40625})
    CHECK(mcmc::normal_quantile(p) == -mcmc::normal_quantile(1 - p));
}

TEST_CASE("mcmc diagnostics: E-BFMI matches its definition evaluated by numpy", "[mcmc]") {
  for (const auto& c : diagref::kEbfmi) {
    CHECK(diagnostics_close(mcmc::ebfmi(std::span<const double>(c.energies, c.size)), c.ebfmi, 1e-12));
  }
  const std::vector<double> constant(10, 3.0);
  CHECK(std::isnan(mcmc::ebfmi(constant)));
  CHECK_THROWS_WITH(mcmc::ebfmi(std::vector<double>{1.0}), "mcmc::ebfmi: 1 energies; need at least 2");
  CHECK_THROWS_WITH(mcmc::ebfmi(std::vector<double>{1.0, NAN, 2.0}), "mcmc::ebfmi: energy 1 of 3 is NaN");
}

TEST_CASE("mcmc diagnostics: the FFT autocovariance equals the direct sum", "[mcmc]") {
  for (std::size_t n : {1u, 2u, 5u, 64u, 100u, 1000u}) {
    const std::vector<double> x = diagnostics_ar1_chains(1, n, 0.7, 3);
    const std::vector<double> fast = mcmc::autocovariance(x);
    double mean = 0;
    for (double v : x) mean += v / static_cast<double>(n);
    REQUIRE(fast.size() == n);
    for (std::size_t t = 0; t < n; ++t) {
      double direct = 0;
      for (std::size_t i = 0; i + t < n; ++i) direct += (x[i] - mean) * (x[i + t] - mean);
      direct /= static_cast<double>(n);
      CHECK(std::abs(fast[t] - direct) <= 1e-13 * fast[0]);
    }
  }
}

TEST_CASE("mcmc diagnostics: ESS of long AR(1) chains tends to n (1 - rho) / (1 + rho)", "[mcmc]") {
  // 4 chains x 25000 draws: the ESS estimate's own relative sd is about 1-3% here (the
  // truncated autocorrelation sum), so 8% is several sd and still tells rho = 0.5 from 0.45.
  const std::size_t n_chains = 4, n_draws = 25000;
  const double total = static_cast<double>(n_chains * n_draws);
  for (double rho : {0.0, 0.5, 0.9, -0.3}) {
    const std::vector<double> x = diagnostics_ar1_chains(n_chains, n_draws, rho, 11);
    const mcmc::DrawsView draws{x, n_chains, n_draws};
    const double expected = total * (1 - rho) / (1 + rho);
    INFO("rho = " << rho << ": expected ESS " << expected);
    CHECK(mcmc::ess_basic(draws) == Approx(expected).epsilon(0.08));
    CHECK(mcmc::ess_bulk(draws) == Approx(expected).epsilon(0.08));
    CHECK(mcmc::geyer_ess(draws) == Approx(expected).epsilon(0.08));
    CHECK(mcmc::rhat(draws) < 1.01);
    // sd / sqrt(ESS) with the closed-form ESS
    CHECK(mcmc::mcse_mean(draws) == Approx(1 / std::sqrt(expected)).epsilon(0.06));
  }
}

TEST_CASE("mcmc diagnostics: R-hat of well-mixed chains is below 1.01, of shifted or scaled chains well above",
          "[mcmc]") {
  const std::size_t n_chains = 4, n_draws = 1000;
  std::vector<double> x = diagnostics_ar1_chains(n_chains, n_draws, 0.3, 5);
  const mcmc::DrawsView draws{x, n_chains, n_draws};
  CHECK(mcmc::rhat(draws) < 1.01);
  CHECK(mcmc::rhat_basic(draws) < 1.01);
  CHECK(mcmc::ess_bulk(draws) > 1000);

  std::vector<double> shifted = x;
  for (std::size_t t = 0; t < n_draws; ++t) shifted[3 * n_draws + t] += 1.0;  // chain 3 one sd away
  const mcmc::DrawsView shifted_draws{shifted, n_chains, n_draws};
  CHECK(mcmc::rhat(shifted_draws) > 1.1);
  CHECK(mcmc::rhat_bulk(shifted_draws) > 1.1);
  CHECK(mcmc::rhat_basic(shifted_draws) > 1.1);

  // same location, chain 0 three times wider: the bulk R-hat misses it, the folded one does not
  std::vector<double> scaled = x;
  for (std::size_t t = 0; t < n_draws; ++t) scaled[t] *= 3.0;
  const mcmc::DrawsView scaled_draws{scaled, n_chains, n_draws};
  CHECK(mcmc::rhat_bulk(scaled_draws) < 1.02);
  CHECK(mcmc::rhat_tail(scaled_draws) > 1.1);
  CHECK(mcmc::rhat(scaled_draws) == mcmc::rhat_tail(scaled_draws));

  // chain 0 stuck at the common median while the others move: its folded draws are all 0
  std::vector<double> one_stuck = x;
  for (std::size_t t = 0; t < n_draws; ++t) one_stuck[t] = 0.0;
  const mcmc::DrawsView one_stuck_draws{one_stuck, n_chains, n_draws};
  CHECK(mcmc::rhat_tail(one_stuck_draws) > 1.1);
  CHECK(mcmc::rhat(one_stuck_draws) > 1.1);

  // a single chain with a trend: splitting it exposes the drift
  std::vector<double> drifting = diagnostics_ar1_chains(1, 2000, 0.3, 9);
  for (std::size_t t = 0; t < drifting.size(); ++t) drifting[t] += 2.0 * static_cast<double>(t) / 2000.0;
  CHECK(mcmc::rhat(mcmc::DrawsView{drifting, 1, 2000}) > 1.1);
}

TEST_CASE("mcmc diagnostics: rank-based diagnostics are invariant under monotone transforms", "[mcmc]") {
  const std::vector<double> x = diagnostics_ar1_chains(4, 300, 0.6, 21);
  std::vector<double> y(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) y[k] = std::exp(3 * x[k]);
  const mcmc::DrawsView dx{x, 4, 300}, dy{y, 4, 300};
  CHECK(mcmc::ess_bulk(dx) == mcmc::ess_bulk(dy));
  CHECK(mcmc::rhat_bulk(dx) == mcmc::rhat_bulk(dy));
  CHECK(mcmc::ess_quantile(dx, 0.05) == mcmc::ess_quantile(dy, 0.05));
  CHECK(mcmc::ess_tail(dx) == mcmc::ess_tail(dy));
  // the raw-draw ESS is not: exp(3 x) of a Gaussian AR(1) has autocorrelation
  // (e^{9 rho^t} - 1) / (e^9 - 1), far below rho^t, so its raw ESS comes out much higher
  CHECK(mcmc::ess_basic(dy) > 2 * mcmc::ess_basic(dx));
}

TEST_CASE("mcmc diagnostics: quantile interpolates linearly between order statistics (type 7)", "[mcmc]") {
  const std::vector<double> x{4.0, 1.0, 3.0, 2.0};
  CHECK(mcmc::quantile(x, 0.0) == 1.0);
  CHECK(mcmc::quantile(x, 1.0) == 4.0);
  CHECK(mcmc::quantile(x, 0.5) == 2.5);
  CHECK(mcmc::quantile(x, 0.25) == Approx(1.75));
  CHECK(mcmc::quantile(std::vector<double>{7.0}, 0.3) == 7.0);
  CHECK_THROWS_WITH(mcmc::quantile(x, 1.5), "mcmc::quantile: prob = 1.500000 must lie in [0, 1]");
  CHECK_THROWS_WITH(mcmc::quantile(std::vector<double>{}, 0.5), "mcmc::quantile: no values");
}

TEST_CASE("mcmc diagnostics: MCSE of quantiles of independent draws agrees with the asymptotic sd", "[mcmc]") {
  // S independent N(0, 1) draws: the sample p-quantile has sd sqrt(p (1 - p) / S) / phi(q_p)
  // (sqrt(pi / 2 / S) for the median). One estimate rests on ~100 order-statistic spacings
  // (~10% noise); the mean of 100 estimates is within ~2% of its expectation.
  const std::size_t replications = 100, n_chains = 4, n_draws = 1000;
  const double total = static_cast<double>(n_chains * n_draws);
  for (double prob : {0.5, 0.05, 0.95}) {
    double mean_mcse = 0;
    for (std::size_t r = 0; r < replications; ++r) {
      const std::vector<double> x = diagnostics_ar1_chains(n_chains, n_draws, 0.0, 100 + static_cast<unsigned>(r));
      mean_mcse += mcmc::mcse_quantile(mcmc::DrawsView{x, n_chains, n_draws}, prob) / replications;
    }
    const double q = mcmc::normal_quantile(prob);
    const double density = std::exp(-q * q / 2) / std::sqrt(2 * std::numbers::pi);
    INFO("prob = " << prob);
    CHECK(mean_mcse == Approx(std::sqrt(prob * (1 - prob) / total) / density).epsilon(0.08));
  }
  const std::vector<double> x = diagnostics_ar1_chains(2, 10, 0.0, 1);
  CHECK_THROWS_WITH(mcmc::mcse_quantile(mcmc::DrawsView{x, 2, 10}, 0.0),
                    "mcmc::mcse_quantile: prob = 0.000000 must lie in (0, 1)");
}

TEST_CASE("mcmc diagnostics: constant draws give NaN; chains constant at different values give R-hat +inf", "[mcmc]") {
  const std::vector<double> constant(40, 2.5);
  const mcmc::DrawsView draws{constant, 4, 10};
  CHECK(std::isnan(mcmc::rhat(draws)));
  CHECK(std::isnan(mcmc::rhat_basic(draws)));
  CHECK(std::isnan(mcmc::ess_bulk(draws)));
  CHECK(std::isnan(mcmc::ess_basic(draws)));
  CHECK(std::isnan(mcmc::ess_tail(draws)));
  CHECK(std::isnan(mcmc::geyer_ess(draws)));
  CHECK(std::isnan(mcmc::mcse_mean(draws)));
  CHECK(std::isnan(mcmc::mcse_quantile(draws, 0.5)));
  CHECK(mcmc::quantile(constant, 0.05) == 2.5);

  std::vector<double> stuck(400, 0.0);
  for (std::size_t t = 200; t < 400; ++t) stuck[t] = 1.0;  // chains 2 and 3 stuck at 1, chains 0 and 1 at 0
  const mcmc::DrawsView stuck_draws{stuck, 4, 100};
  CHECK(mcmc::rhat(stuck_draws) == std::numeric_limits<double>::infinity());
  CHECK(mcmc::rhat_bulk(stuck_draws) == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(mcmc::rhat_tail(stuck_draws)));  // folded about the median 0.5: constant
  CHECK(mcmc::rhat_basic(stuck_draws) == std::numeric_limits<double>::infinity());
  CHECK(mcmc::ess_bulk(stuck_draws) < 10);
}

TEST_CASE("mcmc diagnostics: too few draws give NaN where a diagnostic is undefined", "[mcmc]") {
  const std::vector<double> x{0.3, -1.2, 0.8, 2.0, -0.4, 0.1, 1.1, -0.9, 0.5, 0.2, -0.6, 1.4};
  // 4 chains x 3 draws: split chains of 1 draw, no within-chain variance to compare
  CHECK(std::isnan(mcmc::rhat(mcmc::DrawsView{x, 4, 3})));
  // 3 chains x 4 draws: R-hat defined, ESS (fewer than 4 draws per split chain) not
  CHECK(std::isfinite(mcmc::rhat(mcmc::DrawsView{x, 3, 4})));
  CHECK(std::isnan(mcmc::ess_bulk(mcmc::DrawsView{x, 3, 4})));
  CHECK(std::isfinite(mcmc::geyer_ess(mcmc::DrawsView{x, 3, 4})));
  CHECK(std::isfinite(mcmc::ess_bulk(mcmc::DrawsView{x, 1, 12})));
}

TEST_CASE("mcmc diagnostics: bad input gets an ArgumentError naming the diagnostic and the draws", "[mcmc]") {
  const std::vector<double> x{0.3, -1.2, 0.8, 2.0, -0.4, 0.1};
  CHECK_THROWS_AS(mcmc::rhat(mcmc::DrawsView{x, 6, 1}), ArgumentError);
  CHECK_THROWS_WITH(mcmc::rhat(mcmc::DrawsView{x, 6, 1}),
                    "mcmc::rhat: draws of 6 chains x 1 draws: need at least 2 draws per chain");
  CHECK_THROWS_WITH(mcmc::ess_bulk(mcmc::DrawsView{x, 0, 6}),
                    "mcmc::ess_bulk: draws of 0 chains x 6 draws: need at least one chain");
  CHECK_THROWS_WITH(mcmc::ess_tail(mcmc::DrawsView{x, 2, 4}),
                    "mcmc::ess_tail: draws of 2 chains x 4 draws: the buffer holds 6 values, expected 8 (chains of "
                    "equal length)");
  std::vector<double> with_nan = x;
  with_nan[4] = NAN;
  CHECK_THROWS_WITH(mcmc::mcse_mean(mcmc::DrawsView{with_nan, 2, 3}),
                    "mcmc::mcse_mean: draws of 2 chains x 3 draws: draw 1 of chain 1 is NaN");
  std::vector<double> with_inf = x;
  with_inf[0] = -INFINITY;
  CHECK_THROWS_WITH(mcmc::ess_basic(mcmc::DrawsView{with_inf, 3, 2}),
                    "mcmc::ess_basic: draws of 3 chains x 2 draws: draw 0 of chain 0 is -inf");
  CHECK_THROWS_WITH(mcmc::concatenate_chains({{1.0, 2.0, 3.0}, {1.0, 2.0}}),
                    "mcmc::concatenate_chains: chains of unequal length: chain 0 has 3 draws, chain 1 has 2");
  CHECK_THROWS_WITH(mcmc::ess_quantile(mcmc::DrawsView{x, 2, 3}, 1.0),
                    "mcmc::ess_quantile: prob = 1.000000 must lie in (0, 1)");
}

TEST_CASE("mcmc diagnostics: chains by vector, and a diagnostic of each quantity of a 3-D array", "[mcmc]") {
  const std::vector<double> flat = mcmc::concatenate_chains({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK(flat == std::vector<double>{1.0, 2.0, 3.0, 4.0, 5.0, 6.0});

  // 3 chains x 200 draws x 2 quantities: quantity 0 an AR(1) chain, quantity 1 its square
  const std::size_t n_chains = 3, n_draws = 200;
  const std::vector<double> x = diagnostics_ar1_chains(n_chains, n_draws, 0.5, 2);
  std::vector<double> array;
  for (double v : x) {
    array.push_back(v);
    array.push_back(v * v);
  }
  const mcmc::DrawsArrayView draws{array, n_chains, n_draws, 2};
  CHECK(mcmc::quantity_draws(draws, 0) == x);
  const std::vector<double> rhats = mcmc::per_quantity(draws, mcmc::rhat);
  REQUIRE(rhats.size() == 2);
  CHECK(rhats[0] == mcmc::rhat(mcmc::DrawsView{x, n_chains, n_draws}));
  const auto tail_ess = mcmc::per_quantity(draws, [](const mcmc::DrawsView& d) { return mcmc::ess_quantile(d, 0.9); });
  CHECK(tail_ess[1] == mcmc::ess_quantile(mcmc::DrawsView{mcmc::quantity_draws(draws, 1), n_chains, n_draws}, 0.9));
  CHECK_THROWS_WITH(mcmc::quantity_draws(draws, 2), "mcmc::quantity_draws: quantity 2 of 2");
  CHECK_THROWS_WITH(mcmc::quantity_draws(mcmc::DrawsArrayView{array, n_chains, n_draws, 3}, 0),
                    "mcmc::quantity_draws: the buffer holds 1200 values, expected 3 chains x 200 draws x 3 "
                    "quantities = 1800");
}
