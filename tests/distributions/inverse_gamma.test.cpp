#include "vaelib/distributions/inverse_gamma.hpp"

#include <cmath>
#include <functional>
#include <limits>

#include "reference/new_distributions_reference.hpp"
#include "support/conjugate_models.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/implicit_gradient_checks.hpp"
#include "support/incomplete_gamma.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace reference = vaelib::testing::new_distributions_reference;

namespace {
template <class T>
InverseGamma<T> inverse_gamma_of_case(Tape<T>& tape, const reference::Case& c) {
  return InverseGamma<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("InverseGamma: log_prob matches mpmath, ordinary and extreme parameters, double and float",
          "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kInverseGamma, inverse_gamma_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kInverseGamma, inverse_gamma_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto alpha = tape.variable(xt::xarray<double>{2.0});
  const auto beta = tape.variable(xt::xarray<double>{1.5});
  const InverseGamma<double> d(alpha, beta);
  CHECK(d.name() == "InverseGamma");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{0.0, -1.0, inf, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(alpha.grad()(0) == 0.0);
  CHECK(beta.grad()(0) == 0.0);
}

TEST_CASE("InverseGamma: the two forms of log_prob meet at alpha = 20", "[distributions]") {
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{0.05, 0.2, 1.0});
  const auto below = InverseGamma<double>(tape.constant(std::nextafter(20.0, 0.0)), tape.constant(3.0)).log_prob(x);
  const auto at = InverseGamma<double>(tape.constant(20.0), tape.constant(3.0)).log_prob(x);
  require_close(below.value(), at.value(), 1e-12);
}

TEST_CASE("InverseGamma: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(3101);
  const double a = 10.0, b = 3.0;
  const auto draws = InverseGamma<double>(tape.variable(xt::xarray<double>{a}), tape.constant(b)).sample(rng, 40000);
  CHECK(draws.requires_grad());  // reparameterised
  const auto raw = [&](double n) { return std::pow(b, n) * std::exp(std::lgamma(a - n) - std::lgamma(a)); };
  const double m1 = raw(1), m2 = raw(2), m3 = raw(3), m4 = raw(4);
  require_sample_moments(values(draws), m1, m2 - m1 * m1, m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1);
  // tiny alpha in float: draws capped at float's largest number, log_prob finite or -inf, never NaN
  Tape<float> tf;
  const InverseGamma<float> heavy(tf.constant(0.01f), tf.constant(1.0f));
  const auto s = heavy.sample(rng, 1000);
  const auto lp = heavy.log_prob(s);
  for (std::size_t i = 0; i < s.size(); ++i) {
    REQUIRE(s.data()[i] > 0.0f);
    REQUIRE(std::isfinite(s.data()[i]));
    REQUIRE_FALSE(std::isnan(lp.data()[i]));
  }
}

TEST_CASE("InverseGamma: gradients of log_prob by finite differences, both forms", "[distributions]") {
  require_gradient([](Tape<double>&, const Vars& v) { return InverseGamma<double>(v[0], v[1]).log_prob(v[2]); },
                   {random_array({2, 3}, 0.5, 8, 3111), random_array({2, 3}, 0.5, 3, 3112),
                    random_array({2, 3}, 0.2, 3, 3113)});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return InverseGamma<double>(v[0], v[1], {.group_ndims = 1}).log_prob(v[2]); },
      {xt::xarray<double>{25.0, 300.0, 4e3}, random_array({}, 0.5, 3, 3114), random_array({2, 3}, 0.01, 0.1, 3115)});
}

TEST_CASE("InverseGamma: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto alpha = tape.variable(random_array({2, 1}, 0.5, 4, 3121));
  const auto beta = tape.variable(random_array({3}, 0.5, 2, 3122));
  check_distribution_shapes([&](std::size_t g) { return InverseGamma<double>(alpha, beta, {.group_ndims = g}); },
                            {2, 3}, {}, {.mean = true, .finite_log_prob = true});
}

TEST_CASE("InverseGamma: mean (+inf for alpha <= 1), parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto alpha = tape.variable(xt::xarray<double>{3.0, 1.0});
  const auto beta = tape.constant(2.0);
  const InverseGamma<double> d(alpha, beta);
  require_values(d.mean(), {1.0, std::numeric_limits<double>::infinity()});
  CHECK(d.parameter("alpha").index() == alpha.index());
  CHECK(d.parameter("beta").index() == beta.index());
  REQUIRE_THROWS_MATCHES(d.parameter("rate"), ArgumentError, Message("InverseGamma: no parameter 'rate'"));
  REQUIRE_THROWS_MATCHES(InverseGamma<double>(tape.constant(std::numeric_limits<double>::infinity()), beta),
                         ArgumentError,
                         Message("InverseGamma: alpha must be positive and finite, got inf at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(InverseGamma<double>(alpha, tape.constant(0.0)), ArgumentError,
                         Message("InverseGamma: beta must be positive and finite, got 0.000000 at flat index 0 of shape "
                                 "[]"));
}

TEST_CASE("InverseGamma: reparameterised draws are the sampler's, and their gradients those of beta / G with G "
          "moving along its Gamma quantile",
          "[distributions]") {
  // z = beta / G, G ~ Gamma(alpha, 1) from detail::sample_log_standard_gamma, replayed with the
  // same seed; G moves with alpha at its own CDF level (central differences of the quantile,
  // tests/support/incomplete_gamma.hpp), so dz/dalpha = -z (log G(alpha + h) - log G(alpha - h)) / 2h.
  Tape<double> tape;
  const auto [alpha_values, beta_values] =
      repeated_parameter_pairs({{0.2, 0.7}, {1.0, 1.0}, {2.5, 4.0}, {30.0, 8.0}, {500.0, 0.3}}, 10);
  const auto alpha = tape.variable(alpha_values);
  const auto beta = tape.variable(beta_values);
  Rng rng(3131), replay(3131), rng_fixed(3131);
  const auto z = InverseGamma<double>(alpha, beta).sample(rng);
  CHECK(z.requires_grad());
  const auto z_fixed =
      InverseGamma<double>(tape.constant(alpha_values), tape.constant(beta_values)).sample(rng_fixed);
  CHECK_FALSE(z_fixed.requires_grad());
  tape.backward(sum(z));
  for (std::size_t i = 0; i < alpha_values.size(); ++i) {
    const double a = alpha_values(i), b = beta_values(i);
    const double log_g = vaelib::detail::sample_log_standard_gamma(a, replay);
    const double expected = std::min(std::exp(std::log(b) - log_g), std::numeric_limits<double>::max());
    REQUIRE(z.value()(i) == expected);
    REQUIRE(z_fixed.value()(i) == expected);
    if (log_g < -700) continue;  // beyond the test's bisection
    const double dz_da = -expected * gamma_draw_log_slope_by_differences(a, log_g);
    const double dz_db = expected / b;
    INFO("alpha " << a << ", beta " << b << ", z " << expected << ": dz/dalpha " << alpha.grad()(i) << " vs "
                  << dz_da << ", dz/dbeta " << beta.grad()(i) << " vs " << dz_db);
    CHECK(std::abs(alpha.grad()(i) - dz_da) <= 1e-6 * std::abs(dz_da) + 1e-12);
    CHECK(std::abs(beta.grad()(i) - dz_db) <= 1e-14 * std::abs(dz_db));
  }
}

TEST_CASE("InverseGamma: float gradients follow double, broadcast parameters sum the draws' gradients; a capped "
          "draw, or one whose gradient overflows, has none",
          "[distributions]") {
  Tape<float> float_tape;
  Tape<double> tape;
  Rng rng_float(3141), rng_double(3141);
  const auto fa = float_tape.variable(xt::xarray<float>{0.3f, 2.0f, 80.0f});
  const auto fb = float_tape.variable(xt::xarray<float>(1.5f));
  const auto fz = InverseGamma<float>(fa, fb).sample(rng_float, 4);
  REQUIRE(fz.shape() == Shape{4, 3});
  float_tape.backward(sum(fz));
  const auto da = tape.variable(xt::xarray<double>{0.3f, 2.0f, 80.0f});
  const auto db = tape.variable(xt::xarray<double>(1.5f));
  const auto dz = InverseGamma<double>(da, db).sample(rng_double, 4);
  tape.backward(sum(dz));
  for (std::size_t j = 0; j < 3; ++j) {
    INFO("element " << j);
    CHECK(fa.grad()(j) == Approx(da.grad()(j)).epsilon(1e-5));
  }
  CHECK(fb.grad()() == Approx(db.grad()()).epsilon(1e-5));
  // alpha = 0.01 in float: many draws are capped at float's largest number and do not move;
  // others near it have dz/dalpha beyond float's range and do not move either
  Tape<float> tiny_tape;
  Rng rng(3142);
  const auto ta = tiny_tape.variable(xt::xarray<float>(xt::ones<float>({200}) * 0.01f));
  const auto tb = tiny_tape.variable(xt::xarray<float>(xt::ones<float>({200})));
  const auto tz = InverseGamma<float>(ta, tb).sample(rng);
  tiny_tape.backward(sum(tz));
  std::size_t capped = 0;
  for (std::size_t i = 0; i < 200; ++i) {
    INFO("draw " << tz.value()(i) << ", gradients " << ta.grad()(i) << ", " << tb.grad()(i));
    REQUIRE(std::isfinite(ta.grad()(i)));
    REQUIRE(std::isfinite(tb.grad()(i)));
    if (tz.value()(i) == std::numeric_limits<float>::max()) {
      ++capped;
      CHECK(ta.grad()(i) == 0.0f);
      CHECK(tb.grad()(i) == 0.0f);
    } else if (ta.grad()(i) != 0.0f) {
      CHECK(tb.grad()(i) == Approx(tz.value()(i)).epsilon(1e-6));  // dz/dbeta = z / beta, beta = 1
    }
  }
  CHECK(capped > 0);
}

TEST_CASE("InverseGamma: implicit gradients are unbiased for f = z and log z, and agree with the score function",
          "[distributions]") {
  // Closed forms: E z = beta / (alpha - 1) (alpha > 1; the gradient's variance needs alpha > 2),
  // E log z = log beta - digamma(alpha).
  const std::vector<ImplicitGradientCase<2>> cases{
      {"z", [](const Var<double>& z) { return z; },
       [](const std::array<double, 2>& p) {
         return std::array<double, 2>{-p[1] / ((p[0] - 1) * (p[0] - 1)), 1 / (p[0] - 1)};
       },
       {{4.0, 1.5}, {12.0, 0.5}}},
      {"log z", [](const Var<double>& z) { return log(z); },
       [](const std::array<double, 2>& p) { return std::array<double, 2>{-trigamma_by_series(p[0]), 1 / p[1]}; },
       {{0.5, 2.0}, {4.0, 1.5}}},
  };
  require_implicit_gradients_unbiased<2>(
      cases, {"alpha", "beta"}, [](const std::array<Var<double>, 2>& p) { return InverseGamma<double>(p[0], p[1]); },
      3150);
}
