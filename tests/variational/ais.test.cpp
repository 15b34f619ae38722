#include <chrono>
#include <cstdlib>

#include "support/conjugate_models.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

struct AisReferencePoint {
  std::array<double, 5> x;
  double log_p;
};
const AisReferencePoint ais_reference_points[] = {
#include "reference/ais_reference.inc"
};

/// Lower Cholesky factor of a symmetric positive-definite n x n matrix (row-major).
std::vector<double> ais_cholesky(const std::vector<double>& c, std::size_t n) {
  std::vector<double> l(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double v = c[i * n + j];
      for (std::size_t k = 0; k < j; ++k) v -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i == j ? std::sqrt(v) : v / l[j * n + j];
    }
  return l;
}

/// Solves L L^T y = v in place.
void ais_cholesky_solve(const std::vector<double>& l, std::size_t n, std::vector<double>& v) {
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < i; ++k) v[i] -= l[i * n + k] * v[k];
    v[i] /= l[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t k = i + 1; k < n; ++k) v[i] -= l[k * n + i] * v[k];
    v[i] /= l[i * n + i];
  }
}

/// z ~ N(0, I_3), x | z ~ N(z W + b, sigma^2 I_5) (W, b those of tests/reference/ais_reference.py),
/// the decoder a dense layer whose parameters live in the store: log p(x) = N(x; b, W^T W +
/// sigma^2 I), p(z | x) = N(P^-1 W (x - b) / sigma^2, P^-1) with P = I + W W^T / sigma^2.
struct AisLinearGaussian {
  static constexpr std::size_t dz = 3, dx = 5;
  double w[dz][dx] = {{1.2, -0.7, 0.4, 0.9, -1.5}, {0.3, 1.1, -0.8, 0.6, 0.2}, {-0.9, 0.5, 1.3, -0.4, 0.7}};
  double b[dx] = {0.5, -0.2, 0.1, 0.8, -0.6};
  double sigma = 0.3;

  /// The model with the builder (bn, n images, k particles), as models::VAE's.
  MetaBayesianNet<double, std::size_t, std::size_t> model(Tape<double>& tape, Rng& rng,
                                                          ParameterStore<double>& store) const {
    std::vector<double> weight(&w[0][0], &w[0][0] + dz * dx), bias(b, b + dx);
    store.create_from("lg/out/weight", {dz, dx}, weight);
    store.create_from("lg/out/bias", {dx}, bias);
    return meta_bayesian_net(tape, rng, store.scope("lg"),
                             [&tape, s = sigma](BayesianNet<double>& bn, std::size_t n, std::size_t k) {
                               const auto z = bn.normal("z", tape.zeros({n, dz}), 1.0, {.group_ndims = 1, .n_samples = k});
                               bn.normal("x", dense(bn.scope(), "out", z, dx), s, {.group_ndims = 1});
                             });
  }

  double log_marginal(const double* x) const {
    std::vector<double> c(dx * dx);
    for (std::size_t r = 0; r < dx; ++r)
      for (std::size_t q = 0; q < dx; ++q) {
        double v = r == q ? sigma * sigma : 0.0;
        for (std::size_t k = 0; k < dz; ++k) v += w[k][r] * w[k][q];
        c[r * dx + q] = v;
      }
    const std::vector<double> l = ais_cholesky(c, dx);
    double log_det = 0, quad = 0;
    std::vector<double> y(dx);
    for (std::size_t r = 0; r < dx; ++r) {
      double v = x[r] - b[r];
      for (std::size_t k = 0; k < r; ++k) v -= l[r * dx + k] * y[k];
      y[r] = v / l[r * dx + r];
      log_det += 2 * std::log(l[r * dx + r]);
      quad += y[r] * y[r];
    }
    return -0.5 * (static_cast<double>(dx) * std::log(2 * std::numbers::pi) + log_det + quad);
  }

  std::vector<double> precision_cholesky() const {
    std::vector<double> p(dz * dz);
    for (std::size_t r = 0; r < dz; ++r)
      for (std::size_t q = 0; q < dz; ++q) {
        double v = r == q ? 1.0 : 0.0;
        for (std::size_t k = 0; k < dx; ++k) v += w[r][k] * w[q][k] / (sigma * sigma);
        p[r * dz + q] = v;
      }
    return ais_cholesky(p, dz);
  }
  /// The posterior covariance's lower Cholesky factor [dz, dz].
  xt::xarray<double> posterior_cov_tril() const {
    const std::vector<double> lp = precision_cholesky();
    std::vector<double> cov(dz * dz);
    for (std::size_t q = 0; q < dz; ++q) {
      std::vector<double> e(dz, 0.0);
      e[q] = 1;
      ais_cholesky_solve(lp, dz, e);
      for (std::size_t r = 0; r < dz; ++r) cov[r * dz + q] = e[r];
    }
    const std::vector<double> l = ais_cholesky(cov, dz);
    xt::xarray<double> out = xt::zeros<double>({dz, dz});
    for (std::size_t r = 0; r < dz; ++r)
      for (std::size_t q = 0; q < dz; ++q) out(r, q) = l[r * dz + q];
    return out;
  }
  /// Posterior means [n, dz] of images x [n, dx].
  xt::xarray<double> posterior_means(const double* x, std::size_t n) const {
    const std::vector<double> lp = precision_cholesky();
    xt::xarray<double> out = xt::zeros<double>({n, dz});
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<double> v(dz, 0.0);
      for (std::size_t r = 0; r < dz; ++r)
        for (std::size_t k = 0; k < dx; ++k) v[r] += w[r][k] * (x[i * dx + k] - b[k]) / (sigma * sigma);
      ais_cholesky_solve(lp, dz, v);
      for (std::size_t r = 0; r < dz; ++r) out(i, r) = v[r];
    }
    return out;
  }
};

/// The mean over images of an estimate minus the truth.
double ais_mean_error(const xt::xarray<double>& estimate, const std::vector<double>& truth) {
  double s = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) s += estimate(i) - truth[i];
  return s / static_cast<double>(truth.size());
}

}  // namespace

TEST_CASE("ais_schedule: linear, geometric and sigmoid rise from 0 to 1", "[variational][ais]") {
  for (AisSchedule schedule : {AisSchedule::linear, AisSchedule::geometric, AisSchedule::sigmoid}) {
    const std::vector<double> b = ais_schedule({.n_temperatures = 50, .schedule = schedule});
    REQUIRE(b.size() == 51);
    CHECK(b.front() == 0.0);
    CHECK(b.back() == 1.0);
    for (std::size_t t = 1; t < b.size(); ++t) CHECK(b[t] > b[t - 1]);
  }
  const auto linear = ais_schedule({.n_temperatures = 4, .schedule = AisSchedule::linear});
  require_close(xt::adapt(linear), xt::xarray<double>{0, 0.25, 0.5, 0.75, 1}, 1e-15);
  const auto geometric = ais_schedule({.n_temperatures = 5, .schedule = AisSchedule::geometric, .geometric_start = 1e-4});
  require_close(xt::adapt(geometric), xt::xarray<double>{0, 1e-4, 1e-3, 1e-2, 1e-1, 1}, 1e-12);
  const auto sigmoid = ais_schedule({.n_temperatures = 10, .schedule = AisSchedule::sigmoid});
  for (std::size_t t = 0; t <= 10; ++t) CHECK(sigmoid[t] + sigmoid[10 - t] == Approx(1.0).margin(1e-14));
  CHECK(sigmoid[1] < 0.1 * 0.5);  // slow at the ends: below the linear schedule's 0.1
  for (AisSchedule schedule : {AisSchedule::linear, AisSchedule::geometric, AisSchedule::sigmoid}) {
    const auto one = ais_schedule({.n_temperatures = 1, .schedule = schedule});
    require_close(xt::adapt(one), xt::xarray<double>{0, 1}, 0);
  }
}

TEST_CASE("ais: the closed form of the linear-Gaussian model matches the mpmath reference", "[variational][ais]") {
  const AisLinearGaussian lg;
  for (const AisReferencePoint& p : ais_reference_points) CHECK(lg.log_marginal(p.x.data()) == Approx(p.log_p).epsilon(1e-13));
}

TEST_CASE("ais: with the exact posterior as p0 every log-weight is log p(x), forwards and backwards", "[variational][ais]") {
  // l(z) = log p(x, z) - log p(z | x) = log p(x) for every z, and the increments sum to 1.
  const AisLinearGaussian lg;
  Tape<double> tape;
  Rng rng(1);
  ParameterStore<double> store(1);
  const auto model = lg.model(tape, rng, store);
  xt::xarray<double> x = xt::zeros<double>({std::size_t{3}, AisLinearGaussian::dx});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t r = 0; r < AisLinearGaussian::dx; ++r) x(i, r) = ais_reference_points[i].x[r];
  const auto x_var = tape.constant(x);
  const auto tril = tape.constant(lg.posterior_cov_tril());
  auto exact_posterior = [&](const Observations<double>& o) {
    const Var<double> xi = o.at("x");
    BayesianNet<double> q(tape, rng);
    q.multivariate_normal_cholesky("z", tape.constant(lg.posterior_means(xi.data(), xi.shape()[0])), tril);
    return q;
  };
  const auto z_star = tape.constant(lg.posterior_means(x.data(), 3));
  const std::size_t before = tape.size();
  const AisOptions options{.n_chains = 4, .n_temperatures = 20, .n_leapfrog = 3, .step_size = 0.1, .image_chunk = 2};
  const auto forward = ais_loglikelihood(model, {{"x", x_var}}, exact_posterior, "z", options);
  const auto backward = ais_upper_bound(model, {{"x", x_var}}, z_star, exact_posterior, "z", options);
  CHECK(tape.size() == before);
  REQUIRE(forward.log_weights.shape() == std::vector<std::size_t>{4, 3});
  CHECK_FALSE(forward.upper_bound);
  CHECK(backward.upper_bound);
  for (std::size_t i = 0; i < 3; ++i) {
    const double exact = ais_reference_points[i].log_p;
    CHECK(forward.log_likelihood(i) == Approx(exact).epsilon(1e-10));
    CHECK(backward.log_likelihood(i) == Approx(exact).epsilon(1e-10));
    CHECK(forward.standard_error(i) < 1e-8);
    for (std::size_t j = 0; j < 4; ++j) CHECK(backward.log_weights(j, i) == Approx(-exact).epsilon(1e-10));
  }
  CHECK(forward.acceptance_rate > 0.3);
}

TEST_CASE("ais: BDMC on the linear-Gaussian model brackets log p(x), the gap shrinking with T", "[variational][ais]") {
  const AisLinearGaussian lg;
  Tape<double> tape;
  Rng rng(2);
  ParameterStore<double> store(2);
  const auto model = lg.model(tape, rng, store);
  const std::size_t n = 20;
  double previous_gap = INFINITY;
  for (std::size_t temperatures : {10, 100, 1000}) {
    const auto result = bdmc(model, n, "z", {.n_chains = 16, .n_temperatures = temperatures, .image_chunk = 8, .seed = 3});
    const xt::xarray<double>& x = result.simulated.at("x");
    REQUIRE(x.shape() == std::vector<std::size_t>{n, AisLinearGaussian::dx});
    REQUIRE(result.simulated_latent.shape() == std::vector<std::size_t>{n, AisLinearGaussian::dz});
    std::vector<double> truth(n);
    for (std::size_t i = 0; i < n; ++i) truth[i] = lg.log_marginal(x.data() + i * AisLinearGaussian::dx);
    const double lower = ais_mean_error(result.lower.log_likelihood, truth);
    const double upper = ais_mean_error(result.upper.log_likelihood, truth);
    // the standard errors of those means over images (each image's chains independent)
    const double lower_se = std::sqrt(xt::sum(xt::square(result.lower.standard_error))()) / static_cast<double>(n);
    const double upper_se = std::sqrt(xt::sum(xt::square(result.upper.standard_error))()) / static_cast<double>(n);
    const double gap = xt::mean(result.gap)();
    INFO("T = " << temperatures << ": lower - log p(x) = " << lower << " +- " << lower_se << ", upper - log p(x) = "
                << upper << " +- " << upper_se << ", gap " << gap << ", acceptance " << result.lower.acceptance_rate
                << " / " << result.upper.acceptance_rate);
    CHECK(lower < 3 * lower_se);
    CHECK(upper > -3 * upper_se);
    CHECK(gap < previous_gap);
    if (temperatures >= 100) {  // the step sizes found the target (T = 10 leaves them 9 transitions)
      CHECK(result.lower.acceptance_rate == Approx(0.65).margin(0.1));
      CHECK(result.upper.acceptance_rate == Approx(0.65).margin(0.1));
    }
    previous_gap = gap;
    if (temperatures == 10) CHECK(gap > 2);
    if (temperatures == 1000) {
      CHECK(gap < 0.3);
      CHECK(std::abs(lower) < 3 * lower_se + 0.02);
      CHECK(std::abs(upper) < 3 * upper_se + 0.02);
      CHECK(lower_se < 0.1);
    }
  }
}


namespace {

/// z ~ N(0, 1), x | z ~ N(z, s^2) per image, the builder (bn, n images, k particles).
MetaBayesianNet<double, std::size_t, std::size_t> ais_scalar_model(Tape<double>& tape, Rng& rng,
                                                                   ParameterStore<double>& store, double s) {
  return meta_bayesian_net(tape, rng, store.scope("scalar"), [&tape, s](BayesianNet<double>& bn, std::size_t n, std::size_t k) {
    const auto z = bn.normal("z", tape.zeros({n}), 1.0, {.n_samples = k});
    bn.normal("x", z, s);
  });
}

/// The mean of exp(log_w - log_truth) over chains (and images of equal truth) with its standard error.
MeanAndError ais_weight_ratio(const xt::xarray<double>& log_w, const std::vector<double>& log_truth, double sign) {
  std::vector<double> ratios;
  for (std::size_t j = 0; j < log_w.shape()[0]; ++j)
    for (std::size_t i = 0; i < log_w.shape()[1]; ++i) ratios.push_back(std::exp(log_w(j, i) - sign * log_truth[i]));
  return mean_and_error(ratios);
}

}  // namespace

TEST_CASE("ais: unbiased, E[w] = p(x) forwards and E[w] = 1 / p(x) backwards from the posterior (1-D)", "[variational][ais]") {
  const double s = 0.4;
  Tape<double> tape;
  Rng rng(4);
  ParameterStore<double> store(4);
  const auto model = ais_scalar_model(tape, rng, store, s);
  const std::vector<double> xs{-1.0, 0.3, 1.3, 2.5};
  std::vector<double> log_p;
  for (double x : xs) log_p.push_back(log_normal_pdf(x, 0, 1 + s * s));
  const auto x = tape.constant(xt::xarray<double>(xt::adapt(xs)));
  for (std::size_t pilot : {0, 4}) {  // fixed step sizes, then step sizes adapted in a pilot run
    const bool adapt = pilot > 0;
    // Few temperatures: the weights vary (the test has teeth) but keep a finite variance.
    const AisOptions options{.n_chains = 20000, .n_temperatures = 5, .n_leapfrog = 2, .step_size = 0.3,
                             .adapt_step_size = adapt, .pilot_chains = pilot, .seed = 5};
    const auto forward = ais_loglikelihood(model, {{"x", x}}, "z", options);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const xt::xarray<double> column = xt::view(forward.log_weights, xt::all(), xt::range(i, i + 1));
      const MeanAndError r = ais_weight_ratio(column, {log_p[i]}, 1);
      INFO("adapt " << adapt << ", x = " << xs[i] << ": mean w / p(x) = " << r.mean << " +- " << r.standard_error);
      CHECK(std::abs(r.mean - 1) < 4 * r.standard_error);
      CHECK(r.standard_error < 0.05);
      CHECK(r.standard_error > 1e-3);  // not trivially exact
    }
  }
  // Backwards: 10000 images of x = 1.3, each from its own exact posterior draw, 2 chains each
  // (backward weights have a heavier tail: 20 temperatures).
  const std::size_t n = 10000;
  const double x0 = 1.3, post_var = s * s / (1 + s * s), post_mean = x0 / (1 + s * s);
  xt::xarray<double> z_star = xt::zeros<double>({n});
  for (std::size_t i = 0; i < n; ++i) z_star(i) = post_mean + std::sqrt(post_var) * rng.normal<double>();
  const auto reverse = ais_upper_bound(model, {{"x", tape.full({n}, x0)}}, tape.constant(z_star), "z",
                                       {.n_chains = 2, .n_temperatures = 20, .n_leapfrog = 2, .step_size = 0.3,
                                        .adapt_step_size = false, .image_chunk = 2500, .seed = 6});
  const MeanAndError r = ais_weight_ratio(reverse.log_weights, std::vector<double>(n, log_normal_pdf(x0, 0, 1 + s * s)), -1);
  INFO("mean w p(x) = " << r.mean << " +- " << r.standard_error);
  CHECK(std::abs(r.mean - 1) < 4 * r.standard_error);
  CHECK(r.standard_error < 0.05);
  CHECK(r.standard_error > 1e-3);
}

TEST_CASE("ais: T = 1 is importance sampling from p0; seeds reproduce", "[variational][ais]") {
  Tape<double> tape;
  Rng rng(7);
  ParameterStore<double> store(7);
  const double s = 0.8;
  const auto model = ais_scalar_model(tape, rng, store, s);
  const auto x = tape.constant(xt::xarray<double>{0.5, -2.0});
  const auto a = ais_loglikelihood(model, {{"x", x}}, "z", {.n_chains = 100000, .n_temperatures = 1, .seed = 1});
  CHECK(a.acceptance_rate == 0);  // no transition at all
  for (std::size_t i = 0; i < 2; ++i) {
    const double exact = log_normal_pdf(x.value()(i), 0, 1 + s * s);
    INFO(a.log_likelihood(i) << " +- " << a.standard_error(i) << ", exact " << exact);
    CHECK(std::abs(a.log_likelihood(i) - exact) < 4 * a.standard_error(i));
  }
  const AisOptions options{.n_chains = 3, .n_temperatures = 7, .image_chunk = 1, .seed = 9};
  const auto b = ais_loglikelihood(model, {{"x", x}}, "z", options);
  const auto c = ais_loglikelihood(model, {{"x", x}}, "z", options);
  CHECK(bool(b.log_weights == c.log_weights));
  CHECK(bool(b.step_size == c.step_size));
  AisOptions other = options;
  other.seed = 10;
  CHECK(bool(ais_loglikelihood(model, {{"x", x}}, "z", other).log_weights != b.log_weights));
}

TEST_CASE("ais: a small Bernoulli VAE agrees with is_loglikelihood at 200,000 particles", "[variational][ais]") {
  Tape<float> tape;
  Rng rng(11);
  ParameterStore<float> store(11);
  const std::size_t x_dim = 12, n = 6;
  models::VAE<float> vae(tape, rng, store.scope("vae"),
                         {.x_dim = x_dim, .z_dim = 2, .encoder = {16}, .decoder = {16}, .activation = Activation::tanh},
                         models::bernoulli_likelihood<float>());
  xt::xarray<float> images = xt::zeros<float>({n, x_dim});
  Rng data_rng(12);
  for (float& v : images) v = data_rng.uniform<float>() < 0.4f ? 1.0f : 0.0f;
  const auto x = tape.constant(images);
  {
    const auto guard = tape.no_grad();
    (void)vae.model(n).observe({{"x", x}});  // creates the decoder's parameters
    (void)vae.encode(x);
  }
  for (const auto& p : store)  // a sharper decoder: a posterior well inside the prior
    if (p->name.find("gen") != std::string::npos)
      for (std::size_t e = 0; e < p->size; ++e) p->value[e] *= 3;
  auto prior = [&](std::size_t k) {
    BayesianNet<float> q(tape, rng);
    q.normal("z", tape.zeros({n, 2}), 1.0f, {.group_ndims = 1, .n_samples = k});
    return q;
  };
  const auto is = is_loglikelihood(vae.model(n), {{"x", x}}, prior, 0, {.n_particles = 200000, .chunk_size = 20000});
  const std::size_t before = tape.size();
  const AisOptions options{.n_chains = 32, .n_temperatures = 1000, .image_chunk = 4};  // chunks of 4 and 2 images
  const auto from_prior = ais_loglikelihood(vae.model(), {{"x", x}}, "z", options);
  auto encoder = [&](const Observations<float>& o) { return vae.variational(o.at("x"), 1); };
  const auto from_q = ais_loglikelihood(vae.model(), {{"x", x}}, encoder, "z", options);
  CHECK(tape.size() == before);
  for (const AisLogLikelihood* ais : {&from_prior, &from_q}) {
    // From the untrained encoder (q wider than the prior) the chains have further to go.
    const double largest_error = ais == &from_prior ? 0.05 : 0.2;
    for (std::size_t i = 0; i < n; ++i) {
      const double tolerance = 3 * std::hypot(ais->standard_error(i), is.standard_error(i)) + 0.01;
      INFO((ais == &from_prior ? "from the prior" : "from q") << ", image " << i << ": AIS " << ais->log_likelihood(i)
                                                               << " +- " << ais->standard_error(i) << ", IS "
                                                               << is.log_likelihood(i) << " +- " << is.standard_error(i));
      CHECK(std::abs(ais->log_likelihood(i) - is.log_likelihood(i)) < tolerance);
      CHECK(ais->standard_error(i) < largest_error);
    }
  }
  for (const auto& p : store)  // frozen: no gradient reached the parameters
    for (std::size_t e = 0; e < p->size; ++e) REQUIRE(p->grad[e] == 0.0f);
}

TEST_CASE("ais: errors name the option, the node and the shapes", "[variational][ais]") {
  Tape<double> tape;
  Rng rng(13);
  ParameterStore<double> store(13);
  const auto model = ais_scalar_model(tape, rng, store, 0.5);
  const auto x = tape.constant(xt::xarray<double>{0.5, -2.0});
  const auto scalar = tape.constant(1.0);
  const auto three = tape.constant(xt::xarray<double>{1.0, 2.0, 3.0});
  const std::size_t before = tape.size();
  CHECK_THROWS_WITH(ais_loglikelihood(model, {{"x", x}}, "z", {.n_chains = 0}),
                    Contains("ais_loglikelihood: n_chains = 0; it must be at least 1"));
  CHECK_THROWS_WITH(ais_loglikelihood(model, {{"x", x}}, "z", {.n_temperatures = 0}),
                    Contains("ais_loglikelihood: n_temperatures = 0; it must be at least 1"));
  CHECK_THROWS_WITH(ais_loglikelihood(model, {{"x", x}}, "z", {.step_size = -1}),
                    Contains("ais_loglikelihood: step_size = -1; it must be finite and > 0"));
  CHECK_THROWS_WITH(ais_loglikelihood(model, {{"x", x}}, "z", {.target_acceptance = 1}),
                    Contains("target_acceptance = 1; it must be in (0, 1)"));
  CHECK_THROWS_WITH(ais_schedule({.n_temperatures = 3, .schedule = AisSchedule::geometric, .geometric_start = 0}),
                    Contains("ais_schedule: geometric_start = 0; it must be in (0, 1)"));
  CHECK_THROWS_WITH(ais_loglikelihood(model, {{"x", scalar}}, "z"),
                    Contains("ais_loglikelihood: every observation needs the images on axis 0, as many in each (got x [])"));
  CHECK_THROWS_WITH(ais_loglikelihood(model, {}, "z"), Contains("ais_loglikelihood: no observations given"));
  CHECK_THROWS_WITH(ais_loglikelihood(model, {{"x", x}, {"z", x}}, "z"),
                    Contains("ais_loglikelihood: the latent 'z' is also given as an observation"));
  CHECK_THROWS_WITH(ais_loglikelihood(model, {{"x", x}}, "w"),
                    Contains("ais_loglikelihood: reading the latent 'w' of the model failed: BayesianNet: no node named 'w'"));
  CHECK_THROWS_WITH(ais_upper_bound(model, {{"x", x}}, three, "z"),
                    Contains("ais_upper_bound: the exact posterior samples have shape [3]; expected one per image, [2, ...]"));
  const auto two_latents = meta_bayesian_net(tape, rng, store.scope("two"), [&](BayesianNet<double>& bn) {
    const auto z = bn.normal("z", tape.zeros({2}), 1.0);
    const auto u = bn.normal("u", tape.zeros({2}), 1.0);
    bn.normal("x", z + u, 1.0);
  });
  CHECK_THROWS_WITH(ais_loglikelihood(two_latents, {{"x", x}}, "z"),
                    Contains("ais_loglikelihood: the model's stochastic node 'u' is neither observed nor the latent 'z'"));
  const auto positive = meta_bayesian_net(tape, rng, store.scope("positive"), [&](BayesianNet<double>& bn) {
    const auto z = bn.gamma("z", tape.full({2}, 2.0), tape.full({2}, 1.0));
    bn.normal("x", z, 1.0);
  });
  CHECK_THROWS_WITH(ais_loglikelihood(positive, {{"x", x}}, "z"),
                    Contains("ais_loglikelihood: the latent 'z' follows a Gamma distribution with support positive; "
                             "AIS's HMC moves latents on the reals"));
  const auto shared = meta_bayesian_net(tape, rng, store.scope("shared"), [&](BayesianNet<double>& bn) {
    const auto z = bn.normal("z", tape.zeros({3}), 1.0);  // not one per image
    bn.normal("x", sum(z), 1.0);
  });
  CHECK_THROWS_WITH(ais_loglikelihood(shared, {{"x", x}}, "z"),
                    Contains("ais_loglikelihood: the latent 'z' of the model has batch_shape + value_shape [3]; "
                             "expected the 2 images on its axis 0"));
  CHECK_THROWS_WITH(bdmc(model, 0, "z"), Contains("bdmc: n_images = 0; it must be at least 1"));
  CHECK(tape.size() == before);  // rewound on every error
}

TEST_CASE("ais: timing of a ZhuSuan-sized decoder (784-500-500-40), 100 images, k = 16", "[.ais-timing]") {
  Tape<float> tape;
  Rng rng(14);
  ParameterStore<float> store(14);
  const std::size_t n = 100;
  models::VAE<float> vae(tape, rng, store.scope("vae"), {.x_dim = 784, .z_dim = 40}, models::bernoulli_likelihood<float>());
  xt::xarray<float> images = xt::zeros<float>({n, std::size_t{784}});
  for (float& v : images) v = rng.uniform<float>() < 0.13f ? 1.0f : 0.0f;
  const auto x = tape.constant(images);
  const char* t_env = std::getenv("VAELIB_AIS_TIMING_T");  // default 100; times 10 for T = 1000
  const std::size_t temperatures = t_env ? std::stoul(t_env) : 100;
  const auto start = std::chrono::steady_clock::now();
  const auto ll = ais_loglikelihood(vae.model(), {{"x", x}}, "z", {.n_chains = 16, .n_temperatures = temperatures});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("T = " << temperatures << ": " << seconds << " s (" << seconds * 1000 / static_cast<double>(temperatures)
              << " s at T = 1000); mean log p(x) " << xt::mean(ll.log_likelihood)() << ", acceptance "
              << ll.acceptance_rate);
}
