#include "vaelib/distributions/geometric.hpp"

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
Geometric<T> geometric_of_logits_case(Tape<T>& tape, const reference::Case& c) {
  return Geometric<T>::with_logits(tape.constant(T(c.p[0])));
}
template <class T>
Geometric<T> geometric_of_probs_case(Tape<T>& tape, const reference::Case& c) {
  return Geometric<T>::with_probs(tape.constant(T(c.p[0])));
}
}  // namespace

TEST_CASE("Geometric: log_prob matches mpmath from logits and from probs, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kGeometricLogits, geometric_of_logits_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kGeometricLogits, geometric_of_logits_case<float>, 1e-6);
  reference::require_reference_log_probs<double>(reference::kGeometricProbs, geometric_of_probs_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kGeometricProbs, geometric_of_probs_case<float>, 1e-6);
  Tape<double> tape;
  const auto logits = tape.variable(xt::xarray<double>{0.5});
  const Geometric<double> d(logits);
  CHECK(d.name() == "Geometric");
  CHECK_FALSE(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-1.0, 1.5, inf, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(logits.grad()(0) == 0.0);
}

TEST_CASE("Geometric: sample mean and variance, from logits and from probs", "[distributions]") {
  Tape<double> tape;
  Rng rng(3201);
  for (const double p : {0.3, 0.8, 0.02}) {
    INFO("p " << p);
    const double mean = (1 - p) / p, var = (1 - p) / (p * p), mu4 = (1 - p) * (p * p - 9 * p + 9) / std::pow(p, 4);
    const auto from_probs = Geometric<double>::with_probs(tape.constant(p)).sample(rng, 40000);
    require_sample_moments(values(from_probs), mean, var, mu4);
    const auto from_logits = Geometric<double>::with_logits(tape.constant(std::log(p / (1 - p)))).sample(rng, 40000);
    require_sample_moments(values(from_logits), mean, var, mu4);
    for (const double k : values(from_logits)) REQUIRE(k == std::floor(k));
  }
}

TEST_CASE("Geometric: gradients of log_prob by finite differences", "[distributions]") {
  const xt::xarray<double> counts{{0.0, 1.0, 4.0}, {2.0, 0.0, 7.0}};
  require_gradient(
      [counts](Tape<double>& tape, const Vars& v) { return Geometric<double>(v[0]).log_prob(tape.constant(counts)); },
      {random_array({2, 3}, -3, 3, 3211)});
  require_gradient(
      [counts](Tape<double>& tape, const Vars& v) {
        return Geometric<double>::with_probs(v[0], {.group_ndims = 1}).log_prob(tape.constant(counts));
      },
      {random_array({3}, 0.1, 0.9, 3212)});
  require_gradient([](Tape<double>&, const Vars& v) { return Geometric<double>(v[0]).mean(); },
                   {random_array({3}, -3, 3, 3213)});
}

TEST_CASE("Geometric: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.variable(random_array({2, 3}, -2, 2, 3221));
  check_distribution_shapes([&](std::size_t g) { return Geometric<double>(logits, {.group_ndims = g}); }, {2, 3}, {},
                            {.mean = true, .finite_log_prob = true, .broadcast_given = xt::xarray<double>{0.0, 1.0, 2.0}});
}

TEST_CASE("Geometric: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(xt::xarray<double>{0.0, std::log(3.0)});
  const Geometric<double> d(logits);
  require_values(d.mean(), {1.0, 1.0 / 3});
  require_values(d.probs(), {0.5, 0.75});
  require_values(Geometric<double>::with_probs(tape.constant(xt::xarray<double>{0.5, 0.75})).mean(), {1.0, 1.0 / 3});
  require_values(Geometric<double>::with_probs(tape.constant(0.75)).logits(), {std::log(3.0)});
  CHECK(d.parameter("logits").index() == logits.index());
  REQUIRE_THROWS_MATCHES(d.parameter("p"), ArgumentError, Message("Geometric: no parameter 'p'"));
  REQUIRE_THROWS_MATCHES(Geometric<double>(tape.constant(std::numeric_limits<double>::infinity())), ArgumentError,
                         Message("Geometric: logits must be finite, got inf at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(Geometric<double>::with_probs(tape.constant(xt::xarray<double>{0.5, 1.0})), ArgumentError,
                         Message("Geometric: probs must be in the open interval (0, 1), got 1.000000 at flat index 1 "
                                 "of shape [2]"));
}
