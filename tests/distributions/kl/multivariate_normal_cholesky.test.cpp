#include <cmath>
#include <string>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;
using Catch::Matchers::Contains;

namespace {

/// MultivariateNormalCholesky of dimension 2 from (m0, m1, L00, L10, L11).
template <class T>
MultivariateNormalCholesky<T> kl_mvn_from_case(klref::KLLeaves<T>& leaf, const double* p) {
  return MultivariateNormalCholesky<T>(leaf(xt::xarray<T>{T(p[0]), T(p[1])}),
                                       leaf(xt::xarray<T>{{T(p[2]), T(0)}, {T(p[3]), T(p[4])}}));
}

/// A diagonal Normal (group_ndims 1) of dimension 2 from (m0, m1, logstd0, logstd1).
template <class T>
Normal<T> kl_diagonal_normal_from_case(klref::KLLeaves<T>& leaf, const double* p) {
  return Normal<T>::with_logstd(leaf(xt::xarray<T>{T(p[0]), T(p[1])}), leaf(xt::xarray<T>{T(p[2]), T(p[3])}),
                                {.group_ndims = 1});
}

/// A random lower-triangular factor [..., d, d] with a diagonal in [0.5, 1.5].
xt::xarray<double> kl_random_factor(const Shape& batch, std::size_t d, std::uint32_t seed) {
  Shape shape = batch;
  shape.push_back(d);
  shape.push_back(d);
  xt::xarray<double> l = random_array(shape, -0.8, 0.8, seed);
  const xt::xarray<double> diagonal = random_array(shape, 0.5, 1.5, seed + 100);
  const std::size_t count = l.size() / (d * d);
  for (std::size_t q = 0; q < count; ++q)
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) {
        double& v = l.data()[(q * d + i) * d + j];
        if (j > i) v = 0;
        if (j == i) v = diagonal.data()[(q * d + i) * d + j];
      }
  return l;
}

/// The lower-triangle mask [d, d]: the gradient checks perturb every entry of a factor, and
/// the mask keeps the upper triangle at exactly 0.
Var<double> kl_lower_mask(Tape<double>& tape, std::size_t d) {
  xt::xarray<double> mask = xt::zeros<double>({d, d});
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j <= i; ++j) mask(i, j) = 1;
  return tape.constant(mask);
}

}  // namespace

TEMPLATE_TEST_CASE(
    "kl multivariate normal: MVN-MVN, diagonal Normal-MVN and MVN-diagonal Normal match the mpmath "
    "reference",
    "[distributions][kl]", double, float) {
  using T = TestType;
  klref::require_kl_reference<T>(klref::kMvnMvn, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(kl_mvn_from_case(leaf, c.p), kl_mvn_from_case(leaf, c.q));
  });
  klref::require_kl_reference<T>(klref::kNormalMvn, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(kl_diagonal_normal_from_case(leaf, c.p), kl_mvn_from_case(leaf, c.q));
  });
  klref::require_kl_reference<T>(klref::kMvnNormal, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(kl_mvn_from_case(leaf, c.p), kl_diagonal_normal_from_case(leaf, c.q));
  });
}

TEST_CASE("kl multivariate normal: the analytic values match Monte Carlo estimates", "[distributions][kl]") {
  Tape<double> tape;
  const MultivariateNormalCholesky<double> p(tape.constant(random_array({2, 3}, -1, 1, 1)),
                                             tape.constant(kl_random_factor({2}, 3, 2)));
  const MultivariateNormalCholesky<double> q(tape.constant(random_array({3}, -1, 1, 3)),
                                             tape.constant(kl_random_factor({}, 3, 4)));
  require_kl_matches_monte_carlo(p, q, 40000, 21);
  const auto diagonal =
      Normal<double>::with_logstd(tape.constant(random_array({2, 3}, -1, 1, 5)),
                                  tape.constant(random_array({2, 3}, -0.5, 0.5, 6)), {.group_ndims = 1});
  require_kl_matches_monte_carlo(diagonal, q, 40000, 22);
  require_kl_matches_monte_carlo(p, diagonal, 40000, 23);
}

TEST_CASE("kl multivariate normal: gradients in both distributions' parameters", "[distributions][kl]") {
  const auto m1 = random_array({2, 3}, -1, 1, 7), m2 = random_array({3}, -1, 1, 8);
  const auto l1 = kl_random_factor({2}, 3, 9), l2 = kl_random_factor({}, 3, 10);
  const auto s1 = random_array({2, 3}, -0.7, 0.7, 11), s2 = random_array({3}, -0.7, 0.7, 12);
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        const auto mask = kl_lower_mask(t, 3);
        return kl_divergence<double>(MultivariateNormalCholesky<double>(v[0], v[1] * mask),
                                     MultivariateNormalCholesky<double>(v[2], v[3] * mask));
      },
      {m1, l1, m2, l2});
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return kl_divergence<double>(Normal<double>::with_logstd(v[0], v[1], {.group_ndims = 1}),
                                     MultivariateNormalCholesky<double>(v[2], v[3] * kl_lower_mask(t, 3)));
      },
      {m1, s1, m2, l2});
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return kl_divergence<double>(MultivariateNormalCholesky<double>(v[0], v[1] * kl_lower_mask(t, 3)),
                                     Normal<double>::with_logstd(v[2], v[3], {.group_ndims = 1}));
      },
      {m1, l1, m2, s2});
  // a std-parameterised Normal gets its gradient through log(std)
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return kl_divergence<double>(Normal<double>::with_std(v[0], v[1], {.group_ndims = 1}),
                                     MultivariateNormalCholesky<double>(v[2], v[3] * kl_lower_mask(t, 3)));
      },
      {m1, xt::xarray<double>(xt::exp(s1)), m2, l2});
}

TEST_CASE("kl multivariate normal: KL(p || p) = 0; diagonal factors give the sum of univariate KLs",
          "[distributions][kl]") {
  Tape<double> tape;
  const MultivariateNormalCholesky<double> p(tape.constant(random_array({2, 3}, -1, 1, 13)),
                                             tape.constant(kl_random_factor({2}, 3, 14)));
  for (double v : kl_values_of(kl_divergence<double>(p, p))) CHECK(v == 0.0);

  const xt::xarray<double> m1 = random_array({2, 3}, -1, 1, 15), m2 = random_array({2, 3}, -1, 1, 16);
  const xt::xarray<double> s1 = random_array({2, 3}, -1, 1, 17), s2 = random_array({2, 3}, -1, 1, 18);
  xt::xarray<double> f1 = xt::zeros<double>({2, 3, 3}), f2 = xt::zeros<double>({2, 3, 3});
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t i = 0; i < 3; ++i) {
      f1(b, i, i) = std::exp(s1(b, i));
      f2(b, i, i) = std::exp(s2(b, i));
    }
  const auto n1 = Normal<double>::with_logstd(tape.constant(m1), tape.constant(s1), {.group_ndims = 1});
  const auto n2 = Normal<double>::with_logstd(tape.constant(m2), tape.constant(s2), {.group_ndims = 1});
  const MultivariateNormalCholesky<double> g1(tape.constant(m1), tape.constant(f1));
  const MultivariateNormalCholesky<double> g2(tape.constant(m2), tape.constant(f2));
  const auto expected = kl_values_of(kl_divergence<double>(n1, n2));
  REQUIRE(expected.size() == 2);
  for (const auto& kl : {kl_divergence<double>(g1, g2), kl_divergence<double>(n1, g2), kl_divergence<double>(g1, n2)}) {
    REQUIRE(kl.shape() == Shape{2});
    for (std::size_t b = 0; b < 2; ++b) CHECK(kl.data()[b] == Approx(expected[b]).epsilon(1e-13));
  }
  // the same Gaussian as a diagonal Normal and as a factor (log(exp(s)) is s to rounding)
  for (double v : kl_values_of(kl_divergence<double>(n1, g1))) CHECK(v == Approx(0.0).margin(1e-28));
}

TEST_CASE("kl multivariate normal: batch shapes broadcast, group_ndims sums, mismatches are errors",
          "[distributions][kl]") {
  Tape<double> tape;
  // p: batch [2, 1], q: batch [3] -> [2, 3]; p with group_ndims 1 -> [2]
  const auto mp = tape.constant(random_array({2, 1, 2}, -1, 1, 19));
  const auto lp = tape.constant(kl_random_factor({2, 1}, 2, 20));
  const auto mq = tape.constant(random_array({3, 2}, -1, 1, 21));
  const auto lq = tape.constant(kl_random_factor({3}, 2, 22));
  const MultivariateNormalCholesky<double> q(mq, lq);
  const auto kl = kl_divergence<double>(MultivariateNormalCholesky<double>(mp, lp), q);
  REQUIRE(kl.shape() == Shape{2, 3});
  const auto grouped = kl_divergence<double>(MultivariateNormalCholesky<double>(mp, lp, {.group_ndims = 1}), q);
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      Tape<double> t;
      const MultivariateNormalCholesky<double> pi(t.constant(xt::xarray<double>(xt::view(mp.value(), i, 0))),
                                                  t.constant(xt::xarray<double>(xt::view(lp.value(), i, 0))));
      const MultivariateNormalCholesky<double> qj(t.constant(xt::xarray<double>(xt::view(mq.value(), j))),
                                                  t.constant(xt::xarray<double>(xt::view(lq.value(), j))));
      const double one = kl_divergence<double>(pi, qj).item();
      CHECK(kl.value()(i, j) == Approx(one).epsilon(1e-14));
      row += one;
    }
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-14));
  }
  // a diagonal Normal of batch [4, 2, 2] with group_ndims 2: the last axis is the dimension,
  // the one before it is summed; against q of batch [] -> [4]
  const auto normal =
      Normal<double>::with_logstd(tape.constant(random_array({4, 2, 2}, -1, 1, 23)),
                                  tape.constant(random_array({4, 2, 2}, -1, 1, 24)), {.group_ndims = 2});
  const MultivariateNormalCholesky<double> q0(tape.constant(random_array({2}, -1, 1, 25)),
                                              tape.constant(kl_random_factor({}, 2, 26)));
  const auto summed = kl_divergence<double>(normal, q0);
  REQUIRE(summed.shape() == Shape{4});
  const auto per_vector = kl_divergence<double>(
      Normal<double>::with_logstd(normal.parameter("mean"), normal.logstd(), {.group_ndims = 1}), q0);
  REQUIRE(per_vector.shape() == Shape{4, 2});
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(summed.value()(i) == Approx(per_vector.value()(i, 0) + per_vector.value()(i, 1)).epsilon(1e-14));

  // errors: a Normal without group_ndims, dimensions that differ
  const auto scalar_normal =
      Normal<double>::with_logstd(tape.constant(random_array({2}, -1, 1, 27)), tape.constant(0.0));
  CHECK_THROWS_WITH(
      kl_divergence<double>(scalar_normal, q0),
      Contains("kl_divergence(Normal || MultivariateNormalCholesky): the Normal must have group_ndims >= 1") &&
          Contains("got group_ndims 0 and batch_shape [2]"));
  CHECK_THROWS_WITH(
      kl_divergence<double>(q0, scalar_normal),
      Contains("kl_divergence(MultivariateNormalCholesky || Normal): the Normal must have group_ndims >= 1"));
  const auto wide =
      Normal<double>::with_logstd(tape.constant(random_array({3}, -1, 1, 28)), tape.constant(0.0), {.group_ndims = 1});
  CHECK_THROWS_AS(kl_divergence<double>(wide, q0), ShapeError);
  CHECK_THROWS_WITH(kl_divergence<double>(wide, q0),
                    Contains("the Normal's last batch axis has 3 dimensions, the MultivariateNormalCholesky 2"));
  CHECK_THROWS_AS(
      kl_divergence<double>(q, MultivariateNormalCholesky<double>(tape.constant(random_array({3}, -1, 1, 29)),
                                                                  tape.constant(kl_random_factor({}, 3, 30)))),
      ShapeError);
}
