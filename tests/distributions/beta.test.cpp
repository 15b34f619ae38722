#include "vaelib/distributions/beta.hpp"

#include <cmath>

#include "support/conjugate_models.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/implicit_gradient_checks.hpp"
#include "support/incomplete_gamma.hpp"
#include "reference/distributions_reference.hpp"
#include "reference/entropy_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Contains;

TEST_CASE("beta: log_prob matches reference values", "[distributions]") {
  Tape<double> tape;
  const Beta<double> d(tape.constant(xt::xarray<double>{0.5, 2.0, 5.0}),
                       tape.constant(xt::xarray<double>{0.7, 3.0, 1.2}));
  // computed independently with mpmath: (a-1) log x + (b-1) log(1-x) - (lgamma(a) + lgamma(b) - lgamma(a+b))
  const xt::xarray<double> expected = {0.26429442173468826, 0.4907249520589878, 1.2164706380898338};
  CHECK(xt::allclose(d.log_prob(tape.constant(xt::xarray<double>{0.1, 0.45, 0.97})).value(), expected, 1e-6, 0));
  // Beta(1, 1) is uniform: log p = 0 everywhere in (0, 1)
  const Beta<double> uniform(tape.constant(1.0), tape.constant(1.0));
  require_close(uniform.log_prob(tape.constant(xt::xarray<double>{1e-9, 0.3, 1 - 1e-9})).value(),
                xt::xarray<double>{0.0, 0.0, 0.0}, 1e-12);
  CHECK(d.is_reparameterized());
  CHECK(std::string(d.name()) == "Beta");
}

TEST_CASE("beta: sample mean and variance within 4 standard errors", "[distributions]") {
  Tape<double> tape;
  Rng rng(41);
  const xt::xarray<double> alpha = {0.5, 2.0, 5.0, 0.3};
  const xt::xarray<double> beta = {0.7, 3.0, 1.2, 4.0};
  const std::size_t n = 20000;
  const auto s = Beta<double>(tape.constant(alpha), tape.constant(beta)).sample(rng, n).value();
  REQUIRE(s.shape() == std::vector<std::size_t>{n, 4});
  CHECK(xt::all(s > 0.0 && s < 1.0));
  for (std::size_t j = 0; j < 4; ++j) {
    const double a = alpha(j), b = beta(j), t = a + b;
    INFO("alpha " << a << ", beta " << b);
    const auto column = xt::view(s, xt::all(), j);
    const double mean = a / t;
    const double var = a * b / (t * t * (t + 1));
    // The fourth central moment from the excess kurtosis
    // 6 [(a - b)^2 (t + 1) - a b (t + 2)] / [a b (t + 2)(t + 3)].
    const double excess = 6 * ((a - b) * (a - b) * (t + 1) - a * b * (t + 2)) / (a * b * (t + 2) * (t + 3));
    const double mu4 = (3 + excess) * var * var;
    CHECK(std::abs(xt::mean(column)() - mean) < 4 * std::sqrt(var / double(n)));
    CHECK(std::abs(xt::variance(column)() - var) < 4 * std::sqrt((mu4 - var * var) / double(n)));
  }
}

TEST_CASE("beta: the empirical CDF of the draws matches the regularised incomplete beta", "[distributions]") {
  Tape<double> tape;
  Rng rng(42);
  const std::size_t n = 20000;
  // I_x(a, b) computed independently with mpmath's betainc(a, b, 0, x, regularized=True)
  struct Case {
    double a, b;
    std::vector<std::pair<double, double>> cdf;
  };
  const std::vector<Case> cases{
      {0.5,
       0.7,
       {{0.01, 0.07989509846265794}, {0.1, 0.2550252666846261}, {0.5, 0.6003642321330015}, {0.99, 0.9772566844115548}}},
      {0.1, 0.2, {{0.01, 0.4324969742161058}, {0.5, 0.670570796102899}, {0.99, 0.8634504757262699}}},
      {5.0, 1.2, {{0.5, 0.043090820824900344}, {0.7, 0.21603081371581515}, {0.9, 0.675333942723951}}},
  };
  for (const Case& c : cases) {
    const auto s = Beta<double>(tape.constant(c.a), tape.constant(c.b)).sample(rng, n).value();
    for (const auto& [x, cdf] : c.cdf) {
      const double freq = static_cast<double>(xt::sum(s <= x)()) / double(n);
      INFO("Beta(" << c.a << ", " << c.b << ") at " << x << ": frequency " << freq << ", cdf " << cdf);
      CHECK(std::abs(freq - cdf) < 4 * std::sqrt(cdf * (1 - cdf) / double(n)));
    }
  }
}

TEST_CASE("beta: log_prob and entropy gradients by finite differences", "[distributions]") {
  const auto x = random_array({2, 3}, 0.05, 0.95, 1);
  require_gradient(
      [x](Tape<double>& tape, const Vars& v) { return Beta<double>(v[0], v[1]).log_prob(tape.constant(x)); },
      {random_array({2, 3}, 0.3, 5.0, 2), random_array({2, 3}, 0.3, 5.0, 3)});
  require_gradient(
      [x](Tape<double>& tape, const Vars& v) {
        return Beta<double>(v[0], v[1], {.group_ndims = 2}).log_prob(tape.constant(x));
      },
      {random_array({3}, 0.3, 5.0, 4), random_array({2, 1}, 0.3, 5.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return Beta<double>(v[0], v[1]).entropy(); },
                   {random_array({4}, 0.2, 6.0, 6), random_array({4}, 0.2, 6.0, 7)});
  // d/d alpha of log p = log x - digamma(a) + digamma(a + b); Beta(1, 1) at x = 0.5:
  // log 0.5 - digamma(1) + digamma(2) = log 0.5 + 1
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{1.0});
  tape.backward(sum(Beta<double>(a, tape.constant(1.0)).log_prob(tape.constant(0.5))));
  CHECK(a.grad()(0) == Approx(std::log(0.5) + 1).epsilon(1e-12));
}

TEST_CASE("beta: mean, entropy and parameters", "[distributions]") {
  Tape<double> tape;
  const Beta<double> d(tape.constant(xt::xarray<double>{0.5, 2.0, 5.0}),
                       tape.constant(xt::xarray<double>{0.7, 3.0, 1.2}));
  require_close(d.mean().value(), xt::xarray<double>{0.5 / 1.2, 2.0 / 5.0, 5.0 / 6.2});
  // mpmath, and checked there against -integral p log p
  CHECK(xt::allclose(d.entropy().value(),
                     xt::xarray<double>{-0.19792388238665903, -0.2349066497880003, -0.6909660908054026}, 1e-6, 0));
  CHECK(Beta<double>(tape.constant(1.0), tape.constant(1.0)).entropy().item() == Approx(0.0).margin(1e-14));
  const Beta<double> grouped(tape.constant(xt::xarray<double>{0.5, 2.0}), tape.constant(3.0), {.group_ndims = 1});
  CHECK(grouped.entropy().shape() == Shape{});
  CHECK(grouped.mean().shape() == Shape{2});
  CHECK(d.parameter("alpha").value()(2) == 5.0);
  CHECK(d.parameter("beta").value()(2) == 1.2);
  REQUIRE_THROWS_WITH(d.parameter("a"), "Beta: no parameter 'a'");
  const auto a = tape.variable(xt::xarray<double>{1.5});
  CHECK_FALSE(
      Beta<double>(a, tape.constant(1.0), {.use_path_derivative = true}).log_prob(tape.constant(0.5)).requires_grad());
}

TEST_CASE("beta: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto alpha = tape.constant(random_array({2, 1}, 0.3, 4.0, 8));
  const auto beta = tape.constant(random_array({3}, 0.3, 4.0, 9));
  check_distribution_shapes([&](std::size_t g) { return Beta<double>(alpha, beta, {.group_ndims = g}); }, {2, 3}, {},
                            {.entropy = true,
                             .finite_log_prob = true,
                             .broadcast_given = xt::xarray<double>{0.1, 0.2, 0.3},
                             .seed = 8});
}

TEST_CASE("beta: small parameters give draws strictly inside (0, 1), in double and float", "[distributions]") {
  Tape<double> tape;
  Rng rng(13);
  const Beta<double> d(tape.constant(xt::xarray<double>{1e-3, 0.05, 8.0}),
                       tape.constant(xt::xarray<double>{1e-3, 8.0, 0.05}));
  const auto s = d.sample(rng, 2000);
  CHECK(xt::all(s.value() > 0.0 && s.value() < 1.0));
  CHECK(xt::all(xt::isfinite(d.log_prob(s).value())));
  // Both tails are reached: Beta(1e-3, 1e-3) puts half of its mass near each end.
  const auto first = xt::view(s.value(), xt::all(), 0);
  CHECK(xt::sum(first < 0.5)() > 800);
  CHECK(xt::sum(first > 0.5)() > 800);

  Tape<float> ftape;
  const Beta<float> f(ftape.constant(xt::xarray<float>{0.05f, 8.0f}), ftape.constant(xt::xarray<float>{8.0f, 0.05f}));
  const auto fs = f.sample(rng, 2000);
  CHECK(xt::all(fs.value() > 0.0f && fs.value() < 1.0f));
  CHECK(xt::all(xt::isfinite(f.log_prob(fs).value())));
}

TEST_CASE("beta: float smoke test", "[distributions]") {
  Tape<float> tape;
  const Beta<float> d(tape.constant(xt::xarray<float>{0.5f, 2.0f, 5.0f}),
                      tape.constant(xt::xarray<float>{0.7f, 3.0f, 1.2f}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{0.1f, 0.45f, 0.97f}));
  CHECK(xt::allclose(lp.value(), xt::xarray<float>{0.26429442173468826f, 0.4907249520589878f, 1.2164706380898338f},
                     1e-5, 1e-6));
}

TEST_CASE("beta: bad parameters and values are refused with clear messages", "[distributions]") {
  Tape<double> tape;
  const auto one = tape.constant(1.0);
  REQUIRE_THROWS_AS(Beta<double>(tape.constant(xt::xarray<double>{1.0, -0.5}), one), ArgumentError);
  REQUIRE_THROWS_WITH(Beta<double>(tape.constant(xt::xarray<double>{1.0, -0.5}), one),
                      "Beta: alpha must be positive and finite, got -0.500000 at flat index 1 of shape [2]");
  REQUIRE_THROWS_WITH(Beta<double>(one, tape.constant(0.0)),
                      "Beta: beta must be positive and finite, got 0.000000 at flat index 0 of shape []");
  REQUIRE_THROWS_WITH(Beta<double>(one, tape.constant(std::nan(""))),
                      "Beta: beta must be positive and finite, got nan at flat index 0 of shape []");

  const Beta<double> d(tape.constant(xt::xarray<double>{1.0, 2.0, 3.0}), one);
  REQUIRE_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>{0.5, 0.5})), ShapeError);
  REQUIRE_THROWS_WITH(
      d.log_prob(tape.constant(xt::xarray<double>{0.5, 0.5})),
      "Beta.log_prob: given has shape [2], which does not broadcast with batch_shape [3] + value_shape [] "
      "(expected [...] + value_shape, the rest broadcasting)");
}

TEST_CASE("beta: values outside [0, 1] give -inf with no gradient, NaN gives NaN, the edges their limit",
          "[distributions]") {
  Tape<double> tape;
  const auto alpha = tape.variable(xt::xarray<double>{1.0, 2.0, 0.5, 2.0, 2.0});
  const auto beta = tape.variable(xt::xarray<double>{3.0, 1.0, 2.0, 2.0, 2.0});
  const Beta<double> d(alpha, beta);
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{0.0, 1.0, 0.0, -0.5, std::nan("")}));
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(lp.value()(0) == Approx(std::log(3.0)).epsilon(1e-14));  // Beta(1, 3) at 0: density 3
  CHECK(lp.value()(1) == Approx(std::log(2.0)).epsilon(1e-14));  // Beta(2, 1) at 1: density 2
  CHECK(lp.value()(2) == inf);
  CHECK(lp.value()(3) == -inf);
  CHECK(std::isnan(lp.value()(4)));
  tape.backward(sum(slice(lp, 0, 0, 4)));
  CHECK(alpha.grad()(3) == 0);
  CHECK(beta.grad()(3) == 0);
}

TEST_CASE("beta: log_prob at parameters up to 1e6 keeps its gradient (finite differences)", "[distributions]") {
  // The cancelling terms are computed in a stable form: the partials must still be the
  // density's. The value carries ~1e-10 of rounding from terms of size 1e6, so the parameters
  // take a step of 1e-2 (the density is smooth in them at this scale); x the default step.
  const xt::xarray<double> x_values = {0.51, 0.31, 0.49, 0.2}, alpha_values = {1e4, 3e5, 50.0, 1e6},
                           beta_values = {1e4, 7e5, 2.0, 3.0};
  require_gradient(
      [&](Tape<double>& tape, const Vars& v) { return Beta<double>(v[0], v[1]).log_prob(tape.constant(x_values)); },
      {alpha_values, beta_values}, {.step = 1e-2});
  require_gradient(
      [&](Tape<double>& tape, const Vars& v) {
        return Beta<double>(tape.constant(alpha_values), tape.constant(beta_values)).log_prob(v[0]);
      },
      {x_values});
}

TEMPLATE_TEST_CASE("beta: log_prob matches the mpmath reference, parameters up to 1e6 and the edges of the support",
                   "[distributions]", double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kBeta, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Beta<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1]))).log_prob(tape.constant(T(c.x))).item();
  });
}

TEST_CASE("beta: reparameterised draws are the sampler's, and their gradients those of X / (X + Y) with X and Y "
          "moving along their Gamma quantiles",
          "[distributions]") {
  // The draw is sigmoid(log X - log Y), X ~ Gamma(alpha, 1) then Y ~ Gamma(beta, 1) from
  // detail::sample_log_standard_gamma in order: replayed here with the same seed. Each of X
  // and Y moves with its parameter at its own CDF level (central differences of the quantile,
  // tests/support/incomplete_gamma.hpp), so dz/dalpha = z (1 - z) (log X(alpha + h) - log X(alpha - h)) / 2h.
  Tape<double> tape;
  const auto [alpha_values, beta_values] =
      repeated_parameter_pairs({{0.2, 0.7}, {1.0, 1.0}, {2.5, 0.4}, {30.0, 8.0}, {500.0, 900.0}}, 10);
  const auto alpha = tape.variable(alpha_values);
  const auto beta = tape.variable(beta_values);
  Rng rng(61), replay(61), rng_fixed(61);
  const auto z = Beta<double>(alpha, beta).sample(rng);
  CHECK(z.requires_grad());
  const auto z_fixed = Beta<double>(tape.constant(alpha_values), tape.constant(beta_values)).sample(rng_fixed);
  tape.backward(sum(z));
  for (std::size_t i = 0; i < alpha_values.size(); ++i) {
    const double a = alpha_values(i), b = beta_values(i);
    const double log_x = vaelib::detail::sample_log_standard_gamma(a, replay);
    const double log_y = vaelib::detail::sample_log_standard_gamma(b, replay);
    const double expected = std::clamp(1 / (1 + std::exp(log_y - log_x)), std::numeric_limits<double>::min(),
                                       std::nextafter(1.0, 0.0));
    REQUIRE(z.value()(i) == expected);
    REQUIRE(z_fixed.value()(i) == expected);
    if (log_x < -700 || log_y < -700) continue;  // beyond the test's bisection
    // z = sigmoid(t), t = log X - log Y: differences of t (no rounding of z near 1), times dz/dt
    const double t = log_x - log_y;
    const double dz_dt = 1 / ((1 + std::exp(t)) * (1 + std::exp(-t)));
    const double dz_da = dz_dt * gamma_draw_log_slope_by_differences(a, log_x);
    const double dz_db = -dz_dt * gamma_draw_log_slope_by_differences(b, log_y);
    INFO("alpha " << a << ", beta " << b << ", z " << z.value()(i) << ": dz/dalpha " << alpha.grad()(i) << " vs "
                  << dz_da << ", dz/dbeta " << beta.grad()(i) << " vs " << dz_db);
    CHECK(std::abs(alpha.grad()(i) - dz_da) <= 1e-6 * std::abs(dz_da) + 1e-12);
    CHECK(std::abs(beta.grad()(i) - dz_db) <= 1e-6 * std::abs(dz_db) + 1e-12);
  }
}

TEST_CASE("beta: float gradients follow double, broadcast parameters sum the draws' gradients", "[distributions]") {
  Tape<float> float_tape;
  Tape<double> tape;
  Rng rng_float(62), rng_double(62);
  const auto fa = float_tape.variable(xt::xarray<float>{0.3f, 2.0f, 80.0f});
  const auto fb = float_tape.variable(xt::xarray<float>(1.5f));
  const auto fz = Beta<float>(fa, fb).sample(rng_float, 4);
  REQUIRE(fz.shape() == Shape{4, 3});
  float_tape.backward(sum(fz));
  const auto da = tape.variable(xt::xarray<double>{0.3f, 2.0f, 80.0f});
  const auto db = tape.variable(xt::xarray<double>(1.5f));
  const auto dz = Beta<double>(da, db).sample(rng_double, 4);
  tape.backward(sum(dz));
  for (std::size_t j = 0; j < 3; ++j) {
    INFO("element " << j);
    CHECK(fa.grad()(j) == Approx(da.grad()(j)).epsilon(1e-5));
  }
  CHECK(fb.grad()() == Approx(db.grad()()).epsilon(1e-5));
}

TEST_CASE("beta: implicit gradients are unbiased for f = z, z^2, log z, and agree with the score function",
          "[distributions]") {
  // Closed forms with s = a + b: E z = a/s, E z^2 = a(a+1) / (s(s+1)), E log z = digamma(a) - digamma(s).
  const std::vector<std::array<double, 2>> parameters{{0.5, 1.5}, {4.0, 2.0}};
  const std::vector<ImplicitGradientCase<2>> cases{
      {"z", [](const Var<double>& z) { return z; },
       [](const std::array<double, 2>& p) {
         const double s = p[0] + p[1];
         return std::array<double, 2>{p[1] / (s * s), -p[0] / (s * s)};
       },
       parameters},
      {"z^2", [](const Var<double>& z) { return square(z); },
       [](const std::array<double, 2>& p) {
         const double a = p[0], s = p[0] + p[1], m = s * (s + 1), n = a * (a + 1);
         return std::array<double, 2>{((2 * a + 1) * m - n * (2 * s + 1)) / (m * m), -n * (2 * s + 1) / (m * m)};
       },
       parameters},
      {"log z", [](const Var<double>& z) { return log(z); },
       [](const std::array<double, 2>& p) {
         return std::array<double, 2>{trigamma_by_series(p[0]) - trigamma_by_series(p[0] + p[1]),
                                      -trigamma_by_series(p[0] + p[1])};
       },
       parameters},
  };
  require_implicit_gradients_unbiased<2>(
      cases, {"alpha", "beta"}, [](const std::array<Var<double>, 2>& p) { return Beta<double>(p[0], p[1]); }, 70);
}

TEMPLATE_TEST_CASE("beta: entropy and its gradient match mpmath at parameters up to 1e6 (no lgamma/digamma cancellation)",
                   "[distributions]", double, float) {
  const double relative = std::is_same_v<TestType, float> ? 1e-6 : 1e-12;
  entropy_reference::require_reference_entropies<TestType>(
      entropy_reference::kBeta, [](const Var<TestType>& p0, const Var<TestType>& p1) { return Beta<TestType>(p0, p1); },
      relative);
}
