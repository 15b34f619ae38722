#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("LowerCholeskyTransform: fills the lower triangle row by row, exp on the diagonal", "[transforms]") {
  const LowerCholeskyTransform<double> t;
  CHECK(t.domain_event_rank() == 1);
  CHECK(t.codomain_event_rank() == 2);
  CHECK(t.codomain().kind() == SupportKind::lower_cholesky);
  Tape<double> tape;
  const auto y = t.forward(tape.constant(xt::xarray<double>{0.0, 2.0, std::log(3.0)}));
  require_close(y.value(), xt::xarray<double>{{1.0, 0.0}, {2.0, 3.0}}, 1e-15);
  CHECK(t.forward_shape({4, 6}) == Shape{4, 3, 3});
  CHECK(t.inverse_shape({4, 3, 3}) == Shape{4, 6});
}

TEST_CASE("LowerCholeskyTransform: round trip, log|det J| against the tape's Jacobian, gradients", "[transforms]") {
  const LowerCholeskyTransform<double> t;
  transform_check_round_trip(t, random_array({2, 6}, -2.0, 2.0, 11));
  transform_check_round_trip(t, random_array({1}, -2.0, 2.0, 12));
  for (std::size_t n : {1, 2, 3, 4}) {
    const xt::xarray<double> x = random_array({n * (n + 1) / 2}, -1.5, 1.5, static_cast<std::uint32_t>(n));
    transform_check_log_det(t, x, transform_lower_triangle(n, true));
  }
  const xt::xarray<double> x = random_array({2, 6}, -1.0, 1.0, 13);
  transform_check_gradients(t, x);
  // Above the diagonal the inverse reads nothing: its gradient there is 0.
  xt::xarray<double> full = random_array({3, 3}, 0.5, 2.0, 14);
  transform_check_gradients(t, xt::xarray<double>(random_array({6}, -1.0, 1.0, 15)), full);
}

TEST_CASE("LowerCholeskyTransform: a density over 2 x 2 factors integrates to 1 (three dimensions; n = 1 in one)",
          "[transforms]") {
  Tape<double> tape;
  const auto t = std::make_shared<LowerCholeskyTransform<double>>();
  {
    const TransformedDistribution<double> d(
        std::make_unique<Normal<double>>(
            Normal<double>::with_std(tape.constant(xt::xarray<double>{0.2}), tape.constant(xt::xarray<double>{0.6}))),
        t);
    REQUIRE(d.value_shape() == Shape{1, 1});
    std::vector<double> grid;
    for (double u = -6; u <= 4; u += 1e-3) grid.push_back(std::exp(u));
    const xt::xarray<double> y =
        xt::reshape_view(xt::adapt(grid, Shape{grid.size()}), {grid.size(), std::size_t{1}, std::size_t{1}});
    const xt::xarray<double> lp = d.log_prob(tape.constant(y)).value();
    CHECK(transform_trapezoid(grid, [&](std::size_t i) { return std::exp(lp(i)); }) == Approx(1.0).margin(1e-6));
  }
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.constant(xt::xarray<double>{0.1, 0.5, -0.2}),
                                                                tape.constant(xt::xarray<double>{0.4, 0.7, 0.5}))),
      t);
  REQUIRE(d.value_shape() == Shape{2, 2});
  // Midpoint rule: the diagonal on a log-spaced grid (its cell widths h * L), L_10 evenly.
  const std::size_t n = 120;
  const double lo = -4, hi = 3, h = (hi - lo) / n, wlo = -4, wh = 8.0 / n;
  std::vector<double> points, weights;
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t c = 0; c < n; ++c) {
        const double l00 = std::exp(lo + (a + 0.5) * h), l11 = std::exp(lo + (c + 0.5) * h), l10 = wlo + (b + 0.5) * wh;
        points.insert(points.end(), {l00, 0.0, l10, l11});
        weights.push_back(l00 * h * wh * l11 * h);
      }
  const xt::xarray<double> y = xt::adapt(points, Shape{points.size() / 4, 2, 2});
  const xt::xarray<double> lp = d.log_prob(tape.constant(y)).value();
  double mass = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) mass += std::exp(lp(i)) * weights[i];
  CHECK(mass == Approx(1.0).margin(2e-3));
}

TEST_CASE("LowerCholeskyTransform: a last axis that fills no triangle is refused", "[transforms]") {
  const LowerCholeskyTransform<double> t;
  Tape<double> tape;
  CHECK_THROWS_WITH(t.forward(tape.zeros({2, 4})),
                    Catch::Contains("LowerCholeskyTransform.forward") && Catch::Contains("size 4 fills no triangle"));
  CHECK_THROWS_WITH(t.inverse(tape.zeros({2, 3})),
                    Catch::Contains("LowerCholeskyTransform.inverse") && Catch::Contains("[..., n, n]"));
}

TEST_CASE("LowerCholeskyTransform: float", "[transforms]") {
  const LowerCholeskyTransform<float> t;
  Tape<float> tape;
  const auto x = tape.constant(xt::xarray<float>{0.3f, -1.0f, 2.0f, 0.5f, -0.2f, 1.1f});
  const auto y = t.forward(x);
  CHECK(xt::allclose(t.inverse(y).value(), x.value(), 1e-6, 1e-6));
  CHECK(t.log_abs_det_jacobian(x, y).item() == Approx(0.3f + 2.0f + 1.1f).epsilon(1e-6));
}
