#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("OrderedTransform: increasing values, round trip, log|det J|, gradients", "[transforms]") {
  const OrderedTransform<double> t;
  CHECK(t.codomain().kind() == SupportKind::ordered);
  Tape<double> tape;
  const auto y = t.forward(tape.constant(xt::xarray<double>{-1.0, 0.0, std::log(2.0)}));
  require_close(y.value(), xt::xarray<double>{-1.0, 0.0, 2.0}, 1e-15);
  transform_check_round_trip(t, random_array({3, 4}, -3.0, 3.0, 31));
  transform_check_round_trip(t, xt::xarray<double>{0.5});
  for (std::size_t k : {1, 2, 5})
    transform_check_log_det(t, random_array({k}, -2.0, 2.0, 32), transform_first_entries(k));
  transform_check_gradients(t, random_array({2, 4}, -1.5, 1.5, 33));
}

TEST_CASE("OrderedTransform: an ordered pair's density integrates to 1 over y_0 < y_1 (two dimensions)",
          "[transforms]") {
  Tape<double> tape;
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.constant(xt::xarray<double>{0.5, -0.3}),
                                                                tape.constant(xt::xarray<double>{1.0, 0.6}))),
      std::make_shared<OrderedTransform<double>>());
  // Midpoints of a grid on [-6, 9]^2, those with y_0 < y_1 (the density vanishes on the diagonal).
  const std::size_t n = 1500;
  const double lo = -6, h = 15.0 / n;
  std::vector<double> points;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) points.insert(points.end(), {lo + (i + 0.5) * h, lo + (j + 0.5) * h});
  const xt::xarray<double> lp = d.log_prob(tape.constant(xt::adapt(points, Shape{points.size() / 2, 2}))).value();
  CHECK(xt::sum(xt::exp(lp))() * h * h == Approx(1.0).margin(2e-3));
  // Off the set (not increasing) the density is 0 (log of a negative step is NaN: not in the set).
  const auto bad = d.log_prob(tape.constant(xt::xarray<double>{1.0, 0.5}));
  CHECK_FALSE(bad.item() > -1e300);
}

TEST_CASE("OrderedTransform: float", "[transforms]") {
  const OrderedTransform<float> t;
  Tape<float> tape;
  const auto x = tape.constant(xt::xarray<float>{0.3f, -1.0f, 2.0f, 0.5f});
  const auto y = t.forward(x);
  CHECK(xt::allclose(t.inverse(y).value(), x.value(), 1e-5, 1e-5));
  CHECK(t.log_abs_det_jacobian(x, y).item() == Approx(-1.0f + 2.0f + 0.5f).epsilon(1e-6));
}
