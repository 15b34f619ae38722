#include "vaelib/distributions/improper_uniform.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "vaelib/bayesian_net/bayesian_net.hpp"
#include "vaelib/mcmc/model_density.hpp"

using namespace vaelib;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;

namespace {

constexpr double improper_uniform_inf = std::numeric_limits<double>::infinity();

// log_prob of each value in `values` (one value per row of the given shape).
std::vector<double> improper_uniform_log_probs(const ImproperUniform<double>& d, const xt::xarray<double>& values) {
  const Var<double> lp = d.log_prob(d.tape().constant(values));
  return std::vector<double>(lp.data(), lp.data() + lp.size());
}

}  // namespace

TEST_CASE("ImproperUniform: log_prob is 0 on the support, -inf outside, NaN for NaN (scalar supports)",
          "[distributions]") {
  Tape<double> tape;
  const double nan = std::nan("");
  const xt::xarray<double> x{-2.0, 0.0, 0.5, 1.0, 3.0, improper_uniform_inf, nan};
  const ImproperUniform<double> real(tape, Support<double>::real(), Shape{7});
  CHECK(improper_uniform_log_probs(real, x)[0] == 0.0);
  CHECK(improper_uniform_log_probs(real, x)[4] == 0.0);
  CHECK(improper_uniform_log_probs(real, x)[5] == -improper_uniform_inf);
  CHECK(std::isnan(improper_uniform_log_probs(real, x)[6]));

  const auto expect = [&](Support<double> support, std::vector<double> wanted) {
    INFO(support.describe());
    const ImproperUniform<double> d(tape, support, Shape{7});
    const std::vector<double> lp = improper_uniform_log_probs(d, x);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      INFO("value " << x(i));
      CHECK(lp[i] == wanted[i]);
    }
    CHECK(std::isnan(lp[6]));
  };
  const double o = -improper_uniform_inf;
  expect(Support<double>::positive(), {o, o, 0, 0, 0, o});
  expect(Support<double>::greater_than(0.5), {o, o, o, 0, 0, o});
  expect(Support<double>::less_than(1.0), {0, 0, 0, o, o, o});
  expect(Support<double>::unit_interval(), {o, o, 0, o, o, o});
  expect(Support<double>::interval(-3.0, 1.0), {0, 0, 0, o, o, o});
  expect(Support<double>::nonnegative_integer(), {o, 0, o, 0, 0, o});
}

TEST_CASE("ImproperUniform: the vector and matrix supports judge each value whole", "[distributions]") {
  Tape<double> tape;
  const double o = -improper_uniform_inf;
  const ImproperUniform<double> ordered(tape, Support<double>::ordered(), Shape{3});
  CHECK(ordered.batch_shape() == Shape{});
  CHECK(ordered.value_shape() == Shape{3});
  CHECK(improper_uniform_log_probs(ordered, xt::xarray<double>{{-1.0, 0.0, 2.0}, {-1.0, 2.0, 0.0}, {1.0, 1.0, 2.0}}) ==
        std::vector<double>{0, o, o});

  const ImproperUniform<double> simplex(tape, Support<double>::simplex(), Shape{3});
  CHECK(improper_uniform_log_probs(simplex, xt::xarray<double>{{0.2, 0.3, 0.5}, {0.2, 0.3, 0.6}, {-0.1, 0.6, 0.5}}) ==
        std::vector<double>{0, o, o});

  const ImproperUniform<double> cholesky(tape, Support<double>::lower_cholesky(), Shape{2, 2});
  CHECK(cholesky.value_shape() == Shape{2, 2});
  CHECK(improper_uniform_log_probs(
            cholesky,
            xt::xarray<double>{{{1.0, 0.0}, {-3.0, 2.0}}, {{1.0, 0.5}, {-3.0, 2.0}}, {{1.0, 0.0}, {-3.0, -2.0}}}) ==
        std::vector<double>{0, o, o});
  const double c = std::sqrt(0.5);
  const ImproperUniform<double> correlation(tape, Support<double>::correlation_cholesky(), Shape{2, 2});
  CHECK(improper_uniform_log_probs(correlation, xt::xarray<double>{{{1.0, 0.0}, {c, c}}, {{1.0, 0.0}, {c, 0.5}}}) ==
        std::vector<double>{0, o});
}

TEST_CASE("ImproperUniform: shapes follow the batch and value axes; group_ndims and leading sample axes",
          "[distributions]") {
  Tape<double> tape;
  const ImproperUniform<double> positive(tape, Support<double>::positive(), Shape{4, 3});
  CHECK(positive.batch_shape() == Shape{4, 3});
  CHECK(positive.value_shape() == Shape{});
  CHECK(positive.log_prob(tape.full({5, 4, 3}, 1.0)).shape() == Shape{5, 4, 3});
  CHECK(positive.log_prob(tape.full({3}, 1.0)).shape() == Shape{4, 3});  // broadcast with the batch

  const ImproperUniform<double> grouped(tape, Support<double>::positive(), Shape{4, 3}, {.group_ndims = 2});
  const Var<double> lp = grouped.log_prob(tape.full({4, 3}, 2.0));
  CHECK(lp.shape() == Shape{});
  CHECK(lp.item() == 0.0);
  CHECK(grouped.log_prob(tape.constant(xt::xarray<double>{{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, -1, 1}})).item() ==
        -improper_uniform_inf);

  const ImproperUniform<double> ordered(tape, Support<double>::ordered(), Shape{4, 2});
  CHECK(ordered.batch_shape() == Shape{4});
  CHECK(ordered.value_shape() == Shape{2});
  CHECK(ordered.log_prob(tape.zeros({6, 4, 2})).shape() == Shape{6, 4});
}

TEST_CASE("ImproperUniform: a bound that is a tensor (beta1 in (0, 1 - alpha1)), elementwise and broadcast",
          "[distributions]") {
  Tape<double> tape;
  const Var<double> alpha = tape.variable(xt::xarray<double>{0.25, 0.75});
  const ImproperUniform<double> beta(tape, Support<double>::interval(0.0, 1.0 - alpha), Shape{2});
  CHECK(improper_uniform_log_probs(beta, xt::xarray<double>{0.5, 0.5}) ==
        std::vector<double>{0, -improper_uniform_inf});
  CHECK(improper_uniform_log_probs(beta, xt::xarray<double>{{0.7, 0.2}, {0.8, 0.1}}) ==
        std::vector<double>{0, 0, -improper_uniform_inf, 0});
  CHECK(beta.support().kind() == SupportKind::interval);
  CHECK(beta.support().upper().is_var());

  // The density is flat: no gradient reaches the value or the bound (x and alpha are added
  // once, so each gets exactly 1).
  const Var<double> x = tape.variable(xt::xarray<double>{0.5, 0.1});
  tape.backward(sum(beta.log_prob(x)) + sum(x) + sum(alpha));
  CHECK(x.grad()(0) == 1.0);
  CHECK(x.grad()(1) == 1.0);
  CHECK(alpha.grad()(0) == 1.0);
}

TEST_CASE("ImproperUniform: name, support, not reparameterised; sampling is refused", "[distributions]") {
  Tape<double> tape;
  Rng rng(1);
  const ImproperUniform<double> d(tape, Support<double>::greater_than(2.0), Shape{3});
  CHECK(d.name() == "ImproperUniform");
  CHECK_FALSE(d.is_reparameterized());
  CHECK(d.support().kind() == SupportKind::greater_than);
  CHECK(d.support().lower().scalar() == 2.0);
  CHECK_THROWS_MATCHES(d.sample(rng), ArgumentError,
                       Message("ImproperUniform.sample: the flat density on greater_than(2) is improper (its integral "
                               "is infinite) and cannot be sampled; give the node a value: observe it, or let an MCMC "
                               "sampler (mcmc::ModelDensity) set it"));
  CHECK_THROWS_AS(d.sample(rng, 4), ArgumentError);

  // A latent of a BayesianNet with no value to take: the same message, at the node.
  BayesianNet<double> bn(tape, rng);
  CHECK_THROWS_WITH(bn.add<ImproperUniform<double>>("sigma", {}, tape, Support<double>::positive(), Shape{}),
                    Contains("cannot be sampled"));
}

TEST_CASE("ImproperUniform: bad shapes and bounds are refused, naming them; a bound on another tape too",
          "[distributions]") {
  Tape<double> tape;
  CHECK_THROWS_MATCHES(ImproperUniform<double>(tape, Support<double>::lower_cholesky(), Shape{3}), ShapeError,
                       Message("ImproperUniform: the shape [3] has fewer axes than the support lower_cholesky's event "
                               "rank 2"));
  CHECK_THROWS_AS(ImproperUniform<double>(tape, Support<double>::interval(0.0, tape.full({4}, 1.0)), Shape{3}),
                  ShapeError);
  Tape<double> other;
  CHECK_THROWS_AS(ImproperUniform<double>(tape, Support<double>::greater_than(other.constant(0.0)), Shape{}),
                  TapeError);
}

TEST_CASE("ImproperUniform: as a model's flat prior, the sampler's density is the transforms' log-Jacobians alone",
          "[distributions]") {
  // alpha1 in (0, 1) and beta1 in (0, 1 - alpha1), both flat (posteriordb's garch11): on the
  // reals log p(u) = log sigmoid'(u_a) + log(1 - alpha1) + log sigmoid'(u_b).
  auto model = [](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> alpha1 =
        bn.add<ImproperUniform<double>>("alpha1", {}, tape, Support<double>::unit_interval(), Shape{});
    bn.add<ImproperUniform<double>>("beta1", {}, tape, Support<double>::interval(0.0, 1.0 - alpha1), Shape{});
  };
  mcmc::ModelDensity<double> density(model, {});
  REQUIRE(density.dimension() == 2);
  const auto log_sigmoid_derivative = [](double u) { return -std::log1p(std::exp(-u)) - std::log1p(std::exp(u)); };
  for (const std::vector<double>& u : std::vector<std::vector<double>>{{0.0, 0.0}, {1.5, -2.0}, {-3.0, 4.0}}) {
    const double alpha1 = 1 / (1 + std::exp(-u[0]));
    CHECK(density.log_density(u) ==
          Approx(log_sigmoid_derivative(u[0]) + std::log(1 - alpha1) + log_sigmoid_derivative(u[1])).epsilon(1e-12));
  }
}
