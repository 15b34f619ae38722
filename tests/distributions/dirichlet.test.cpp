#include "vaelib/distributions/dirichlet.hpp"

#include <cmath>
#include <limits>

#include "reference/more_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace reference = vaelib::testing::more_distributions_reference;

namespace {
template <class T>
Dirichlet<T> dirichlet_of_case(Tape<T>& tape, const reference::Case& c) {
  return Dirichlet<T>(reference::case_array(tape, c, 0, {c.n_array}));
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
  reference::require_reference_log_probs<double>(reference::kDirichlet, dirichlet_of_case<double>, 1e-9);
  reference::require_reference_log_probs<float>(reference::kDirichlet, dirichlet_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{1.5, 2.0, 0.5});
  const Dirichlet<double> d(a);
  CHECK(d.name() == "Dirichlet");
  CHECK_FALSE(d.is_reparameterized());
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
