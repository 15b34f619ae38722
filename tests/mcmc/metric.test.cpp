#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "support/mcmc.hpp"

using namespace vaelib;
using vaelib::mcmc::Metric;

namespace {

/// Inverse of a small row-major matrix by Gauss-Jordan elimination with partial pivoting.
std::vector<double> metric_test_inverse(std::vector<double> a, std::size_t d) {
  std::vector<double> inv(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i) inv[i * d + i] = 1;
  for (std::size_t c = 0; c < d; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < d; ++r)
      if (std::abs(a[r * d + c]) > std::abs(a[pivot * d + c])) pivot = r;
    for (std::size_t k = 0; k < d; ++k) {
      std::swap(a[c * d + k], a[pivot * d + k]);
      std::swap(inv[c * d + k], inv[pivot * d + k]);
    }
    const double p = a[c * d + c];
    for (std::size_t k = 0; k < d; ++k) {
      a[c * d + k] /= p;
      inv[c * d + k] /= p;
    }
    for (std::size_t r = 0; r < d; ++r) {
      if (r == c) continue;
      const double f = a[r * d + c];
      for (std::size_t k = 0; k < d; ++k) {
        a[r * d + k] -= f * a[c * d + k];
        inv[r * d + k] -= f * inv[c * d + k];
      }
    }
  }
  return inv;
}

const std::vector<double> metric_test_dense_inverse_mass = {2.0, 0.6, 0.1, 0.6, 1.0, 0.3, 0.1, 0.3, 0.5};

}  // namespace

TEST_CASE("metric: the default is the unit diagonal, sized at first use", "[mcmc][metric]") {
  Metric m;
  CHECK(m.dimension() == 0);
  m.ensure_dimension(3, "test");
  CHECK(m.dimension() == 3);
  CHECK_FALSE(m.is_dense());
  const std::vector<double> p = {1.0, -2.0, 0.5};
  std::vector<double> v(3);
  m.velocity(p, v);
  CHECK(v == p);
  CHECK(m.kinetic_energy(p) == Approx(0.5 * (1 + 4 + 0.25)));
  CHECK_THROWS_WITH(m.ensure_dimension(4, "Nuts::transition"),
                    "Nuts::transition: the metric has dimension 3 but the log density has dimension 4");
}

TEST_CASE("metric: diagonal and dense velocity and kinetic energy are M^{-1} p and 0.5 p^T M^{-1} p",
          "[mcmc][metric]") {
  const std::vector<double> p = {0.3, -1.2, 2.0};
  const Metric diag = Metric::diagonal({2.0, 0.5, 4.0});
  std::vector<double> v(3);
  diag.velocity(p, v);
  CHECK(v[0] == Approx(0.6));
  CHECK(v[1] == Approx(-0.6));
  CHECK(v[2] == Approx(8.0));
  CHECK(diag.kinetic_energy(p) == Approx(0.5 * (2 * 0.09 + 0.5 * 1.44 + 4 * 4)));

  const Metric dense = Metric::dense(metric_test_dense_inverse_mass, 3);
  CHECK(dense.is_dense());
  dense.velocity(p, v);
  double quadratic = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    double expected = 0;
    for (std::size_t j = 0; j < 3; ++j) expected += metric_test_dense_inverse_mass[i * 3 + j] * p[j];
    CHECK(v[i] == Approx(expected).epsilon(1e-14));
    quadratic += p[i] * expected;
  }
  CHECK(dense.kinetic_energy(p) == Approx(0.5 * quadratic).epsilon(1e-14));
}

TEST_CASE("metric: a dense metric that is diagonal draws the same momenta as the diagonal one", "[mcmc][metric]") {
  const std::vector<double> inverse_mass = {2.0, 0.25, 7.0};
  std::vector<double> full(9, 0.0);
  for (std::size_t i = 0; i < 3; ++i) full[i * 3 + i] = inverse_mass[i];
  const Metric diag = Metric::diagonal(inverse_mass), dense = Metric::dense(full, 3);
  Rng a(5), b(5);
  std::vector<double> pa(3), pb(3);
  for (int k = 0; k < 100; ++k) {
    diag.sample_momentum(a, pa);
    dense.sample_momentum(b, pb);
    for (std::size_t i = 0; i < 3; ++i) REQUIRE(pa[i] == Approx(pb[i]).epsilon(1e-14));
  }
}

TEST_CASE("metric: momenta have covariance M (sample covariance z-test), diagonal and dense", "[mcmc][metric]") {
  const std::size_t d = 3, n = 100000;
  for (const bool is_dense : {false, true}) {
    INFO((is_dense ? "dense" : "diagonal"));
    std::vector<double> inverse_mass = metric_test_dense_inverse_mass;
    if (!is_dense)
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j)
          if (i != j) inverse_mass[i * d + j] = 0;
    const std::vector<double> mass = metric_test_inverse(inverse_mass, d);
    const Metric metric = is_dense ? Metric::dense(inverse_mass, d)
                                   : Metric::diagonal({inverse_mass[0], inverse_mass[4], inverse_mass[8]});
    Rng rng(17);
    std::vector<double> p(d), sum(d, 0.0), products(d * d, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      metric.sample_momentum(rng, p);
      for (std::size_t i = 0; i < d; ++i) {
        sum[i] += p[i];
        for (std::size_t j = 0; j < d; ++j) products[i * d + j] += p[i] * p[j];
      }
    }
    const auto count = static_cast<double>(n);
    for (std::size_t i = 0; i < d; ++i) {
      CHECK(std::abs(sum[i] / count) < 4 * std::sqrt(mass[i * d + i] / count));
      for (std::size_t j = 0; j < d; ++j) {
        const double covariance = products[i * d + j] / count;  // the mean is known to be 0
        const double se = std::sqrt((mass[i * d + i] * mass[j * d + j] + mass[i * d + j] * mass[i * d + j]) / count);
        INFO("M[" << i << ", " << j << "] = " << mass[i * d + j] << ", sample " << covariance);
        CHECK(std::abs(covariance - mass[i * d + j]) < 4 * se);
      }
    }
  }
}

TEST_CASE("metric: bad inverse mass matrices are refused with the entry named", "[mcmc][metric]") {
  CHECK_THROWS_AS(Metric::diagonal({1.0, 0.0}), ArgumentError);
  CHECK_THROWS_WITH(Metric::diagonal({1.0, -2.0}),
                    "Metric::set_diagonal: inverse_mass[1] = -2; every entry of a diagonal inverse mass matrix must "
                    "be finite and > 0");
  CHECK_THROWS_AS(Metric::diagonal({std::nan("")}), ArgumentError);
  CHECK_THROWS_WITH(Metric::dense({1.0, 0.0, 0.0}, 2),
                    "Metric::set_dense: inverse_mass has 3 entries; a 2 x 2 matrix (row-major) has 4");
  CHECK_THROWS_WITH(Metric::dense({1.0, 0.5, 0.4, 1.0}, 2),
                    "Metric::set_dense: inverse_mass[1, 0] = 0.4 and [0, 1] = 0.5; the inverse mass matrix must be "
                    "finite and symmetric");
  CHECK_THROWS_WITH(Metric::dense({1.0, 2.0, 2.0, 1.0}, 2),
                    "Metric::set_dense: the 2 x 2 inverse mass matrix is not positive definite (Cholesky pivot 1 is "
                    "not > 0)");
}
