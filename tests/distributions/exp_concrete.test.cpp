#include "vaelib/distributions/exp_concrete.hpp"

#include <cmath>
#include <limits>

#include "reference/more_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace more_reference = vaelib::testing::more_distributions_reference;

namespace {
template <class T>
ExpConcrete<T> exp_concrete_of_case(Tape<T>& tape, const more_reference::Case& c) {
  return ExpConcrete<T>(T(c.p[0]), more_reference::case_array(tape, c, 0, {c.n_array}));
}
}  // namespace

TEST_CASE("ExpConcrete: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  more_reference::require_reference_log_probs<double>(more_reference::kExpConcrete, exp_concrete_of_case<double>, 1e-12);
  more_reference::require_reference_log_probs<float>(more_reference::kExpConcrete, exp_concrete_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto logits = tape.variable(xt::xarray<double>{0.5, -0.2, 1.0});
  const ExpConcrete<double> d(0.5, logits);
  CHECK(d.name() == "ExpConcrete");
  CHECK(d.support().kind() == SupportKind::real);
  CHECK(d.support().event_rank() == 1);
  CHECK(d.is_reparameterized());
  CHECK(d.value_shape() == Shape{3});
  const double inf = std::numeric_limits<double>::infinity();
  const double l3 = std::log(1.0 / 3);
  const auto lp = d.log_prob(
      tape.constant(xt::xarray<double>{{0.0, 0.0, 0.0}, {-inf, 0.0, 0.0}, {l3, std::nan(""), l3}, {l3, l3, l3}}));
  CHECK(lp.value()(0) == -inf);  // off the manifold logsumexp(y) = 0
  CHECK(lp.value()(1) == -inf);
  CHECK(std::isnan(lp.value()(2)));
  CHECK(std::isfinite(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 2)));
  CHECK(xt::all(xt::equal(logits.grad(), 0.0)));
}

TEST_CASE("ExpConcrete: log p(y) = Concrete's log p(exp y) + sum y, and samples are logs of Concrete samples",
          "[distributions]") {
  Tape<double> tape;
  Rng rng(4701);
  const auto logits = tape.constant(random_array({2, 4}, -2, 2, 4702));
  const ExpConcrete<double> d(0.7, logits);
  const auto y = d.sample(rng, 50);
  const auto lp = d.log_prob(y);
  const auto concrete = Concrete<double>(0.7, logits).log_prob(exp(y));
  const auto y_total = sum(y, {-1});
  for (std::size_t i = 0; i < lp.size(); ++i) CHECK(lp.data()[i] == Approx(concrete.data()[i] + y_total.data()[i]).epsilon(1e-12));
  // the same noise gives Concrete's draw
  Rng again_a(4703), again_b(4703);
  const auto from_exp_concrete = d.sample(again_a, 3);
  const auto from_concrete = Concrete<double>(0.7, logits).sample(again_b, 3);
  REQUIRE(from_exp_concrete.shape() == from_concrete.shape());
  for (std::size_t i = 0; i < from_concrete.size(); ++i)
    CHECK(std::exp(from_exp_concrete.data()[i]) == Approx(from_concrete.data()[i]).epsilon(1e-13));
}

TEST_CASE("ExpConcrete: the argmax of a draw is OnehotCategorical(logits) (Gumbel-max)", "[distributions]") {
  Tape<double> tape;
  Rng rng(4711);
  const xt::xarray<double> logits{0.3, -1.0, 1.2};
  const std::size_t n = 40000;
  const auto y = ExpConcrete<double>(0.3, tape.constant(logits)).sample(rng, n);
  std::vector<double> counts(3, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < 3; ++j)
      if (y.value()(i, j) > y.value()(i, best)) best = j;
    counts[best] += 1;
  }
  const xt::xarray<double> p = xt::exp(logits) / xt::sum(xt::exp(logits))();
  for (std::size_t j = 0; j < 3; ++j) {
    INFO("class " << j);
    CHECK(std::abs(counts[j] / double(n) - p(j)) < 4 * std::sqrt(p(j) * (1 - p(j)) / double(n)));
  }
  // a low temperature keeps every coordinate finite (a Concrete draw would underflow to 0)
  Tape<float> tf;
  const ExpConcrete<float> cold(0.01f, tf.constant(xt::xarray<float>{5.0f, -5.0f}));
  const auto lp = cold.log_prob(cold.sample(rng, 1000));
  for (const float v : lp.value()) REQUIRE(std::isfinite(v));
}

TEST_CASE("ExpConcrete: gradients of log_prob and of samples by finite differences", "[distributions]") {
  xt::xarray<double> y = random_array({2, 3}, -3, 0, 4721);
  for (std::size_t b = 0; b < 2; ++b) {
    const double lse = std::log(std::exp(y(b, 0)) + std::exp(y(b, 1)) + std::exp(y(b, 2)));
    for (std::size_t j = 0; j < 3; ++j) y(b, j) -= lse;
  }
  // a step of 1e-7 keeps y within the 1e-6 tolerance of the manifold
  require_gradient([](Tape<double>&, const Vars& v) { return ExpConcrete<double>(0.6, v[0]).log_prob(v[1]); },
                   {random_array({2, 3}, -2, 2, 4722), y}, {.step = 1e-7, .absolute_tolerance = 1e-5});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(4723);
        return ExpConcrete<double>(0.6, v[0]).sample(rng, 3);
      },
      {random_array({2, 3}, -2, 2, 4724)});
}

TEST_CASE("ExpConcrete: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.variable(random_array({2, 3, 4}, -2, 2, 4731));
  const double l4 = std::log(0.25);
  check_distribution_shapes([&](std::size_t g) { return ExpConcrete<double>(0.5, logits, {.group_ndims = g}); }, {2, 3},
                            {4}, {.finite_log_prob = true, .broadcast_given = xt::xarray<double>{l4, l4, l4, l4}});
}

TEST_CASE("ExpConcrete: parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(xt::xarray<double>{0.0, std::log(3.0)});
  const ExpConcrete<double> d(0.5, logits);
  require_values(d.probs(), {0.25, 0.75});
  CHECK(d.parameter("logits").index() == logits.index());
  CHECK(d.parameter("temperature").item() == 0.5);
  REQUIRE_THROWS_MATCHES(d.parameter("tau"), ArgumentError, Message("ExpConcrete: no parameter 'tau'"));
  REQUIRE_THROWS_MATCHES(ExpConcrete<double>(0.0, logits), ArgumentError,
                         Message("ExpConcrete: temperature must be positive and finite, got 0.000000"));
  REQUIRE_THROWS_MATCHES(ExpConcrete<double>(1.0, tape.constant(xt::xarray<double>{0.0, std::nan("")})), ArgumentError,
                         Message("ExpConcrete: logits must be finite, got nan at flat index 1 of shape [2]"));
}
