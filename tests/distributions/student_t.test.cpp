#include "vaelib/distributions/student_t.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "reference/new_distributions_reference.hpp"
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
StudentT<T> student_t_of_case(Tape<T>& tape, const reference::Case& c) {
  return StudentT<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])), tape.constant(T(c.p[2])));
}
}  // namespace

TEST_CASE("StudentT: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kStudentT, student_t_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kStudentT, student_t_of_case<float>, 1e-6);
  Tape<double> tape;
  const StudentT<double> d(tape.constant(3.0), tape.constant(0.5), tape.constant(1.5));
  CHECK(d.name() == "StudentT");
  CHECK(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{});
  CHECK(d.value_shape() == Shape{});
}

TEST_CASE("StudentT: an infinite value gives -inf with zero gradients, a NaN value NaN", "[distributions]") {
  Tape<double> tape;
  const auto df = tape.variable(xt::xarray<double>{3.0, 3.0, 3.0, 3.0});
  const auto loc = tape.variable(xt::xarray<double>{0.5});
  const auto scale = tape.variable(xt::xarray<double>{1.5});
  const double inf = std::numeric_limits<double>::infinity();
  const auto given = tape.variable(xt::xarray<double>{inf, -inf, 1.0, std::nan("")});
  const auto lp = StudentT<double>(df, loc, scale).log_prob(given);
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(std::isfinite(lp.value()(2)));
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(xt::all(xt::isfinite(df.grad())));
  CHECK(xt::all(xt::isfinite(loc.grad())));
  CHECK(xt::all(xt::isfinite(scale.grad())));
  CHECK(given.grad()(0) == 0.0);
  CHECK(given.grad()(1) == 0.0);
}

TEST_CASE("StudentT: sample mean and variance, and the Cauchy case's quartiles", "[distributions]") {
  Tape<double> tape;
  Rng rng(2101);
  const std::size_t n = 40000;
  // df = 10: variance s^2 df / (df - 2), fourth central moment 3 df^2 s^4 / ((df - 2)(df - 4))
  const auto s = StudentT<double>(tape.constant(10.0), tape.constant(0.5), tape.constant(1.5)).sample(rng, n);
  CHECK(s.shape() == Shape{n});
  require_sample_moments(values(s), 0.5, 2.25 * 10 / 8, 3 * 100 * std::pow(1.5, 4) / (8 * 6));
  // df = 1 is the Cauchy: |x - loc| < scale with probability 1/2; below loc with probability 1/2
  const auto c = StudentT<double>(tape.constant(1.0), tape.constant(-2.0), tape.constant(0.5)).sample(rng, n);
  double inside = 0, below = 0;
  for (const double v : values(c)) {
    inside += std::abs(v + 2.0) < 0.5;
    below += v < -2.0;
  }
  const double se = std::sqrt(0.25 / double(n));
  CHECK(std::abs(inside / double(n) - 0.5) < 4 * se);
  CHECK(std::abs(below / double(n) - 0.5) < 4 * se);
}

TEST_CASE("StudentT: tiny df gives non-NaN draws and log-probs in float", "[distributions]") {
  Tape<float> tape;
  Rng rng(2102);
  const StudentT<float> d(tape.constant(0.01f), tape.constant(0.0f), tape.constant(1.0f));
  const auto s = d.sample(rng, 2000);
  const auto lp = d.log_prob(s);
  for (std::size_t i = 0; i < s.size(); ++i) {
    REQUIRE_FALSE(std::isnan(s.data()[i]));
    REQUIRE_FALSE(std::isnan(lp.data()[i]));
  }
}

TEST_CASE("StudentT: gradients of log_prob and of reparameterised samples by finite differences", "[distributions]") {
  const auto df = random_array({2, 3}, 0.5, 8.0, 2111);
  const auto loc = random_array({2, 3}, -1, 1, 2112);
  const auto scale = random_array({2, 3}, 0.5, 2, 2113);
  const auto given = random_array({2, 3}, -3, 3, 2114);
  require_gradient([](Tape<double>&, const Vars& v) { return StudentT<double>(v[0], v[1], v[2]).log_prob(v[3]); },
                   {df, loc, scale, given});
  // large df (the Stirling branch of the lgamma ratio), broadcast parameters, group_ndims 1
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return StudentT<double>(v[0], v[1], v[2], {.group_ndims = 1}).log_prob(v[3]);
      },
      {xt::xarray<double>{40.0, 2e3, 5e5}, random_array({2, 1}, -1, 1, 2115), random_array({}, 0.5, 2, 2116), given});
  // samples: differentiable in loc and scale (the same noise for every evaluation)
  require_gradient(
      [df](Tape<double>& tape, const Vars& v) {
        Rng rng(2117);
        return StudentT<double>(tape.constant(df), v[0], v[1]).sample(rng, 3);
      },
      {loc, scale});
  Tape<double> tape;
  CHECK_FALSE(StudentT<double>(tape.variable(df), tape.variable(loc), tape.variable(scale), {.use_path_derivative = true})
                  .log_prob(tape.constant(given))
                  .requires_grad());
}

TEST_CASE("StudentT: float gradients agree with double", "[distributions]") {
  Tape<float> tf;
  const auto df = tf.variable(xt::xarray<float>{2.5f, 3e5f});
  const auto loc = tf.variable(xt::xarray<float>{0.5f});
  const auto scale = tf.variable(xt::xarray<float>{1.5f});
  tf.backward(sum(StudentT<float>(df, loc, scale).log_prob(tf.constant(xt::xarray<float>{2.0f, -1.0f}))));
  Tape<double> td;
  const auto dfd = td.variable(xt::xarray<double>{2.5, 3e5});
  const auto locd = td.variable(xt::xarray<double>{0.5});
  const auto scaled = td.variable(xt::xarray<double>{1.5});
  td.backward(sum(StudentT<double>(dfd, locd, scaled).log_prob(td.constant(xt::xarray<double>{2.0, -1.0}))));
  for (std::size_t i = 0; i < 2; ++i) CHECK(df.grad()(i) == Approx(dfd.grad()(i)).epsilon(1e-5).margin(1e-12));
  CHECK(loc.grad()(0) == Approx(locd.grad()(0)).epsilon(1e-5));
  CHECK(scale.grad()(0) == Approx(scaled.grad()(0)).epsilon(1e-5));
}

TEST_CASE("StudentT: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto df = tape.constant(random_array({3}, 2.0, 6.0, 2121));
  const auto loc = tape.variable(random_array({2, 1}, -1, 1, 2122));
  const auto scale = tape.variable(random_array({3}, 0.5, 2, 2123));
  check_distribution_shapes([&](std::size_t g) { return StudentT<double>(df, loc, scale, {.group_ndims = g}); },
                            {2, 3}, {},
                            {.mean = true, .finite_log_prob = true, .broadcast_given = xt::xarray<double>{1.0, 2.0, 3.0}});
}

TEST_CASE("StudentT: mean and parameters", "[distributions]") {
  Tape<double> tape;
  const auto df = tape.constant(xt::xarray<double>{2.0, 5.0});
  const auto loc = tape.constant(xt::xarray<double>{0.5, -1.0});
  const auto scale = tape.constant(1.5);
  const StudentT<double> d(df, loc, scale);
  require_values(d.mean(), {0.5, -1.0});
  CHECK(d.parameter("df").index() == df.index());
  CHECK(d.parameter("loc").index() == loc.index());
  CHECK(d.parameter("scale").index() == scale.index());
  REQUIRE_THROWS_MATCHES(d.parameter("nu"), ArgumentError, Message("StudentT: no parameter 'nu'"));
  REQUIRE_THROWS_MATCHES(StudentT<double>(tape.constant(xt::xarray<double>{2.0, 1.0}), loc, scale).mean(),
                         ArgumentError,
                         Message("StudentT: df must be above 1 for the mean to exist, got 1.000000 at flat index 1 of "
                                 "shape [2]"));
}

TEST_CASE("StudentT: bad parameters give clear errors", "[distributions]") {
  Tape<double> tape;
  const auto one = tape.constant(1.0);
  REQUIRE_THROWS_MATCHES(StudentT<double>(tape.constant(0.0), one, one), ArgumentError,
                         Message("StudentT: df must be positive and finite, got 0.000000 at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(StudentT<double>(one, tape.constant(std::nan("")), one), ArgumentError,
                         Message("StudentT: loc must be finite, got nan at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(StudentT<double>(one, one, tape.constant(xt::xarray<double>{1.0, -2.0})), ArgumentError,
                         Message("StudentT: scale must be positive and finite, got -2.000000 at flat index 1 of shape "
                                 "[2]"));
  REQUIRE_THROWS_MATCHES(
      StudentT<double>(tape.constant(xt::xarray<double>{1.0, 2.0}), one, tape.constant(xt::xarray<double>{1.0, 2.0, 3.0})),
      ShapeError,
      Message("StudentT parameters: cannot broadcast shapes [2] and [3] (axis -1: 2 vs 3; sizes must be equal or 1)"));
}

TEST_CASE("StudentT: a node of a BayesianNet through the generic bn.add", "[distributions]") {
  const xt::xarray<double> y_data{{0.3, -1.2, 2.5}, {0.1, 0.7, -0.4}};
  Tape<double> tape;
  Rng rng(2131);
  BayesianNet<double> bn(tape, rng, {{"y", tape.constant(y_data)}});
  const auto df = tape.variable(xt::xarray<double>{4.0});
  const auto loc = tape.variable(xt::xarray<double>{0.5, -0.5, 1.0});
  const auto scale = tape.variable(xt::xarray<double>{1.5});
  bn.add<StudentT<double>>("y", {.group_ndims = 1}, df, loc, scale);
  CHECK(bn["y"].is_observed());
  const auto lp = bn.cond_log_prob("y");
  CHECK(lp.shape() == Shape{2});
  const auto by_hand = sum(StudentT<double>(df, loc, scale).log_prob(tape.constant(y_data)), {1});
  require_close(lp.value(), by_hand.value(), 1e-12);
  tape.backward(sum(bn.log_joint()));
  CHECK(xt::all(xt::isfinite(df.grad())));
  CHECK(xt::all(xt::isfinite(scale.grad())));
  // unobserved: a reparameterised draw of [n_samples] + batch_shape
  BayesianNet<double> prior(tape, rng);
  CHECK(prior.add<StudentT<double>>("z", {.n_samples = 4}, df, loc, scale).shape() == Shape{4, 3});
  CHECK(prior["z"].value().requires_grad());
}

namespace {
/// E|x| / scale for x ~ StudentT(df, 0, scale), df > 1: 2 sqrt(df) Gamma((df+1)/2) / (sqrt(pi) (df - 1) Gamma(df/2))
double student_t_test_mean_abs(double df) {
  return 2 * std::sqrt(df / std::numbers::pi) / (df - 1) * std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2));
}
}  // namespace

TEST_CASE("StudentT: each draw's dx/ddf is the derivative at its fixed Gamma CDF level and normal noise",
          "[distributions]") {
  // x(df) = loc + scale e sqrt(df / (2 g(df))), g(df) = the Gamma(df/2, 1) quantile at the
  // draw's level, e fixed; by central differences of the quantile (tests/support/incomplete_gamma.hpp)
  Tape<double> tape;
  const xt::xarray<double> df_values{0.3, 1.0, 2.5, 7.0, 60.0, 4000.0};
  const auto df = tape.variable(df_values);
  const auto loc = tape.variable(xt::xarray<double>{0.5});
  const auto scale = tape.variable(xt::xarray<double>{1.5});
  Rng rng(2131), replay(2131);
  const auto x = StudentT<double>(df, loc, scale).sample(rng);
  tape.backward(sum(x));
  CHECK(loc.grad()(0) == Approx(6.0).epsilon(1e-14));
  double dscale = 0;
  for (std::size_t i = 0; i < df_values.size(); ++i) {
    const double nu = df_values(i);
    const double log_g = vaelib::detail::sample_log_standard_gamma(nu / 2, replay);
    const double e = replay.normal<double>();
    const double t = e * std::sqrt(nu / 2) * std::exp(-log_g / 2);
    REQUIRE(x.value()(i) == Approx(0.5 + 1.5 * t).epsilon(1e-14));
    dscale += t;
    const IncompleteGamma level = incomplete_gamma(nu / 2, std::exp(log_g));
    const auto draw_at = [&](double df_value) {
      return 0.5 + 1.5 * e * std::sqrt(df_value / (2 * gamma_quantile(df_value / 2, level)));
    };
    const double h = 1e-5 * nu;
    const double slope = (draw_at(nu + h) - draw_at(nu - h)) / (2 * h);
    INFO("df " << nu << ", draw " << x.value()(i) << ": dx/ddf " << df.grad()(i) << ", by differences " << slope);
    CHECK(std::abs(df.grad()(i) - slope) <= 1e-6 * std::abs(slope) + 1e-12);
  }
  CHECK(scale.grad()(0) == Approx(dscale).epsilon(1e-12));
}

TEST_CASE("StudentT: reparameterised gradients to df, loc and scale are unbiased for f = x^2 and |x|",
          "[distributions]") {
  // E x^2 = loc^2 + scale^2 df / (df - 2) (df > 2); E|x| = scale m(df) at loc = 0, whose df
  // derivative is taken by central differences of the closed form.
  const std::vector<ImplicitGradientCase<3>> cases{
      {"x^2", [](const Var<double>& x) { return square(x); },
       [](const std::array<double, 3>& p) {
         const double df = p[0], loc = p[1], scale = p[2];
         return std::array<double, 3>{-2 * scale * scale / ((df - 2) * (df - 2)), 2 * loc, 2 * scale * df / (df - 2)};
       },
       {{9.0, 0.5, 1.5}, {30.0, -1.0, 0.5}}},
      {"|x|", [](const Var<double>& x) { return abs(x); },
       [](const std::array<double, 3>& p) {
         const double df = p[0], scale = p[2], h = 1e-4;
         const double slope = (student_t_test_mean_abs(df + h) - student_t_test_mean_abs(df - h)) / (2 * h);
         return std::array<double, 3>{scale * slope, 0.0, student_t_test_mean_abs(df)};
       },
       {{6.0, 0.0, 1.5}, {12.0, 0.0, 0.5}}},
  };
  require_implicit_gradients_unbiased<3>(
      cases, {"df", "loc", "scale"},
      [](const std::array<Var<double>, 3>& p) { return StudentT<double>(p[0], p[1], p[2]); }, 2140, 100000);
}
