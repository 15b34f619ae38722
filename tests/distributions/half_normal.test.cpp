#include "vaelib/distributions/half_normal.hpp"

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

TEST_CASE("HalfNormal: gradients of log_prob and of reparameterised samples by finite differences", "[distributions]") {
  const auto std_dev = random_array({2, 3}, 0.5, 2, 2411);
  require_gradient([](Tape<double>&, const Vars& v) { return HalfNormal<double>(v[0]).log_prob(v[1]); },
                   {std_dev, random_array({2, 3}, 0.1, 3, 2412)});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return HalfNormal<double>(v[0], {.group_ndims = 1}).log_prob(v[1]); },
      {random_array({3}, 0.5, 2, 2413), random_array({4, 3}, 0.1, 3, 2414)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(2415);
        return HalfNormal<double>(v[0]).sample(rng, 3);
      },
      {std_dev});
}

TEST_CASE("HalfNormal: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto std_dev = tape.variable(random_array({2, 3}, 0.5, 2, 2421));
  check_distribution_shapes([&](std::size_t g) { return HalfNormal<double>(std_dev, {.group_ndims = g}); }, {2, 3}, {},
                            {.mean = true, .finite_log_prob = true});
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
