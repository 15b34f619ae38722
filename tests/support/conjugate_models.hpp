#pragma once
// Models with known answers for the variational objectives' tests.
//
// Gaussian:  z ~ N(a, 1),  x | z ~ N(z, s^2),  q(z) = N(mu, sigma^2)
// Bernoulli: z ~ Bern(sigmoid(eta)),  x | z ~ N(z, s^2),  q(z) = Bern(sigmoid(lambda))
//
// Both have a closed-form log p(x) and posterior; the Gaussian ELBO and its gradient are
// closed form, the importance-weighted bounds are computed by quadrature (Gaussian) or by
// enumerating every particle configuration (Bernoulli), and their gradients by central
// differences of those exact values.
//
// The tape side replicates one data point R times, every replicate with its own copy of the
// parameters (all equal), so one backward pass yields R independent gradient estimates.

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

#include "vaelib/vae.hpp"

namespace vaelib::testing {

inline double log_normal_pdf(double x, double mean, double var) {
  return -0.5 * std::log(2 * std::numbers::pi * var) - (x - mean) * (x - mean) / (2 * var);
}
inline double log_sigmoid_of(double l) { return l >= 0 ? -std::log1p(std::exp(-l)) : l - std::log1p(std::exp(l)); }

/// Central differences of f at p, one coordinate at a time.
template <std::size_t N, class F>
std::array<double, N> numeric_gradient(const F& f, std::array<double, N> p, double h = 1e-5) {
  std::array<double, N> g{};
  for (std::size_t i = 0; i < N; ++i) {
    auto up = p, down = p;
    up[i] += h;
    down[i] -= h;
    g[i] = (f(up) - f(down)) / (2 * h);
  }
  return g;
}

/// log (1/k) sum_j exp(lw_j), stable.
inline double log_mean_exp(const std::vector<double>& lw) {
  double m = -INFINITY;
  for (double v : lw) m = std::max(m, v);
  double s = 0;
  for (double v : lw) s += std::exp(v - m);
  return m + std::log(s / static_cast<double>(lw.size()));
}

struct GaussianModel {
  double x = 1.5, s = 0.7;
  // parameters: {mu, log_sigma, a}
  std::array<double, 3> params{0.2, -1.0, 0.3};

  double log_marginal() const { return log_normal_pdf(x, params[2], 1 + s * s); }
  double posterior_mean() const { return (params[2] + x / (s * s)) / (1 + 1 / (s * s)); }
  double posterior_log_std() const { return 0.5 * std::log(s * s / (1 + s * s)); }

  /// log p(x, z) - log q(z) with parameters p.
  double log_weight(double z, const std::array<double, 3>& p) const {
    const double sigma = std::exp(p[1]);
    return log_normal_pdf(x, z, s * s) + log_normal_pdf(z, p[2], 1.0) - log_normal_pdf(z, p[0], sigma * sigma);
  }
  double elbo(const std::array<double, 3>& p) const {
    const double mu = p[0], var = std::exp(2 * p[1]), a = p[2];
    return -0.5 * std::log(2 * std::numbers::pi * s * s) - ((x - mu) * (x - mu) + var) / (2 * s * s) -
           0.5 * std::log(2 * std::numbers::pi) - ((mu - a) * (mu - a) + var) / 2 +
           0.5 * std::log(2 * std::numbers::pi * std::numbers::e * var);
  }
  /// d ELBO / d (mu, log_sigma, a), closed form.
  std::array<double, 3> elbo_gradient() const {
    const double mu = params[0], var = std::exp(2 * params[1]), a = params[2];
    return {(x - mu) / (s * s) - (mu - a), -var / (s * s) - var + 1, mu - a};
  }
  /// The k-particle importance-weighted bound by trapezoid quadrature over the k standard
  /// normal noises (exponentially accurate for these smooth Gaussian-weighted integrands).
  double iw_bound(std::size_t k, const std::array<double, 3>& p) const {
    const double h = 0.2, lim = 8.0;
    std::vector<double> nodes, weights;
    for (double e = -lim; e <= lim + 1e-12; e += h) {
      nodes.push_back(e);
      weights.push_back(h * std::exp(-0.5 * e * e) / std::sqrt(2 * std::numbers::pi));
    }
    const double sigma = std::exp(p[1]);
    std::vector<double> lw_node(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) lw_node[i] = log_weight(p[0] + sigma * nodes[i], p);
    std::vector<std::size_t> idx(k, 0);
    std::vector<double> lw(k);
    double total = 0;
    while (true) {
      double w = 1;
      for (std::size_t j = 0; j < k; ++j) {
        lw[j] = lw_node[idx[j]];
        w *= weights[idx[j]];
      }
      total += w * log_mean_exp(lw);
      std::size_t j = 0;
      while (j < k && ++idx[j] == nodes.size()) idx[j++] = 0;
      if (j == k) break;
    }
    return total;
  }
  std::array<double, 3> iw_gradient(std::size_t k) const {
    return numeric_gradient<3>([&](const std::array<double, 3>& p) { return iw_bound(k, p); }, params, 1e-4);
  }
};

struct BernoulliModel {
  double x = 0.8, s = 0.6;
  // parameters: {lambda (q's logit), eta (prior logit)}
  std::array<double, 2> params{-0.4, 0.5};

  double log_joint(int z, const std::array<double, 2>& p) const {
    return log_normal_pdf(x, z, s * s) + (z ? log_sigmoid_of(p[1]) : log_sigmoid_of(-p[1]));
  }
  double log_q(int z, const std::array<double, 2>& p) const { return z ? log_sigmoid_of(p[0]) : log_sigmoid_of(-p[0]); }
  double log_marginal() const {
    return log_mean_exp({log_joint(0, params), log_joint(1, params)}) + std::log(2.0);
  }
  /// p(z = 1 | x)
  double posterior_one() const { return std::exp(log_joint(1, params) - log_marginal()); }
  double elbo(const std::array<double, 2>& p) const {
    double total = 0;
    for (int z = 0; z < 2; ++z) total += std::exp(log_q(z, p)) * (log_joint(z, p) - log_q(z, p));
    return total;
  }
  /// The k-particle bound, exactly, by enumerating the 2^k particle configurations.
  double iw_bound(std::size_t k, const std::array<double, 2>& p) const {
    double total = 0;
    std::vector<double> lw(k);
    for (std::size_t bits = 0; bits < (std::size_t{1} << k); ++bits) {
      double log_prob = 0;
      for (std::size_t j = 0; j < k; ++j) {
        const int z = static_cast<int>((bits >> j) & 1);
        log_prob += log_q(z, p);
        lw[j] = log_joint(z, p) - log_q(z, p);
      }
      total += std::exp(log_prob) * log_mean_exp(lw);
    }
    return total;
  }
  std::array<double, 2> elbo_gradient() const {
    return numeric_gradient<2>([&](const std::array<double, 2>& p) { return elbo(p); }, params);
  }
  std::array<double, 2> iw_gradient(std::size_t k) const {
    return numeric_gradient<2>([&](const std::array<double, 2>& p) { return iw_bound(k, p); }, params);
  }
};

/// The multi-dimensional version: z ~ N(0, I_d), x | z ~ N(A z, s^2 I_m), for a batch of
/// data points. p(x) = N(0, A A^T + s^2 I) and p(z | x) = N(S A^T x / s^2, S) with
/// S = (I + A^T A / s^2)^-1, computed here with small dense Cholesky factorisations.
struct MultivariateGaussianModel {
  static constexpr std::size_t d = 2, m = 3;
  double s = 0.5;
  double a[m][d] = {{1.0, 0.5}, {-0.3, 0.8}, {0.6, -1.2}};
  std::vector<std::array<double, m>> data{{0.5, -1.0, 2.0}, {1.5, 0.2, -0.7}, {-0.4, 0.9, 0.1}, {2.2, -1.5, 1.0}};

  /// Lower Cholesky factor of a symmetric positive-definite n x n matrix (row-major).
  static std::vector<double> cholesky(std::vector<double> c, std::size_t n) {
    std::vector<double> l(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) {
        double v = c[i * n + j];
        for (std::size_t k = 0; k < j; ++k) v -= l[i * n + k] * l[j * n + k];
        l[i * n + j] = i == j ? std::sqrt(v) : v / l[j * n + j];
      }
    return l;
  }

  double log_marginal(std::size_t i) const {
    std::vector<double> c(m * m);
    for (std::size_t r = 0; r < m; ++r)
      for (std::size_t q = 0; q < m; ++q) {
        double v = r == q ? s * s : 0.0;
        for (std::size_t k = 0; k < d; ++k) v += a[r][k] * a[q][k];
        c[r * m + q] = v;
      }
    const std::vector<double> l = cholesky(c, m);
    std::vector<double> y(m);  // L y = x
    double log_det = 0, quad = 0;
    for (std::size_t r = 0; r < m; ++r) {
      double v = data[i][r];
      for (std::size_t k = 0; k < r; ++k) v -= l[r * m + k] * y[k];
      y[r] = v / l[r * m + r];
      log_det += 2 * std::log(l[r * m + r]);
      quad += y[r] * y[r];
    }
    return -0.5 * (static_cast<double>(m) * std::log(2 * std::numbers::pi) + log_det + quad);
  }

  /// The posterior covariance S (row-major d x d).
  std::vector<double> posterior_covariance() const {
    double p[d][d];
    for (std::size_t r = 0; r < d; ++r)
      for (std::size_t q = 0; q < d; ++q) {
        double v = r == q ? 1.0 : 0.0;
        for (std::size_t k = 0; k < m; ++k) v += a[k][r] * a[k][q] / (s * s);
        p[r][q] = v;
      }
    const double det = p[0][0] * p[1][1] - p[0][1] * p[1][0];
    return {p[1][1] / det, -p[0][1] / det, -p[1][0] / det, p[0][0] / det};
  }
  std::array<double, d> posterior_mean(std::size_t i) const {
    const std::vector<double> cov = posterior_covariance();
    std::array<double, d> atx{}, mean{};
    for (std::size_t r = 0; r < d; ++r)
      for (std::size_t k = 0; k < m; ++k) atx[r] += a[k][r] * data[i][k] / (s * s);
    for (std::size_t r = 0; r < d; ++r)
      for (std::size_t q = 0; q < d; ++q) mean[r] += cov[r * d + q] * atx[q];
    return mean;
  }

  xt::xarray<double> data_array() const {
    xt::xarray<double> x = xt::zeros<double>({data.size(), m});
    for (std::size_t i = 0; i < data.size(); ++i)
      for (std::size_t r = 0; r < m; ++r) x(i, r) = data[i][r];
    return x;
  }
  xt::xarray<double> posterior_means() const {
    xt::xarray<double> out = xt::zeros<double>({data.size(), d});
    for (std::size_t i = 0; i < data.size(); ++i)
      for (std::size_t r = 0; r < d; ++r) out(i, r) = posterior_mean(i)[r];
    return out;
  }
  xt::xarray<double> posterior_cov_tril() const {
    const std::vector<double> l = cholesky(posterior_covariance(), d);
    xt::xarray<double> out = xt::zeros<double>({d, d});
    for (std::size_t r = 0; r < d; ++r)
      for (std::size_t q = 0; q < d; ++q) out(r, q) = l[r * d + q];
    return out;
  }
  xt::xarray<double> a_transposed() const {
    xt::xarray<double> out = xt::zeros<double>({d, m});
    for (std::size_t r = 0; r < m; ++r)
      for (std::size_t q = 0; q < d; ++q) out(q, r) = a[r][q];
    return out;
  }

  /// The model as a MetaBayesianNet on `tape`, k particles of z per data point.
  MetaBayesianNet<double> meta_net(Tape<double>& tape, Rng& rng, ParameterStore<double>& store, std::size_t k) const {
    const std::size_t n = data.size();
    const xt::xarray<double> at = a_transposed();
    const double noise = s;
    return meta_bayesian_net(tape, rng, store.scope("model"), [&tape, n, k, at, noise](BayesianNet<double>& bn) {
      const auto z = bn.normal("z", tape.constant(xt::xarray<double>(xt::zeros<double>({n, d}))), 1.0,
                               {.group_ndims = 1, .n_samples = k});
      bn.normal("x", matmul(z, tape.constant(at)), noise, {.group_ndims = 1});
    });
  }
};

/// Per-replicate gradient estimates of each parameter (the negated gradient of the cost).
using Estimates = std::vector<std::vector<double>>;

/// What a test builds on one step of the replicated tape: the model, q and the data.
struct ReplicatedStep {
  Tape<double>& tape;
  Rng& rng;
  const MetaBayesianNet<double>& model;
  const BayesianNet<double>& q;
  Var<double> x;
  const std::vector<Var<double>>& params;
};

/// Runs `cost(step)` (per-replicate costs [R]) for `replicates` copies of the Gaussian model
/// with k particles on axis 0, and returns -d cost / d parameter per replicate.
inline Estimates gaussian_estimates(const GaussianModel& m, std::size_t replicates, std::size_t k, std::uint64_t seed,
                                    const std::function<Var<double>(ReplicatedStep&)>& cost,
                                    bool path_derivative = false) {
  Tape<double> tape;
  Rng rng(seed);
  ParameterStore<double> store(seed);
  std::vector<Var<double>> params;
  for (double value : m.params) params.push_back(tape.variable(xt::xarray<double>(xt::ones<double>({replicates}) * value)));
  const Var<double> x = tape.constant(xt::xarray<double>(xt::ones<double>({replicates}) * m.x));
  const double s = m.s;
  auto model = meta_bayesian_net(tape, rng, store.scope("model"), [&](BayesianNet<double>& bn) {
    const Var<double> z = bn.normal("z", params[2], 1.0, {.n_samples = k});
    bn.normal("x", z, s);
  });
  BayesianNet<double> q(tape, rng);
  q.normal_logstd("z", params[0], params[1], {.n_samples = k, .use_path_derivative = path_derivative});
  ReplicatedStep step{tape, rng, model, q, x, params};
  tape.backward(sum(cost(step)));
  Estimates out;
  for (const auto& p : params) {
    const auto g = p.grad();
    out.emplace_back(g.begin(), g.end());
    for (double& v : out.back()) v = -v;
  }
  return out;
}

/// The same for the Bernoulli-latent model (parameters lambda, eta).
inline Estimates bernoulli_estimates(const BernoulliModel& m, std::size_t replicates, std::size_t k, std::uint64_t seed,
                                     const std::function<Var<double>(ReplicatedStep&)>& cost) {
  Tape<double> tape;
  Rng rng(seed);
  ParameterStore<double> store(seed);
  std::vector<Var<double>> params;
  for (double value : m.params) params.push_back(tape.variable(xt::xarray<double>(xt::ones<double>({replicates}) * value)));
  const Var<double> x = tape.constant(xt::xarray<double>(xt::ones<double>({replicates}) * m.x));
  const double s = m.s;
  auto model = meta_bayesian_net(tape, rng, store.scope("model"), [&](BayesianNet<double>& bn) {
    const Var<double> z = bn.bernoulli("z", params[1], {.n_samples = k});
    bn.normal("x", z, s);
  });
  BayesianNet<double> q(tape, rng);
  q.bernoulli("z", params[0], {.n_samples = k});
  ReplicatedStep step{tape, rng, model, q, x, params};
  tape.backward(sum(cost(step)));
  Estimates out;
  for (const auto& p : params) {
    const auto g = p.grad();
    out.emplace_back(g.begin(), g.end());
    for (double& v : out.back()) v = -v;
  }
  return out;
}

struct MeanAndError {
  double mean = 0, standard_error = 0, variance = 0;
};
inline MeanAndError mean_and_error(const std::vector<double>& v) {
  MeanAndError r;
  for (double x : v) r.mean += x;
  r.mean /= static_cast<double>(v.size());
  for (double x : v) r.variance += (x - r.mean) * (x - r.mean);
  r.variance /= static_cast<double>(v.size() - 1);
  r.standard_error = std::sqrt(r.variance / static_cast<double>(v.size()));
  return r;
}

/// Asserts each parameter's mean estimate is within n_se standard errors of the expected
/// gradient (and that the test has power: the error bar is small beside the gradient).
template <std::size_t N>
void require_unbiased(const Estimates& estimates, const std::array<double, N>& expected, double n_se = 4.0) {
  REQUIRE(estimates.size() == N);
  for (std::size_t i = 0; i < N; ++i) {
    const MeanAndError e = mean_and_error(estimates[i]);
    INFO("parameter " << i << ": mean estimate " << e.mean << " +- " << e.standard_error << ", expected "
                      << expected[i]);
    CHECK(std::abs(e.mean - expected[i]) <= n_se * e.standard_error + 1e-9);
    CHECK(e.standard_error < 0.25 * std::abs(expected[i]) + 1e-3);
  }
}

}  // namespace vaelib::testing
