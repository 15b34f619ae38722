#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
Normal<double> make_normal(Tape<double>& tape, std::size_t group_ndims) {
  return Normal<double>::with_std(tape.constant(random_array({2, 3}, -1, 1, 1)), tape.constant(random_array({3}, 0.5, 2, 2)),
                                  {.group_ndims = group_ndims});
}
}  // namespace

TEST_CASE("distribution: sample and log_prob shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  // a given that broadcasts: [3] against batch [2, 3]
  check_distribution_shapes([&](std::size_t g) { return make_normal(tape, g); }, {2, 3}, {},
                            {.broadcast_given = xt::xarray<double>{0.1, 0.2, 0.3}});
}

TEST_CASE("distribution: group_ndims sums the last axes of the elementwise log_prob", "[distributions]") {
  Tape<double> tape;
  const auto x = tape.constant(random_array({4, 2, 3}, -1, 1, 3));
  const auto lp0 = make_normal(tape, 0).log_prob(x);
  const auto lp2 = make_normal(tape, 2).log_prob(x);
  const xt::xarray<double> expected = xt::sum(lp0.value(), {1, 2});
  require_close(lp2.value(), expected, 1e-12);
}

TEST_CASE("distribution: shape errors name the distribution and the shapes", "[distributions]") {
  Tape<double> tape;
  Rng rng(1);
  const Normal<double> d = make_normal(tape, 1);
  REQUIRE_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>(xt::zeros<double>({3, 5})))), ShapeError);
  REQUIRE_THROWS_WITH(d.log_prob(tape.constant(xt::xarray<double>(xt::zeros<double>({3, 5})))),
                      "Normal.log_prob: given has shape [3, 5], which does not broadcast with batch_shape [2, 3] + "
                      "value_shape [] (expected [...] + value_shape, the rest broadcasting)");
  REQUIRE_THROWS_WITH(Normal<double>::with_std(tape.constant(xt::xarray<double>{0.0}), tape.constant(1.0), {.group_ndims = 2}),
                      "distribution: group_ndims 2 is larger than the rank of batch_shape [1]");
  REQUIRE_THROWS_WITH(d.sample(rng, 0), "Normal.sample: n_samples must be at least 1");
  REQUIRE_THROWS_WITH(Normal<double>::with_std(tape.constant(xt::xarray<double>(xt::zeros<double>({2, 3}))),
                                               tape.constant(xt::xarray<double>(xt::ones<double>({3, 2})))),
                      Contains("Normal parameters: cannot broadcast shapes [2, 3] and [3, 2]"));
  REQUIRE_THROWS_WITH(d.parameter("rate"), "Normal: no parameter 'rate'");
}

TEST_CASE("distribution: accepts_shape is log_prob's shape check (value_shape last, the rest broadcasting)",
          "[distributions]") {
  Tape<double> tape;
  const Normal<double> d = make_normal(tape, 0);  // batch [2, 3], value []
  for (const Shape& ok : {Shape{2, 3}, Shape{3}, Shape{1, 3}, Shape{2, 1}, Shape{}, Shape{5, 2, 3}, Shape{4, 1, 1}}) {
    INFO(to_string(ok));
    CHECK(d.accepts_shape(ok));
    CHECK_NOTHROW(d.log_prob(tape.constant(xt::xarray<double>(xt::zeros<double>(ok)))));
  }
  for (const Shape& bad : {Shape{3, 5}, Shape{2}, Shape{4, 3, 3}, Shape{3, 2}}) {
    INFO(to_string(bad));
    CHECK_FALSE(d.accepts_shape(bad));
    CHECK_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>(xt::zeros<double>(bad)))), ShapeError);
  }
  // value_shape [4]: a given must end in exactly 4, whatever broadcasts before it
  const OnehotCategorical<double> c(tape.constant(random_array({2, 4}, -1, 1, 5)));
  CHECK(c.accepts_shape({2, 4}));
  CHECK(c.accepts_shape({7, 1, 4}));
  CHECK(c.accepts_shape({4}));
  CHECK_FALSE(c.accepts_shape({2, 1}));
  CHECK_FALSE(c.accepts_shape({2, 4, 1}));
  CHECK_FALSE(c.accepts_shape({}));
  CHECK_FALSE(c.accepts_shape({3, 4}));
}

TEST_CASE("distribution: the path derivative detaches the parameters in log_prob only", "[distributions]") {
  // With use_path_derivative, d log q(z) / d mean is zero when z is held fixed...
  Tape<double> tape;
  auto mean = tape.variable(xt::xarray<double>{0.5, -0.5});
  auto logstd = tape.variable(xt::xarray<double>{0.1, 0.2});
  const auto fixed = tape.constant(xt::xarray<double>{1.0, 2.0});
  const auto stl = Normal<double>::with_logstd(mean, logstd, {.use_path_derivative = true});
  CHECK_FALSE(stl.log_prob(fixed).requires_grad());
  // ...but a reparameterised sample still carries the gradient along its path.
  Rng rng(3);
  const auto z = stl.sample(rng);
  const auto lp = sum(stl.log_prob(z));
  tape.backward(lp);
  // log q(z) with parameters detached, z = m + s eps: d/dm = -(z - m)/s^2 * dz/dm = -eps/s
  const auto eps = (z.value() - mean.value()) / xt::exp(logstd.value());
  require_close(mean.grad(), xt::xarray<double>(-eps / xt::exp(logstd.value())), 1e-12);
}

TEST_CASE("distribution: each declares its support; continuous draws map to the reals and back through it (issue 21)",
          "[distributions]") {
  Tape<double> tape;
  Rng rng(2112);
  const auto c = [&](xt::xarray<double> v) { return tape.constant(std::move(v)); };
  const xt::xarray<double> logits{{0.3, -1.0, 2.0}, {0.0, 0.5, -0.5}};
  // draws of a constrained continuous distribution: the support's transform takes them to the
  // reals (finite) and back (the same draws)
  const auto check_continuous = [&](const Distribution<double>& d, SupportKind kind) {
    CAPTURE(d.name());
    const Support<double> support = d.support();
    CHECK(support.kind() == kind);
    const Var<double> draws = d.sample(rng, 50);
    const TransformPtr<double> to_support = bijector_to(support);
    const Var<double> free = to_support->inverse(draws);
    for (double v : xt::xarray<double>(free.value())) REQUIRE(std::isfinite(v));
    require_close(to_support->forward(free).value(), draws.value(), 1e-9);
  };
  check_continuous(Beta<double>(c({0.5, 2.0}), c({3.0, 0.7})), SupportKind::unit_interval);
  check_continuous(BinConcrete<double>(0.5, c({0.3, -2.0})), SupportKind::unit_interval);
  check_continuous(Concrete<double>(0.5, c(logits)), SupportKind::simplex);
  check_continuous(Uniform<double>(c({-1.0, 2.0}), c({0.5, 9.0})), SupportKind::interval);
  check_continuous(Gamma<double>(c({0.7, 3.0}), c({2.0, 0.5})), SupportKind::positive);
  check_continuous(InverseGamma<double>(c({2.5, 3.0}), c({1.0, 0.5})), SupportKind::positive);
  check_continuous(Exponential<double>(c({0.5, 4.0})), SupportKind::positive);
  check_continuous(HalfNormal<double>(c({0.5, 4.0})), SupportKind::positive);
  check_continuous(HalfCauchy<double>(c({0.5, 4.0})), SupportKind::positive);
  check_continuous(LogNormal<double>(c({0.0, 1.0}), c({0.5, 0.3})), SupportKind::positive);
  check_continuous(Weibull<double>(c({1.0, 2.0}), c({0.8, 3.0})), SupportKind::positive);
  check_continuous(FoldNormal<double>::with_std(c({0.5, -1.0}), c({1.0, 0.3})), SupportKind::positive);
  check_continuous(Pareto<double>(c({1.0, 2.5}), c({3.0, 5.0})), SupportKind::greater_than);

  // discrete supports: reported, and refused by bijector_to (no transform from the reals)
  const auto check_discrete = [&](const Distribution<double>& d, SupportKind kind) {
    CAPTURE(d.name());
    CHECK(d.support().kind() == kind);
    CHECK_THROWS_AS(bijector_to(d.support()), ArgumentError);
  };
  check_discrete(Bernoulli<double>(c({0.3, -2.0})), SupportKind::boolean);
  check_discrete(Categorical<double>(c(logits)), SupportKind::integer_interval);
  CHECK(Categorical<double>(c(logits)).support().upper().scalar() == 2.0);
  check_discrete(OnehotCategorical<double>(c(logits)), SupportKind::one_hot);
  check_discrete(Poisson<double>(c({0.5, 4.0})), SupportKind::nonnegative_integer);
  check_discrete(Geometric<double>(c({0.5, -1.0})), SupportKind::nonnegative_integer);
}
