#include "vaelib/mcmc/summary.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "reference/mcmc_diagnostics.inc"

using namespace vaelib;
namespace summaryref = vaelib::testing::mcmc_diagnostics_reference;

namespace {

const summaryref::DiagnosticsCase& summary_case_named(std::string_view name) {
  for (const auto& c : summaryref::kDiagnosticsCases) {
    if (name == c.name) return c;
  }
  FAIL("no reference case " << name);
  throw;
}

void require_summary_row_matches(const mcmc::SummaryRow& row, const summaryref::DiagnosticsCase& c) {
  INFO("case " << c.name);
  const auto close = [](double actual, double expected) {
    if (std::isnan(expected)) return std::isnan(actual);
    return std::abs(actual - expected) <= 1e-9 * std::max(1.0, std::abs(expected));
  };
  CHECK(close(row.mean, c.mean));
  CHECK(close(row.sd, c.sd));
  CHECK(close(row.q5, c.q05));
  CHECK(close(row.q50, c.q50));
  CHECK(close(row.q95, c.q95));
  CHECK(close(row.mcse_mean, c.mcse_mean));
  CHECK(close(row.ess_bulk, c.ess_bulk));
  CHECK(close(row.ess_tail, c.ess_tail));
  CHECK(close(row.rhat, c.rhat));
}

}  // namespace

TEST_CASE("mcmc summary: each row matches the reference diagnostics (check_draws.py, numpy, scipy)", "[mcmc]") {
  for (const auto& c : summaryref::kDiagnosticsCases) {
    const mcmc::DrawsView draws{std::span<const double>(c.draws, c.n_chains * c.n_draws), c.n_chains, c.n_draws};
    const mcmc::SummaryRow row = mcmc::summarize_quantity(c.name, draws);
    CHECK(row.name == c.name);
    require_summary_row_matches(row, c);
  }
}

TEST_CASE("mcmc summary: a chains x draws x quantities array, by span and by xtensor, rows by name", "[mcmc]") {
  // two 4 x 500 reference cases interleaved as quantities 0 and 1 of each draw
  const auto& first = summary_case_named("ar1_rho_0.5");
  const auto& second = summary_case_named("ar1_rho_0.9");
  REQUIRE(first.n_chains == second.n_chains);
  REQUIRE(first.n_draws == second.n_draws);
  const std::size_t n_chains = first.n_chains, n_draws = first.n_draws;
  std::vector<double> values;
  xt::xtensor<double, 3> array = xt::zeros<double>({n_chains, n_draws, std::size_t{2}});
  for (std::size_t c = 0; c < n_chains; ++c) {
    for (std::size_t t = 0; t < n_draws; ++t) {
      values.push_back(first.draws[c * n_draws + t]);
      values.push_back(second.draws[c * n_draws + t]);
      array(c, t, 0) = first.draws[c * n_draws + t];
      array(c, t, 1) = second.draws[c * n_draws + t];
    }
  }
  const mcmc::Summary summary = mcmc::summarize(mcmc::DrawsArrayView{values, n_chains, n_draws, 2}, {"a", "b"});
  CHECK(summary.n_chains == n_chains);
  CHECK(summary.n_draws == n_draws);
  REQUIRE(summary.rows.size() == 2);
  require_summary_row_matches(summary["a"], first);
  require_summary_row_matches(summary["b"], second);

  // the same from an xtensor expression (here a column-major copy, evaluated row-major inside)
  const xt::xtensor<double, 3, xt::layout_type::column_major> column_major = array;
  const mcmc::Summary from_xtensor = mcmc::summarize(column_major, {"a", "b"});
  REQUIRE(from_xtensor.rows.size() == 2);
  CHECK(from_xtensor.rows[1].rhat == summary.rows[1].rhat);
  CHECK(from_xtensor.rows[1].ess_tail == summary.rows[1].ess_tail);
  CHECK(from_xtensor.rows[0].mean == summary.rows[0].mean);

  CHECK_THROWS_WITH(summary["c"], "mcmc::Summary: no quantity named 'c'");
  CHECK_THROWS_WITH(mcmc::summarize(mcmc::DrawsArrayView{values, n_chains, n_draws, 2}, {"a"}),
                    "mcmc::summarize: 1 names for 2 quantities");
  CHECK_THROWS_WITH(mcmc::summarize(xt::xtensor<double, 3>(xt::zeros<double>({2, 1, 1})), {"a"}),
                    "mcmc::summarize: draws of 2 chains x 1 draws: need at least 2 draws per chain");
}

TEST_CASE("mcmc summary: printed like stansummary, aligned columns, nan for undefined diagnostics", "[mcmc]") {
  mcmc::Summary summary{4, 1000, {}};
  summary.rows.push_back({"mu", 4.3861, 0.0312, 3.2954, -0.98765, 4.4, 9.7, 1234.4, 1876.6, 1.00049});
  summary.rows.push_back({"theta[10]", -0.000123456, 1.5e-5, 2.0, -3.25, 0.0, 3.3, 98.2, 45.0, 1.0613});
  summary.rows.push_back({"sigma_constant", 2.5, NAN, 0.0, 2.5, 2.5, 2.5, NAN, NAN, NAN});
  const std::string expected =
      "4 chains x 1000 draws (4000 draws in all)\n"
      "\n"
      "                     Mean     MCSE  StdDev      5%  50%  95%  ESS_bulk  ESS_tail  R_hat\n"
      "mu                   4.39   0.0312     3.3  -0.988  4.4  9.7      1234      1877  1.000\n"
      "theta[10]       -0.000123  1.5e-05       2   -3.25    0  3.3        98        45  1.061\n"
      "sigma_constant        2.5      nan       0     2.5  2.5  2.5       nan       nan    nan\n"
      "\n"
      "MCSE: Monte Carlo standard error of the mean. ESS_bulk, ESS_tail: effective sample sizes of the\n"
      "rank-normalised draws and of the 5% and 95% quantiles. R_hat: rank-normalised split R-hat\n"
      "(Vehtari et al. 2021); at convergence R_hat < 1.01, and ESS_bulk and ESS_tail above 100 per chain\n"
      "make the MCSE and R_hat themselves reliable.\n";
  CHECK(mcmc::format_summary(summary) == expected);
  std::ostringstream streamed;
  streamed << summary;
  CHECK(streamed.str() == expected);
}

TEST_CASE("mcmc summary: a constant quantity has NaN diagnostics, its moments and quantiles exact", "[mcmc]") {
  const std::vector<double> constant(2 * 10, 1.25);
  const mcmc::SummaryRow row = mcmc::summarize_quantity("c", mcmc::DrawsView{constant, 2, 10});
  CHECK(row.mean == 1.25);
  CHECK(row.sd == 0.0);
  CHECK(row.q5 == 1.25);
  CHECK(row.q95 == 1.25);
  CHECK(std::isnan(row.mcse_mean));
  CHECK(std::isnan(row.ess_bulk));
  CHECK(std::isnan(row.ess_tail));
  CHECK(std::isnan(row.rhat));
  std::vector<double> with_inf = constant;
  with_inf[13] = INFINITY;
  CHECK_THROWS_WITH(mcmc::summarize_quantity("c", mcmc::DrawsView{with_inf, 2, 10}),
                    "mcmc::summarize: draws of 2 chains x 10 draws: draw 3 of chain 1 is +inf");
}
