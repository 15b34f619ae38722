#include "vaelib/distributions/matrix_variate_normal_cholesky.hpp"

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
using MatrixNormal = MatrixVariateNormalCholesky<double>;

namespace {
template <class T>
MatrixVariateNormalCholesky<T> matrix_normal_of_case(Tape<T>& tape, const more_reference::Case& c) {
  const auto n = static_cast<std::size_t>(c.p[0]), p = static_cast<std::size_t>(c.p[1]);
  return MatrixVariateNormalCholesky<T>(more_reference::case_array(tape, c, 0, {n, p}),
                                        more_reference::case_array(tape, c, n * p, {n, n}),
                                        more_reference::case_array(tape, c, n * p + n * n, {p, p}));
}

/// A lower-triangular factor from any matrix [..., d, d] (its lower triangle, the diagonal
/// through exp), so that finite differences can perturb every element of the input.
Var<double> matrix_normal_factor(Tape<double>& tape, const Var<double>& a) {
  const std::size_t d = a.shape().back();
  xt::xarray<double> lower = xt::zeros<double>({d, d});
  xt::xarray<double> diagonal = xt::zeros<double>({d, d});
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j <= i; ++j) (i == j ? diagonal : lower)(i, j) = 1.0;
  return a * tape.constant(lower) + exp(a) * tape.constant(diagonal);
}
}  // namespace

TEST_CASE("MatrixVariateNormalCholesky: log_prob matches mpmath, ordinary and extreme parameters, double and float",
          "[distributions]") {
  more_reference::require_reference_log_probs<double>(more_reference::kMatrixVariateNormalCholesky, matrix_normal_of_case<double>,
                                                 1e-12);
  // computed by float ops (triangular solves), not in double
  more_reference::require_reference_log_probs<float>(more_reference::kMatrixVariateNormalCholesky, matrix_normal_of_case<float>,
                                                1e-5);
  Tape<double> tape;
  const MatrixNormal d(tape.constant(xt::zeros<double>({2, 3})), tape.constant(xt::eye<double>(2)),
                       tape.constant(xt::eye<double>(3)));
  CHECK(d.name() == "MatrixVariateNormalCholesky");
  CHECK(d.support().kind() == SupportKind::real);
  CHECK(d.support().event_rank() == 2);
  CHECK(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{});
  CHECK(d.value_shape() == Shape{2, 3});
}

TEST_CASE("MatrixVariateNormalCholesky: vec(X) is MultivariateNormal(vec(M), V kron U)", "[distributions]") {
  Tape<double> tape;
  const xt::xarray<double> lu{{1.2, 0.0}, {0.4, 0.8}};
  const xt::xarray<double> lv{{0.9, 0.0, 0.0}, {-0.3, 1.1, 0.0}, {0.2, 0.5, 0.7}};
  const xt::xarray<double> mean = random_array({2, 3}, -1, 1, 4901);
  const xt::xarray<double> x = random_array({4, 2, 3}, -2, 2, 4902);
  const auto lp = MatrixNormal(tape.constant(mean), tape.constant(lu), tape.constant(lv)).log_prob(tape.constant(x));
  // the Cholesky factor of V kron U is Lv kron Lu; vec stacks the columns: vec(X)[j n + i] = X[i, j]
  xt::xarray<double> kron = xt::zeros<double>({6, 6});
  for (std::size_t j = 0; j < 3; ++j)
    for (std::size_t l = 0; l < 3; ++l)
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t k = 0; k < 2; ++k) kron(j * 2 + i, l * 2 + k) = lv(j, l) * lu(i, k);
  xt::xarray<double> vec_mean = xt::zeros<double>({6});
  xt::xarray<double> vec_x = xt::zeros<double>({4, 6});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      vec_mean(j * 2 + i) = mean(i, j);
      for (std::size_t s = 0; s < 4; ++s) vec_x(s, j * 2 + i) = x(s, i, j);
    }
  const auto mvn = MultivariateNormalCholesky<double>(tape.constant(vec_mean), tape.constant(kron)).log_prob(tape.constant(vec_x));
  require_close(lp.value(), mvn.value(), 1e-12);
}

TEST_CASE("MatrixVariateNormalCholesky: sample means and covariances U_ik V_jl", "[distributions]") {
  Tape<double> tape;
  Rng rng(4911);
  const xt::xarray<double> lu{{1.2, 0.0}, {0.4, 0.8}};
  const xt::xarray<double> lv{{0.9, 0.0}, {-0.3, 1.1}};
  xt::xarray<double> u = xt::zeros<double>({2, 2}), v = xt::zeros<double>({2, 2});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t k = 0; k < 2; ++k) {
        u(i, j) += lu(i, k) * lu(j, k);
        v(i, j) += lv(i, k) * lv(j, k);
      }
  const xt::xarray<double> mean{{0.5, -1.0}, {2.0, 0.0}};
  const std::size_t n = 40000;
  const auto s = MatrixNormal(tape.constant(mean), tape.constant(lu), tape.constant(lv)).sample(rng, n);
  REQUIRE(s.shape() == Shape{n, 2, 2});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j) {
      INFO("entry " << i << ", " << j);
      std::vector<double> xij;
      for (std::size_t m = 0; m < n; ++m) xij.push_back(s.value()(m, i, j));
      const double var = u(i, i) * v(j, j);
      require_sample_moments(xij, mean(i, j), var, 3 * var * var);
    }
  // Cov(X_00, X_11) = U_01 V_01: the mean of the product of the centred entries
  double product = 0;
  for (std::size_t m = 0; m < n; ++m) product += (s.value()(m, 0, 0) - 0.5) * (s.value()(m, 1, 1) - 0.0) / double(n);
  const double expected = u(0, 1) * v(0, 1);
  const double se = std::sqrt((u(0, 0) * v(0, 0) * u(1, 1) * v(1, 1) + expected * expected) / double(n));
  CHECK(std::abs(product - expected) <= 4 * se);
}

TEST_CASE("MatrixVariateNormalCholesky: gradients of log_prob and of samples by finite differences", "[distributions]") {
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        return MatrixNormal(v[0], matrix_normal_factor(tape, v[1]), matrix_normal_factor(tape, v[2])).log_prob(v[3]);
      },
      {random_array({2, 3}, -1, 1, 4921), random_array({2, 2}, -0.5, 0.5, 4922), random_array({3, 3}, -0.5, 0.5, 4923),
       random_array({2, 2, 3}, -2, 2, 4924)});
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        Rng rng(4925);
        return MatrixNormal(v[0], matrix_normal_factor(tape, v[1]), matrix_normal_factor(tape, v[2])).sample(rng, 3);
      },
      {random_array({2, 2, 3}, -1, 1, 4926), random_array({2, 2}, -0.5, 0.5, 4927), random_array({2, 3, 3}, -0.5, 0.5, 4928)});
}

TEST_CASE("MatrixVariateNormalCholesky: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.variable(random_array({2, 1, 2, 3}, -1, 1, 4931));
  const xt::xarray<double> lu_value{{1.5, 0.0}, {0.0, 1.5}};
  const auto lu = tape.constant(lu_value);
  xt::xarray<double> lv_batch = xt::zeros<double>({3, 3, 3});
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t i = 0; i < 3; ++i) lv_batch(b, i, i) = 1.0 + double(b);
  const auto lv = tape.constant(lv_batch);
  check_distribution_shapes([&](std::size_t g) { return MatrixNormal(mean, lu, lv, {.group_ndims = g}); }, {2, 3}, {2, 3},
                            {.mean = true, .finite_log_prob = true, .broadcast_given = xt::zeros<double>({2, 3})});
}

TEST_CASE("MatrixVariateNormalCholesky: parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.constant(xt::zeros<double>({2, 3}));
  const auto lu = tape.constant(xt::eye<double>(2));
  const auto lv = tape.constant(xt::eye<double>(3));
  const MatrixNormal d(mean, lu, lv);
  CHECK(d.parameter("mean").index() == mean.index());
  CHECK(d.parameter("u_tril").index() == lu.index());
  CHECK(d.parameter("v_tril").index() == lv.index());
  REQUIRE_THROWS_MATCHES(d.parameter("u"), ArgumentError, Message("MatrixVariateNormalCholesky: no parameter 'u'"));
  REQUIRE_THROWS_MATCHES(MatrixNormal(mean, tape.constant(xt::xarray<double>{{1.0, 0.5}, {0.0, 1.0}}), lv), ArgumentError,
                         Message("MatrixVariateNormalCholesky: u_tril must be lower-triangular (zero above the "
                                 "diagonal), got 0.500000 at [0, 1] of matrix 0 of shape [2, 2]"));
  xt::xarray<double> bad_v = xt::eye<double>(3);
  bad_v(2, 2) = 0.0;
  REQUIRE_THROWS_MATCHES(MatrixNormal(mean, lu, tape.constant(bad_v)), ArgumentError,
                         Message("MatrixVariateNormalCholesky: v_tril must have a positive and finite diagonal, got "
                                 "0.000000 at [2, 2] of matrix 0 of shape [3, 3]"));
  REQUIRE_THROWS_MATCHES(MatrixNormal(mean, lv, lv), ShapeError,
                         Message("MatrixVariateNormalCholesky: mean has shape [2, 3], u_tril [3, 3] and v_tril [3, 3] "
                                 "(expected mean [..., n, p], u_tril [..., n, n] and v_tril [..., p, p] with n, p >= 1)"));
}
