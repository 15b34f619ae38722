#include "vaelib/distributions/multinomial.hpp"

#include <cmath>
#include <limits>

#include "reference/more_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace more_reference = vaelib::testing::more_distributions_reference;

namespace {
template <class T>
Multinomial<T> multinomial_of_case(Tape<T>& tape, const more_reference::Case& c) {
  return Multinomial<T>(tape.constant(T(c.p[0])), more_reference::case_array(tape, c, 0, {c.n_array}));
}
}  // namespace

TEST_CASE("Multinomial: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  more_reference::require_reference_log_probs<double>(more_reference::kMultinomial, multinomial_of_case<double>, 1e-12);
  more_reference::require_reference_log_probs<float>(more_reference::kMultinomial, multinomial_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto logits = tape.variable(xt::xarray<double>{0.5, -0.2, 1.0});
  const Multinomial<double> d(tape.constant(4.0), logits);
  CHECK(d.name() == "Multinomial");
  CHECK(d.support().kind() == SupportKind::nonnegative_integer);
  CHECK(d.support().event_rank() == 1);
  CHECK_FALSE(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{});
  CHECK(d.value_shape() == Shape{3});
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{
      {1, 1, 1}, {-1, 3, 2}, {1.5, 1.5, 1}, {inf, 0, 0}, {1, std::nan(""), 3}, {0, 4, 0}}));
  for (std::size_t i = 0; i < 4; ++i) CHECK(lp.value()(i) == -inf);
  CHECK(std::isnan(lp.value()(4)));
  CHECK(std::isfinite(lp.value()(5)));
  tape.backward(sum(slice(lp, 0, 0, 4)));
  CHECK(xt::all(xt::equal(logits.grad(), 0.0)));
  // the probabilities of every count vector with n = 4 over 3 categories sum to 1
  xt::xarray<double> all = xt::zeros<double>({15, 3});
  std::size_t row = 0;
  for (int a = 0; a <= 4; ++a)
    for (int b = 0; a + b <= 4; ++b, ++row) {
      all(row, 0) = a;
      all(row, 1) = b;
      all(row, 2) = 4 - a - b;
    }
  double total = 0;
  for (const double v : values(d.log_prob(tape.constant(all)))) total += std::exp(v);
  CHECK(total == Approx(1.0).epsilon(1e-13));
}

TEST_CASE("Multinomial: sample sums and per-category moments (binomial marginals)", "[distributions]") {
  Tape<double> tape;
  Rng rng(4401);
  for (const double n : {12.0, 1e5}) {
    INFO("n " << n);
    const xt::xarray<double> logits{0.3, -1.0, 1.2, -4.0};
    const auto s = Multinomial<double>(tape.constant(n), tape.constant(logits)).sample(rng, 20000);
    REQUIRE(s.shape() == Shape{20000, 4});
    const xt::xarray<double> p = xt::exp(logits) / xt::sum(xt::exp(logits))();
    for (std::size_t i = 0; i < 20000; ++i) {
      double total = 0;
      for (std::size_t j = 0; j < 4; ++j) total += s.value()(i, j);
      REQUIRE(total == n);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      INFO("category " << j);
      std::vector<double> xj;
      for (std::size_t i = 0; i < 20000; ++i) xj.push_back(s.value()(i, j));
      const double q = p(j) * (1 - p(j));
      require_sample_moments(xj, n * p(j), n * q, n * q * (1 + (3 * n - 6) * q));
    }
  }
}

TEST_CASE("Multinomial: gradients of log_prob by finite differences", "[distributions]") {
  xt::xarray<double> multinomial_counts_column{10.0, 100.0};
  multinomial_counts_column.reshape({2, 1});
  const xt::xarray<double> counts{{{0.0, 3.0, 7.0}, {2.0, 2.0, 6.0}}, {{30.0, 45.0, 25.0}, {1.0, 0.0, 99.0}}};
  require_gradient(
      [counts, multinomial_counts_column](Tape<double>& tape, const Vars& v) {
        return Multinomial<double>(tape.constant(multinomial_counts_column), v[0], {.group_ndims = 1})
            .log_prob(tape.constant(counts));
      },
      {random_array({2, 2, 3}, -2, 2, 4411)});
  require_gradient(
      [](Tape<double>& tape, const Vars& v) { return Multinomial<double>(tape.constant(5.0), v[0]).mean(); },
      {random_array({2, 3}, -2, 2, 4412)});
  Tape<double> tape;
  CHECK_FALSE(Multinomial<double>(tape.constant(3.0), tape.variable(xt::xarray<double>{0.3, 0.1}),
                                  {.use_path_derivative = true})
                  .log_prob(tape.constant(xt::xarray<double>{1.0, 2.0}))
                  .requires_grad());
}

TEST_CASE("Multinomial: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto count = tape.constant(xt::xarray<double>{5.0, 8.0, 20.0});
  const auto logits = tape.variable(random_array({2, 1, 4}, -2, 2, 4421));
  check_distribution_shapes([&](std::size_t g) { return Multinomial<double>(count, logits, {.group_ndims = g}); },
                            {2, 3}, {4},
                            {.mean = true, .finite_log_prob = true, .broadcast_given = xt::xarray<double>{1, 2, 0, 2}});
}

TEST_CASE("Multinomial: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto count = tape.constant(xt::xarray<double>{4.0, 6.0});
  const auto logits = tape.constant(xt::xarray<double>{{0.0, 0.0}, {std::log(2.0), 0.0}});
  const Multinomial<double> d(count, logits);
  require_values(d.mean(), {2.0, 2.0, 4.0, 2.0});
  CHECK(d.parameter("total_count").index() == count.index());
  CHECK(d.parameter("logits").index() == logits.index());
  REQUIRE_THROWS_MATCHES(d.parameter("n"), ArgumentError, Message("Multinomial: no parameter 'n'"));
  REQUIRE_THROWS_MATCHES(Multinomial<double>(tape.constant(1.5), logits), ArgumentError,
                         Message("Multinomial: total_count must be a whole number >= 0, got 1.500000 at flat index 0 of "
                                 "shape []"));
  REQUIRE_THROWS_MATCHES(Multinomial<double>(count, tape.constant(xt::xarray<double>{0.0, std::nan("")})), ArgumentError,
                         Message("Multinomial: logits must be finite, got nan at flat index 1 of shape [2]"));
  REQUIRE_THROWS_MATCHES(Multinomial<double>(count, tape.constant(1.0)), ShapeError,
                         Message("Multinomial: logits must have shape [..., k] with k >= 1 categories on the last axis, "
                                 "got shape []"));
  REQUIRE_THROWS_MATCHES(Multinomial<double>(tape.constant(xt::xarray<double>{1.0, 2.0, 3.0}), logits), ShapeError,
                         Message("Multinomial parameters: cannot broadcast shapes [3] and [2] (axis -1: 3 vs 2; sizes "
                                 "must be equal or 1)"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{1.0, 2.0, 1.0})), ShapeError,
                         Message("Multinomial.log_prob: given has shape [3], which does not broadcast with batch_shape "
                                 "[2] + value_shape [2] (expected [...] + value_shape, the rest broadcasting)"));
}
