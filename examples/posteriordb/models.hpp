#pragma once
// The 12 posteriordb posteriors of tests/posteriordb/ written with vaelib's BayesianNet, each
// as its Stan program (tests/posteriordb/<posterior>/model.stan) defines its target:
//
//  - a parameter is a latent node added in the order the program declares it, with the
//    distribution its `~` statement gives, or ImproperUniform on its declared support when it
//    has none (Stan's flat prior); a `~` statement on a bounded parameter whose distribution has
//    a wider support (`sigma ~ cauchy(0, 2.5)` with sigma > 0) becomes the half distribution,
//    which differs from Stan's term by a constant only, as Stan's `~` drops constants;
//  - a term that no node can carry (a Normal prior on an ordered vector, a Student-t term on a
//    positive scale) is added to the target as Stan's `target +=` does (add_to_target);
//  - transformed parameters are deterministic nodes, reported with the draws (`quantities`);
//  - the data a program transforms (log(earn), the design matrices, the lagged series) are
//    computed once, here, as its `transformed data` block does.
//
// The draws are reported with Stan's names (theta[1], beta[2]), as reference.json names them.
// tests/posteriordb/models.test.cpp checks each log density and gradient against an
// independent scipy version of the Stan program (reference_log_density.py).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vaelib/autodiff.hpp>
#include <vaelib/bayesian_net.hpp>
#include <vaelib/distributions.hpp>
#include <vaelib/mcmc/model_density.hpp>
#include <vector>

#include "stan_json.hpp"

namespace vaelib::examples::posteriordb {

/// A posterior as vaelib samples it: the model, its observed nodes, and the deterministic nodes
/// reported with the latents.
struct PosteriorModel {
  mcmc::ModelDensity<double>::Builder model;
  StanData observed;
  std::vector<std::string> quantities;
};

/// The density a chain samples: `mcmc::ModelDensity` of the model with its data.
inline mcmc::ModelDensity<double> make_density(const PosteriorModel& posterior, std::uint64_t seed = 0) {
  return mcmc::ModelDensity<double>(posterior.model, posterior.observed,
                                    {.quantities = posterior.quantities, .seed = seed});
}

namespace detail {

using Array = xt::xarray<double>;

inline const Array& need(const StanData& data, std::string_view posterior, const std::string& name) {
  const auto it = data.find(name);
  if (it == data.end()) {
    throw ArgumentError("posteriordb " + std::string(posterior) + ": the data have no variable '" + name + "'");
  }
  return it->second;
}

inline std::size_t need_size(const StanData& data, std::string_view posterior, const std::string& name) {
  const double v = need(data, posterior, name)();
  if (!(v >= 0) || v != std::floor(v)) {
    throw ArgumentError("posteriordb " + std::string(posterior) + ": the data's '" + name +
                        "' must be a non-negative integer, got " + std::to_string(v));
  }
  return static_cast<std::size_t>(v);
}

// An [N, K] matrix whose columns are the given vectors of length N (1 for the intercept).
inline Array design_matrix(std::size_t n, const std::vector<std::function<double(std::size_t)>>& columns) {
  Array x = xt::zeros<double>({n, columns.size()});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < columns.size(); ++k) x(i, k) = columns[k](i);
  return x;
}

inline std::function<double(std::size_t)> ones() {
  return [](std::size_t) { return 1.0; };
}
inline std::function<double(std::size_t)> column(const Array& v) {
  return [&v](std::size_t i) { return v(i); };
}

// A constant over memory the model keeps alive (the tape copies nothing each evaluation).
inline Var<double> constant_view(Tape<double>& tape, const Array& a) {
  return tape.external(a.data(), nullptr, Shape(a.shape().begin(), a.shape().end()));
}

// X beta for X [N, K] and beta [K]: a vector [N].
inline Var<double> times_vector(const Var<double>& x, const Var<double>& beta) {
  const std::size_t k = beta.size();
  const Var<double> product = matmul(x, reshape(beta, Shape{k, 1}));
  return reshape(product, Shape{x.shape()[0]});
}

// A flat prior on `support` for a value of `shape` (Stan's parameter without a prior).
inline Var<double> flat(BayesianNet<double>& bn, std::string_view name, Support<double> support, Shape shape) {
  return bn.add<ImproperUniform<double>>(name, {}, bn.tape(), std::move(support), std::move(shape));
}

/// Stan's `target += term` for each term: a log_joint override that sums every node's
/// log-probability whole (as ModelDensity does without one) and then the terms.
inline void add_to_target(BayesianNet<double>& bn, std::vector<Var<double>> terms) {
  bn.set_log_joint([terms = std::move(terms)](BayesianNet<double>& net) {
    Var<double> total = net.tape().constant(0.0);
    for (const std::string& name : net.stochastic_names()) total = total + sum(net.cond_log_prob(name));
    for (const Var<double>& term : terms) total = total + sum(term);
    return total;
  });
}

// A linear regression y ~ normal(X beta, sigma) with the given priors (the five regressions
// differ only in their design matrices and priors).
enum class RegressionPrior {
  flat,                         // beta flat, sigma flat on (0, inf)
  flat_beta_half_cauchy_sigma,  // beta flat, sigma ~ cauchy(0, 2.5) on (0, inf)
};

inline PosteriorModel linear_regression(Array y, Array x, RegressionPrior prior) {
  const auto design = std::make_shared<const Array>(std::move(x));
  const std::size_t k = design->shape()[1];
  PosteriorModel out;
  out.observed.emplace("y", std::move(y));
  out.model = [design, k, prior](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> beta = flat(bn, "beta", Support<double>::real(), Shape{k});
    const Var<double> sigma = prior == RegressionPrior::flat
                                  ? flat(bn, "sigma", Support<double>::positive(), Shape{})
                                  : bn.add<HalfCauchy<double>>("sigma", {}, tape.constant(2.5));
    bn.normal("y", times_vector(constant_view(tape, *design), beta), sigma);
  };
  return out;
}

}  // namespace detail

// ---- the models, in reference.json's names ------------------------------------------------------

/// eight_schools_noncentered: theta_trans ~ normal(0, 1), mu ~ normal(0, 5), tau ~ cauchy(0, 5)
/// on tau > 0, theta = theta_trans * tau + mu, y ~ normal(theta, sigma).
inline PosteriorModel eight_schools_noncentered(const StanData& data) {
  constexpr std::string_view name = "eight_schools_noncentered";
  const std::size_t j = detail::need_size(data, name, "J");
  const auto sigma = std::make_shared<const detail::Array>(detail::need(data, name, "sigma"));
  PosteriorModel out;
  out.observed.emplace("y", detail::need(data, name, "y"));
  out.quantities = {"theta"};
  out.model = [j, sigma](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> theta_trans = bn.normal("theta_trans", tape.zeros({j}), 1.0);
    const Var<double> mu = bn.normal("mu", tape.constant(0.0), 5.0);
    const Var<double> tau = bn.add<HalfCauchy<double>>("tau", {}, tape.constant(5.0));
    const Var<double> theta = bn.deterministic("theta", theta_trans * tau + mu);
    bn.normal("y", theta, detail::constant_view(tape, *sigma));
  };
  return out;
}

/// kidscore_momiq: kid_score ~ normal(beta[1] + beta[2] * mom_iq, sigma), beta flat,
/// sigma ~ cauchy(0, 2.5) on sigma > 0.
inline PosteriorModel kidscore_momiq(const StanData& data) {
  constexpr std::string_view name = "kidscore_momiq";
  const std::size_t n = detail::need_size(data, name, "N");
  const detail::Array& iq = detail::need(data, name, "mom_iq");
  return detail::linear_regression(detail::need(data, name, "kid_score"),
                                   detail::design_matrix(n, {detail::ones(), detail::column(iq)}),
                                   detail::RegressionPrior::flat_beta_half_cauchy_sigma);
}

/// kidscore_interaction: kid_score ~ normal(beta[1] + beta[2] mom_hs + beta[3] mom_iq +
/// beta[4] mom_hs mom_iq, sigma), beta flat, sigma ~ cauchy(0, 2.5) on sigma > 0.
inline PosteriorModel kidscore_interaction(const StanData& data) {
  constexpr std::string_view name = "kidscore_interaction";
  const std::size_t n = detail::need_size(data, name, "N");
  const detail::Array& hs = detail::need(data, name, "mom_hs");
  const detail::Array& iq = detail::need(data, name, "mom_iq");
  return detail::linear_regression(detail::need(data, name, "kid_score"),
                                   detail::design_matrix(n, {detail::ones(), detail::column(hs), detail::column(iq),
                                                             [&](std::size_t i) { return hs(i) * iq(i); }}),
                                   detail::RegressionPrior::flat_beta_half_cauchy_sigma);
}

/// logearn_height: log(earn) ~ normal(beta[1] + beta[2] height, sigma), flat priors.
inline PosteriorModel logearn_height(const StanData& data) {
  constexpr std::string_view name = "logearn_height";
  const std::size_t n = detail::need_size(data, name, "N");
  return detail::linear_regression(
      xt::log(detail::need(data, name, "earn")),
      detail::design_matrix(n, {detail::ones(), detail::column(detail::need(data, name, "height"))}),
      detail::RegressionPrior::flat);
}

/// logmesquite_logvolume: log(weight) ~ normal(beta[1] + beta[2] log(diam1 diam2
/// canopy_height), sigma), flat priors.
inline PosteriorModel logmesquite_logvolume(const StanData& data) {
  constexpr std::string_view name = "logmesquite_logvolume";
  const std::size_t n = detail::need_size(data, name, "N");
  const detail::Array log_volume = xt::log(detail::need(data, name, "diam1") * detail::need(data, name, "diam2") *
                                           detail::need(data, name, "canopy_height"));
  return detail::linear_regression(xt::log(detail::need(data, name, "weight")),
                                   detail::design_matrix(n, {detail::ones(), detail::column(log_volume)}),
                                   detail::RegressionPrior::flat);
}

/// nes: partyid7 ~ normal(beta[1] + beta[2] real_ideo + beta[3] race_adj + beta[4..6] age
/// dummies (30-44, 45-64, 65+) + beta[7] educ1 + beta[8] gender + beta[9] income, sigma),
/// flat priors.
inline PosteriorModel nes(const StanData& data) {
  constexpr std::string_view name = "nes";
  const std::size_t n = detail::need_size(data, name, "N");
  const detail::Array& age = detail::need(data, name, "age_discrete");
  const auto age_is = [&age](double level) {
    return [&age, level](std::size_t i) { return age(i) == level ? 1.0 : 0.0; };
  };
  return detail::linear_regression(
      detail::need(data, name, "partyid7"),
      detail::design_matrix(
          n, {detail::ones(), detail::column(detail::need(data, name, "real_ideo")),
              detail::column(detail::need(data, name, "race_adj")), age_is(2), age_is(3), age_is(4),
              detail::column(detail::need(data, name, "educ1")), detail::column(detail::need(data, name, "gender")),
              detail::column(detail::need(data, name, "income"))}),
      detail::RegressionPrior::flat);
}

/// blr (sblrc): beta ~ normal(0, 10), sigma ~ normal(0, 10) on sigma > 0, y ~ normal(X beta, sigma).
inline PosteriorModel blr(const StanData& data) {
  constexpr std::string_view name = "blr";
  const std::size_t d = detail::need_size(data, name, "D");
  const auto x = std::make_shared<const detail::Array>(detail::need(data, name, "X"));
  PosteriorModel out;
  out.observed.emplace("y", detail::need(data, name, "y"));
  out.model = [d, x](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> beta = bn.normal("beta", tape.zeros({d}), 10.0);
    const Var<double> sigma = bn.add<HalfNormal<double>>("sigma", {}, tape.constant(10.0));
    bn.normal("y", detail::times_vector(detail::constant_view(tape, *x), beta), sigma);
  };
  return out;
}

/// arK: alpha ~ normal(0, 10), beta ~ normal(0, 10), sigma ~ cauchy(0, 2.5) on sigma > 0,
/// y[t] ~ normal(alpha + sum_k beta[k] y[t - k], sigma) for t = K + 1 .. T.
inline PosteriorModel arK(const StanData& data) {
  constexpr std::string_view name = "arK";
  const std::size_t k = detail::need_size(data, name, "K");
  const std::size_t t = detail::need_size(data, name, "T");
  const detail::Array& y = detail::need(data, name, "y");
  if (t <= k || y.size() != t) throw ArgumentError("posteriordb arK: expected T > K and T values of y");
  // Row i is time K + i (0-based): the K values before it, most recent first.
  std::vector<std::function<double(std::size_t)>> lags;
  for (std::size_t lag = 1; lag <= k; ++lag) lags.push_back([&y, k, lag](std::size_t i) { return y(k + i - lag); });
  const auto lagged = std::make_shared<const detail::Array>(detail::design_matrix(t - k, lags));
  PosteriorModel out;
  out.observed.emplace("y", xt::view(y, xt::range(k, t)));
  out.model = [k, lagged](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> alpha = bn.normal("alpha", tape.constant(0.0), 10.0);
    const Var<double> beta = bn.normal("beta", tape.zeros({k}), 10.0);
    const Var<double> sigma = bn.add<HalfCauchy<double>>("sigma", {}, tape.constant(2.5));
    bn.normal("y", alpha + detail::times_vector(detail::constant_view(tape, *lagged), beta), sigma);
  };
  return out;
}

/// diamonds (brms): b ~ normal(0, 1), Intercept ~ student_t(3, 8, 10), sigma > 0 with
/// target += student_t_lpdf(sigma | 3, 0, 10) (the lccdf term is a constant),
/// Y ~ normal(Intercept + Xc b, sigma) with Xc the centred columns 2..K of X (unless prior_only).
inline PosteriorModel diamonds(const StanData& data) {
  constexpr std::string_view name = "diamonds";
  const std::size_t n = detail::need_size(data, name, "N");
  const std::size_t k = detail::need_size(data, name, "K");
  const detail::Array& x = detail::need(data, name, "X");
  const bool prior_only = detail::need(data, name, "prior_only")() != 0;
  if (k < 2 || x.dimension() != 2 || x.shape()[0] != n || x.shape()[1] != k) {
    throw ArgumentError("posteriordb diamonds: expected K >= 2 and X of shape [N, K]");
  }
  const auto centred = std::make_shared<detail::Array>(xt::view(x, xt::all(), xt::range(1, k)));
  const detail::Array means = xt::mean(*centred, {0});
  *centred -= means;
  PosteriorModel out;
  if (!prior_only) out.observed.emplace("Y", detail::need(data, name, "Y"));
  out.model = [k, centred, prior_only](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> b = bn.normal("b", tape.zeros({k - 1}), 1.0);
    const Var<double> intercept =
        bn.add<StudentT<double>>("Intercept", {}, tape.constant(3.0), tape.constant(8.0), tape.constant(10.0));
    const Var<double> sigma = detail::flat(bn, "sigma", Support<double>::positive(), Shape{});
    const StudentT<double> sigma_prior(tape.constant(3.0), tape.constant(0.0), tape.constant(10.0));
    detail::add_to_target(bn, {sigma_prior.log_prob(sigma)});
    if (!prior_only) bn.normal("Y", intercept + detail::times_vector(detail::constant_view(tape, *centred), b), sigma);
  };
  return out;
}

/// gp_pois_regr: rho ~ gamma(25, 4), alpha ~ normal(0, 2) on alpha > 0, f_tilde ~ normal(0, 1),
/// f = cholesky(alpha^2 exp(-(x_i - x_j)^2 / (2 rho^2)) + 1e-10 I) f_tilde, k ~ poisson_log(f).
inline PosteriorModel gp_pois_regr(const StanData& data) {
  constexpr std::string_view name = "gp_pois_regr";
  const std::size_t n = detail::need_size(data, name, "N");
  const detail::Array& x = detail::need(data, name, "x");
  auto squared_distances = std::make_shared<detail::Array>(xt::zeros<double>({n, n}));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) (*squared_distances)(i, j) = (x(i) - x(j)) * (x(i) - x(j));
  const auto jitter = std::make_shared<const detail::Array>(1e-10 * xt::eye<double>(n));
  PosteriorModel out;
  out.observed.emplace("k", detail::need(data, name, "k"));
  out.quantities = {"f"};
  out.model = [n, squared_distances, jitter](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> rho = bn.gamma("rho", tape.constant(25.0), tape.constant(4.0));
    const Var<double> alpha = bn.add<HalfNormal<double>>("alpha", {}, tape.constant(2.0));
    const Var<double> f_tilde = bn.normal("f_tilde", tape.zeros({n}), 1.0);
    const Var<double> cov =
        square(alpha) * exp(detail::constant_view(tape, *squared_distances) * (-0.5) / square(rho)) +
        detail::constant_view(tape, *jitter);
    const Var<double> f = bn.deterministic("f", detail::times_vector(cholesky(cov), f_tilde));
    bn.add<Poisson<double>>("k", {}, f, Poisson<double>::Scale::log_rate);
  };
  return out;
}

/// garch11: mu, alpha0 > 0, alpha1 in (0, 1), beta1 in (0, 1 - alpha1), all flat;
/// sigma[1] = sigma1, sigma[t]^2 = alpha0 + alpha1 (y[t-1] - mu)^2 + beta1 sigma[t-1]^2,
/// y ~ normal(mu, sigma).
inline PosteriorModel garch11(const StanData& data) {
  constexpr std::string_view name = "garch11";
  const std::size_t t = detail::need_size(data, name, "T");
  const detail::Array& y = detail::need(data, name, "y");
  const double sigma1 = detail::need(data, name, "sigma1")();
  if (t < 2 || y.size() != t) throw ArgumentError("posteriordb garch11: expected T >= 2 and T values of y");
  const auto previous = std::make_shared<const detail::Array>(xt::view(y, xt::range(0, t - 1)));  // y[t - 1]
  PosteriorModel out;
  out.observed.emplace("y", y);
  out.model = [t, previous, sigma1](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> mu = detail::flat(bn, "mu", Support<double>::real(), Shape{});
    const Var<double> alpha0 = detail::flat(bn, "alpha0", Support<double>::positive(), Shape{});
    const Var<double> alpha1 = detail::flat(bn, "alpha1", Support<double>::interval(0.0, 1.0), Shape{});
    const Var<double> beta1 = detail::flat(bn, "beta1", Support<double>::interval(0.0, 1.0 - alpha1), Shape{});
    // The innovation terms alpha0 + alpha1 (y[t-1] - mu)^2 at once, then the recursion.
    const Var<double> shocks = alpha0 + alpha1 * square(detail::constant_view(tape, *previous) - mu);
    std::vector<Var<double>> variances;
    variances.reserve(t);
    variances.push_back(tape.full({1}, sigma1 * sigma1));
    for (std::size_t s = 1; s < t; ++s) {
      const auto at = static_cast<std::ptrdiff_t>(s - 1);
      variances.push_back(slice(shocks, 0, at, at + 1) + beta1 * variances.back());
    }
    bn.normal("y", mu, sqrt(concat(std::span<const Var<double>>(variances), 0)));
  };
  return out;
}

/// low_dim_gauss_mix: mu ordered with target += normal_lpdf(mu | 0, 2), sigma ~ normal(0, 2) on
/// sigma > 0, theta ~ beta(5, 5), y[n] ~ theta N(mu[1], sigma[1]) + (1 - theta) N(mu[2], sigma[2]).
inline PosteriorModel low_dim_gauss_mix(const StanData& data) {
  constexpr std::string_view name = "low_dim_gauss_mix";
  const detail::Array& y = detail::need(data, name, "y");
  PosteriorModel out;
  detail::Array values = y;
  values.reshape({y.size(), std::size_t{1}});  // MixtureNormal's values are vectors [d]
  out.observed.emplace("y", std::move(values));
  out.model = [](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> mu = detail::flat(bn, "mu", Support<double>::ordered(), Shape{2});
    const Var<double> sigma = bn.add<HalfNormal<double>>("sigma", {}, tape.full({2}, 2.0));
    const Var<double> theta = bn.beta("theta", tape.constant(5.0), tape.constant(5.0));
    detail::add_to_target(bn, {Normal<double>::with_std(tape.zeros({2}), tape.full({2}, 2.0)).log_prob(mu)});
    const Var<double> logits = concat({reshape(log(theta), Shape{1}), reshape(log1p(-theta), Shape{1})}, 0);
    bn.mixture_normal("y", logits, reshape(mu, Shape{2, 1}), reshape(sigma, Shape{2, 1}));
  };
  return out;
}

// ---- the list -----------------------------------------------------------------------------------

struct PosteriorEntry {
  std::string name;         // posteriordb's posterior name, the folder under tests/posteriordb
  std::string description;  // one line
  PosteriorModel (*make)(const StanData&);
};

inline const std::vector<PosteriorEntry>& posteriors() {
  static const std::vector<PosteriorEntry> list{
      {"arK-arK", "AR(5) autoregression, T = 200", arK},
      {"diamonds-diamonds", "brms linear regression, 24 nearly collinear predictors, N = 5000", diamonds},
      {"earnings-logearn_height", "log earnings on height, flat priors, N = 1192", logearn_height},
      {"eight_schools-eight_schools_noncentered", "eight schools, non-centred", eight_schools_noncentered},
      {"garch-garch11", "GARCH(1,1), beta1 in (0, 1 - alpha1), T = 200", garch11},
      {"gp_pois_regr-gp_pois_regr", "latent GP Poisson regression, N = 11", gp_pois_regr},
      {"kidiq-kidscore_interaction", "kid score on mom_hs, mom_iq and their interaction", kidscore_interaction},
      {"kidiq-kidscore_momiq", "kid score on mom_iq", kidscore_momiq},
      {"low_dim_gauss_mix-low_dim_gauss_mix", "two-component normal mixture, ordered means, N = 1000",
       low_dim_gauss_mix},
      {"mesquite-logmesquite_logvolume", "log weight on log canopy volume, flat priors, N = 46", logmesquite_logvolume},
      {"nes1972-nes", "party identification, 9 coefficients, flat priors, N = 1330", nes},
      {"sblrc-blr", "Bayesian linear regression, 5 coefficients, N = 100", blr},
  };
  return list;
}

/// The entry of a posterior by name; ArgumentError listing the names otherwise.
inline const PosteriorEntry& find_posterior(std::string_view name) {
  for (const PosteriorEntry& e : posteriors())
    if (e.name == name) return e;
  std::string names;
  for (const PosteriorEntry& e : posteriors()) names += (names.empty() ? "" : ", ") + e.name;
  throw ArgumentError("posteriordb: no posterior named '" + std::string(name) + "' (known: " + names + ")");
}

}  // namespace vaelib::examples::posteriordb
