#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("StickBreakingTransform: x = 0 is the uniform point; values lie on the simplex", "[transforms]") {
  const StickBreakingTransform<double> t;
  Tape<double> tape;
  const auto y = t.forward(tape.zeros({3}));
  require_close(y.value(), xt::xarray<double>{0.25, 0.25, 0.25, 0.25}, 1e-15);
  const auto ys = t.forward(tape.constant(random_array({5, 3}, -6.0, 6.0, 7)));
  REQUIRE(ys.shape() == Shape{5, 4});
  CHECK(xt::all(ys.value() > 0.0));
  const xt::xarray<double> totals = xt::sum(ys.value(), {1});
  INFO(totals);
  CHECK(xt::allclose(totals, 1.0, 1e-14, 1e-14));
  CHECK(t.codomain().kind() == SupportKind::simplex);
  CHECK(t.forward_shape({2, 3}) == Shape{2, 4});
  CHECK(t.inverse_shape({2, 4}) == Shape{2, 3});
}

TEST_CASE("StickBreakingTransform: round trip, log|det J| against the tape's Jacobian, gradients", "[transforms]") {
  const StickBreakingTransform<double> t;
  transform_check_round_trip(t, random_array({3, 4}, -3.0, 3.0, 1));
  transform_check_round_trip(t, xt::xarray<double>{-30.0, 25.0, 0.0}, 1e-8);  // near the corners
  for (const auto& x :
       {xt::xarray<double>{0.4}, xt::xarray<double>{0.3, -1.2, 2.0}, xt::xarray<double>{-4.0, 3.0, 0.1, -0.5}})
    transform_check_log_det(t, x, transform_first_entries(x.size()));
  const xt::xarray<double> x = random_array({2, 3}, -2.0, 2.0, 3);
  transform_check_gradients(t, x);
  // The inverse only reads the ratios of y: off the simplex it is still smooth.
  transform_check_gradients(t, x, xt::xarray<double>{{0.2, 0.5, 0.1, 0.4}, {1.0, 2.0, 0.5, 0.3}});
  Tape<double> tape;
  const auto xv = tape.constant(x);
  CHECK(t.log_abs_det_jacobian(xv, t.forward(xv)).shape() == Shape{2});
}

TEST_CASE("StickBreakingTransform: a logistic-normal density integrates to 1 over the 3-simplex (two dimensions)",
          "[transforms]") {
  Tape<double> tape;
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.constant(xt::xarray<double>{0.3, -0.4}),
                                                                tape.constant(xt::xarray<double>{0.9, 0.7}))),
      std::make_shared<StickBreakingTransform<double>>());
  REQUIRE(d.value_shape() == Shape{3});
  REQUIRE(d.batch_shape() == Shape{});
  // Midpoints of a grid on the triangle y_0 + y_1 < 1; the density vanishes fast at its edges.
  const std::size_t n = 800;
  const double h = 1.0 / n;
  std::vector<double> points;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; i + j + 1 < n; ++j) {
      const double a = (i + 0.5) * h, b = (j + 0.5) * h;
      points.insert(points.end(), {a, b, 1 - a - b});
    }
  const xt::xarray<double> y = xt::adapt(points, Shape{points.size() / 3, 3});
  const xt::xarray<double> lp = d.log_prob(tape.constant(y)).value();
  const double mass = xt::sum(xt::exp(lp))() * h * h;
  CHECK(mass == Approx(1.0).margin(2e-3));
}

TEST_CASE("StickBreakingTransform: shape errors name the transform", "[transforms]") {
  const StickBreakingTransform<double> t;
  Tape<double> tape;
  CHECK_THROWS_WITH(t.forward(tape.constant(1.0)),
                    Catch::Contains("StickBreakingTransform.forward") && Catch::Contains("expected rank >= 1"));
  CHECK_THROWS_WITH(t.inverse(tape.constant(xt::xarray<double>{1.0})),
                    Catch::Contains("StickBreakingTransform.inverse") && Catch::Contains("size >= 2"));
}

TEST_CASE("StickBreakingTransform: float", "[transforms]") {
  const StickBreakingTransform<float> t;
  Tape<float> tape;
  const auto x = tape.constant(xt::xarray<float>{0.5f, -1.0f, 2.0f});
  const auto y = t.forward(x);
  CHECK(std::abs(xt::sum(y.value())() - 1.0f) < 1e-6f);
  CHECK(xt::allclose(t.inverse(y).value(), x.value(), 1e-5, 1e-5));
}
