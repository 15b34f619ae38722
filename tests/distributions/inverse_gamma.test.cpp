#include "vaelib/distributions/inverse_gamma.hpp"

#include <cmath>
#include <limits>

#include "reference/new_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
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
  CHECK_FALSE(d.is_reparameterized());
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

TEST_CASE("InverseGamma: sample mean and variance, draws constant", "[distributions]") {
  Tape<double> tape;
  Rng rng(3101);
  const double a = 10.0, b = 3.0;
  const auto draws = InverseGamma<double>(tape.variable(xt::xarray<double>{a}), tape.constant(b)).sample(rng, 40000);
  CHECK_FALSE(draws.requires_grad());
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
