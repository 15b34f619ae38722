#include "vaelib/distributions/half_cauchy.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "reference/new_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/one_parameter_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace reference = vaelib::testing::new_distributions_reference;

namespace {
template <class T>
HalfCauchy<T> half_cauchy_of_case(Tape<T>& tape, const reference::Case& c) {
  return HalfCauchy<T>(tape.constant(T(c.p[0])));
}
}  // namespace

TEST_CASE("HalfCauchy: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kHalfCauchy, half_cauchy_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kHalfCauchy, half_cauchy_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto scale = tape.variable(xt::xarray<double>{2.0});
  const HalfCauchy<double> d(scale);
  CHECK(d.name() == "HalfCauchy");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-0.5, inf, std::nan(""), 1.0}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(std::isnan(lp.value()(2)));
  tape.backward(sum(slice(lp, 0, 0, 2)));  // outside the support: no gradient, not NaN
  CHECK(scale.grad()(0) == 0.0);
}

TEST_CASE("HalfCauchy: samples have the median scale and the quartile scale tan(pi / 8)", "[distributions]") {
  Tape<double> tape;
  Rng rng(2301);
  const std::size_t n = 40000;
  const auto s = HalfCauchy<double>(tape.constant(1.5)).sample(rng, n);
  double below_q1 = 0, below_median = 0, negative = 0;
  for (const double v : values(s)) {
    below_q1 += v < 1.5 * std::tan(std::numbers::pi / 8);
    below_median += v < 1.5;
    negative += v < 0;
  }
  CHECK(negative == 0);
  CHECK(std::abs(below_q1 / double(n) - 0.25) < 4 * std::sqrt(0.1875 / double(n)));
  CHECK(std::abs(below_median / double(n) - 0.5) < 4 * std::sqrt(0.25 / double(n)));
}

TEST_CASE("HalfCauchy: gradients of log_prob and of reparameterised samples by finite differences; shapes for "
          "group_ndims 0/1/2 and n_samples none/1/k",
          "[distributions]") {
  require_one_parameter_gradients_and_shapes<HalfCauchy>(2311, {.value_high = 4});
}

TEST_CASE("HalfCauchy: mean +inf, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto scale = tape.constant(xt::xarray<double>{0.5, 2.0});
  const HalfCauchy<double> d(scale);
  require_values(d.mean(), {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()});
  CHECK(d.parameter("scale").index() == scale.index());
  REQUIRE_THROWS_MATCHES(d.parameter("loc"), ArgumentError, Message("HalfCauchy: no parameter 'loc'"));
  REQUIRE_THROWS_MATCHES(HalfCauchy<double>(tape.constant(xt::xarray<double>{1.0, -1.0})), ArgumentError,
                         Message("HalfCauchy: scale must be positive and finite, got -1.000000 at flat index 1 of "
                                 "shape [2]"));
}
