#include "vaelib/distributions/binomial.hpp"

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
Binomial<T> binomial_of_logits_case(Tape<T>& tape, const more_reference::Case& c) {
  return Binomial<T>::with_logits(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
template <class T>
Binomial<T> binomial_of_probs_case(Tape<T>& tape, const more_reference::Case& c) {
  return Binomial<T>::with_probs(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
/// The fourth central moment of Binomial(n, p): n p q (1 + (3n - 6) p q).
double binomial_fourth_moment(double n, double p) { return n * p * (1 - p) * (1 + (3 * n - 6) * p * (1 - p)); }
}  // namespace

TEST_CASE("Binomial: log_prob matches mpmath from logits and from probs, double and float", "[distributions]") {
  more_reference::require_reference_log_probs<double>(more_reference::kBinomialLogits, binomial_of_logits_case<double>, 1e-12);
  more_reference::require_reference_log_probs<float>(more_reference::kBinomialLogits, binomial_of_logits_case<float>, 1e-6);
  more_reference::require_reference_log_probs<double>(more_reference::kBinomialProbs, binomial_of_probs_case<double>, 1e-12);
  more_reference::require_reference_log_probs<float>(more_reference::kBinomialProbs, binomial_of_probs_case<float>, 1e-6);
  Tape<double> tape;
  const auto logits = tape.variable(xt::xarray<double>{0.5});
  const Binomial<double> d(tape.constant(6.0), logits);
  CHECK(d.name() == "Binomial");
  CHECK(d.support().kind() == SupportKind::integer_interval);
  CHECK(d.support().upper().var().index() == d.total_count().index());
  CHECK_FALSE(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-1.0, 1.5, 7.0, inf, std::nan("")}));
  for (std::size_t i = 0; i < 4; ++i) CHECK(lp.value()(i) == -inf);
  CHECK(std::isnan(lp.value()(4)));
  tape.backward(sum(slice(lp, 0, 0, 4)));
  CHECK(logits.grad()(0) == 0.0);
}

TEST_CASE("Binomial: sample mean and variance, small and large counts, from logits and probs", "[distributions]") {
  Tape<double> tape;
  Rng rng(4101);
  for (const auto& [n, p] : {std::pair{10.0, 0.3}, std::pair{1000.0, 0.02}, std::pair{1e6, 0.7}, std::pair{37.0, 0.5}}) {
    INFO("n " << n << ", p " << p);
    const auto from_probs = Binomial<double>::with_probs(tape.constant(n), tape.constant(p)).sample(rng, 20000);
    require_sample_moments(values(from_probs), n * p, n * p * (1 - p), binomial_fourth_moment(n, p));
    const auto from_logits = Binomial<double>(tape.constant(n), tape.constant(std::log(p / (1 - p)))).sample(rng, 20000);
    require_sample_moments(values(from_logits), n * p, n * p * (1 - p), binomial_fourth_moment(n, p));
    for (const double k : values(from_logits)) REQUIRE((k == std::floor(k) && k >= 0 && k <= n));
  }
  // a zero count draws 0; extreme logits draw 0 or n; float draws are whole numbers too
  Tape<float> tf;
  const auto s = Binomial<float>(tf.constant(xt::xarray<float>{0.0f, 50.0f, 50.0f, 1e6f}),
                                 tf.constant(xt::xarray<float>{0.0f, -60.0f, 60.0f, 1.0f}))
                     .sample(rng, 100);
  for (std::size_t i = 0; i < 100; ++i) {
    CHECK(s.value()(i, 0) == 0.0f);
    CHECK(s.value()(i, 1) == 0.0f);
    CHECK(s.value()(i, 2) == 50.0f);
    CHECK(s.value()(i, 3) == std::floor(s.value()(i, 3)));
  }
}

TEST_CASE("Binomial: gradients of log_prob by finite differences", "[distributions]") {
  const xt::xarray<double> counts{{0.0, 3.0, 10.0}, {2.0, 7.0, 1.0}};
  require_gradient(
      [counts](Tape<double>& tape, const Vars& v) {
        return Binomial<double>(tape.constant(10.0), v[0]).log_prob(tape.constant(counts));
      },
      {random_array({2, 3}, -3, 3, 4111)});
  require_gradient(
      [counts](Tape<double>& tape, const Vars& v) {
        return Binomial<double>::with_probs(tape.constant(xt::xarray<double>{12.0, 10.0, 40.0}), v[0],
                                            {.group_ndims = 1})
            .log_prob(tape.constant(counts));
      },
      {random_array({3}, 0.1, 0.9, 4112)});
  require_gradient(
      [](Tape<double>& tape, const Vars& v) { return Binomial<double>(tape.constant(7.0), v[0]).mean(); },
      {random_array({3}, -3, 3, 4113)});
  Tape<double> tape;
  CHECK_FALSE(Binomial<double>(tape.constant(5.0), tape.variable(xt::xarray<double>{0.3}), {.use_path_derivative = true})
                  .log_prob(tape.constant(2.0))
                  .requires_grad());
}

TEST_CASE("Binomial: float gradients agree with double at large counts", "[distributions]") {
  Tape<float> tf;
  const auto lf = tf.variable(xt::xarray<float>{0.2f, -3.0f});
  tf.backward(sum(Binomial<float>(tf.constant(xt::xarray<float>{1e6f, 40.0f}), lf)
                      .log_prob(tf.constant(xt::xarray<float>{549834.0f, 2.0f}))));
  Tape<double> td;
  const auto ld = td.variable(xt::xarray<double>{0.2f, -3.0f});
  td.backward(sum(Binomial<double>(td.constant(xt::xarray<double>{1e6, 40.0}), ld)
                      .log_prob(td.constant(xt::xarray<double>{549834.0, 2.0}))));
  for (std::size_t i = 0; i < 2; ++i) CHECK(lf.grad()(i) == Approx(ld.grad()(i)).epsilon(1e-4).margin(1e-3));
}

TEST_CASE("Binomial: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto count = tape.constant(xt::xarray<double>{5.0, 8.0, 20.0});
  const auto logits = tape.variable(random_array({2, 1}, -2, 2, 4121));
  check_distribution_shapes([&](std::size_t g) { return Binomial<double>(count, logits, {.group_ndims = g}); }, {2, 3},
                            {}, {.mean = true, .finite_log_prob = true, .broadcast_given = xt::xarray<double>{0.0, 1.0, 2.0}});
}

TEST_CASE("Binomial: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto count = tape.constant(xt::xarray<double>{4.0, 6.0});
  const auto logits = tape.constant(xt::xarray<double>{0.0, std::log(3.0)});
  const Binomial<double> d(count, logits);
  require_values(d.mean(), {2.0, 4.5});
  require_values(d.probs(), {0.5, 0.75});
  require_values(Binomial<double>::with_probs(count, tape.constant(0.75)).logits(), {std::log(3.0)});
  CHECK(d.parameter("total_count").index() == count.index());
  CHECK(d.parameter("logits").index() == logits.index());
  REQUIRE_THROWS_MATCHES(d.parameter("n"), ArgumentError, Message("Binomial: no parameter 'n'"));
  REQUIRE_THROWS_MATCHES(Binomial<double>(tape.constant(2.5), logits), ArgumentError,
                         Message("Binomial: total_count must be a whole number >= 0, got 2.500000 at flat index 0 of "
                                 "shape []"));
  REQUIRE_THROWS_MATCHES(Binomial<double>(tape.constant(-1.0), logits), ArgumentError,
                         Message("Binomial: total_count must be a whole number >= 0, got -1.000000 at flat index 0 of "
                                 "shape []"));
  REQUIRE_THROWS_MATCHES(Binomial<double>(count, tape.constant(std::nan(""))), ArgumentError,
                         Message("Binomial: logits must be finite, got nan at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(Binomial<double>::with_probs(count, tape.constant(xt::xarray<double>{0.5, 1.0})), ArgumentError,
                         Message("Binomial: probs must be in the open interval (0, 1), got 1.000000 at flat index 1 "
                                 "of shape [2]"));
  REQUIRE_THROWS_MATCHES(Binomial<double>(count, tape.constant(xt::xarray<double>{1.0, 2.0, 3.0})), ShapeError,
                         Message("Binomial parameters: cannot broadcast shapes [2] and [3] (axis -1: 2 vs 3; sizes must "
                                 "be equal or 1)"));
}
