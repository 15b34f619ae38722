#pragma once
// Support for the stochastic-gradient MCMC tests (tests/mcmc/sgld, psgld, sghmc, sgnht): many
// independent chains side by side in one parameter, started at draws from the target, so that
// the spread of the chains' own averages gives each moment's standard error without
// autocorrelation estimates.
//
//   SgmcmcGaussian      N(mean, cov) in 2-D with the exact gradient (or with added noise),
//                       written into the store by hand
//   SgmcmcRegression    Bayesian linear regression, N = 1000 observations, prior N(0, I),
//                       unit noise: its Gaussian posterior in closed form; minibatches of 10
//                       through a BayesianNet with the likelihood scaled by N / |B|

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "vaelib/mcmc/sgld.hpp"
#include "vaelib/mcmc/psgld.hpp"
#include "vaelib/mcmc/sghmc.hpp"
#include "vaelib/mcmc/sgnht.hpp"
#include "vaelib/vae.hpp"

namespace vaelib::testing {

/// Running sums of the chains' draws: per chain, the mean of each coordinate and of each
/// product of coordinates (about the target's mean).
struct SgmcmcMoments {
  std::size_t chains = 0, dimension = 0, draws = 0;
  std::vector<double> target_mean;
  std::vector<double> sums;      // [chain][i]
  std::vector<double> products;  // [chain][i][j] of (x_i - target_i)(x_j - target_j)

  SgmcmcMoments(std::size_t k, std::vector<double> mean)
      : chains(k), dimension(mean.size()), target_mean(std::move(mean)),
        sums(k * dimension, 0.0), products(k * dimension * dimension, 0.0) {}

  /// One draw of every chain: values[c * dimension + i].
  void add(const double* values) {
    for (std::size_t c = 0; c < chains; ++c) {
      const double* x = values + c * dimension;
      for (std::size_t i = 0; i < dimension; ++i) {
        sums[c * dimension + i] += x[i];
        for (std::size_t j = 0; j < dimension; ++j) {
          products[(c * dimension + i) * dimension + j] += (x[i] - target_mean[i]) * (x[j] - target_mean[j]);
        }
      }
    }
    ++draws;
  }

  /// The average over chains of per-chain statistics, and its standard error from their spread.
  struct Estimate {
    double value, standard_error;
  };
  Estimate over_chains(const std::function<double(std::size_t chain)>& statistic) const {
    double s = 0, s2 = 0;
    for (std::size_t c = 0; c < chains; ++c) {
      const double v = statistic(c);
      s += v;
      s2 += v * v;
    }
    const double k = static_cast<double>(chains);
    const double mean = s / k;
    return {mean, std::sqrt(std::max(0.0, (s2 / k - mean * mean) * k / (k - 1)) / k)};
  }
  Estimate mean(std::size_t i) const {
    return over_chains([&](std::size_t c) { return sums[c * dimension + i] / static_cast<double>(draws); });
  }
  /// E[(x_i - m_i)(x_j - m_j)] about the target's mean m.
  Estimate covariance(std::size_t i, std::size_t j) const {
    return over_chains(
        [&](std::size_t c) { return products[(c * dimension + i) * dimension + j] / static_cast<double>(draws); });
  }
};

/// Checks every mean within `z_max` standard errors of the target's and every (co)variance
/// within `z_max` standard errors plus `relative_band` times the target variance (a stated
/// allowance for the sampler's bias at its step size).
inline void sgmcmc_check_moments(const SgmcmcMoments& m, const std::vector<double>& covariance, double z_max,
                                 double relative_band) {
  const std::size_t d = m.dimension;
  for (std::size_t i = 0; i < d; ++i) {
    const auto e = m.mean(i);
    INFO("mean of coordinate " << i << ": " << e.value << " +- " << e.standard_error << ", target "
                               << m.target_mean[i]);
    CHECK(std::abs(e.value - m.target_mean[i]) <= z_max * e.standard_error);
    for (std::size_t j = i; j < d; ++j) {
      const auto c = m.covariance(i, j);
      const double target = covariance[i * d + j];
      const double band = relative_band * std::sqrt(covariance[i * d + i] * covariance[j * d + j]);
      INFO("covariance (" << i << ", " << j << "): " << c.value << " +- " << c.standard_error << ", target " << target
                          << ", allowed bias " << band);
      CHECK(std::abs(c.value - target) <= z_max * c.standard_error + band);
    }
  }
}

/// Draws x ~ N(mean, cov) for 2-D cov by its Cholesky factor.
inline void sgmcmc_draw_gaussian_2d(Rng& rng, const std::vector<double>& mean, const std::vector<double>& cov,
                                    double* out) {
  const double l00 = std::sqrt(cov[0]), l10 = cov[2] / l00, l11 = std::sqrt(cov[3] - l10 * l10);
  const auto [a, b] = rng.normal_pair<double>();
  out[0] = mean[0] + l00 * a;
  out[1] = mean[1] + l10 * a + l11 * b;
}

inline std::vector<double> sgmcmc_inverse_2d(const std::vector<double>& a) {
  const double det = a[0] * a[3] - a[1] * a[2];
  return {a[3] / det, -a[1] / det, -a[2] / det, a[0] / det};
}

/// The stationary covariance S = A S A' + Q of x' = A x + noise(Q) in 2-D (row-major), by
/// doubling: S = sum over k of A^k Q A'^k.
inline std::vector<double> sgmcmc_stationary_covariance(std::vector<double> a, std::vector<double> q) {
  auto product = [](const std::vector<double>& x, const std::vector<double>& y, bool transpose_y) {
    std::vector<double> out(4, 0.0);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        for (int k = 0; k < 2; ++k) out[i * 2 + j] += x[i * 2 + k] * (transpose_y ? y[j * 2 + k] : y[k * 2 + j]);
    return out;
  };
  for (int iteration = 0; iteration < 60; ++iteration) {  // after n rounds: the first 2^n terms
    const std::vector<double> aqa = product(product(a, q, false), a, true);
    for (int i = 0; i < 4; ++i) q[i] += aqa[i];
    a = product(a, a, false);
  }
  return q;
}

/// `chains` independent chains on N(mean, cov) in 2-D: parameter "theta" [chains, 2], started
/// at draws from the target; gradient() writes P (theta - mean), plus N(0, noise_sd^2) per
/// element when noise_sd > 0 (a stochastic gradient with known noise).
struct SgmcmcGaussian {
  std::vector<double> mean = {1.0, -2.0};
  std::vector<double> cov = {1.0, 0.3, 0.3, 0.25};  // sds 1 and 0.5, correlation 0.6
  std::vector<double> precision = sgmcmc_inverse_2d(cov);
  std::size_t chains;
  double noise_sd = 0;
  ParameterStore<double> store;
  Parameter<double>* theta;
  Rng noise{12345};

  explicit SgmcmcGaussian(std::size_t k, std::uint64_t seed = 1) : chains(k), store(seed) {
    std::vector<double> start(2 * k);
    Rng rng(seed);
    for (std::size_t c = 0; c < k; ++c) sgmcmc_draw_gaussian_2d(rng, mean, cov, start.data() + 2 * c);
    theta = &store.create_from("theta", Shape{k, 2}, start);
  }
  void gradient() {
    for (std::size_t c = 0; c < chains; ++c) {
      const double* x = theta->value + 2 * c;
      double* g = theta->grad + 2 * c;
      const double d0 = x[0] - mean[0], d1 = x[1] - mean[1];
      g[0] = precision[0] * d0 + precision[1] * d1;
      g[1] = precision[2] * d0 + precision[3] * d1;
      if (noise_sd > 0) {
        const auto [a, b] = noise.normal_pair<double>();
        g[0] += noise_sd * a;
        g[1] += noise_sd * b;
      }
    }
  }
  /// Runs `steps` steps of `sampler` (the gradient written before each), recording every
  /// `thin`-th state after `warmup` steps.
  template <class Sampler>
  SgmcmcMoments run(Sampler& sampler, std::size_t warmup, std::size_t steps, std::size_t thin = 1) {
    SgmcmcMoments m(chains, mean);
    for (std::size_t t = 0; t < warmup + steps; ++t) {
      gradient();
      sampler.step_and_zero_grad();
      if (t >= warmup && (t - warmup) % thin == 0) m.add(theta->value);
    }
    return m;
  }
};

/// Bayesian linear regression y = w0 + w1 u + e, e ~ N(0, 1), u ~ N(0, 1), prior w ~ N(0, I),
/// N = 1000 simulated observations: the posterior is N(m, S) with S = (I + X'X)^-1 and
/// m = S X'y. `chains` chains side by side (parameter "w" [chains, 2, 1]), each on its own
/// minibatch of 10 drawn at every step, the likelihood scaled by N / |B| (log_prob_scale).
struct SgmcmcRegression {
  static constexpr std::size_t n = 1000, batch = 10;
  std::size_t chains;
  std::vector<double> u, y;
  std::vector<double> posterior_mean, posterior_cov;
  ParameterStore<double> store;
  Parameter<double>* w;
  Tape<double> tape;
  Rng model_rng{3}, batch_rng{4};
  xt::xarray<double> batch_x, batch_y;

  explicit SgmcmcRegression(std::size_t k, std::uint64_t seed = 2) : chains(k), store(seed) {
    Rng data(seed);
    double xtx[4] = {1, 0, 0, 1}, xty[2] = {0, 0};  // the prior's precision I in X'X
    for (std::size_t i = 0; i < n; ++i) {
      const auto [a, b] = data.normal_pair<double>();
      u.push_back(a);
      y.push_back(0.5 - 1.0 * a + b);
      xtx[1] += a;
      xtx[3] += a * a;
      xty[0] += y.back();
      xty[1] += a * y.back();
    }
    xtx[0] += static_cast<double>(n);
    xtx[2] = xtx[1];
    posterior_cov = sgmcmc_inverse_2d({xtx[0], xtx[1], xtx[2], xtx[3]});
    posterior_mean = {posterior_cov[0] * xty[0] + posterior_cov[1] * xty[1],
                      posterior_cov[2] * xty[0] + posterior_cov[3] * xty[1]};
    std::vector<double> start(2 * k);
    for (std::size_t c = 0; c < k; ++c) sgmcmc_draw_gaussian_2d(data, posterior_mean, posterior_cov, start.data() + 2 * c);
    w = &store.create_from("w", Shape{k, 2, 1}, start);
    batch_x = xt::ones<double>({k, batch, std::size_t{2}});
    batch_y = xt::zeros<double>({k, batch, std::size_t{1}});
  }

  /// The covariance over observations of the per-example gradient x_i r_i at the posterior
  /// mean (r_i the residual), times N^2 / |B|: the covariance of the minibatch gradient of
  /// the negative log joint (drawn with replacement), row-major 2 x 2.
  std::vector<double> gradient_noise_covariance() const {
    double mean[2] = {0, 0}, square[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) {
      const double r = y[i] - posterior_mean[0] - posterior_mean[1] * u[i];
      const double g[2] = {r, u[i] * r};
      for (int j = 0; j < 2; ++j) {
        mean[j] += g[j] / n;
        for (int l = 0; l < 2; ++l) square[j * 2 + l] += g[j] * g[l] / n;
      }
    }
    std::vector<double> out(4);
    for (int j = 0; j < 2; ++j)
      for (int l = 0; l < 2; ++l)
        out[j * 2 + l] = static_cast<double>(n) * n / batch * (square[j * 2 + l] - mean[j] * mean[l]);
    return out;
  }

  /// The average of the diagonal of gradient_noise_covariance(): SGHMC's variance_estimate
  /// is learning_rate times half of it.
  double gradient_noise_variance() const {
    const auto c = gradient_noise_covariance();
    return 0.5 * (c[0] + c[3]);
  }

  /// One step: draws each chain's minibatch, builds the model on the tape and lets the
  /// sampler take the negative log joint.
  template <class Sampler>
  void step(Sampler& sampler) {
    for (std::size_t c = 0; c < chains; ++c) {
      for (std::size_t b = 0; b < batch; ++b) {
        const std::size_t i = batch_rng.next_u32() % n;
        batch_x(c, b, 1) = u[i];
        batch_y(c, b, 0) = y[i];
      }
    }
    tape.clear();
    const Var<double> weights = w->on(tape);
    BayesianNet<double> bn(tape, model_rng, {{"w", weights}, {"y", tape.constant(batch_y)}});
    bn.normal("w", tape.zeros({chains, 2, 1}), 1.0, {.group_ndims = 2});
    bn.normal("y", matmul(tape.constant(batch_x), weights), 1.0,
              {.group_ndims = 2, .log_prob_scale = static_cast<double>(n) / batch});
    sampler.step(tape, -sum(bn.log_joint()));
  }

  template <class Sampler>
  SgmcmcMoments run(Sampler& sampler, std::size_t warmup, std::size_t steps, std::size_t thin = 1) {
    SgmcmcMoments m(chains, posterior_mean);
    for (std::size_t t = 0; t < warmup + steps; ++t) {
      step(sampler);
      if (t >= warmup && (t - warmup) % thin == 0) m.add(w->value);
    }
    return m;
  }
};

}  // namespace vaelib::testing
