#include "vaelib/distributions/weibull.hpp"

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
Weibull<T> weibull_of_case(Tape<T>& tape, const reference::Case& c) {
  return Weibull<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("Weibull: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kWeibull, weibull_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kWeibull, weibull_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto scale = tape.variable(xt::xarray<double>{2.0});
  const auto k = tape.variable(xt::xarray<double>{1.5});
  const Weibull<double> d(scale, k);
  CHECK(d.name() == "Weibull");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-1.0, inf, 0.0, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);  // the limit at 0 for k > 1
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(scale.grad()(0) == 0.0);
  CHECK(k.grad()(0) == 0.0);
}

TEST_CASE("Weibull: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(2701);
  const double scale = 1.5, k = 2.0;
  const auto draws = Weibull<double>(tape.constant(scale), tape.constant(k)).sample(rng, 40000);
  const auto raw = [&](double n) { return std::pow(scale, n) * std::tgamma(1 + n / k); };  // E[x^n]
  const double m1 = raw(1), m2 = raw(2), m3 = raw(3), m4 = raw(4);
  require_sample_moments(values(draws), m1, m2 - m1 * m1, m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1);
}

TEST_CASE("Weibull: gradients of log_prob and of reparameterised samples by finite differences", "[distributions]") {
  const auto scale = random_array({2, 3}, 0.5, 2, 2711);
  const auto k = random_array({2, 3}, 0.5, 3, 2712);
  require_gradient([](Tape<double>&, const Vars& v) { return Weibull<double>(v[0], v[1]).log_prob(v[2]); },
                   {scale, k, random_array({2, 3}, 0.1, 3, 2713)});
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Weibull<double>(v[0], v[1], {.group_ndims = 1}).log_prob(v[2]); },
      {random_array({3}, 0.5, 2, 2714), random_array({}, 0.5, 3, 2715), random_array({2, 3}, 0.1, 3, 2716)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(2717);
        return Weibull<double>(v[0], v[1]).sample(rng, 3);
      },
      {scale, k});
  require_gradient([](Tape<double>&, const Vars& v) { return Weibull<double>(v[0], v[1]).mean(); }, {scale, k});
}

TEST_CASE("Weibull: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto scale = tape.variable(random_array({2, 1}, 0.5, 2, 2721));
  const auto k = tape.variable(random_array({3}, 0.5, 3, 2722));
  check_distribution_shapes([&](std::size_t g) { return Weibull<double>(scale, k, {.group_ndims = g}); }, {2, 3}, {},
                            {.mean = true, .finite_log_prob = true});
}

TEST_CASE("Weibull: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto scale = tape.constant(xt::xarray<double>{0.5, 2.0});
  const auto k = tape.constant(xt::xarray<double>{1.0, 2.0});
  const Weibull<double> d(scale, k);
  require_values(d.mean(), {0.5, 2.0 * std::tgamma(1.5)});
  CHECK(d.parameter("scale").index() == scale.index());
  CHECK(d.parameter("concentration").index() == k.index());
  REQUIRE_THROWS_MATCHES(d.parameter("k"), ArgumentError, Message("Weibull: no parameter 'k'"));
  REQUIRE_THROWS_MATCHES(Weibull<double>(scale, tape.constant(-2.0)), ArgumentError,
                         Message("Weibull: concentration must be positive and finite, got -2.000000 at flat index 0 of "
                                 "shape []"));
}
