#pragma once
// The summary table of MCMC draws, as CmdStan's stansummary prints it: for each quantity its
// mean, MCSE of the mean, sd, 5%, 50% and 95% quantiles, bulk and tail ESS and R-hat (the
// diagnostics of mcmc/diagnostics.hpp). A struct for programs and tests, a table for people:
//
//   const mcmc::Summary summary = mcmc::summarize(draws, {"mu", "tau", "theta[1]"});
//   std::cout << summary;                      // aligned columns
//   if (summary["tau"].rhat > 1.01) ...        // one row by name

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iomanip>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/detail/xtensor.hpp"
#include "vaelib/error.hpp"
#include "vaelib/mcmc/diagnostics.hpp"

namespace vaelib::mcmc {

/// One quantity's line of the summary. Moments and quantiles (type 7) over all draws; ess_bulk,
/// ess_tail and rhat (rank-normalised split R-hat) as in diagnostics.hpp; NaN where those are
/// undefined (constant draws, too few draws).
struct SummaryRow {
  std::string name;
  double mean = 0;
  double mcse_mean = 0;
  double sd = 0;
  double q5 = 0;
  double q50 = 0;
  double q95 = 0;
  double ess_bulk = 0;
  double ess_tail = 0;
  double rhat = 0;
};

struct Summary {
  std::size_t n_chains = 0;
  std::size_t n_draws = 0;  // per chain
  std::vector<SummaryRow> rows;

  /// The row of the quantity named `name`; ArgumentError if there is none.
  const SummaryRow& operator[](std::string_view name) const {
    const auto row = std::find_if(rows.begin(), rows.end(), [&](const SummaryRow& r) { return r.name == name; });
    if (row == rows.end()) throw ArgumentError("mcmc::Summary: no quantity named '" + std::string(name) + "'");
    return *row;
  }
};

/// The summary row of one quantity's draws.
inline SummaryRow summarize_quantity(std::string name, const DrawsView& draws) {
  detail::check_draws("summarize", draws);
  SummaryRow row;
  row.name = std::move(name);
  std::vector<double> sorted(draws.values.begin(), draws.values.end());
  const double total = static_cast<double>(sorted.size());
  row.mean = detail::shifted_mean(sorted);
  double squares = 0;
  for (double v : sorted) squares += (v - row.mean) * (v - row.mean);
  row.sd = std::sqrt(squares / (total - 1));
  std::sort(sorted.begin(), sorted.end());
  row.q5 = detail::sorted_quantile(sorted, 0.05);
  row.q50 = detail::sorted_quantile(sorted, 0.5);
  row.q95 = detail::sorted_quantile(sorted, 0.95);
  row.mcse_mean = mcse_mean(draws);
  row.ess_bulk = ess_bulk(draws);
  row.ess_tail = ess_tail(draws);
  row.rhat = rhat(draws);
  return row;
}

/// The summary of every quantity of chains x draws x quantities draws, one name per quantity.
inline Summary summarize(const DrawsArrayView& draws, std::span<const std::string> names) {
  if (names.size() != draws.n_quantities) {
    throw ArgumentError("mcmc::summarize: " + std::to_string(names.size()) + " names for " +
                        std::to_string(draws.n_quantities) + " quantities");
  }
  Summary summary{draws.n_chains, draws.n_draws, {}};
  for (std::size_t k = 0; k < draws.n_quantities; ++k) {
    const std::vector<double> values = quantity_draws(draws, k);
    summary.rows.push_back(summarize_quantity(names[k], DrawsView{values, draws.n_chains, draws.n_draws}));
  }
  return summary;
}

inline Summary summarize(const DrawsArrayView& draws, std::initializer_list<std::string> names) {
  return summarize(draws, std::span<const std::string>(names.begin(), names.size()));
}

/// The same from an xtensor expression of shape {chains, draws, quantities}.
template <class E>
Summary summarize(const xt::xexpression<E>& draws, std::span<const std::string> names) {
  const xt::xtensor<double, 3, xt::layout_type::row_major> array = xt::eval(draws.derived_cast());
  return summarize(DrawsArrayView{std::span<const double>(array.data(), array.size()), array.shape()[0],
                                  array.shape()[1], array.shape()[2]},
                   names);
}

template <class E>
Summary summarize(const xt::xexpression<E>& draws, std::initializer_list<std::string> names) {
  return summarize(draws, std::span<const std::string>(names.begin(), names.size()));
}

namespace detail {

inline std::string format_summary_value(double v, int significant) {
  if (std::isnan(v)) return "nan";
  std::ostringstream s;
  s << std::setprecision(significant) << v;
  return s.str();
}

inline std::string format_summary_fixed(double v, int decimals) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream s;
  s << std::fixed << std::setprecision(decimals) << v;
  return s.str();
}

}  // namespace detail

/// The table as stansummary prints it: a header, one line per quantity (name left-aligned,
/// numbers right-aligned, each column as wide as its widest entry), a legend. Moments and
/// quantiles with `significant` significant digits, ESS as integers, R-hat with 3 decimals.
inline std::string format_summary(const Summary& summary, int significant = 3) {
  const std::vector<std::string> header{"",    "Mean", "MCSE",     "StdDev",   "5%",
                                        "50%", "95%",  "ESS_bulk", "ESS_tail", "R_hat"};
  std::vector<std::vector<std::string>> cells{header};
  for (const SummaryRow& row : summary.rows) {
    cells.push_back(
        {row.name, detail::format_summary_value(row.mean, significant),
         detail::format_summary_value(row.mcse_mean, significant), detail::format_summary_value(row.sd, significant),
         detail::format_summary_value(row.q5, significant), detail::format_summary_value(row.q50, significant),
         detail::format_summary_value(row.q95, significant), detail::format_summary_fixed(row.ess_bulk, 0),
         detail::format_summary_fixed(row.ess_tail, 0), detail::format_summary_fixed(row.rhat, 3)});
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (const auto& line : cells) {
    for (std::size_t j = 0; j < line.size(); ++j) widths[j] = std::max(widths[j], line[j].size());
  }
  std::ostringstream out;
  out << summary.n_chains << " chains x " << summary.n_draws << " draws (" << summary.n_chains * summary.n_draws
      << " draws in all)\n\n";
  for (const auto& line : cells) {
    out << std::left << std::setw(static_cast<int>(widths[0])) << line[0] << std::right;
    for (std::size_t j = 1; j < line.size(); ++j) out << "  " << std::setw(static_cast<int>(widths[j])) << line[j];
    out << '\n';
  }
  out << "\nMCSE: Monte Carlo standard error of the mean. ESS_bulk, ESS_tail: effective sample sizes of the\n"
         "rank-normalised draws and of the 5% and 95% quantiles. R_hat: rank-normalised split R-hat\n"
         "(Vehtari et al. 2021); at convergence R_hat < 1.01, and ESS_bulk and ESS_tail above 100 per chain\n"
         "make the MCSE and R_hat themselves reliable.\n";
  return out.str();
}

inline std::ostream& operator<<(std::ostream& out, const Summary& summary) { return out << format_summary(summary); }

}  // namespace vaelib::mcmc
