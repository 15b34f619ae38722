#include <cmath>

#include "support/statistics.hpp"
#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {
std::unique_ptr<Distribution<double>> transformed_distribution_normal(Tape<double>& tape,
                                                                      const xt::xarray<double>& mean, double std,
                                                                      DistributionOptions options = {}) {
  return std::make_unique<Normal<double>>(Normal<double>::with_std(tape.constant(mean), tape.constant(std), options));
}
}  // namespace

TEST_CASE("TransformedDistribution: log_prob = base log_prob at the inverse minus log|det J|", "[transforms]") {
  Tape<double> tape;
  const xt::xarray<double> m{{0.1, -0.3, 0.5}, {1.0, 0.0, -1.0}};
  const TransformedDistribution<double> d(transformed_distribution_normal(tape, m, 0.6),
                                          std::make_shared<ExpTransform<double>>(), {.group_ndims = 1});
  CHECK(d.name() == "TransformedDistribution");
  CHECK(d.batch_shape() == Shape{2, 3});
  CHECK(d.value_shape() == Shape{});
  CHECK(d.support().kind() == SupportKind::positive);
  CHECK(d.is_reparameterized());
  const xt::xarray<double> y = xt::exp(random_array({5, 2, 3}, -1.0, 1.0, 61));
  const xt::xarray<double> lp = d.log_prob(tape.constant(y)).value();
  REQUIRE(lp.shape()[0] == 5);
  REQUIRE(lp.shape()[1] == 2);
  const xt::xarray<double> z = (xt::log(y) - m) / 0.6;
  const xt::xarray<double> expected =
      xt::sum(-0.5 * z * z - std::log(0.6) - 0.5 * std::log(2 * M_PI) - xt::log(y), {2});
  require_close(lp, expected, 1e-12);
  // Gradients in y and in the base's parameters.
  require_gradient(
      [](Tape<double>&, const Vars& in) {
        const TransformedDistribution<double> e(
            std::make_unique<Normal<double>>(Normal<double>::with_std(in[0], in[1])),
            std::make_shared<SoftplusTransform<double>>());
        return e.log_prob(in[2]);
      },
      {xt::xarray<double>{0.2, -0.4}, xt::xarray<double>{0.8, 1.3}, xt::xarray<double>{{0.5, 2.0}, {1.5, 0.1}}});
}

TEST_CASE("TransformedDistribution: events from a vector transform, a vector base, and the base's group_ndims",
          "[transforms]") {
  Tape<double> tape;
  // Stick-breaking takes the base's last batch axis into the event: [4, 2] normals onto 4 points of the 3-simplex.
  const TransformedDistribution<double> simplex(transformed_distribution_normal(tape, xt::zeros<double>({4, 2}), 1.0),
                                                std::make_shared<StickBreakingTransform<double>>());
  CHECK(simplex.batch_shape() == Shape{4});
  CHECK(simplex.value_shape() == Shape{3});
  CHECK(simplex.support().kind() == SupportKind::simplex);
  Rng rng(5);
  const auto draws = simplex.sample(rng, 6);
  REQUIRE(draws.shape() == Shape{6, 4, 3});
  CHECK(xt::allclose(xt::sum(draws.value(), {2}), 1.0, 1e-14, 1e-14));
  CHECK(simplex.log_prob(draws).shape() == Shape{6, 4});

  // Exp of a multivariate normal keeps the base's vector event.
  const MultivariateNormalCholesky<double>* raw = nullptr;
  auto mvn = std::make_unique<MultivariateNormalCholesky<double>>(
      tape.constant(xt::xarray<double>{0.2, -0.1}), tape.constant(xt::xarray<double>{{0.7, 0.0}, {0.3, 0.5}}));
  raw = mvn.get();
  const TransformedDistribution<double> log_mvn(std::move(mvn), std::make_shared<ExpTransform<double>>());
  CHECK(log_mvn.batch_shape() == Shape{});
  CHECK(log_mvn.value_shape() == Shape{2});
  CHECK(log_mvn.support().describe() == "positive (1 event axes)");
  const xt::xarray<double> y{{0.5, 1.2}, {2.0, 0.3}};
  const auto yv = tape.constant(y);
  const xt::xarray<double> expected = raw->log_prob(log(yv)).value() - xt::sum(xt::log(y), {1});
  require_close(log_mvn.log_prob(yv).value(), expected, 1e-12);

  // A base whose group_ndims already sums its last axis: that axis is part of the event.
  const TransformedDistribution<double> grouped(
      transformed_distribution_normal(tape, xt::zeros<double>({3}), 1.0, {.group_ndims = 1}),
      std::make_shared<SigmoidTransform<double>>());
  CHECK(grouped.batch_shape() == Shape{});
  CHECK(grouped.value_shape() == Shape{3});
  CHECK(grouped.log_prob(tape.constant(xt::xarray<double>{0.2, 0.5, 0.9})).shape() == Shape{});
}

TEST_CASE("TransformedDistribution: reparameterised samples, their moments, and the path derivative", "[transforms]") {
  Tape<double> tape;
  const double m = 0.3, s = 0.5;
  const auto loc = tape.variable(xt::xarray<double>{m});
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(loc, tape.constant(s))),
      std::make_shared<ExpTransform<double>>());
  Rng rng(11);
  const std::size_t n = 40000;
  const auto draws = d.sample(rng, n);
  REQUIRE(draws.shape() == Shape{n, 1});
  CHECK(xt::all(draws.value() > 0.0));
  std::vector<double> values(draws.data(), draws.data() + n);
  const auto raw = [&](double k) { return std::exp(k * m + k * k * s * s / 2); };
  const double e1 = raw(1), e2 = raw(2), e3 = raw(3), e4 = raw(4);
  require_sample_moments(values, e1, e2 - e1 * e1, e4 - 4 * e3 * e1 + 6 * e2 * e1 * e1 - 3 * e1 * e1 * e1 * e1);
  // d/dm of the sample mean is the sample mean itself (y = exp(m + s eps)).
  tape.backward(mean(draws));
  CHECK(loc.grad()(0) == Approx(xt::mean(draws.value())()).epsilon(1e-12));
  // With detached parameters the log-density does not reach the base's mean.
  tape.clear();
  const auto mean2 = tape.variable(xt::xarray<double>{m});
  const TransformedDistribution<double> d2(
      std::make_unique<Normal<double>>(Normal<double>::with_std(mean2, tape.constant(s))),
      std::make_shared<ExpTransform<double>>());
  const auto lp = d2.log_prob(tape.constant(xt::xarray<double>{1.5}), true);
  CHECK_FALSE(lp.requires_grad());
}

TEST_CASE("TransformedDistribution: a base too small for the transform, or nulls, are refused", "[transforms]") {
  Tape<double> tape;
  CHECK_THROWS_WITH(TransformedDistribution<double>(transformed_distribution_normal(tape, xt::xarray<double>(0.0), 1.0),
                                                    std::make_shared<StickBreakingTransform<double>>()),
                    Catch::Contains("TransformedDistribution: StickBreakingTransform acts on the last 1 axes") &&
                        Catch::Contains("Normal has batch_shape + value_shape []"));
  CHECK_THROWS_WITH(TransformedDistribution<double>(nullptr, std::make_shared<ExpTransform<double>>()),
                    Catch::Contains("the base distribution is null"));
  CHECK_THROWS_WITH(
      TransformedDistribution<double>(transformed_distribution_normal(tape, xt::zeros<double>({2}), 1.0), nullptr),
      Catch::Contains("the transform is null"));
}

TEST_CASE("TransformedDistribution: values outside the codomain or on its edge give -inf, NaN values NaN",
          "[transforms]") {
  Tape<double> tape;
  const TransformedDistribution<double> positive(transformed_distribution_normal(tape, xt::zeros<double>({4}), 1.0),
                                                 std::make_shared<ExpTransform<double>>());
  const xt::xarray<double> lp = positive.log_prob(tape.constant(xt::xarray<double>{-1.0, 0.0, NAN, 2.0})).value();
  CHECK(lp(0) == -INFINITY);
  CHECK(lp(1) == -INFINITY);
  CHECK(std::isnan(lp(2)));
  CHECK(std::isfinite(lp(3)));
  const TransformedDistribution<double> ordered(transformed_distribution_normal(tape, xt::zeros<double>({2, 3}), 1.0),
                                                std::make_shared<OrderedTransform<double>>());
  const xt::xarray<double> lo =
      ordered.log_prob(tape.constant(xt::xarray<double>{{0.0, -1.0, 2.0}, {0.0, 1.0, NAN}})).value();
  CHECK(lo(0) == -INFINITY);
  CHECK(std::isnan(lo(1)));
  const TransformedDistribution<double> simplex(transformed_distribution_normal(tape, xt::zeros<double>({2}), 1.0),
                                                std::make_shared<StickBreakingTransform<double>>());
  CHECK(simplex.log_prob(tape.constant(xt::xarray<double>{0.5, 0.6, -0.1})).item() == -INFINITY);
  CHECK(simplex.log_prob(tape.constant(xt::xarray<double>{0.0, 0.5, 0.5})).item() == -INFINITY);
  // The gradient of an in-support entry is untouched by an -inf neighbour's.
  const auto y = tape.variable(xt::xarray<double>{-1.0, 2.0, 0.5, 1.0});
  tape.backward(
      sum(where(tape.constant(xt::xarray<double>{0.0, 1.0, 1.0, 1.0}), positive.log_prob(y), tape.zeros({4}))));
  const double v = 2.0;
  CHECK(y.grad()(1) == Approx(-std::log(v) / v - 1 / v));
}
