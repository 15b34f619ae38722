#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("CorrelationCholeskyTransform: unit-norm rows, positive diagonal, L L^T a correlation matrix",
          "[transforms]") {
  const CorrelationCholeskyTransform<double> t;
  CHECK(t.domain_event_rank() == 1);
  CHECK(t.codomain_event_rank() == 2);
  CHECK(t.codomain().kind() == SupportKind::correlation_cholesky);
  CHECK(t.forward_shape({5, 6}) == Shape{5, 4, 4});
  CHECK(t.inverse_shape({5, 4, 4}) == Shape{5, 6});
  Tape<double> tape;
  const xt::xarray<double> l = t.forward(tape.constant(random_array({3, 6}, -3.0, 3.0, 21))).value();
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t i = 0; i < 4; ++i) {
      double norm = 0;
      for (std::size_t j = 0; j < 4; ++j) {
        norm += l(b, i, j) * l(b, i, j);
        if (j > i) CHECK(l(b, i, j) == 0.0);
      }
      CHECK(norm == Approx(1.0).epsilon(1e-14));
      CHECK(l(b, i, i) > 0);
    }
  // n = 2: L = [[1, 0], [tanh x, sech x]].
  const xt::xarray<double> l2 = t.forward(tape.constant(xt::xarray<double>{0.7})).value();
  require_close(l2, xt::xarray<double>{{1.0, 0.0}, {std::tanh(0.7), 1 / std::cosh(0.7)}}, 1e-15);
}

TEST_CASE("CorrelationCholeskyTransform: round trip, log|det J| against the tape's Jacobian, gradients",
          "[transforms]") {
  const CorrelationCholeskyTransform<double> t;
  transform_check_round_trip(t, random_array({2, 6}, -2.0, 2.0, 22));
  transform_check_round_trip(t, xt::xarray<double>{9.0, -8.0, 10.0}, 1e-6);  // |z| near 1: no 1 - z^2 cancels
  for (std::size_t n : {2, 3, 4, 5}) {
    const xt::xarray<double> x = random_array({n * (n - 1) / 2}, -1.5, 1.5, static_cast<std::uint32_t>(n + 20));
    transform_check_log_det(t, x, transform_lower_triangle(n, false));
  }
  transform_check_gradients(t, random_array({2, 6}, -1.5, 1.5, 23));
  // Off the set (rows not of unit norm) the inverse is still smooth: it reads the rows' directions.
  const xt::xarray<double> off{{1.3, 0.0, 0.0}, {0.4, 0.8, 0.0}, {-0.3, 0.5, 1.1}};
  transform_check_gradients(t, random_array({3}, -1.0, 1.0, 24), off);
}

TEST_CASE("CorrelationCholeskyTransform: large |x| stays finite and exact", "[transforms]") {
  const CorrelationCholeskyTransform<double> t;
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{40.0, -40.0, 400.0});
  const auto y = t.forward(x);
  CHECK(xt::all(xt::isfinite(y.value())));
  const auto ld = t.log_abs_det_jacobian(x, y);
  // sum (i + 1 - j) log sech(x_ij), log sech(x) = log 2 - |x| for large |x|.
  CHECK(ld.item() ==
        Approx(2 * (std::log(2.0) - 40) + 3 * (std::log(2.0) - 40) + 2 * (std::log(2.0) - 400)).epsilon(1e-14));
}

TEST_CASE("CorrelationCholeskyTransform: the density of the correlation of a 2 x 2 factor integrates to 1",
          "[transforms]") {
  Tape<double> tape;
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(
          Normal<double>::with_std(tape.constant(xt::xarray<double>{0.3}), tape.constant(xt::xarray<double>{0.8}))),
      std::make_shared<CorrelationCholeskyTransform<double>>());
  REQUIRE(d.value_shape() == Shape{2, 2});
  // The free coordinate is L_10 = r in (-1, 1); L_11 = sqrt(1 - r^2).
  std::vector<double> grid = transform_linspace(-1 + 1e-9, 1 - 1e-9, 200001), points;
  for (double r : grid) points.insert(points.end(), {1.0, 0.0, r, std::sqrt(1 - r * r)});
  const xt::xarray<double> lp = d.log_prob(tape.constant(xt::adapt(points, Shape{grid.size(), 2, 2}))).value();
  CHECK(transform_trapezoid(grid, [&](std::size_t i) { return std::exp(lp(i)); }) == Approx(1.0).margin(1e-6));
}

TEST_CASE("CorrelationCholeskyTransform: float", "[transforms]") {
  const CorrelationCholeskyTransform<float> t;
  Tape<float> tape;
  const auto x = tape.constant(xt::xarray<float>{0.3f, -1.0f, 2.0f, 0.5f, -0.2f, 1.1f});
  const auto y = t.forward(x);
  CHECK(xt::allclose(t.inverse(y).value(), x.value(), 1e-4, 1e-4));
  const xt::xarray<float> l = y.value();
  for (std::size_t i = 0; i < 4; ++i) {
    float norm = 0;
    for (std::size_t j = 0; j < 4; ++j) norm += l(i, j) * l(i, j);
    CHECK(norm == Approx(1.0f).epsilon(1e-6));
  }
  // x = 12 saturates tanh in float, yet the diagonal stays positive and the log|det J| finite.
  const auto far = tape.constant(xt::xarray<float>{12.0f, -12.0f, 12.0f});
  const auto lf = t.forward(far);
  CHECK(xt::all(xt::isfinite(lf.value())));
  CHECK(lf.value()(2, 2) > 0.0f);
  CHECK(std::isfinite(t.log_abs_det_jacobian(far, lf).item()));
}
