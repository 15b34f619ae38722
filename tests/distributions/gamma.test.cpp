#include "vaelib/distributions/gamma.hpp"

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

TEST_CASE("gamma: log_prob matches reference values", "[distributions]") {
  Tape<double> tape;
  const Gamma<double> d(tape.constant(xt::xarray<double>{0.5, 2.0, 7.5}),
                        tape.constant(xt::xarray<double>{1.5, 0.3, 2.0}));
  // computed independently with mpmath: alpha log beta - lgamma(alpha) + (alpha - 1) log x - beta x
  const xt::xarray<double> expected = {0.1350865673464323, -2.221651247531981, -1.1816466578669895};
  CHECK(xt::allclose(d.log_prob(tape.constant(xt::xarray<double>{0.2, 4.0, 3.1})).value(), expected, 1e-6, 0));
  // alpha = 1 is the exponential distribution: log beta - beta x
  const Gamma<double> exponential(tape.constant(1.0), tape.constant(xt::xarray<double>{0.5, 3.0}));
  require_close(exponential.log_prob(tape.constant(2.0)).value(),
                xt::xarray<double>{std::log(0.5) - 1.0, std::log(3.0) - 6.0}, 1e-12);
  CHECK(d.is_reparameterized());
  CHECK(std::string(d.name()) == "Gamma");
}

TEST_CASE("gamma: sample mean and variance within 4 standard errors, alpha below and above 1", "[distributions]") {
  Tape<double> tape;
  Rng rng(31);
  const xt::xarray<double> alpha = {0.3, 0.8, 2.5, 40.0};
  const xt::xarray<double> beta = {2.0, 1.0, 0.5, 4.0};
  const std::size_t n = 20000;
  const auto s = Gamma<double>(tape.constant(alpha), tape.constant(beta)).sample(rng, n).value();
  REQUIRE(s.shape() == std::vector<std::size_t>{n, 4});
  CHECK(xt::all(s > 0.0));
  for (std::size_t j = 0; j < 4; ++j) {
    const double a = alpha(j), b = beta(j);
    INFO("alpha " << a << ", beta " << b);
    const auto column = xt::view(s, xt::all(), j);
    const double mean = a / b, var = a / (b * b);
    const double mu4 = 3 * a * (a + 2) / (b * b * b * b);  // the fourth central moment
    CHECK(std::abs(xt::mean(column)() - mean) < 4 * std::sqrt(var / double(n)));
    CHECK(std::abs(xt::variance(column)() - var) < 4 * std::sqrt((mu4 - var * var) / double(n)));
  }
}

TEST_CASE("gamma: the empirical CDF of the draws matches the regularised incomplete gamma", "[distributions]") {
  Tape<double> tape;
  Rng rng(32);
  const std::size_t n = 20000;
  // P(alpha, x) computed independently with mpmath's gammainc(alpha, 0, x, regularized=True)
  struct Point {
    double x, cdf;
  };
  const std::vector<std::pair<double, std::vector<Point>>> cases{
      {0.3,
       {{0.001, 0.14024245892486736}, {0.1, 0.5459128495917965}, {0.5, 0.8138118046743926}, {2.0, 0.977974019172853}}},
      {0.05, {{0.001, 0.7271792290529226}, {0.1, 0.9112576252375196}, {1.0, 0.98847634705146}}},
      {2.5,
       {{0.5, 0.03743422675270363}, {1.0, 0.15085496391539036}, {2.0, 0.4505840486472198}, {4.0, 0.8437643724222776}}},
  };
  for (const auto& [a, points] : cases) {
    const auto s = Gamma<double>(tape.constant(a), tape.constant(1.0)).sample(rng, n).value();
    for (const Point& p : points) {
      const double freq = static_cast<double>(xt::sum(s <= p.x)()) / double(n);
      INFO("alpha " << a << ", x " << p.x << ": frequency " << freq << ", cdf " << p.cdf);
      CHECK(std::abs(freq - p.cdf) < 4 * std::sqrt(p.cdf * (1 - p.cdf) / double(n)));
    }
  }
}

TEST_CASE("gamma: log_prob and entropy gradients by finite differences", "[distributions]") {
  const auto x = random_array({2, 3}, 0.2, 4.0, 1);
  require_gradient(
      [x](Tape<double>& tape, const Vars& v) { return Gamma<double>(v[0], v[1]).log_prob(tape.constant(x)); },
      {random_array({2, 3}, 0.3, 5.0, 2), random_array({2, 3}, 0.2, 3.0, 3)});
  // Broadcast parameters (alpha [3], beta []) and group_ndims 1.
  require_gradient(
      [x](Tape<double>& tape, const Vars& v) {
        return Gamma<double>(v[0], v[1], {.group_ndims = 1}).log_prob(tape.constant(x));
      },
      {random_array({3}, 0.3, 5.0, 4), random_array({}, 0.2, 3.0, 5)});
  // The entropy is differentiable in alpha (through digamma) and beta.
  require_gradient([](Tape<double>&, const Vars& v) { return Gamma<double>(v[0], v[1]).entropy(); },
                   {random_array({4}, 0.2, 6.0, 6), random_array({4}, 0.2, 3.0, 7)});
  // d/d alpha of log p = log beta - digamma(alpha) + log x;  d/d beta = alpha / beta - x
  Tape<double> tape;
  const auto alpha = tape.variable(xt::xarray<double>{2.0});
  const auto beta = tape.variable(xt::xarray<double>{0.5});
  tape.backward(sum(Gamma<double>(alpha, beta).log_prob(tape.constant(3.0))));
  CHECK(alpha.grad()(0) == Approx(std::log(0.5) - 0.42278433509846713 + std::log(3.0)).epsilon(1e-12));
  CHECK(beta.grad()(0) == Approx(2.0 / 0.5 - 3.0).epsilon(1e-12));
}

TEST_CASE("gamma: mean, entropy and parameters", "[distributions]") {
  Tape<double> tape;
  const Gamma<double> d(tape.constant(xt::xarray<double>{0.5, 2.0, 7.5}),
                        tape.constant(xt::xarray<double>{1.5, 0.3, 2.0}));
  require_close(d.mean().value(), xt::xarray<double>{0.5 / 1.5, 2.0 / 0.3, 7.5 / 2.0});
  // mpmath, and checked there against -integral p log p
  CHECK(xt::allclose(d.entropy().value(),
                     xt::xarray<double>{-0.314855178194176, 2.7811884692274687, 1.6872934085992235}, 1e-6, 0));
  const Gamma<double> grouped(tape.constant(xt::xarray<double>{0.5, 2.0, 7.5}), tape.constant(1.5), {.group_ndims = 1});
  CHECK(grouped.entropy().shape() == Shape{});
  CHECK(grouped.mean().shape() == Shape{3});
  CHECK(d.parameter("alpha").value()(1) == 2.0);
  CHECK(d.parameter("beta").value()(1) == 0.3);
  REQUIRE_THROWS_WITH(d.parameter("rate"), "Gamma: no parameter 'rate'");
  // use_path_derivative detaches the parameters inside log_prob
  const auto a = tape.variable(xt::xarray<double>{1.5});
  CHECK(Gamma<double>(a, tape.constant(1.0)).log_prob(tape.constant(1.0)).requires_grad());
  CHECK_FALSE(
      Gamma<double>(a, tape.constant(1.0), {.use_path_derivative = true}).log_prob(tape.constant(1.0)).requires_grad());
}

TEST_CASE("gamma: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto alpha = tape.constant(random_array({2, 3}, 0.3, 4.0, 8));
  const auto beta = tape.constant(random_array({3}, 0.5, 2.0, 9));
  check_distribution_shapes([&](std::size_t g) { return Gamma<double>(alpha, beta, {.group_ndims = g}); }, {2, 3}, {},
                            {.entropy = true,
                             .finite_log_prob = true,
                             .broadcast_given = xt::xarray<double>{1.0, 2.0, 3.0},
                             .seed = 7});
}

TEST_CASE("gamma: tiny alpha gives positive draws with a finite log_prob", "[distributions]") {
  Tape<double> tape;
  Rng rng(11);
  const Gamma<double> d(tape.constant(xt::xarray<double>{1e-3, 0.01}), tape.constant(1.0));
  const auto s = d.sample(rng, 2000);
  CHECK(xt::all(s.value() > 0.0));
  CHECK(xt::all(xt::isfinite(d.log_prob(s).value())));
}

TEST_CASE("gamma: float smoke test", "[distributions]") {
  Tape<float> tape;
  Rng rng(12);
  const Gamma<float> d(tape.constant(xt::xarray<float>{0.5f, 2.0f, 7.5f}),
                       tape.constant(xt::xarray<float>{1.5f, 0.3f, 2.0f}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{0.2f, 4.0f, 3.1f}));
  CHECK(xt::allclose(lp.value(), xt::xarray<float>{0.1350865673464323f, -2.221651247531981f, -1.1816466578669895f},
                     1e-5, 1e-6));
  const auto s = Gamma<float>(tape.constant(0.2f), tape.constant(1.0f)).sample(rng, 2000);
  CHECK(xt::all(s.value() > 0.0f));
  CHECK(std::abs(xt::mean(s.value())() - 0.2f) < 4 * std::sqrt(0.2 / 2000));
}

TEST_CASE("gamma: bad parameters and values are refused with clear messages", "[distributions]") {
  Tape<double> tape;
  const auto one = tape.constant(1.0);
  REQUIRE_THROWS_AS(Gamma<double>(tape.constant(xt::xarray<double>{1.0, 0.0}), one), ArgumentError);
  REQUIRE_THROWS_WITH(Gamma<double>(tape.constant(xt::xarray<double>{1.0, 0.0}), one),
                      "Gamma: alpha must be positive and finite, got 0.000000 at flat index 1 of shape [2]");
  REQUIRE_THROWS_WITH(Gamma<double>(one, tape.constant(xt::xarray<double>{-1.0})),
                      "Gamma: beta must be positive and finite, got -1.000000 at flat index 0 of shape [1]");
  REQUIRE_THROWS_WITH(Gamma<double>(tape.constant(std::numeric_limits<double>::infinity()), one),
                      "Gamma: alpha must be positive and finite, got inf at flat index 0 of shape []");
  REQUIRE_THROWS_AS(
      Gamma<double>(tape.constant(xt::xarray<double>{1.0, 2.0}), tape.constant(xt::xarray<double>{1.0, 2.0, 3.0})),
      ShapeError);
  REQUIRE_THROWS_WITH(
      Gamma<double>(tape.constant(xt::xarray<double>{1.0, 2.0}), tape.constant(xt::xarray<double>{1.0, 2.0, 3.0})),
      "Gamma parameters: cannot broadcast shapes [2] and [3] (axis -1: 2 vs 3; sizes must be equal or 1)");

  const Gamma<double> d(tape.constant(xt::xarray<double>{1.0, 2.0, 3.0}), one);
  REQUIRE_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>{{1.0, 2.0}})), ShapeError);
  REQUIRE_THROWS_WITH(
      d.log_prob(tape.constant(xt::xarray<double>{{1.0, 2.0}})),
      "Gamma.log_prob: given has shape [1, 2], which does not broadcast with batch_shape [3] + value_shape "
      "[] (expected [...] + value_shape, the rest broadcasting)");
}

TEST_CASE("gamma: values outside the support give -inf with no gradient, NaN gives NaN, 0 its limit",
          "[distributions]") {
  Tape<double> tape;
  const auto alpha = tape.variable(xt::xarray<double>{1.0, 2.0, 0.5, 2.0, 2.0, 2.0});
  const auto rate = tape.variable(xt::xarray<double>{3.0, 1.0, 2.0, 2.0, 2.0, 2.0});
  const Gamma<double> d(alpha, rate);
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{0.0, 0.0, 0.0, -0.5, inf, std::nan("")}));
  CHECK(lp.value()(0) == Approx(std::log(3.0)).epsilon(1e-14));  // Gamma(1, 3) at 0: density 3
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == inf);
  CHECK(lp.value()(3) == -inf);
  CHECK(lp.value()(4) == -inf);
  CHECK(std::isnan(lp.value()(5)));
  tape.backward(sum(slice(lp, 0, 0, 5)));
  CHECK(rate.grad()(0) == Approx(1 / 3.0));
  CHECK(alpha.grad()(3) == 0);
  CHECK(rate.grad()(4) == 0);
}

TEST_CASE("gamma: log_prob at parameters up to 1e6 keeps its gradient (finite differences)", "[distributions]") {
  // the cancelling terms are computed in Stirling's form: the partials must still be the density's
  require_gradient([](Tape<double>&, const Vars& v) { return Gamma<double>(v[1], v[2]).log_prob(v[0]); },
                   {xt::xarray<double>{1.01, 0.997, 5e5, 3.0}, xt::xarray<double>{1e4, 1e5, 1e6, 25.0},
                    xt::xarray<double>{1e4, 1e5, 2.0, 8.0}});
}

TEMPLATE_TEST_CASE("gamma: log_prob matches the mpmath reference, parameters up to 1e6 and the edge of the support",
                   "[distributions]", double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kGamma, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Gamma<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1]))).log_prob(tape.constant(T(c.x))).item();
  });
}

TEST_CASE("gamma: reparameterised draws are the sampler's, with or without a gradient", "[distributions]") {
  // The draw is exp(log g - log beta), g from detail::sample_log_standard_gamma in order,
  // clamped below at the smallest normal number: the gradient adds nothing to the draw.
  Tape<double> tape;
  const xt::xarray<double> alpha_values = {0.3, 2.5, 40.0};
  const xt::xarray<double> beta_values = {2.0, 0.5, 4.0};
  const auto live = Gamma<double>(tape.variable(alpha_values), tape.variable(beta_values));
  const auto fixed = Gamma<double>(tape.constant(alpha_values), tape.constant(beta_values));
  Rng rng_live(41), rng_fixed(41), rng_formula(41);
  const auto with_grad = live.sample(rng_live, 50);
  const auto without = fixed.sample(rng_fixed, 50);
  CHECK(with_grad.requires_grad());
  CHECK_FALSE(without.requires_grad());
  for (std::size_t i = 0; i < 50; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      const double log_g = vaelib::detail::sample_log_standard_gamma(alpha_values(j), rng_formula);
      const double g = std::exp(log_g - std::log(beta_values(j)));
      REQUIRE(with_grad.value()(i, j) == std::max(g, std::numeric_limits<double>::min()));
      REQUIRE(without.value()(i, j) == with_grad.value()(i, j));
    }
}

TEST_CASE("gamma: dz/dalpha and dz/dbeta of each draw are the derivatives of the quantile at its level",
          "[distributions]") {
  // z(alpha) = F^{-1}(u; alpha) / beta with u = F(beta z; alpha) held fixed, differentiated by
  // central differences (tests/support/implicit_gradient_checks.hpp); dz/dbeta = -z / beta.
  // One draw per element, so each element's gradient is its own.
  Tape<double> tape;
  Rng rng(42);
  const std::vector<double> shapes{0.05, 0.3, 1.0, 2.5, 40.0, 3000.0};
  std::vector<std::pair<double, double>> pairs;
  for (std::size_t i = 0; i < shapes.size(); ++i) pairs.emplace_back(shapes[i], 0.2 + 0.8 * static_cast<double>(i));
  const auto [alpha_values, beta_values] = repeated_parameter_pairs(pairs, 12);
  const auto alpha = tape.variable(alpha_values);
  const auto beta = tape.variable(beta_values);
  const auto z = Gamma<double>(alpha, beta).sample(rng);
  tape.backward(sum(z));
  for (std::size_t i = 0; i < alpha_values.size(); ++i) {
    const double a = alpha_values(i), b = beta_values(i), zi = z.value()(i);
    if (zi < 1e-250) continue;  // alpha = 0.05 draws this small are not resolved by the bisection
    const double slope = zi * gamma_draw_log_slope_by_differences(a, std::log(b * zi));
    INFO("alpha " << a << ", beta " << b << ", z " << zi << ": dz/dalpha " << alpha.grad()(i)
                  << ", by differences " << slope);
    CHECK(std::abs(alpha.grad()(i) - slope) <= 1e-6 * std::abs(slope));
    CHECK(beta.grad()(i) == Approx(-zi / b).epsilon(1e-14));
  }
}

TEST_CASE("gamma: broadcast parameters and n_samples sum the draws' gradients; float follows double",
          "[distributions]") {
  // d/dalpha sum(z) over n draws of a shared alpha is the sum of the draws' own derivatives
  Tape<double> tape;
  Rng rng(44), rng_single(44);
  const auto alpha = tape.variable(xt::xarray<double>{1.7});
  const auto beta = tape.variable(xt::xarray<double>(2.0));
  const auto z = Gamma<double>(alpha, beta).sample(rng, 30);
  REQUIRE(z.shape() == Shape{30, 1});
  tape.backward(sum(z));
  double dalpha = 0, dbeta = 0;
  for (std::size_t i = 0; i < 30; ++i) {
    const double log_g = vaelib::detail::sample_log_standard_gamma(1.7, rng_single);
    const double zi = std::exp(log_g - std::log(2.0));
    dalpha += zi * vaelib::detail::standard_gamma_log_draw_alpha_derivative(log_g, 1.7);
    dbeta -= zi / 2.0;
  }
  CHECK(alpha.grad()(0) == Approx(dalpha).epsilon(1e-13));
  CHECK(beta.grad()() == Approx(dbeta).epsilon(1e-13));

  // float: the same draws (rounded) and gradients, computed in double, rounded once
  Tape<float> float_tape;
  Rng rng_float(45), rng_double(45);
  const auto fa = float_tape.variable(xt::xarray<float>{0.2f, 3.0f, 150.0f});
  const auto fb = float_tape.variable(xt::xarray<float>{1.5f, 0.5f, 2.0f});
  const auto fz = Gamma<float>(fa, fb).sample(rng_float);
  float_tape.backward(sum(fz));
  const auto da = tape.variable(xt::xarray<double>{0.2f, 3.0f, 150.0f});
  const auto db = tape.variable(xt::xarray<double>{1.5f, 0.5f, 2.0f});
  const auto dz = Gamma<double>(da, db).sample(rng_double);
  tape.backward(sum(dz));
  for (std::size_t j = 0; j < 3; ++j) {
    INFO("element " << j);
    CHECK(fz.value()(j) == Approx(dz.value()(j)).epsilon(1e-7));
    CHECK(fa.grad()(j) == Approx(da.grad()(j)).epsilon(1e-6));
    CHECK(fb.grad()(j) == Approx(db.grad()(j)).epsilon(1e-6));
  }
}

TEST_CASE("gamma: implicit gradients are unbiased for f = z, z^2, log z, and agree with the score function",
          "[distributions]") {
  // Closed forms: E z = a/b, E z^2 = a(a+1)/b^2, E log z = digamma(a) - log b.
  const std::vector<std::array<double, 2>> parameters{{0.4, 2.0}, {3.0, 0.5}};
  const std::vector<ImplicitGradientCase<2>> cases{
      {"z", [](const Var<double>& z) { return z; },
       [](const std::array<double, 2>& p) { return std::array<double, 2>{1 / p[1], -p[0] / (p[1] * p[1])}; },
       parameters},
      {"z^2", [](const Var<double>& z) { return square(z); },
       [](const std::array<double, 2>& p) {
         const double a = p[0], b = p[1];
         return std::array<double, 2>{(2 * a + 1) / (b * b), -2 * a * (a + 1) / (b * b * b)};
       },
       parameters},
      {"log z", [](const Var<double>& z) { return log(z); },
       [](const std::array<double, 2>& p) { return std::array<double, 2>{trigamma_by_series(p[0]), -1 / p[1]}; },
       parameters},
  };
  require_implicit_gradients_unbiased<2>(
      cases, {"alpha", "beta"}, [](const std::array<Var<double>, 2>& p) { return Gamma<double>(p[0], p[1]); }, 50);
}

TEMPLATE_TEST_CASE("gamma: entropy and its gradient match mpmath at parameters up to 1e6 (no lgamma/digamma cancellation)",
                   "[distributions]", double, float) {
  const double relative = std::is_same_v<TestType, float> ? 1e-6 : 1e-12;
  entropy_reference::require_reference_entropies<TestType>(
      entropy_reference::kGamma, [](const Var<TestType>& p0, const Var<TestType>& p1) { return Gamma<TestType>(p0, p1); },
      relative);
}
