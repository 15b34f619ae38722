#include "vaelib/distributions/dirichlet.hpp"

#include <cmath>
#include <functional>
#include <limits>

#include "reference/more_distributions_reference.hpp"
#include "support/conjugate_models.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/incomplete_gamma.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace more_reference = vaelib::testing::more_distributions_reference;

namespace {
template <class T>
Dirichlet<T> dirichlet_of_case(Tape<T>& tape, const more_reference::Case& c) {
  return Dirichlet<T>(more_reference::case_array(tape, c, 0, {c.n_array}));
}

/// The fourth central moment of Beta(a, b), from its raw moments E[x^r] = prod_{j<r} (a+j)/(a+b+j).
double dirichlet_beta_fourth_moment(double a, double b) {
  double raw[5] = {1, 0, 0, 0, 0};
  for (int r = 1; r <= 4; ++r) raw[r] = raw[r - 1] * (a + r - 1) / (a + b + r - 1);
  const double m = raw[1];
  return raw[4] - 4 * m * raw[3] + 6 * m * m * raw[2] - 3 * m * m * m * m;
}
}  // namespace

TEST_CASE("Dirichlet: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  // at concentrations of 1e6 the terms of size 1e7 cancel to ~10: ~1e-9 relative in double
  more_reference::require_reference_log_probs<double>(more_reference::kDirichlet, dirichlet_of_case<double>, 1e-9);
  more_reference::require_reference_log_probs<float>(more_reference::kDirichlet, dirichlet_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{1.5, 2.0, 0.5});
  const Dirichlet<double> d(a);
  CHECK(d.name() == "Dirichlet");
  CHECK(d.support().kind() == SupportKind::simplex);
  CHECK(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{});
  CHECK(d.value_shape() == Shape{3});
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{
      {0.5, 0.5, 0.1}, {-0.1, 0.6, 0.5}, {inf, 0, 0}, {0.5, std::nan(""), 0.5}, {0.25, 0.75, 0.0}, {0.0, 0.5, 0.5}}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  CHECK(lp.value()(4) == inf);   // a_3 = 0.5 < 1: the density grows without bound at x_3 = 0
  CHECK(lp.value()(5) == -inf);  // a_1 = 1.5 > 1: it vanishes at x_1 = 0
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(xt::all(xt::equal(a.grad(), 0.0)));
}

TEST_CASE("Dirichlet: two categories are the Beta distribution", "[distributions]") {
  Tape<double> tape;
  const xt::xarray<double> x{{0.3, 0.7}, {0.9, 0.1}};
  const auto dirichlet = Dirichlet<double>(tape.constant(xt::xarray<double>{2.5, 0.7})).log_prob(tape.constant(x));
  const auto beta = Beta<double>(tape.constant(2.5), tape.constant(0.7))
                        .log_prob(tape.constant(xt::xarray<double>{0.3, 0.9}));
  require_close(dirichlet.value(), beta.value(), 1e-13);
}

TEST_CASE("Dirichlet: samples on the simplex with Beta marginal moments", "[distributions]") {
  Tape<double> tape;
  Rng rng(4601);
  const xt::xarray<double> a{0.3, 2.0, 5.0, 1.0};
  const double a0 = 8.3;
  const auto s = Dirichlet<double>(tape.constant(a)).sample(rng, 40000);
  REQUIRE(s.shape() == Shape{40000, 4});
  for (std::size_t i = 0; i < 40000; ++i) {
    double total = 0;
    for (std::size_t j = 0; j < 4; ++j) total += s.value()(i, j);
    REQUIRE(total == Approx(1.0).epsilon(1e-14));
  }
  for (std::size_t j = 0; j < 4; ++j) {
    INFO("coordinate " << j);
    std::vector<double> xj;
    for (std::size_t i = 0; i < 40000; ++i) xj.push_back(s.value()(i, j));
    const double m = a(j) / a0;
    require_sample_moments(xj, m, m * (1 - m) / (a0 + 1), dirichlet_beta_fourth_moment(a(j), a0 - a(j)));
  }
  // tiny concentrations: coordinates raised to the smallest normal number, log_prob finite
  Tape<float> tf;
  const Dirichlet<float> tiny(tf.constant(xt::xarray<float>{1e-3f, 1e-3f, 1e-3f}));
  const auto lp = tiny.log_prob(tiny.sample(rng, 1000));
  for (const float v : lp.value()) REQUIRE(std::isfinite(v));
}

TEST_CASE("Dirichlet: gradients of log_prob by finite differences", "[distributions]") {
  // values near the simplex: a step of 1e-7 stays within the 1e-6 tolerance of the constraint
  xt::xarray<double> x = random_array({2, 3}, 0.1, 1, 4611);
  for (std::size_t b = 0; b < 2; ++b) {
    const double total = x(b, 0) + x(b, 1) + x(b, 2);
    for (std::size_t j = 0; j < 3; ++j) x(b, j) /= total;
  }
  require_gradient([](Tape<double>&, const Vars& v) { return Dirichlet<double>(v[0]).log_prob(v[1]); },
                   {random_array({2, 3}, 0.3, 5, 4612), x}, {.step = 1e-7, .absolute_tolerance = 1e-5});
  require_gradient(
      [x](Tape<double>& tape, const Vars& v) {
        return Dirichlet<double>(v[0]).log_prob(tape.constant(x));
      },
      {xt::xarray<double>{30.0, 2e3, 5e4}});
  require_gradient([](Tape<double>&, const Vars& v) { return Dirichlet<double>(v[0]).mean(); },
                   {random_array({2, 3}, 0.5, 3, 4613)});
}

TEST_CASE("Dirichlet: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto a = tape.variable(random_array({2, 3, 4}, 0.5, 3, 4621));
  check_distribution_shapes([&](std::size_t g) { return Dirichlet<double>(a, {.group_ndims = g}); }, {2, 3}, {4},
                            {.mean = true, .finite_log_prob = true,
                             .broadcast_given = xt::xarray<double>{0.25, 0.25, 0.25, 0.25}});
}

TEST_CASE("Dirichlet: a node of a BayesianNet, mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  Rng rng(4631);
  const auto a = tape.variable(xt::xarray<double>{1.0, 3.0});
  BayesianNet<double> bn(tape, rng);
  CHECK(bn.add<Dirichlet<double>>("theta", {.n_samples = 5}, a).shape() == Shape{5, 2});
  CHECK(bn.cond_log_prob("theta").shape() == Shape{5});
  const Dirichlet<double> d(a);
  require_values(d.mean(), {0.25, 0.75});
  CHECK(d.parameter("concentration").index() == a.index());
  REQUIRE_THROWS_MATCHES(d.parameter("alpha"), ArgumentError, Message("Dirichlet: no parameter 'alpha'"));
  REQUIRE_THROWS_MATCHES(Dirichlet<double>(tape.constant(xt::xarray<double>{1.0, 0.0})), ArgumentError,
                         Message("Dirichlet: concentration must be positive and finite, got 0.000000 at flat index 1 of "
                                 "shape [2]"));
  REQUIRE_THROWS_MATCHES(Dirichlet<double>(tape.constant(2.0)), ShapeError,
                         Message("Dirichlet: concentration must have shape [..., k] with k >= 1 on the last axis, got "
                                 "shape []"));
}

namespace {

/// psi'(x) for x > 0: psi'(x) = psi'(x + 1) + 1/x^2 up to x >= 10, then the asymptotic series
double dirichlet_test_trigamma(double x) {
  double result = 0;
  for (; x < 10; x += 1) result += 1 / (x * x);
  const double inv = 1 / x, inv2 = inv * inv;
  return result + inv + inv2 / 2 + inv * inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 / 30)));
}

/// sum_j r_j softmax(log_g)_j
double dirichlet_test_weighted_softmax(const std::vector<double>& log_g, const std::vector<double>& r) {
  double largest = -std::numeric_limits<double>::infinity();
  for (const double v : log_g) largest = std::max(largest, v);
  double total = 0, weighted = 0;
  for (std::size_t j = 0; j < log_g.size(); ++j) {
    total += std::exp(log_g[j] - largest);
    weighted += r[j] * std::exp(log_g[j] - largest);
  }
  return weighted / total;
}

}  // namespace

TEST_CASE("Dirichlet: reparameterised draws are the sampler's, and their gradients those of softmax(log G) with "
          "each G_i moving along its Gamma quantile",
          "[distributions]") {
  // x = softmax(log G), G_i ~ Gamma(a_i, 1) from detail::sample_log_standard_gamma in order,
  // replayed with the same seed. f = sum_j r_j x_j (fixed random r); each G_i moves with a_i at
  // its own CDF level (central differences of the quantile, tests/support/incomplete_gamma.hpp).
  const std::vector<std::vector<double>> rows{{0.2, 0.7, 1.0}, {1.0, 1.0, 1.0, 1.0}, {2.5, 0.4, 30.0},
                                              {500.0, 900.0, 3.0}, {0.05, 0.3, 0.02}};
  const std::size_t repeats = 6;
  for (const auto& row : rows) {
    const std::size_t k = row.size();
    xt::xarray<double> a_values = xt::empty<double>({repeats, k});
    for (std::size_t r = 0; r < repeats; ++r)
      for (std::size_t i = 0; i < k; ++i) a_values(r, i) = row[i];
    const xt::xarray<double> r_values = random_array({repeats, k}, -1, 1, 4641);
    Tape<double> tape;
    const auto a = tape.variable(a_values);
    Rng rng(4642), replay(4642), rng_fixed(4642);
    const auto x = Dirichlet<double>(a).sample(rng);
    REQUIRE(x.requires_grad());
    const auto x_fixed = Dirichlet<double>(tape.constant(a_values)).sample(rng_fixed);
    CHECK_FALSE(x_fixed.requires_grad());
    tape.backward(sum(x * tape.constant(r_values)));
    for (std::size_t r = 0; r < repeats; ++r) {
      std::vector<double> log_g(k), weights(k);
      for (std::size_t i = 0; i < k; ++i) {
        log_g[i] = vaelib::detail::sample_log_standard_gamma(row[i], replay);
        weights[i] = r_values(r, i);
      }
      for (std::size_t i = 0; i < k; ++i) {
        std::vector<double> one_hot(k, 0.0);
        one_hot[i] = 1;
        const double expected = std::max(dirichlet_test_weighted_softmax(log_g, one_hot),
                                         std::numeric_limits<double>::min());
        REQUIRE(x.value()(r, i) == expected);
        REQUIRE(x_fixed.value()(r, i) == expected);
      }
      for (std::size_t i = 0; i < k; ++i) {
        if (log_g[i] < -700) continue;  // beyond the test's bisection
        const double h = 1e-5 * row[i];
        const IncompleteGamma level = incomplete_gamma(row[i], std::exp(log_g[i]));
        std::vector<double> up = log_g, down = log_g;
        up[i] = std::log(gamma_quantile(row[i] + h, level));
        down[i] = std::log(gamma_quantile(row[i] - h, level));
        // f itself differenced: its rounding (~1e-16 |f|) over 2h bounds the comparison below
        const double differenced =
            (dirichlet_test_weighted_softmax(up, weights) - dirichlet_test_weighted_softmax(down, weights)) / (2 * h);
        // by the chain rule, df / d log g_i = x_i (r_i - f) times the differenced log G_i: tight
        const double f = dirichlet_test_weighted_softmax(log_g, weights);
        const double x_i = x.value()(r, i);
        const double chained = x_i * (weights[i] - f) * (up[i] - down[i]) / (2 * h);
        INFO("concentration " << row[i] << " (coordinate " << i << " of " << k << ", repeat " << r << "), x " << x_i
                              << ": df/da " << a.grad()(r, i) << " vs " << differenced << " (f differenced), "
                              << chained << " (chain rule)");
        CHECK(std::abs(a.grad()(r, i) - differenced) <= 1e-6 * std::abs(differenced) + 1e-15 / h);
        CHECK(std::abs(a.grad()(r, i) - chained) <= 1e-6 * std::abs(chained) + 1e-300);
      }
    }
    // the coordinates sum to 1 whatever a is: sum(x) has no gradient
    tape.backward(sum(x));
    for (const double v : a.grad()) CHECK(std::abs(v) <= 1e-12);
  }
}

TEST_CASE("Dirichlet: float gradients follow double, the sample axis sums the draws' gradients", "[distributions]") {
  const xt::xarray<double> a_values{{0.3, 2.0, 80.0}, {1.5, 0.7, 4.0}};
  const xt::xarray<double> r_values = random_array({4, 2, 3}, -1, 1, 4651);
  Tape<float> float_tape;
  Tape<double> tape, single_tape;
  Rng rng_float(4652), rng_double(4652), rng_single(4652);
  const auto fa = float_tape.variable(xt::xarray<float>(a_values));
  const auto fx = Dirichlet<float>(fa).sample(rng_float, 4);
  REQUIRE(fx.shape() == Shape{4, 2, 3});
  float_tape.backward(sum(fx * float_tape.constant(xt::xarray<float>(r_values))));
  const auto da = tape.variable(xt::xarray<double>(xt::xarray<float>(a_values)));
  const auto dx = Dirichlet<double>(da).sample(rng_double, 4);
  tape.backward(sum(dx * tape.constant(r_values)));
  // the same draws one sample at a time, on one concentration each: their gradients add up
  xt::xarray<double> summed = xt::zeros<double>({2, 3});
  for (std::size_t s = 0; s < 4; ++s) {
    const auto sa = single_tape.variable(xt::xarray<double>(xt::xarray<float>(a_values)));
    const auto sx = Dirichlet<double>(sa).sample(rng_single);
    single_tape.backward(sum(sx * single_tape.constant(xt::xarray<double>(xt::view(r_values, s)))));
    summed += sa.grad();
    for (std::size_t b = 0; b < 2; ++b)
      for (std::size_t j = 0; j < 3; ++j) REQUIRE(sx.value()(b, j) == dx.value()(s, b, j));
  }
  for (std::size_t b = 0; b < 2; ++b) {
    for (std::size_t j = 0; j < 3; ++j) {
      INFO("element " << b << ", " << j);
      CHECK(da.grad()(b, j) == Approx(summed(b, j)).epsilon(1e-12).margin(1e-15));
      CHECK(fa.grad()(b, j) == Approx(da.grad()(b, j)).epsilon(1e-4).margin(1e-5));
    }
  }
}

TEST_CASE("Dirichlet: implicit gradients are unbiased for f = x_0 and log x_1, and agree with the score function",
          "[distributions]") {
  // R replicate rows with equal concentrations: R independent estimates of d E[f(x)] / d a.
  // Closed forms with s = sum a: E x_m = a_m / s, E log x_m = digamma(a_m) - digamma(s).
  const std::size_t replicates = 20000;
  struct Test {
    const char* name;
    std::size_t coordinate;
    std::function<Var<double>(const Var<double>&)> f;                   // of the coordinate, [R, 1]
    std::function<double(const std::vector<double>&, std::size_t)> gradient;  // d/da_i of E f
  };
  const std::vector<Test> tests{
      {"x_0", 0, [](const Var<double>& x) { return x; },
       [](const std::vector<double>& a, std::size_t i) {
         double s = 0;
         for (const double v : a) s += v;
         return ((i == 0 ? s : 0) - a[0]) / (s * s);
       }},
      {"log x_1", 1, [](const Var<double>& x) { return log(x); },
       [](const std::vector<double>& a, std::size_t i) {
         double s = 0;
         for (const double v : a) s += v;
         return (i == 1 ? dirichlet_test_trigamma(a[1]) : 0) - dirichlet_test_trigamma(s);
       }},
  };
  std::uint64_t seed = 4660;
  for (const std::vector<double>& a : std::vector<std::vector<double>>{{0.5, 2.0, 4.0}, {3.0, 0.3, 1.0}}) {
    for (const Test& t : tests) {
      const std::size_t k = a.size();
      xt::xarray<double> a_values = xt::empty<double>({replicates, k});
      for (std::size_t r = 0; r < replicates; ++r)
        for (std::size_t i = 0; i < k; ++i) a_values(r, i) = a[i];
      Tape<double> tape;
      Rng rng(seed++);
      const auto concentration = tape.variable(a_values);
      const Dirichlet<double> d(concentration);
      const auto x = d.sample(rng);
      const auto f_of = [&](const Var<double>& v) {
        return sum(t.f(slice(v, 1, static_cast<std::ptrdiff_t>(t.coordinate),
                             static_cast<std::ptrdiff_t>(t.coordinate) + 1)),
                   {-1});
      };
      tape.backward(sum(f_of(x)));
      const xt::xarray<double> implicit = concentration.grad();
      const auto x_fixed = tape.constant(x.value());
      tape.backward(sum(f_of(x_fixed) * d.log_prob(x_fixed)));
      const xt::xarray<double> score = concentration.grad();
      double scale = 0;
      for (std::size_t i = 0; i < k; ++i) scale = std::max(scale, std::abs(t.gradient(a, i)));
      for (std::size_t i = 0; i < k; ++i) {
        std::vector<double> implicit_i(replicates), score_i(replicates);
        for (std::size_t r = 0; r < replicates; ++r) implicit_i[r] = implicit(r, i), score_i[r] = score(r, i);
        const MeanAndError e = mean_and_error(implicit_i), s = mean_and_error(score_i);
        const double expected = t.gradient(a, i);
        INFO("a = (" << a[0] << ", " << a[1] << ", " << a[2] << "), f = " << t.name << ", d/da_" << i << ": implicit "
                     << e.mean << " +- " << e.standard_error << ", score function " << s.mean << " +- "
                     << s.standard_error << ", closed form " << expected);
        CHECK(std::abs(e.mean - expected) <= 4 * e.standard_error + 1e-12);
        CHECK(e.standard_error < 0.05 * scale);  // the test has power
        CHECK(std::abs(e.mean - s.mean) <= 4 * std::hypot(e.standard_error, s.standard_error));
        CHECK(std::abs(s.mean - expected) <= 4 * s.standard_error);
      }
    }
  }
}
