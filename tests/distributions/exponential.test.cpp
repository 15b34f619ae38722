#include "vaelib/distributions/exponential.hpp"

#include <cmath>
#include <limits>

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
Exponential<T> exponential_of_case(Tape<T>& tape, const reference::Case& c) {
  return Exponential<T>(tape.constant(T(c.p[0])));
}
}  // namespace

TEST_CASE("Exponential: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  reference::require_reference_log_probs<double>(reference::kExponential, exponential_of_case<double>, 1e-12);
  reference::require_reference_log_probs<float>(reference::kExponential, exponential_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto rate = tape.variable(xt::xarray<double>{2.0});
  const Exponential<double> d(rate);
  CHECK(d.name() == "Exponential");
  CHECK(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-1.0, inf, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(std::isnan(lp.value()(2)));
  tape.backward(sum(slice(lp, 0, 0, 2)));
  CHECK(rate.grad()(0) == 0.0);
}

TEST_CASE("Exponential: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(2601);
  const double r = 2.0;
  const auto draws = Exponential<double>(tape.constant(r)).sample(rng, 40000);
  require_sample_moments(values(draws), 1 / r, 1 / (r * r), 9 / (r * r * r * r));
  Tape<float> tf;
  const auto small = Exponential<float>(tf.constant(1e-30f)).sample(rng, 100);  // large draws stay finite
  for (std::size_t i = 0; i < small.size(); ++i) CHECK(std::isfinite(small.data()[i]));
}

TEST_CASE("Exponential: gradients of log_prob and of reparameterised samples by finite differences; shapes for "
          "group_ndims 0/1/2 and n_samples none/1/k",
          "[distributions]") {
  require_one_parameter_gradients_and_shapes<Exponential>(2611, {.parameter_low = 0.5, .parameter_high = 3});
}

TEST_CASE("Exponential: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto rate = tape.constant(xt::xarray<double>{0.5, 4.0});
  const Exponential<double> d(rate);
  require_values(d.mean(), {2.0, 0.25});
  CHECK(d.parameter("rate").index() == rate.index());
  REQUIRE_THROWS_MATCHES(d.parameter("scale"), ArgumentError, Message("Exponential: no parameter 'scale'"));
  REQUIRE_THROWS_MATCHES(Exponential<double>(tape.constant(0.0)), ArgumentError,
                         Message("Exponential: rate must be positive and finite, got 0.000000 at flat index 0 of shape "
                                 "[]"));
}
