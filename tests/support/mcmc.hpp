#pragma once
// Support for the MCMC tests: log densities with known moments, an effective sample size
// (Geyer's initial monotone sequence estimator), z-scores of sample moments that use it, and a
// Kolmogorov-Smirnov statistic.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "vaelib/mcmc.hpp"

namespace vaelib::testing {

/// Independent Gaussians N(mean_i, scale_i^2). Counts its evaluations.
struct McmcIndependentGaussian {
  std::vector<double> mean;
  std::vector<double> scale;
  std::size_t evaluations = 0;

  static McmcIndependentGaussian standard(std::size_t d) {
    return {std::vector<double>(d, 0.0), std::vector<double>(d, 1.0)};
  }
  std::size_t dimension() const { return mean.size(); }
  double log_density_and_gradient(std::span<const double> q, std::span<double> grad) {
    ++evaluations;
    double lp = 0;
    for (std::size_t i = 0; i < q.size(); ++i) {
      const double z = (q[i] - mean[i]) / scale[i];
      lp -= 0.5 * z * z;
      grad[i] = -z / scale[i];
    }
    return lp;
  }
};

/// A zero-mean Gaussian given by its precision matrix (row-major d x d).
struct McmcDenseGaussian {
  std::size_t d;
  std::vector<double> precision;

  /// The bivariate Gaussian with unit variances and correlation rho, scaled by (s0, s1).
  static McmcDenseGaussian correlated(double rho, double s0 = 1.0, double s1 = 1.0) {
    const double det = 1 - rho * rho;
    return {2, {1 / (det * s0 * s0), -rho / (det * s0 * s1), -rho / (det * s0 * s1), 1 / (det * s1 * s1)}};
  }
  std::size_t dimension() const { return d; }
  double log_density_and_gradient(std::span<const double> q, std::span<double> grad) {
    double lp = 0;
    for (std::size_t i = 0; i < d; ++i) {
      double row = 0;
      for (std::size_t j = 0; j < d; ++j) row += precision[i * d + j] * q[j];
      grad[i] = -row;
      lp -= 0.5 * q[i] * row;
    }
    return lp;
  }
};

/// y = log x with x ~ Gamma(shape, 1): log p(y) = shape * y - exp(y) (the Jacobian exp(y)
/// included). E[y] = digamma(shape), Var[y] = trigamma(shape); P(Y <= y) = P(shape, exp(y)).
struct McmcLogGamma {
  double shape = 3;
  std::size_t dimension() const { return 1; }
  double log_density_and_gradient(std::span<const double> q, std::span<double> grad) {
    const double x = std::exp(q[0]);
    grad[0] = shape - x;
    return shape * q[0] - x;
  }
};

/// Neal's funnel: v ~ N(0, 3^2), x_i | v ~ N(0, exp(v)), coordinates (v, x_1, ..., x_k).
struct McmcFunnel {
  std::size_t k = 1;
  std::size_t dimension() const { return k + 1; }
  double log_density_and_gradient(std::span<const double> q, std::span<double> grad) {
    const double v = q[0], inverse_variance = std::exp(-v);
    double lp = -v * v / 18.0 - 0.5 * static_cast<double>(k) * v, squares = 0;
    for (std::size_t i = 1; i <= k; ++i) {
      squares += q[i] * q[i];
      grad[i] = -q[i] * inverse_variance;
    }
    lp -= 0.5 * squares * inverse_variance;
    grad[0] = -v / 9.0 - 0.5 * static_cast<double>(k) + 0.5 * squares * inverse_variance;
    return lp;
  }
};

/// Column j of row-major draws with `dimension` columns.
inline std::vector<double> mcmc_column(const std::vector<double>& draws, std::size_t dimension, std::size_t j) {
  std::vector<double> out(draws.size() / dimension);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = draws[i * dimension + j];
  return out;
}

inline double mcmc_mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

inline double mcmc_variance(const std::vector<double>& x) {
  const double m = mcmc_mean(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return s / static_cast<double>(x.size() - 1);
}

/// Effective sample size of one chain by Geyer's initial monotone sequence: the sums of
/// adjacent autocorrelation pairs are summed while positive, each capped by the previous one.
/// Anticorrelated chains get more than n (the integrated time is floored at 1 / log10(n)).
inline double mcmc_effective_sample_size(const std::vector<double>& x) {
  const std::size_t n = x.size();
  const double m = mcmc_mean(x);
  auto autocovariance = [&](std::size_t lag) {
    double s = 0;
    for (std::size_t i = 0; i + lag < n; ++i) s += (x[i] - m) * (x[i + lag] - m);
    return s / static_cast<double>(n);
  };
  const double c0 = autocovariance(0);
  if (!(c0 > 0)) return static_cast<double>(n);
  double tau = -1, previous_pair = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; 2 * k + 1 < n; ++k) {
    double pair = (autocovariance(2 * k) + autocovariance(2 * k + 1)) / c0;
    if (pair <= 0) break;
    pair = std::min(pair, previous_pair);
    tau += 2 * pair;
    previous_pair = pair;
  }
  tau = std::max(tau, 1.0 / std::log10(static_cast<double>(n)));
  return static_cast<double>(n) / tau;
}

/// z-score of the sample mean of a chain against `mean`, its standard error sd / sqrt(ESS).
inline double mcmc_mean_z(const std::vector<double>& x, double mean) {
  return (mcmc_mean(x) - mean) / std::sqrt(mcmc_variance(x) / mcmc_effective_sample_size(x));
}

/// z-score of the chain's variance about the true mean against `variance`: the mean of
/// (x - mean)^2 with its own ESS-based standard error.
inline double mcmc_variance_z(const std::vector<double>& x, double mean, double variance) {
  std::vector<double> squares(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) squares[i] = (x[i] - mean) * (x[i] - mean);
  return mcmc_mean_z(squares, variance);
}

/// Kolmogorov-Smirnov statistic sup |F_n - F| of the draws against the CDF `cdf`.
inline double mcmc_ks_statistic(std::vector<double> x, const std::function<double(double)>& cdf) {
  std::sort(x.begin(), x.end());
  const auto n = static_cast<double>(x.size());
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = cdf(x[i]);
    d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
  }
  return d;
}

inline double mcmc_normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

/// A kernel refuses a chain state or a metric of another dimension than the log density's,
/// naming itself ("Hmc", "Nuts") and both sizes. Options: the kernel's options type.
template <class Kernel, class Options>
void check_dimension_mismatch_errors(const std::string& kernel_name) {
  Kernel kernel;
  auto density = McmcIndependentGaussian::standard(2);
  auto other = McmcIndependentGaussian::standard(3);
  mcmc::ChainState state = mcmc::make_chain_state(other, {0.0, 0.0, 0.0});
  Rng rng(1);
  CHECK_THROWS_WITH(kernel.transition(density, state, rng),
                    kernel_name + "::transition: the chain state has position of size 3 and gradient of size 3 but "
                                  "the log density has dimension 2");
  Kernel dense(Options{.metric = mcmc::Metric::dense_unit(3)});
  mcmc::ChainState two = mcmc::make_chain_state(density, {0.0, 0.0});
  CHECK_THROWS_WITH(dense.transition(density, two, rng),
                    kernel_name + "::transition: the metric has dimension 3 but the log density has dimension 2");
}

}  // namespace vaelib::testing
