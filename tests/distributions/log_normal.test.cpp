#include "vaelib/distributions/log_normal.hpp"

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
LogNormal<T> log_normal_of_case(Tape<T>& tape, const reference::Case& c) {
  return LogNormal<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("LogNormal: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kLogNormal, log_normal_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kLogNormal, log_normal_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto loc = tape.variable(xt::xarray<double>{0.5});
  const auto scale = tape.variable(xt::xarray<double>{2.0});
  const LogNormal<double> d(loc, scale);
  CHECK(d.name() == "LogNormal");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{0.0, -1.0, inf, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(loc.grad()(0) == 0.0);
  CHECK(scale.grad()(0) == 0.0);
}

TEST_CASE("LogNormal: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(2501);
  const double mu = 0.2, s = 0.4;
  const auto draws = LogNormal<double>(tape.constant(mu), tape.constant(s)).sample(rng, 40000);
  const auto raw = [&](double n) { return std::exp(n * mu + n * n * s * s / 2); };  // E[x^n]
  const double m1 = raw(1), m2 = raw(2), m3 = raw(3), m4 = raw(4);
  require_sample_moments(values(draws), m1, m2 - m1 * m1, m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1);
}

TEST_CASE("LogNormal: gradients of log_prob and of reparameterised samples by finite differences", "[distributions]") {
  const auto loc = random_array({2, 3}, -1, 1, 2511);
  const auto scale = random_array({2, 3}, 0.5, 2, 2512);
  require_gradient([](Tape<double>&, const Vars& v) { return LogNormal<double>(v[0], v[1]).log_prob(v[2]); },
                   {loc, scale, random_array({2, 3}, 0.1, 4, 2513)});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return LogNormal<double>(v[0], v[1], {.group_ndims = 1}).log_prob(v[2]); },
      {random_array({3}, -1, 1, 2514), random_array({}, 0.5, 2, 2515), random_array({2, 3}, 0.1, 4, 2516)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(2517);
        return LogNormal<double>(v[0], v[1]).sample(rng, 3);
      },
      {loc, scale});
  require_gradient([](Tape<double>&, const Vars& v) { return LogNormal<double>(v[0], v[1]).mean(); }, {loc, scale});
}

TEST_CASE("LogNormal: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.variable(random_array({2, 1}, -1, 1, 2521));
  const auto scale = tape.variable(random_array({3}, 0.5, 2, 2522));
  check_distribution_shapes([&](std::size_t g) { return LogNormal<double>(loc, scale, {.group_ndims = g}); }, {2, 3},
                            {}, {.mean = true, .finite_log_prob = true});
}

TEST_CASE("LogNormal: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.constant(xt::xarray<double>{0.5, -1.0});
  const auto scale = tape.constant(2.0);
  const LogNormal<double> d(loc, scale);
  require_values(d.mean(), {std::exp(2.5), std::exp(1.0)});
  CHECK(d.parameter("loc").index() == loc.index());
  CHECK(d.parameter("scale").index() == scale.index());
  REQUIRE_THROWS_MATCHES(d.parameter("std"), ArgumentError, Message("LogNormal: no parameter 'std'"));
  REQUIRE_THROWS_MATCHES(LogNormal<double>(loc, tape.constant(-1.0)), ArgumentError,
                         Message("LogNormal: scale must be positive and finite, got -1.000000 at flat index 0 of shape "
                                 "[]"));
  REQUIRE_THROWS_MATCHES(LogNormal<double>(tape.constant(std::nan("")), scale), ArgumentError,
                         Message("LogNormal: loc must be finite, got nan at flat index 0 of shape []"));
}
