#include "vaelib/distributions/gumbel.hpp"

#include <cmath>
#include <limits>
#include <numbers>

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
Gumbel<T> gumbel_of_case(Tape<T>& tape, const reference::Case& c) {
  return Gumbel<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("Gumbel: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kGumbel, gumbel_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kGumbel, gumbel_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto loc = tape.variable(xt::xarray<double>{0.5});
  const auto scale = tape.variable(xt::xarray<double>{2.0});
  const Gumbel<double> d(loc, scale);
  CHECK(d.name() == "Gumbel");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  // far below loc exp(-z) overflows: -inf, not NaN
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-inf, inf, -1e4, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(loc.grad()(0) == 0.0);
  CHECK(scale.grad()(0) == 0.0);
}

TEST_CASE("Gumbel: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(2801);
  const double loc = 0.5, s = 1.5;
  const auto draws = Gumbel<double>(tape.constant(loc), tape.constant(s)).sample(rng, 40000);
  const double var = std::numbers::pi * std::numbers::pi * s * s / 6;
  require_sample_moments(values(draws), loc + s * std::numbers::egamma, var, 5.4 * var * var);  // excess kurtosis 12/5
}

TEST_CASE("Gumbel: gradients of log_prob and of reparameterised samples by finite differences", "[distributions]") {
  const auto loc = random_array({2, 3}, -1, 1, 2811);
  const auto scale = random_array({2, 3}, 0.5, 2, 2812);
  require_gradient([](Tape<double>&, const Vars& v) { return Gumbel<double>(v[0], v[1]).log_prob(v[2]); },
                   {loc, scale, random_array({2, 3}, -2, 4, 2813)});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Gumbel<double>(v[0], v[1], {.group_ndims = 1}).log_prob(v[2]); },
      {random_array({3}, -1, 1, 2814), random_array({}, 0.5, 2, 2815), random_array({2, 3}, -2, 4, 2816)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(2817);
        return Gumbel<double>(v[0], v[1]).sample(rng, 3);
      },
      {loc, scale});
}

TEST_CASE("Gumbel: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.variable(random_array({2, 1}, -1, 1, 2821));
  const auto scale = tape.variable(random_array({3}, 0.5, 2, 2822));
  check_distribution_shapes([&](std::size_t g) { return Gumbel<double>(loc, scale, {.group_ndims = g}); }, {2, 3}, {},
                            {.mean = true, .finite_log_prob = true});
}

TEST_CASE("Gumbel: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.constant(xt::xarray<double>{0.5, -1.0});
  const auto scale = tape.constant(2.0);
  const Gumbel<double> d(loc, scale);
  require_values(d.mean(), {0.5 + 2 * std::numbers::egamma, -1.0 + 2 * std::numbers::egamma});
  CHECK(d.parameter("loc").index() == loc.index());
  CHECK(d.parameter("scale").index() == scale.index());
  REQUIRE_THROWS_MATCHES(d.parameter("beta"), ArgumentError, Message("Gumbel: no parameter 'beta'"));
  REQUIRE_THROWS_MATCHES(Gumbel<double>(loc, tape.constant(0.0)), ArgumentError,
                         Message("Gumbel: scale must be positive and finite, got 0.000000 at flat index 0 of shape []"));
}
