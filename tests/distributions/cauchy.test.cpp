#include "vaelib/distributions/cauchy.hpp"

#include <cmath>
#include <limits>

#include "reference/new_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace reference = vaelib::testing::new_distributions_reference;

namespace {
template <class T>
Cauchy<T> cauchy_of_case(Tape<T>& tape, const reference::Case& c) {
  return Cauchy<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("Cauchy: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kCauchy, cauchy_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kCauchy, cauchy_of_case<float>, 1e-6);
  Tape<double> tape;
  const Cauchy<double> d(tape.constant(0.0), tape.constant(1.0));
  CHECK(d.name() == "Cauchy");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{inf, -inf, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(std::isnan(lp.value()(2)));
}

TEST_CASE("Cauchy: samples have the quartiles loc - scale, loc, loc + scale", "[distributions]") {
  Tape<double> tape;
  Rng rng(2201);
  const std::size_t n = 40000;
  const auto s = Cauchy<double>(tape.constant(1.5), tape.constant(0.5)).sample(rng, n);
  double below_q1 = 0, below_median = 0, below_q3 = 0;
  for (const double v : values(s)) {
    below_q1 += v < 1.0;
    below_median += v < 1.5;
    below_q3 += v < 2.0;
  }
  const double se = std::sqrt(0.25 / double(n));
  CHECK(std::abs(below_q1 / double(n) - 0.25) < 4 * std::sqrt(0.1875 / double(n)));
  CHECK(std::abs(below_median / double(n) - 0.5) < 4 * se);
  CHECK(std::abs(below_q3 / double(n) - 0.75) < 4 * std::sqrt(0.1875 / double(n)));
}

TEST_CASE("Cauchy: gradients of log_prob and of reparameterised samples by finite differences", "[distributions]") {
  const auto loc = random_array({2, 3}, -1, 1, 2211);
  const auto scale = random_array({2, 3}, 0.5, 2, 2212);
  require_gradient([](Tape<double>&, const Vars& v) { return Cauchy<double>(v[0], v[1]).log_prob(v[2]); },
                   {loc, scale, random_array({2, 3}, -4, 4, 2213)});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Cauchy<double>(v[0], v[1], {.group_ndims = 1}).log_prob(v[2]); },
      {random_array({3}, -1, 1, 2214), random_array({}, 0.5, 2, 2215), random_array({2, 3}, -4, 4, 2216)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(2217);
        return Cauchy<double>(v[0], v[1]).sample(rng, 3);
      },
      {loc, scale});
  Tape<double> tape;
  CHECK_FALSE(Cauchy<double>(tape.variable(loc), tape.variable(scale), {.use_path_derivative = true})
                  .log_prob(tape.constant(loc))
                  .requires_grad());
}

TEST_CASE("Cauchy: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.variable(random_array({2, 1}, -1, 1, 2221));
  const auto scale = tape.variable(random_array({3}, 0.5, 2, 2222));
  check_distribution_shapes([&](std::size_t g) { return Cauchy<double>(loc, scale, {.group_ndims = g}); }, {2, 3},
                            {}, {.finite_log_prob = true});
}

TEST_CASE("Cauchy: parameters, no mean, and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.constant(xt::xarray<double>{0.5, -1.0});
  const auto scale = tape.constant(2.0);
  const Cauchy<double> d(loc, scale);
  CHECK(d.parameter("loc").index() == loc.index());
  CHECK(d.parameter("scale").index() == scale.index());
  REQUIRE_THROWS_MATCHES(d.mean(), ArgumentError, Message("Cauchy: the mean is undefined (the tails are too heavy)"));
  REQUIRE_THROWS_MATCHES(d.parameter("std"), ArgumentError, Message("Cauchy: no parameter 'std'"));
  REQUIRE_THROWS_MATCHES(Cauchy<double>(loc, tape.constant(0.0)), ArgumentError,
                         Message("Cauchy: scale must be positive and finite, got 0.000000 at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(Cauchy<double>(tape.constant(std::numeric_limits<double>::infinity()), scale), ArgumentError,
                         Message("Cauchy: loc must be finite, got inf at flat index 0 of shape []"));
}
