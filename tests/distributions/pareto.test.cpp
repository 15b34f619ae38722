#include "vaelib/distributions/pareto.hpp"

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
Pareto<T> pareto_of_case(Tape<T>& tape, const reference::Case& c) {
  return Pareto<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("Pareto: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kPareto, pareto_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kPareto, pareto_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto scale = tape.variable(xt::xarray<double>{2.0});
  const auto alpha = tape.variable(xt::xarray<double>{1.5});
  const Pareto<double> d(scale, alpha);
  CHECK(d.name() == "Pareto");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{1.999, inf, -1.0, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(scale.grad()(0) == 0.0);
  CHECK(alpha.grad()(0) == 0.0);
}

TEST_CASE("Pareto: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(2901);
  const double scale = 1.5, a = 9.0;
  const auto draws = Pareto<double>(tape.constant(scale), tape.constant(a)).sample(rng, 40000);
  const auto raw = [&](double n) { return a * std::pow(scale, n) / (a - n); };  // E[x^n], n < alpha
  const double m1 = raw(1), m2 = raw(2), m3 = raw(3), m4 = raw(4);
  require_sample_moments(values(draws), m1, m2 - m1 * m1, m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1);
  for (const double v : values(draws)) REQUIRE(v >= scale);
}

TEST_CASE("Pareto: gradients of log_prob and of reparameterised samples by finite differences", "[distributions]") {
  const auto scale = random_array({2, 3}, 0.5, 1, 2911);
  const auto alpha = random_array({2, 3}, 0.5, 3, 2912);
  require_gradient([](Tape<double>&, const Vars& v) { return Pareto<double>(v[0], v[1]).log_prob(v[2]); },
                   {scale, alpha, random_array({2, 3}, 1.2, 4, 2913)});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Pareto<double>(v[0], v[1], {.group_ndims = 1}).log_prob(v[2]); },
      {random_array({3}, 0.5, 1, 2914), random_array({}, 0.5, 3, 2915), random_array({2, 3}, 1.2, 4, 2916)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(2917);
        return Pareto<double>(v[0], v[1]).sample(rng, 3);
      },
      {scale, alpha});
  require_gradient([](Tape<double>&, const Vars& v) { return Pareto<double>(v[0], v[1]).mean(); },
                   {scale, random_array({2, 3}, 1.5, 3, 2918)});
}

TEST_CASE("Pareto: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto scale = tape.variable(random_array({2, 1}, 0.5, 2, 2921));
  const auto alpha = tape.variable(random_array({3}, 0.5, 3, 2922));
  check_distribution_shapes([&](std::size_t g) { return Pareto<double>(scale, alpha, {.group_ndims = g}); }, {2, 3}, {},
                            {.mean = true, .finite_log_prob = true});
}

TEST_CASE("Pareto: mean (+inf for alpha <= 1), parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto scale = tape.constant(2.0);
  const auto alpha = tape.variable(xt::xarray<double>{3.0, 1.0, 0.5});
  const Pareto<double> d(scale, alpha);
  require_values(d.mean(), {3.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()});
  tape.backward(sum(slice(d.mean(), 0, 0, 1)));
  CHECK(xt::all(xt::isfinite(alpha.grad())));
  CHECK(d.parameter("scale").index() == scale.index());
  CHECK(d.parameter("alpha").index() == alpha.index());
  REQUIRE_THROWS_MATCHES(d.parameter("b"), ArgumentError, Message("Pareto: no parameter 'b'"));
  REQUIRE_THROWS_MATCHES(Pareto<double>(tape.constant(0.0), alpha), ArgumentError,
                         Message("Pareto: scale must be positive and finite, got 0.000000 at flat index 0 of shape []"));
}
