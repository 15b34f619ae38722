#pragma once
// The draws against a posteriordb reference, with the criterion of posteriordb's checker
// (check_draws.py, beside the shared copy of the posteriors): for each reference quantity,
//
//   mcse   = sd / sqrt(ESS),  ESS = min(bulk ESS, ESS of the raw draws), both over split chains
//   z      = (mean - ref_mean) / sqrt(mcse^2 + ref_mcse^2)
//   sd_err = sd / ref_sd - 1                      (sd with divisor n - 1)
//
// PASS when every |z| < 4 and every |sd_err| < 0.10. Also reported, for information: the
// smallest ESS and the largest rank-normalised split R-hat.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vaelib/error.hpp>
#include <vaelib/mcmc/diagnostics.hpp>
#include <vector>

#include "stan_json.hpp"

namespace vaelib::examples::posteriordb {

inline constexpr double z_limit = 4.0;
inline constexpr double sd_error_limit = 0.10;

struct QuantityCheck {
  std::string name;
  double mean = 0, ref_mean = 0, mcse = 0, ref_mcse = 0, z = 0;
  double sd = 0, ref_sd = 0, sd_error = 0;
  double ess = 0, rhat = 0;
  bool pass = false;
};

struct ReferenceCheck {
  std::vector<QuantityCheck> quantities;  // in reference.json's order
  bool pass = true;
  double max_abs_z = 0, max_abs_sd_error = 0;
  double min_ess = std::numeric_limits<double>::infinity(), max_rhat = 0;
};

/// Checks draws (n_chains x n_draws x names.size(), row-major, as mcmc::Samples holds them)
/// against `reference`; ArgumentError naming the first reference quantity the draws lack.
inline ReferenceCheck check_against_reference(const mcmc::DrawsArrayView& draws, const std::vector<std::string>& names,
                                              const Reference& reference) {
  ReferenceCheck out;
  for (const ReferenceQuantity& ref : reference.quantities) {
    const auto at = std::find(names.begin(), names.end(), ref.name);
    if (at == names.end()) {
      throw ArgumentError("posteriordb check: the draws have no quantity '" + ref.name + "' of " + reference.posterior +
                          "'s reference");
    }
    const std::vector<double> x = mcmc::quantity_draws(draws, static_cast<std::size_t>(at - names.begin()));
    const mcmc::DrawsView view{x, draws.n_chains, draws.n_draws};
    QuantityCheck q;
    q.name = ref.name;
    const double n = static_cast<double>(x.size());
    double total = 0;
    for (double v : x) total += v;
    q.mean = total / n;
    double squares = 0;
    for (double v : x) squares += (v - q.mean) * (v - q.mean);
    q.sd = std::sqrt(squares / (n - 1));
    if (q.sd > 0) {
      const double bulk = mcmc::ess_bulk(view), raw = mcmc::ess_basic(view);
      q.ess = std::isnan(bulk) ? raw : (std::isnan(raw) ? bulk : std::min(bulk, raw));
      q.rhat = mcmc::rhat(view);
    } else {
      q.ess = q.rhat = std::numeric_limits<double>::quiet_NaN();
    }
    q.mcse = q.ess > 0 ? q.sd / std::sqrt(q.ess) : 0.0;
    q.ref_mean = ref.mean;
    q.ref_mcse = ref.mcse_mean;
    q.ref_sd = ref.sd;
    const double scale = std::sqrt(q.mcse * q.mcse + q.ref_mcse * q.ref_mcse);
    const double difference = q.mean - q.ref_mean;
    q.z = scale > 0 ? difference / scale
                    : (difference == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), difference));
    q.sd_error = q.ref_sd > 0 ? q.sd / q.ref_sd - 1 : (q.sd == 0 ? 0.0 : std::numeric_limits<double>::infinity());
    q.pass = std::abs(q.z) < z_limit && std::abs(q.sd_error) < sd_error_limit;
    out.pass = out.pass && q.pass;
    out.max_abs_z = std::max(out.max_abs_z, std::abs(q.z));
    out.max_abs_sd_error = std::max(out.max_abs_sd_error, std::abs(q.sd_error));
    if (!std::isnan(q.ess)) out.min_ess = std::min(out.min_ess, q.ess);
    if (!std::isnan(q.rhat)) out.max_rhat = std::max(out.max_rhat, q.rhat);
    out.quantities.push_back(q);
  }
  return out;
}

/// The check as a table, worst quantities first (all of them), and the verdict.
inline std::string format_reference_check(const ReferenceCheck& check) {
  std::vector<QuantityCheck> rows = check.quantities;
  std::stable_sort(rows.begin(), rows.end(), [](const QuantityCheck& a, const QuantityCheck& b) {
    return std::max(std::abs(a.z) / z_limit, std::abs(a.sd_error) / sd_error_limit) >
           std::max(std::abs(b.z) / z_limit, std::abs(b.sd_error) / sd_error_limit);
  });
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %12s %12s %8s %12s %12s %8s %8s %7s\n", "quantity", "mean", "ref mean", "z",
                "sd", "ref sd", "sd err", "ESS", "R-hat");
  out += line;
  for (const QuantityCheck& q : rows) {
    std::snprintf(line, sizeof line, "%-16s %12.5g %12.5g %8.2f %12.5g %12.5g %7.1f%% %8.0f %7.3f%s\n", q.name.c_str(),
                  q.mean, q.ref_mean, q.z, q.sd, q.ref_sd, 100 * q.sd_error, q.ess, q.rhat, q.pass ? "" : "  FAIL");
    out += line;
  }
  std::snprintf(line, sizeof line,
                "max |z| = %.2f (limit %.0f), max |sd_err| = %.1f%% (limit %.0f%%), min ESS = %.0f, "
                "max R-hat = %.3f\n%s\n",
                check.max_abs_z, z_limit, 100 * check.max_abs_sd_error, 100 * sd_error_limit, check.min_ess,
                check.max_rhat, check.pass ? "PASS" : "FAIL");
  out += line;
  return out;
}

}  // namespace vaelib::examples::posteriordb
