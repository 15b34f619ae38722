#include "vaelib/distributions/half_normal.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "reference/new_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/one_parameter_checks.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace reference = vaelib::testing::new_distributions_reference;

namespace {
template <class T>
HalfNormal<T> half_normal_of_case(Tape<T>& tape, const reference::Case& c) {
  return HalfNormal<T>(tape.constant(T(c.p[0])));
}
}  // namespace

TEST_CASE("HalfNormal: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kHalfNormal, half_normal_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kHalfNormal, half_normal_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto std_dev = tape.variable(xt::xarray<double>{2.0});
  const HalfNormal<double> d(std_dev);
  CHECK(d.name() == "HalfNormal");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-1e-300, inf, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(std::isnan(lp.value()(2)));
  tape.backward(sum(slice(lp, 0, 0, 2)));
  CHECK(std_dev.grad()(0) == 0.0);
}

TEST_CASE("HalfNormal: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(2401);
  const double s = 1.5;
  const auto draws = HalfNormal<double>(tape.constant(s)).sample(rng, 40000);
  // raw moments s sqrt(2/pi), s^2, 2 s^3 sqrt(2/pi), 3 s^4
  const double m1 = s * std::sqrt(2 / std::numbers::pi), m2 = s * s, m3 = 2 * s * s * s * std::sqrt(2 / std::numbers::pi),
               m4 = 3 * s * s * s * s;
  require_sample_moments(values(draws), m1, m2 - m1 * m1, m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1);
}

TEST_CASE("HalfNormal: gradients of log_prob and of reparameterised samples by finite differences; shapes for "
          "group_ndims 0/1/2 and n_samples none/1/k",
          "[distributions]") {
  require_one_parameter_gradients_and_shapes<HalfNormal>(2411);
}

TEST_CASE("HalfNormal: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto std_dev = tape.constant(xt::xarray<double>{0.5, 2.0});
  const HalfNormal<double> d(std_dev);
  require_values(d.mean(), {0.5 * std::sqrt(2 / std::numbers::pi), 2.0 * std::sqrt(2 / std::numbers::pi)});
  CHECK(d.parameter("std").index() == std_dev.index());
  REQUIRE_THROWS_MATCHES(d.parameter("scale"), ArgumentError, Message("HalfNormal: no parameter 'scale'"));
  REQUIRE_THROWS_MATCHES(HalfNormal<double>(tape.constant(std::nan(""))), ArgumentError,
                         Message("HalfNormal: std must be positive and finite, got nan at flat index 0 of shape []"));
}
