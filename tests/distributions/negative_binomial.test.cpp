#include "vaelib/distributions/negative_binomial.hpp"

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
NegativeBinomial<T> negative_binomial_of_case(Tape<T>& tape, const more_reference::Case& c) {
  return NegativeBinomial<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("NegativeBinomial: log_prob matches mpmath, ordinary and extreme parameters, double and float",
          "[distributions]") {
  more_reference::require_reference_log_probs<double>(more_reference::kNegativeBinomial, negative_binomial_of_case<double>, 1e-12);
  more_reference::require_reference_log_probs<float>(more_reference::kNegativeBinomial, negative_binomial_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto r = tape.variable(xt::xarray<double>{2.0});
  const auto logits = tape.variable(xt::xarray<double>{0.5});
  const NegativeBinomial<double> d(r, logits);
  CHECK(d.name() == "NegativeBinomial");
  CHECK(d.support().kind() == SupportKind::nonnegative_integer);
  CHECK_FALSE(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{-1.0, 1.5, inf, std::nan("")}));
  for (std::size_t i = 0; i < 3; ++i) CHECK(lp.value()(i) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(r.grad()(0) == 0.0);
  CHECK(logits.grad()(0) == 0.0);
}

TEST_CASE("NegativeBinomial: sample mean and variance", "[distributions]") {
  Tape<double> tape;
  Rng rng(4201);
  for (const auto& [r, l] : {std::pair{2.5, 0.3}, std::pair{0.5, -1.0}, std::pair{40.0, 2.0}, std::pair{1e4, -3.0}}) {
    INFO("r " << r << ", logits " << l);
    const double p = 1 / (1 + std::exp(-l));
    const double mean = r * std::exp(l), var = r * p / ((1 - p) * (1 - p));
    const double mu4 = var * var * (3 + 6 / r + (1 - p) * (1 - p) / (r * p));
    const auto s = NegativeBinomial<double>(tape.constant(r), tape.constant(l)).sample(rng, 40000);
    require_sample_moments(values(s), mean, var, mu4);
    for (const double k : values(s)) REQUIRE((k == std::floor(k) && k >= 0));
  }
}

TEST_CASE("NegativeBinomial: gradients of log_prob by finite differences", "[distributions]") {
  const xt::xarray<double> counts{{0.0, 3.0, 10.0}, {2.0, 70.0, 1.0}};
  require_gradient(
      [counts](Tape<double>& tape, const Vars& v) {
        return NegativeBinomial<double>(v[0], v[1]).log_prob(tape.constant(counts));
      },
      {random_array({2, 3}, 0.3, 5, 4211), random_array({2, 3}, -3, 3, 4212)});
  // large counts and r (the Stirling branch), broadcast parameters, group_ndims 1
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        return NegativeBinomial<double>(v[0], v[1], {.group_ndims = 1})
            .log_prob(tape.constant(xt::xarray<double>{30.0, 2e3, 5e5}));
      },
      {xt::xarray<double>{25.0, 1e3, 4e5}, random_array({2, 1}, -1, 1, 4213)});
  require_gradient([](Tape<double>&, const Vars& v) { return NegativeBinomial<double>(v[0], v[1]).mean(); },
                   {random_array({3}, 0.5, 3, 4214), random_array({3}, -2, 2, 4215)});
  Tape<double> tape;
  CHECK_FALSE(NegativeBinomial<double>(tape.variable(xt::xarray<double>{2.0}), tape.variable(xt::xarray<double>{0.3}),
                                       {.use_path_derivative = true})
                  .log_prob(tape.constant(2.0))
                  .requires_grad());
}

TEST_CASE("NegativeBinomial: float gradients agree with double", "[distributions]") {
  Tape<float> tf;
  const auto rf = tf.variable(xt::xarray<float>{2.5f, 1e5f});
  const auto lf = tf.variable(xt::xarray<float>{0.2f, -1.0f});
  tf.backward(sum(NegativeBinomial<float>(rf, lf).log_prob(tf.constant(xt::xarray<float>{3.0f, 36000.0f}))));
  Tape<double> td;
  const auto rd = td.variable(xt::xarray<double>{2.5, 1e5});
  const auto ld = td.variable(xt::xarray<double>{0.2f, -1.0});
  td.backward(sum(NegativeBinomial<double>(rd, ld).log_prob(td.constant(xt::xarray<double>{3.0, 36000.0}))));
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(rf.grad()(i) == Approx(rd.grad()(i)).epsilon(1e-4).margin(1e-4));
    CHECK(lf.grad()(i) == Approx(ld.grad()(i)).epsilon(1e-4).margin(1e-2));
  }
}

TEST_CASE("NegativeBinomial: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto r = tape.variable(xt::xarray<double>{0.5, 3.0, 20.0});
  const auto logits = tape.variable(random_array({2, 1}, -2, 2, 4221));
  check_distribution_shapes([&](std::size_t g) { return NegativeBinomial<double>(r, logits, {.group_ndims = g}); },
                            {2, 3}, {},
                            {.mean = true, .finite_log_prob = true, .broadcast_given = xt::xarray<double>{0.0, 1.0, 2.0}});
}

TEST_CASE("NegativeBinomial: mean, parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto r = tape.constant(xt::xarray<double>{4.0, 6.0});
  const auto logits = tape.constant(xt::xarray<double>{0.0, std::log(3.0)});
  const NegativeBinomial<double> d(r, logits);
  require_values(d.mean(), {4.0, 18.0});
  require_values(d.probs(), {0.5, 0.75});
  CHECK(d.parameter("total_count").index() == r.index());
  CHECK(d.parameter("logits").index() == logits.index());
  REQUIRE_THROWS_MATCHES(d.parameter("r"), ArgumentError, Message("NegativeBinomial: no parameter 'r'"));
  REQUIRE_THROWS_MATCHES(NegativeBinomial<double>(tape.constant(0.0), logits), ArgumentError,
                         Message("NegativeBinomial: total_count must be positive and finite, got 0.000000 at flat index 0 "
                                 "of shape []"));
  REQUIRE_THROWS_MATCHES(NegativeBinomial<double>(r, tape.constant(xt::xarray<double>{0.0, -std::numeric_limits<double>::infinity()})),
                         ArgumentError,
                         Message("NegativeBinomial: logits must be finite, got -inf at flat index 1 of shape [2]"));
}
