#include "vaelib/distributions/multivariate_normal_cholesky.hpp"

#include <cmath>

#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Contains;

namespace {
using MVN = MultivariateNormalCholesky<double>;

const xt::xarray<double> L1 = {{1.2, 0.0, 0.0}, {0.3, 0.8, 0.0}, {-0.5, 0.4, 1.5}};
const xt::xarray<double> L2 = {{0.5, 0.0, 0.0}, {-1.0, 2.0, 0.0}, {0.25, 0.1, 0.3}};

/// The two factors stacked: [2, 3, 3].
xt::xarray<double> stacked_factors() { return xt::stack(xt::xtuple(L1, L2)); }

/// A lower-triangular factor from any matrix [..., d, d]: its lower triangle, the diagonal
/// made positive (so that finite differences can perturb every element of the input).
Var<double> as_cov_tril(Tape<double>& tape, const Var<double>& a) {
  const std::size_t d = a.shape().back();
  xt::xarray<double> lower = xt::zeros<double>({d, d});
  xt::xarray<double> diagonal = xt::zeros<double>({d, d});
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j <= i; ++j) (i == j ? diagonal : lower)(i, j) = 1.0;
  return a * tape.constant(lower) + exp(a) * tape.constant(diagonal);
}

/// Random factors [..., d, d]: strict lower triangle in [-0.5, 0.5), diagonal in [0.5, 1.5).
xt::xarray<double> random_factor(const Shape& shape, std::uint32_t seed) {
  xt::xarray<double> l = random_array(shape, -0.5, 0.5, seed);
  const std::size_t d = shape.back();
  for (std::size_t i = 0; i < l.size(); ++i) {
    const std::size_t r = (i / d) % d, c = i % d;
    if (c > r) l.data()[i] = 0;
    if (c == r) l.data()[i] += 1.0;
  }
  return l;
}
}  // namespace

TEST_CASE("multivariate_normal_cholesky: log_prob matches reference values", "[distributions]") {
  Tape<double> tape;
  const MVN d(tape.constant(xt::xarray<double>{0.1, -0.2, 0.3}), tape.constant(stacked_factors()));
  CHECK(d.batch_shape() == Shape{2});
  CHECK(d.value_shape() == Shape{3});
  // Two points [2, 1, 3] against the batch of two factors: [2, 2]. Computed independently
  // with mpmath from the covariance S = L L^T: -3/2 log(2 pi) - 1/2 log det S - 1/2 r^T S^{-1} r
  const auto x = tape.constant(xt::xarray<double>{{{0.5, 0.1, -1.0}}, {{-2.0, 3.0, 0.7}}});
  const xt::xarray<double> expected = {{-3.5462889601155076, -15.457565017510305},
                                       {-16.707242133340817, -22.997842795288083}};
  const auto lp = d.log_prob(x);
  REQUIRE(lp.shape() == Shape{2, 2});
  CHECK(xt::allclose(lp.value(), expected, 1e-6, 0));
  CHECK(d.is_reparameterized());
  CHECK(std::string(d.name()) == "MultivariateNormalCholesky");
}

TEST_CASE("multivariate_normal_cholesky: d = 1 and diagonal factors agree with Normal", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.constant(xt::xarray<double>{0.4, -1.0, 2.0});
  const xt::xarray<double> stds = {0.5, 1.5, 3.0};
  const auto x = tape.constant(xt::xarray<double>{1.0, 0.2, -0.7});
  const auto normal = Normal<double>::with_std(mean, tape.constant(stds), {.group_ndims = 1});
  const MVN diagonal(mean, tape.constant(xt::xarray<double>(xt::diag(stds))));
  CHECK(diagonal.log_prob(x).item() == Approx(normal.log_prob(x).item()).epsilon(1e-12));
  CHECK(diagonal.entropy().item() == Approx(normal.entropy().item()).epsilon(1e-12));
  // d = 1: N(0.4, 0.5^2) at 1.0
  const MVN one(tape.constant(xt::xarray<double>{0.4}),
                tape.constant(xt::xarray<double>(0.5 * xt::ones<double>({1, 1}))));
  CHECK(one.log_prob(tape.constant(xt::xarray<double>{1.0})).item() ==
        Approx(-0.5 * std::log(2 * M_PI) - std::log(0.5) - 0.5 * (0.6 / 0.5) * (0.6 / 0.5)).epsilon(1e-12));
}

TEST_CASE("multivariate_normal_cholesky: sample mean and covariance within 4 standard errors", "[distributions]") {
  Tape<double> tape;
  Rng rng(51);
  const xt::xarray<double> mean = {0.1, -0.2, 0.3};
  const MVN d(tape.constant(mean), tape.constant(stacked_factors()));
  const std::size_t n = 20000;
  const auto s = d.sample(rng, n).value();
  REQUIRE(s.shape() == std::vector<std::size_t>{n, 2, 3});
  // mpmath: S = L L^T for each factor
  const xt::xarray<double> cov = {{{1.44, 0.36, -0.6}, {0.36, 0.73, 0.17}, {-0.6, 0.17, 2.66}},
                                  {{0.25, -0.5, 0.125}, {-0.5, 5.0, -0.05}, {0.125, -0.05, 0.1625}}};
  for (std::size_t b = 0; b < 2; ++b) {
    for (std::size_t i = 0; i < 3; ++i) {
      INFO("batch " << b << ", component " << i);
      const auto xi = xt::view(s, xt::all(), b, i);
      const double mi = xt::mean(xi)();
      CHECK(std::abs(mi - mean(i)) < 4 * std::sqrt(cov(b, i, i) / double(n)));
      for (std::size_t j = 0; j <= i; ++j) {
        INFO("covariance entry " << i << ", " << j);
        const auto xj = xt::view(s, xt::all(), b, j);
        const double c = xt::mean((xi - mi) * (xj - xt::mean(xj)()))();
        // For a Gaussian, Var(sample covariance) ~ (S_ii S_jj + S_ij^2) / n
        const double se = std::sqrt((cov(b, i, i) * cov(b, j, j) + cov(b, i, j) * cov(b, i, j)) / double(n));
        CHECK(std::abs(c - cov(b, i, j)) < 4 * se);
      }
    }
  }
}

TEST_CASE("multivariate_normal_cholesky: reparameterised samples have correct gradients", "[distributions]") {
  // mean [2, 3] and factor [3, 3] (broadcast), n_samples 4
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        Rng rng(5);  // the same draw at every evaluation
        return MVN(v[0], as_cov_tril(tape, v[1])).sample(rng, 4);
      },
      {random_array({2, 3}, -1, 1, 1), random_array({3, 3}, -0.5, 0.5, 2)});
  // a batch of factors [2, 2, 2] with a shared mean [2], no n_samples
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        Rng rng(6);
        return MVN(v[0], as_cov_tril(tape, v[1])).sample(rng);
      },
      {random_array({2}, -1, 1, 3), random_array({2, 2, 2}, -0.5, 0.5, 4)});
  // The sample is mean + L eps, checked directly: d sum(x) / d mean = n_samples per element.
  Tape<double> tape;
  Rng rng(7);
  const auto mean = tape.variable(xt::xarray<double>{0.0, 0.0});
  tape.backward(sum(MVN(mean, tape.constant(xt::xarray<double>{{1.0, 0.0}, {0.5, 2.0}})).sample(rng, 3)));
  require_close(mean.grad(), xt::xarray<double>{3.0, 3.0});
}

TEST_CASE("multivariate_normal_cholesky: log_prob gradients by finite differences", "[distributions]") {
  // w.r.t. the given, the mean and the factor
  require_gradient(
      [](Tape<double>& tape, const Vars& v) { return MVN(v[1], as_cov_tril(tape, v[2])).log_prob(v[0]); },
      {random_array({2, 3}, -2, 2, 1), random_array({2, 3}, -1, 1, 2), random_array({2, 3, 3}, -0.5, 0.5, 3)});
  // given with an extra leading axis, broadcast factor, group_ndims 1
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        return MVN(v[1], as_cov_tril(tape, v[2]), {.group_ndims = 1}).log_prob(v[0]);
      },
      {random_array({4, 2, 2}, -2, 2, 4), random_array({2, 2}, -1, 1, 5), random_array({2, 2}, -0.5, 0.5, 6)});
  // the entropy w.r.t. the factor
  require_gradient([](Tape<double>& tape, const Vars& v) { return MVN(v[0], as_cov_tril(tape, v[1])).entropy(); },
                   {random_array({3}, -1, 1, 7), random_array({2, 3, 3}, -0.5, 0.5, 8)});
  // The factor as a plain variable: the strict upper triangle gets no gradient.
  Tape<double> tape;
  const auto l = tape.variable(random_factor({3, 3}, 9));
  tape.backward(sum(MVN(tape.constant(xt::xarray<double>{0.0, 0.0, 0.0}), l)
                        .log_prob(tape.constant(xt::xarray<double>{0.3, -0.4, 1.0}))));
  const auto g = l.grad();
  CHECK(g(0, 1) == 0.0);
  CHECK(g(0, 2) == 0.0);
  CHECK(g(1, 2) == 0.0);
  CHECK(g(0, 0) != 0.0);
}

TEST_CASE("multivariate_normal_cholesky: mean, covariance, entropy and parameters", "[distributions]") {
  Tape<double> tape;
  const MVN d(tape.constant(xt::xarray<double>{0.1, -0.2, 0.3}), tape.constant(stacked_factors()));
  require_close(d.mean().value(), xt::xarray<double>{{0.1, -0.2, 0.3}, {0.1, -0.2, 0.3}});
  require_close(d.covariance().value(),
                xt::xarray<double>{{{1.44, 0.36, -0.6}, {0.36, 0.73, 0.17}, {-0.6, 0.17, 2.66}},
                                   {{0.25, -0.5, 0.125}, {-0.5, 5.0, -0.05}, {0.125, -0.05, 0.1625}}},
                1e-12);
  // mpmath: 3/2 (1 + log(2 pi)) + 1/2 log det S
  CHECK(xt::allclose(d.entropy().value(), xt::xarray<double>{4.621458713201927, 3.052842795288082}, 1e-6, 0));
  CHECK(d.dim() == 3);
  CHECK(d.parameter("mean").shape() == Shape{3});
  CHECK(d.parameter("cov_tril").shape() == Shape{2, 3, 3});
  CHECK(d.parameter("covariance").shape() == Shape{2, 3, 3});
  REQUIRE_THROWS_WITH(d.parameter("scale"), "MultivariateNormalCholesky: no parameter 'scale'");
  const auto m = tape.variable(xt::xarray<double>{0.0, 0.0, 0.0});
  const auto x = tape.constant(xt::xarray<double>{1.0, 2.0, 3.0});
  CHECK(MVN(m, tape.constant(L1)).log_prob(x).requires_grad());
  CHECK_FALSE(MVN(m, tape.constant(L1), {.use_path_derivative = true}).log_prob(x).requires_grad());
}

TEST_CASE("multivariate_normal_cholesky: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.constant(random_array({2, 3, 4}, -1, 1, 10));
  const auto l = tape.constant(random_factor({3, 4, 4}, 11));
  check_distribution_shapes([&](std::size_t g) { return MVN(mean, l, {.group_ndims = g}); }, {2, 3}, {4},
                            {.entropy = true, .broadcast_given = xt::xarray<double>{0.1, 0.2, 0.3, 0.4}, .seed = 9});
  // group_ndims 2 sums the elementwise log_prob
  const auto x = tape.constant(random_array({2, 3, 4}, -1, 1, 12));
  CHECK(MVN(mean, l, {.group_ndims = 2}).log_prob(x).item() ==
        Approx(xt::sum(MVN(mean, l).log_prob(x).value())()).epsilon(1e-12));
}

TEST_CASE("multivariate_normal_cholesky: float smoke test", "[distributions]") {
  Tape<float> tape;
  Rng rng(10);
  const MultivariateNormalCholesky<float> d(tape.constant(xt::xarray<float>{0.1f, -0.2f, 0.3f}),
                                            tape.constant(xt::xarray<float>(xt::cast<float>(L1))));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{0.5f, 0.1f, -1.0f}));
  CHECK(lp.item() == Approx(-3.5462889601155076).epsilon(1e-5));
  CHECK(d.sample(rng, 3).shape() == Shape{3, 3});
}

TEST_CASE("multivariate_normal_cholesky: bad parameters and values are refused with clear messages",
          "[distributions]") {
  Tape<double> tape;
  const auto mean3 = tape.constant(xt::xarray<double>{0.0, 0.0, 0.0});
  REQUIRE_THROWS_AS(MVN(mean3, tape.constant(random_array({3, 2}))), ShapeError);
  REQUIRE_THROWS_WITH(
      MVN(mean3, tape.constant(random_array({3, 2}))),
      "MultivariateNormalCholesky: mean has shape [3] and cov_tril has shape [3, 2] (expected mean [..., "
      "d] and cov_tril [..., d, d] with the same d >= 1)");
  REQUIRE_THROWS_WITH(
      MVN(mean3, tape.constant(random_factor({2, 2}, 1))),
      "MultivariateNormalCholesky: mean has shape [3] and cov_tril has shape [2, 2] (expected mean [..., "
      "d] and cov_tril [..., d, d] with the same d >= 1)");
  REQUIRE_THROWS_WITH(
      MVN(tape.constant(0.0), tape.constant(random_factor({1, 1}, 1))),
      "MultivariateNormalCholesky: mean has shape [] and cov_tril has shape [1, 1] (expected mean [..., "
      "d] and cov_tril [..., d, d] with the same d >= 1)");
  REQUIRE_THROWS_WITH(MVN(mean3, tape.constant(random_array({3}))),
                      "MultivariateNormalCholesky: mean has shape [3] and cov_tril has shape [3] (expected mean [..., "
                      "d] and cov_tril [..., d, d] with the same d >= 1)");
  REQUIRE_THROWS_AS(MVN(tape.constant(random_array({2, 3})), tape.constant(random_factor({4, 3, 3}, 2))), ShapeError);
  REQUIRE_THROWS_WITH(
      MVN(tape.constant(random_array({2, 3})), tape.constant(random_factor({4, 3, 3}, 2))),
      "MultivariateNormalCholesky parameters: cannot broadcast shapes [2] and [4] (axis -1: 2 vs 4; sizes "
      "must be equal or 1)");

  xt::xarray<double> bad_diagonal = L1;
  bad_diagonal(1, 1) = 0.0;
  REQUIRE_THROWS_AS(MVN(mean3, tape.constant(bad_diagonal)), ArgumentError);
  REQUIRE_THROWS_WITH(
      MVN(mean3, tape.constant(bad_diagonal)),
      "MultivariateNormalCholesky: the diagonal of cov_tril must be positive and finite, got 0.000000 at [1, 1] of "
      "matrix 0 of cov_tril shape [3, 3]");
  xt::xarray<double> stack = stacked_factors();
  stack(1, 2, 2) = -0.3;
  REQUIRE_THROWS_WITH(
      MVN(mean3, tape.constant(stack)),
      "MultivariateNormalCholesky: the diagonal of cov_tril must be positive and finite, got -0.300000 at [2, 2] of "
      "matrix 1 of cov_tril shape [2, 3, 3]");
  // NaN or inf below the diagonal would make every log_prob NaN: refused, named
  xt::xarray<double> nan_below = L1;
  nan_below(2, 0) = std::nan("");
  REQUIRE_THROWS_WITH(MVN(mean3, tape.constant(nan_below)),
                      "MultivariateNormalCholesky: cov_tril must be finite below the diagonal, got nan at [2, 0] of "
                      "matrix 0 of cov_tril shape [3, 3]");
  xt::xarray<double> inf_below = L1;
  inf_below(1, 0) = -std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_WITH(MVN(mean3, tape.constant(inf_below)),
                      "MultivariateNormalCholesky: cov_tril must be finite below the diagonal, got -inf at [1, 0] of "
                      "matrix 0 of cov_tril shape [3, 3]");
  xt::xarray<double> inf_diagonal = L1;
  inf_diagonal(0, 0) = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_WITH(MVN(mean3, tape.constant(inf_diagonal)),
                      "MultivariateNormalCholesky: the diagonal of cov_tril must be positive and finite, got inf at [0, "
                      "0] of matrix 0 of cov_tril shape [3, 3]");
  const xt::xarray<double> full_covariance = {{1.44, 0.36, -0.6}, {0.36, 0.73, 0.17}, {-0.6, 0.17, 2.66}};
  REQUIRE_THROWS_WITH(MVN(mean3, tape.constant(full_covariance)),
                      "MultivariateNormalCholesky: cov_tril must be lower-triangular (zero above the diagonal), got "
                      "0.360000 at [0, 1] of matrix 0 of cov_tril shape [3, 3]");

  const MVN d(mean3, tape.constant(stacked_factors()));
  REQUIRE_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>{1.0, 2.0})), ShapeError);
  REQUIRE_THROWS_WITH(d.log_prob(tape.constant(xt::xarray<double>{1.0, 2.0})),
                      "MultivariateNormalCholesky.log_prob: given has shape [2], which does not broadcast with "
                      "batch_shape [2] + value_shape [3] (expected [...] + value_shape, the rest broadcasting)");
  REQUIRE_THROWS_WITH(d.log_prob(tape.constant(random_array({3, 3}))),
                      "MultivariateNormalCholesky.log_prob: given has shape [3, 3], which does not broadcast with "
                      "batch_shape [2] + value_shape [3] (expected [...] + value_shape, the rest broadcasting)");
}

TEMPLATE_TEST_CASE("multivariate_normal_cholesky: log_prob matches the mpmath reference, ordinary and extreme",
                   "[distributions]", double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kMultivariateNormalCholesky, [](Tape<T>& tape, const dist_reference::VectorCase& c) {
    const auto mean = tape.constant(xt::xarray<T>{T(c.p[0]), T(c.p[1])});
    const auto tril = tape.constant(xt::xarray<T>{{T(c.p[2]), T(0)}, {T(c.p[3]), T(c.p[4])}});
    const auto x = tape.constant(xt::xarray<T>{T(c.x[0]), T(c.x[1])});
    return MultivariateNormalCholesky<T>(mean, tril).log_prob(x).item();
  });
}
