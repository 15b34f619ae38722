#include <cmath>

#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Contains;

TEST_CASE("bernoulli: log_prob from logits matches reference values, stable at large logits", "[distributions]") {
  Tape<double> tape;
  const Bernoulli<double> d(tape.constant(xt::xarray<double>{0.3, 0.3, -4.0, 25.0, -30.0}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{1, 0, 1, 0, 1}));
  // computed independently: x l - softplus(l), with Python's math module
  const xt::xarray<double> expected = {-0.5543552444685271, -0.8543552444685272, -4.0181499279178094,
                                       -25.000000000013888, -30.000000000000092};
  CHECK(xt::allclose(lp.value(), expected, 1e-6, 0));
  CHECK_FALSE(d.is_reparameterized());
}

TEST_CASE("bernoulli: sample frequencies within 4 standard errors", "[distributions]") {
  Tape<double> tape;
  Rng rng(3);
  const Bernoulli<double> d(tape.constant(xt::xarray<double>{-1.0, 0.0, 2.0}));
  const std::size_t n = 20000;
  const auto s = d.sample(rng, n).value();
  const xt::xarray<double> freq = moments_over_first_axis(s).mean;
  for (std::size_t j = 0; j < 3; ++j) {
    const double p = 1 / (1 + std::exp(-d.logits().value()(j)));
    CHECK(std::abs(freq(j) - p) < 4 * std::sqrt(p * (1 - p) / double(n)));
  }
  CHECK(xt::all(xt::equal(s, 0.0) || xt::equal(s, 1.0)));
  CHECK_FALSE(d.sample(rng).requires_grad());
}

TEST_CASE("bernoulli: log_prob gradient w.r.t. the logits; mean and entropy", "[distributions]") {
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return Bernoulli<double>(v[0], {.group_ndims = 1}).log_prob(t.constant(xt::xarray<double>{{1, 0, 1}, {0, 0, 1}}));
      },
      {random_array({2, 3}, -3, 3, 9)});
  require_gradient([](Tape<double>&, const Vars& v) { return Bernoulli<double>(v[0]).entropy(); },
                   {random_array({4}, -3, 3, 10)});
  Tape<double> tape;
  const Bernoulli<double> d(tape.constant(xt::xarray<double>{0.0, 2.0}));
  require_close(d.mean().value(), xt::xarray<double>{0.5, 1 / (1 + std::exp(-2.0))});
  const double p = 1 / (1 + std::exp(-2.0));
  CHECK(d.entropy().value()(1) == Approx(-(p * std::log(p) + (1 - p) * std::log(1 - p))).epsilon(1e-12));
}

TEST_CASE("bernoulli: targets must be 0 or 1 unless relaxed targets are allowed", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(xt::xarray<double>{0.5, -0.5});
  const auto grey = tape.constant(xt::xarray<double>{0.25, 1.0});
  REQUIRE_THROWS_WITH(Bernoulli<double>(logits).log_prob(grey),
                      "Bernoulli.log_prob: given must be 0 or 1, got 0.250000 at flat index 0 of shape [2] (pass "
                      "allow_relaxed_targets = true for values in [0, 1])");
  const auto lp = Bernoulli<double>(logits, {.allow_relaxed_targets = true}).log_prob(grey);
  CHECK(lp.value()(0) == Approx(0.25 * 0.5 - std::log1p(std::exp(0.5))).epsilon(1e-12));
  REQUIRE_THROWS_WITH(Bernoulli<double>(logits).log_prob(tape.constant(xt::xarray<double>{1, 0, 1})),
                      Contains("Bernoulli.log_prob: given has shape [3], which does not broadcast with batch_shape [2]"));
  REQUIRE_THROWS_WITH(Bernoulli<double>(tape.constant(xt::xarray<double>{std::nan("")})),
                      Contains("Bernoulli: logits must be finite (an infinite logit is a probability of exactly 0 or "
                               "1), got nan at flat index 0 of shape [1]"));
}

TEMPLATE_TEST_CASE("bernoulli: infinite logits are refused, naming the logit (they gave NaN log_prob and KL)",
                   "[distributions]", double, float) {
  using T = TestType;
  Tape<T> tape;
  const T inf = std::numeric_limits<T>::infinity();
  REQUIRE_THROWS_WITH(Bernoulli<T>(tape.constant(xt::xarray<T>{0, 1, inf})),
                      "Bernoulli: logits must be finite (an infinite logit is a probability of exactly 0 or 1), got "
                      "inf at flat index 2 of shape [3]");
  REQUIRE_THROWS_WITH(Bernoulli<T>(tape.constant(xt::xarray<T>{-inf})),
                      "Bernoulli: logits must be finite (an infinite logit is a probability of exactly 0 or 1), got "
                      "-inf at flat index 0 of shape [1]");
  // the largest finite logits are exact: log p(x = 0 | l = max) = -max, no NaN
  const Bernoulli<T> d(tape.constant(xt::xarray<T>{std::numeric_limits<T>::max(), -std::numeric_limits<T>::max()}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<T>{0, 0}));
  CHECK(lp.value()(0) == -std::numeric_limits<T>::max());
  CHECK(lp.value()(1) == 0);
}

TEMPLATE_TEST_CASE("bernoulli: log_prob matches the mpmath reference, ordinary and extreme logits", "[distributions]",
                   double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kBernoulli, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Bernoulli<T>(tape.constant(T(c.p[0]))).log_prob(tape.constant(T(c.x))).item();
  });
}
