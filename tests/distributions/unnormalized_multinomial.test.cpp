#include "vaelib/distributions/unnormalized_multinomial.hpp"

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
UnnormalizedMultinomial<T> unnormalized_multinomial_of_case(Tape<T>& tape, const more_reference::Case& c) {
  return UnnormalizedMultinomial<T>(more_reference::case_array(tape, c, 0, {c.n_array}));
}
}  // namespace

TEST_CASE("UnnormalizedMultinomial: log_prob matches mpmath, double and float", "[distributions]") {
  more_reference::require_reference_log_probs<double>(more_reference::kUnnormalizedMultinomial,
                                                 unnormalized_multinomial_of_case<double>, 1e-12);
  more_reference::require_reference_log_probs<float>(more_reference::kUnnormalizedMultinomial,
                                                unnormalized_multinomial_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto logits = tape.variable(xt::xarray<double>{0.5, -0.2, 1.0});
  const UnnormalizedMultinomial<double> d(logits);
  CHECK(d.name() == "UnnormalizedMultinomial");
  CHECK(d.support().event_rank() == 1);
  CHECK_FALSE(d.is_reparameterized());
  CHECK(d.value_shape() == Shape{3});
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{{-1, 3, 2}, {inf, 0, 0}, {1, std::nan(""), 3}, {0.5, 4, 0}}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(std::isnan(lp.value()(2)));
  CHECK(std::isfinite(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 2)));
  CHECK(xt::all(xt::equal(logits.grad(), 0.0)));
}

TEST_CASE("UnnormalizedMultinomial: Multinomial's log_prob less the multinomial coefficient", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(random_array({2, 4}, -2, 2, 4501));
  const xt::xarray<double> counts{{3, 0, 5, 2}, {1, 1, 1, 7}};
  const auto unnormalized = UnnormalizedMultinomial<double>(logits).log_prob(tape.constant(counts));
  const auto normalized = Multinomial<double>(tape.constant(10.0), logits).log_prob(tape.constant(counts));
  for (std::size_t b = 0; b < 2; ++b) {
    double log_coefficient = std::lgamma(11.0);
    for (std::size_t j = 0; j < 4; ++j) log_coefficient -= std::lgamma(counts(b, j) + 1);
    CHECK(normalized.value()(b) - unnormalized.value()(b) == Approx(log_coefficient).epsilon(1e-13));
  }
}

TEST_CASE("UnnormalizedMultinomial: gradients of log_prob by finite differences, in the logits and the counts",
          "[distributions]") {
  require_gradient(
      [](Tape<double>&, const Vars& v) { return UnnormalizedMultinomial<double>(v[0], {.group_ndims = 1}).log_prob(v[1]); },
      {random_array({2, 1, 3}, -2, 2, 4511), random_array({2, 3}, 0.1, 5, 4512)});
}

TEST_CASE("UnnormalizedMultinomial: shapes for group_ndims 0/1/2, and sampling refused", "[distributions]") {
  Tape<double> tape;
  const UnnormalizedMultinomial<double> d(tape.variable(random_array({2, 3, 4}, -2, 2, 4521)), {.group_ndims = 1});
  CHECK(d.batch_shape() == Shape{2, 3});
  CHECK(d.value_shape() == Shape{4});
  CHECK(d.log_prob(tape.constant(xt::xarray<double>{1, 2, 0, 2})).shape() == Shape{2});
  CHECK(d.log_prob(tape.constant(random_array({5, 2, 3, 4}, 0, 3, 4522))).shape() == Shape{5, 2});
  Rng rng(4523);
  REQUIRE_THROWS_MATCHES(d.sample(rng), ArgumentError,
                         Message("UnnormalizedMultinomial.sample: cannot sample, the distribution has no total count (it "
                                 "scores counts of any total); use Multinomial(total_count, logits) to draw counts"));
  REQUIRE_THROWS_MATCHES(UnnormalizedMultinomial<double>(tape.constant(xt::xarray<double>{0.0, std::nan("")})),
                         ArgumentError,
                         Message("UnnormalizedMultinomial: logits must be finite, got nan at flat index 1 of shape [2]"));
  CHECK(d.parameter("logits").shape() == Shape{2, 3, 4});
}
