#include "vaelib/distributions/mixture_normal.hpp"

#include <cmath>
#include <limits>

#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Contains;

namespace {
using GMM = MixtureNormal<double>;

// Three components over two dimensions.
const xt::xarray<double> kMixtureLogits = {0.2, -1.0, 0.5};
const xt::xarray<double> kMeans = {{0.0, 1.0}, {2.0, -1.0}, {-1.0, 0.5}};
const xt::xarray<double> kStds = {{1.0, 0.5}, {0.7, 1.3}, {2.0, 0.4}};

/// An array of `shape` from row-major values (braces with one element are ambiguous for xarray).
xt::xarray<double> shaped(const Shape& shape, std::initializer_list<double> values) {
  xt::xarray<double> a = xt::empty<double>(shape);
  std::copy(values.begin(), values.end(), a.data());
  return a;
}
}  // namespace

TEST_CASE("mixture_normal: log_prob matches reference values, std and log-std forms", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(kMixtureLogits);
  const auto means = tape.constant(kMeans);
  const auto by_std = GMM::with_std(logits, means, tape.constant(kStds));
  const auto by_logstd = GMM::with_logstd(logits, means, tape.constant(xt::xarray<double>(xt::log(kStds))));
  CHECK(by_std.batch_shape() == Shape{});
  CHECK(by_std.value_shape() == Shape{2});
  CHECK(by_std.n_components() == 3);
  // computed independently with mpmath: log sum_k pi_k prod_j N(x_j | m_kj, s_kj^2), the last
  // point far in the tails (every density underflows in double; the log-space sum does not)
  const auto x = tape.constant(xt::xarray<double>{{0.3, 0.2}, {1.5, -2.0}, {-3.0, 4.0}, {40.0, -40.0}});
  const xt::xarray<double> expected = {-2.3591825550828354, -4.469483277661897, -24.619681738197777,
                                       -1927.387911068954};
  CHECK(xt::allclose(by_std.log_prob(x).value(), expected, 1e-6, 0));
  CHECK(xt::allclose(by_logstd.log_prob(x).value(), expected, 1e-6, 0));
  CHECK_FALSE(by_std.is_reparameterized());
  CHECK(std::string(by_std.name()) == "MixtureNormal");
}

TEST_CASE("mixture_normal: batched parameters broadcast; one component is a diagonal Normal", "[distributions]") {
  Tape<double> tape;
  // logits [2, 3] (two mixtures) sharing means and stds [3, 2]
  const auto logits = tape.constant(xt::xarray<double>{{0.2, -1.0, 0.5}, {-0.3, 0.9, 0.0}});
  const auto d = GMM::with_std(logits, tape.constant(kMeans), tape.constant(kStds));
  CHECK(d.batch_shape() == Shape{2});
  const auto x = tape.constant(xt::xarray<double>{{{0.3, 0.2}}, {{1.5, -2.0}}});  // [2, 1, 2]
  const auto lp = d.log_prob(x);
  REQUIRE(lp.shape() == Shape{2, 2});
  // mpmath: the second row of logits at the same two points
  CHECK(xt::allclose(
      lp.value(),
      xt::xarray<double>{{-2.3591825550828354, -3.049774616261862}, {-4.469483277661897, -2.8297112473701787}}, 1e-6,
      0));
  // K = 1: a diagonal Normal with group_ndims 1 over the value axis
  const auto m = tape.constant(xt::xarray<double>{0.4, -1.0, 2.0});
  const auto s = tape.constant(xt::xarray<double>{0.5, 1.5, 3.0});
  const auto single = GMM::with_std(tape.constant(xt::xarray<double>{7.0}), reshape(m, {1, 3}), reshape(s, {1, 3}));
  const auto normal = Normal<double>::with_std(m, s, {.group_ndims = 1});
  const auto y = tape.constant(xt::xarray<double>{1.0, 0.2, -0.7});
  CHECK(single.log_prob(y).item() == Approx(normal.log_prob(y).item()).epsilon(1e-12));
}

TEST_CASE("mixture_normal: sample mean, variance, covariance and CDF within 4 standard errors", "[distributions]") {
  Tape<double> tape;
  Rng rng(61);
  const auto d = GMM::with_std(tape.constant(kMixtureLogits), tape.constant(kMeans), tape.constant(kStds));
  const std::size_t n = 20000;
  const auto s = d.sample(rng, n).value();
  REQUIRE(s.shape() == std::vector<std::size_t>{n, 2});
  // mpmath: the mixture's mean, variance and fourth central moment per dimension
  const double mean[2] = {-0.2819522575583572, 0.518184729530986};
  const double var[2] = {3.353725867363244, 0.717377558396692};
  const double mu4[2] = {37.092463648716176, 4.494023188025491};
  for (std::size_t j = 0; j < 2; ++j) {
    INFO("dimension " << j);
    const auto xj = xt::view(s, xt::all(), j);
    CHECK(std::abs(xt::mean(xj)() - mean[j]) < 4 * std::sqrt(var[j] / double(n)));
    CHECK(std::abs(xt::variance(xj)() - var[j]) < 4 * std::sqrt((mu4[j] - var[j] * var[j]) / double(n)));
  }
  // The components couple the dimensions: Cov(x0, x1) = sum_k pi_k m_k0 m_k1 - mean0 mean1
  // (mpmath -0.33571191614548573; E[(x0 - mean0)^2 (x1 - mean1)^2] = 3.1508090111579308).
  const auto x0 = xt::view(s, xt::all(), 0);
  const auto x1 = xt::view(s, xt::all(), 1);
  const double cov = xt::mean((x0 - xt::mean(x0)()) * (x1 - xt::mean(x1)()))();
  const double cov_true = -0.33571191614548573;
  CHECK(std::abs(cov - cov_true) < 4 * std::sqrt((3.1508090111579308 - cov_true * cov_true) / double(n)));
  // P(x0 <= t) = sum_k pi_k Phi((t - m_k0) / s_k0), mpmath
  for (const auto& [t, cdf] : std::vector<std::pair<double, double>>{
           {-1.0, 0.31443633709423896}, {0.0, 0.5409248496655432}, {1.5, 0.8343780930254703}}) {
    const double freq = static_cast<double>(xt::sum(x0 <= t)()) / double(n);
    INFO("t = " << t << ": frequency " << freq << ", cdf " << cdf);
    CHECK(std::abs(freq - cdf) < 4 * std::sqrt(cdf * (1 - cdf) / double(n)));
  }
}

TEST_CASE("mixture_normal: a component with logit -inf is never drawn", "[distributions]") {
  Tape<double> tape;
  Rng rng(62);
  const double inf = std::numeric_limits<double>::infinity();
  // Components far apart: every draw shows which one it came from.
  const auto d = GMM::with_std(tape.constant(xt::xarray<double>{0.0, -inf, 0.0}),
                               tape.constant(shaped({3, 1}, {-100.0, 0.0, 100.0})),
                               tape.constant(shaped({3, 1}, {1.0, 1.0, 1.0})));
  const auto s = d.sample(rng, 4000).value();
  CHECK(xt::sum(xt::abs(s) < 50.0)() == 0);
  const double left = static_cast<double>(xt::sum(s < 0.0)()) / 4000;
  CHECK(std::abs(left - 0.5) < 4 * std::sqrt(0.25 / 4000));
  // log_prob ignores the switched-off component: log(0.5 N(x | -100, 1)) at x = -100
  CHECK(d.log_prob(tape.constant(xt::xarray<double>{-100.0})).item() ==
        Approx(std::log(0.5) - 0.5 * std::log(2 * M_PI)).epsilon(1e-12));
  // and at x = 0 the two live components contribute equally: log(2 * 0.5 N(0 | 100, 1))
  CHECK(d.log_prob(tape.constant(xt::xarray<double>{0.0})).item() ==
        Approx(-0.5 * std::log(2 * M_PI) - 0.5 * 100 * 100).epsilon(1e-12));
}

TEST_CASE("mixture_normal: log_prob gradients by finite differences", "[distributions]") {
  // w.r.t. the given, the logits, the means and the log-stds
  require_gradient([](Tape<double>&, const Vars& v) { return GMM::with_logstd(v[1], v[2], v[3]).log_prob(v[0]); },
                   {random_array({4, 2}, -2, 2, 1), random_array({3}, -1, 1, 2), random_array({3, 2}, -1, 1, 3),
                    random_array({3, 2}, -0.5, 0.5, 4)});
  // the std form, batch [2] with broadcast means, group_ndims 1
  require_gradient(
      [](Tape<double>&, const Vars& v) { return GMM::with_std(v[1], v[2], v[3], {.group_ndims = 1}).log_prob(v[0]); },
      {random_array({2, 3}, -2, 2, 5), random_array({2, 4}, -1, 1, 6), random_array({4, 3}, -1, 1, 7),
       random_array({2, 4, 3}, 0.5, 1.5, 8)});
  // d/d logits_k of log p = r_k - pi_k (responsibility minus weight); equal means: r = pi, gradient 0
  Tape<double> tape;
  const auto logits = tape.variable(xt::xarray<double>{0.3, -0.2});
  tape.backward(
      sum(GMM::with_std(logits, tape.constant(shaped({2, 1}, {1.0, 1.0})), tape.constant(shaped({2, 1}, {1.0, 1.0})))
              .log_prob(tape.constant(xt::xarray<double>{0.5}))));
  CHECK(xt::allclose(logits.grad(), xt::xarray<double>{0.0, 0.0}, 0, 1e-15));
}

TEST_CASE("mixture_normal: mean, weights and parameters", "[distributions]") {
  Tape<double> tape;
  const auto d = GMM::with_std(tape.constant(kMixtureLogits), tape.constant(kMeans), tape.constant(kStds));
  // mpmath: sum_k pi_k m_k
  CHECK(xt::allclose(d.mean().value(), xt::xarray<double>{-0.2819522575583572, 0.518184729530986}, 1e-12, 0));
  CHECK(xt::allclose(xt::exp(d.log_weights().value()),
                     xt::xarray<double>{0.37720860075180745, 0.11361304722994513, 0.5091783520182475}, 1e-12, 0));
  CHECK(d.dim() == 2);
  require_close(d.parameter("logstds").value(), xt::xarray<double>(xt::log(kStds)));
  require_close(d.parameter("stds").value(), kStds);
  require_close(d.parameter("means").value(), kMeans);
  require_close(d.parameter("logits").value(), kMixtureLogits);
  REQUIRE_THROWS_WITH(d.parameter("weights"), "MixtureNormal: no parameter 'weights'");
  // MixtureNormal(logits, means, stds) is the std form.
  const auto y = tape.constant(xt::xarray<double>{{0.3, 0.2}, {1.5, -2.0}});
  require_close(GMM(tape.constant(kMixtureLogits), tape.constant(kMeans), tape.constant(kStds)).log_prob(y).value(),
                d.log_prob(y).value());
  REQUIRE_THROWS_WITH(d.entropy(), "MixtureNormal: no closed-form entropy");
  const auto l = tape.variable(kMixtureLogits);
  const auto x = tape.constant(xt::xarray<double>{0.0, 0.0});
  CHECK(GMM::with_std(l, tape.constant(kMeans), tape.constant(kStds)).log_prob(x).requires_grad());
  CHECK_FALSE(GMM::with_std(l, tape.constant(kMeans), tape.constant(kStds), {.use_path_derivative = true})
                  .log_prob(x)
                  .requires_grad());
  // the mean is differentiable in the logits and the means
  require_gradient([](Tape<double>& t, const Vars& v) { return GMM::with_std(v[0], v[1], t.constant(kStds)).mean(); },
                   {kMixtureLogits, kMeans});
}

TEST_CASE("mixture_normal: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  // logits [2, 3, K = 4], means [3, 4, d = 2], logstds [1, 4, 2]
  const auto logits = tape.constant(random_array({2, 3, 4}, -1, 1, 9));
  const auto means = tape.constant(random_array({3, 4, 2}, -2, 2, 10));
  const auto logstds = tape.constant(random_array({1, 4, 2}, -0.5, 0.5, 11));
  check_distribution_shapes(
      [&](std::size_t g) { return GMM::with_logstd(logits, means, logstds, {.group_ndims = g}); }, {2, 3}, {2},
      {.mean = true, .broadcast_given = xt::xarray<double>{0.1, 0.2}, .seed = 63});
  // Sampling reads each batch element's own parameters: a batch of two far-apart mixtures.
  Rng rng(63);
  const auto far =
      GMM::with_std(tape.constant(shaped({2, 1}, {0.0, 0.0})), tape.constant(shaped({2, 1, 1}, {-50.0, 50.0})),
                    tape.constant(shaped({1, 1, 1}, {1.0})));
  const auto s = far.sample(rng, 100).value();
  CHECK(xt::all(xt::view(s, xt::all(), 0, 0) < 0.0));
  CHECK(xt::all(xt::view(s, xt::all(), 1, 0) > 0.0));
}

TEST_CASE("mixture_normal: float smoke test", "[distributions]") {
  Tape<float> tape;
  Rng rng(64);
  const auto d = MixtureNormal<float>::with_std(tape.constant(xt::xarray<float>(xt::cast<float>(kMixtureLogits))),
                                                tape.constant(xt::xarray<float>(xt::cast<float>(kMeans))),
                                                tape.constant(xt::xarray<float>(xt::cast<float>(kStds))));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{{0.3f, 0.2f}, {40.0f, -40.0f}}));
  CHECK(lp.value()(0) == Approx(-2.3591825550828354).epsilon(1e-5));
  CHECK(lp.value()(1) == Approx(-1927.387911068954).epsilon(1e-5));
  CHECK(d.sample(rng, 3).shape() == Shape{3, 2});
}

TEST_CASE("mixture_normal: bad parameters and values are refused with clear messages", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(kMixtureLogits);
  const auto means = tape.constant(kMeans);
  const auto stds = tape.constant(kStds);
  // K disagrees
  REQUIRE_THROWS_AS(GMM::with_std(tape.constant(xt::xarray<double>{0.0, 0.0}), means, stds), ShapeError);
  REQUIRE_THROWS_WITH(
      GMM::with_std(tape.constant(xt::xarray<double>{0.0, 0.0}), means, stds),
      "MixtureNormal: logits have shape [2], means [3, 2] and stds [3, 2] (expected logits [..., K], means "
      "and scales [..., K, d] with the same K >= 1 and d >= 1)");
  // d disagrees, and a scale of rank 1
  REQUIRE_THROWS_WITH(
      GMM::with_logstd(logits, means, tape.constant(random_array({3, 3}))),
      "MixtureNormal: logits have shape [3], means [3, 2] and logstds [3, 3] (expected logits [..., K], "
      "means and scales [..., K, d] with the same K >= 1 and d >= 1)");
  REQUIRE_THROWS_WITH(
      GMM::with_std(logits, tape.constant(xt::xarray<double>{0.0, 1.0, 2.0}), stds),
      "MixtureNormal: logits have shape [3], means [3] and stds [3, 2] (expected logits [..., K], means "
      "and scales [..., K, d] with the same K >= 1 and d >= 1)");
  // batch axes that do not broadcast
  REQUIRE_THROWS_AS(GMM::with_std(tape.constant(random_array({2, 3})), tape.constant(random_array({4, 3, 2})), stds),
                    ShapeError);
  REQUIRE_THROWS_WITH(GMM::with_std(tape.constant(random_array({2, 3})), tape.constant(random_array({4, 3, 2})), stds),
                      "MixtureNormal parameters: cannot broadcast shapes [2] and [4] (axis -1: 2 vs 4; sizes must be "
                      "equal or 1)");
  // values
  xt::xarray<double> bad_stds = kStds;
  bad_stds(2, 1) = 0.0;
  REQUIRE_THROWS_AS(GMM::with_std(logits, means, tape.constant(bad_stds)), ArgumentError);
  REQUIRE_THROWS_WITH(GMM::with_std(logits, means, tape.constant(bad_stds)),
                      "MixtureNormal: stds must be positive and finite, got 0.000000 at flat index 5 of shape [3, 2]");
  REQUIRE_THROWS_WITH(GMM::with_std(tape.constant(xt::xarray<double>{0.0, std::nan(""), 1.0}), means, stds),
                      "MixtureNormal: logits must be finite or -inf, got nan at flat index 1 of shape [3]");
  REQUIRE_THROWS_WITH(
      GMM::with_std(tape.constant(xt::xarray<double>{0.0, std::numeric_limits<double>::infinity(), 1.0}), means, stds),
      "MixtureNormal: logits must be finite or -inf, got inf at flat index 1 of shape [3]");
  const double inf = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_WITH(
      GMM::with_std(tape.constant(xt::xarray<double>{{0.0, 1.0, 2.0}, {-inf, -inf, -inf}}), means, stds),
      "MixtureNormal: logits must not all be -inf, got a row of 3 -inf at flat index 3 of shape [2, 3]");
  // a given whose value axis or batch axes do not fit
  const auto d = GMM::with_std(tape.constant(random_array({2, 3})), means, stds);
  REQUIRE_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>{1.0, 2.0, 3.0})), ShapeError);
  REQUIRE_THROWS_WITH(d.log_prob(tape.constant(xt::xarray<double>{1.0, 2.0, 3.0})),
                      "MixtureNormal.log_prob: given has shape [3], which does not broadcast with batch_shape [2] + "
                      "value_shape [2] (expected [...] + value_shape, the rest broadcasting)");
  REQUIRE_THROWS_WITH(d.log_prob(tape.constant(random_array({3, 2}))),
                      "MixtureNormal.log_prob: given has shape [3, 2], which does not broadcast with batch_shape [2] + "
                      "value_shape [2] (expected [...] + value_shape, the rest broadcasting)");
}

TEST_CASE("mixture_normal: fitting a GMM to 2-d points by maximum likelihood recovers it", "[distributions]") {
  // The report's deterministic auto-encoder + GMM: a GMM over 2-d latent points, fitted by
  // gradient ascent on the mean log-likelihood (Adam), then sampled.
  Tape<double> tape;
  Rng rng(65);
  const xt::xarray<double> true_logits = xt::log(xt::xarray<double>{0.5, 0.3, 0.2});
  const xt::xarray<double> true_means = {{-4.0, 0.0}, {4.0, 0.0}, {0.0, 4.0}};
  const xt::xarray<double> true_stds = {{0.6, 0.9}, {1.0, 0.5}, {0.7, 0.7}};
  const std::size_t n = 2000;
  const xt::xarray<double> points =
      GMM::with_std(tape.constant(true_logits), tape.constant(true_means), tape.constant(true_stds))
          .sample(rng, n)
          .value();
  const double true_mean_lp =
      xt::mean(GMM::with_std(tape.constant(true_logits), tape.constant(true_means), tape.constant(true_stds))
                   .log_prob(tape.constant(points))
                   .value())();

  ParameterStore<double> params(3);
  const auto scope = params.scope("gmm");
  auto& logits = scope.get("logits", {3}, init::zeros<double>());
  auto& means = scope.get("means", {3, 2}, init::normal<double>(0.0, 1.0));
  auto& logstds = scope.get("logstds", {3, 2}, init::zeros<double>());
  optim::Adam<double> adam(params, {.learning_rate = 0.05});
  double mean_lp = 0;
  for (int step = 0; step < 600; ++step) {
    tape.clear();
    const auto lp = GMM::with_logstd(logits.on(tape), means.on(tape), logstds.on(tape)).log_prob(tape.constant(points));
    const auto loss = -mean(lp);
    mean_lp = -loss.item();
    adam.zero_grad();
    tape.backward(loss);
    adam.step();
  }
  INFO("mean log-likelihood " << mean_lp << " (true parameters: " << true_mean_lp << ")");
  // The maximum-likelihood fit scores at least as well as the truth, up to optimisation slack.
  CHECK(mean_lp > true_mean_lp - 0.01);
  // Each true component is matched by a fitted one (in some order) within sampling error.
  const xt::xarray<double> fitted_means = means.value_view();
  const xt::xarray<double> fitted_weights = xt::exp(logits.value_view()) / xt::sum(xt::exp(logits.value_view()))();
  for (std::size_t k = 0; k < 3; ++k) {
    std::size_t best = 0;
    double best_distance = INFINITY;
    for (std::size_t c = 0; c < 3; ++c) {
      const double distance = std::hypot(fitted_means(c, 0) - true_means(k, 0), fitted_means(c, 1) - true_means(k, 1));
      if (distance < best_distance) best_distance = distance, best = c;
    }
    INFO("component " << k << ": nearest fitted mean at distance " << best_distance);
    CHECK(best_distance < 0.15);
    CHECK(std::abs(fitted_weights(best) - std::exp(true_logits(k))) < 0.05);
  }
}

TEST_CASE("mixture_normal: a GMM prior as a BayesianNet node", "[distributions]") {
  Tape<double> tape;
  Rng rng(66);
  BayesianNet<double> bn(tape, rng);
  const auto z =
      bn.stochastic("z", std::make_unique<GMM>(tape.constant(kMixtureLogits), tape.constant(kMeans), tape.constant(kStds)), 7);
  CHECK(z.shape() == Shape{7, 2});
  const auto lp = bn.cond_log_prob("z");
  CHECK(lp.shape() == Shape{7});
  require_close(lp.value(),
                GMM(tape.constant(kMixtureLogits), tape.constant(kMeans), tape.constant(kStds)).log_prob(z).value());
}

TEMPLATE_TEST_CASE("mixture_normal: log_prob matches the mpmath reference, std and log-std, ordinary and extreme",
                   "[distributions]", double, float) {
  using T = TestType;
  using Case = dist_reference::VectorCase;
  // two components in one dimension: logits [2], means and scales [2, 1], x [1]
  const auto compute = [](typename MixtureNormal<T>::Scale kind) {
    return [kind](Tape<T>& tape, const Case& c) {
      const auto logits = tape.constant(xt::xarray<T>{T(c.p[0]), T(c.p[1])});
      xt::xarray<T> mean_values = {T(c.p[2]), T(c.p[3])}, scale_values = {T(c.p[4]), T(c.p[5])};
      mean_values.reshape({2, 1});
      scale_values.reshape({2, 1});
      const auto means = tape.constant(mean_values);
      const auto scales = tape.constant(scale_values);
      return MixtureNormal<T>(logits, means, scales, kind).log_prob(tape.constant(xt::xarray<T>{T(c.x[0])})).item();
    };
  };
  dist_reference::require_reference_values<T>(dist_reference::kMixtureNormal, compute(MixtureNormal<T>::Scale::std));
  dist_reference::require_reference_values<T>(dist_reference::kMixtureNormalLogstd, compute(MixtureNormal<T>::Scale::logstd));
}
