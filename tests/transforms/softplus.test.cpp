#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("SoftplusTransform: round trip, log|det J|, gradients; the inverse exact at both ends", "[transforms]") {
  const SoftplusTransform<double> t;
  CHECK(t.codomain().kind() == SupportKind::positive);
  transform_check_round_trip(t, xt::xarray<double>{-20.0, -1.0, 0.0, 0.5, 3.0, 30.0});
  transform_check_log_det(t, xt::xarray<double>{-2.0, 0.1, 4.0}, transform_first_entries(3));
  transform_check_gradients(t, xt::xarray<double>{-3.0, -0.2, 0.4, 2.5});
  Tape<double> tape;
  // inverse(y) = y + log(-expm1(-y)): log(y) for tiny y, y for large y, no overflow.
  const auto x = t.inverse(tape.constant(xt::xarray<double>{1e-300, 800.0}));
  CHECK(x.value()(0) == Approx(std::log(1e-300)).epsilon(1e-14));
  CHECK(x.value()(1) == Approx(800.0).epsilon(1e-15));
}

TEST_CASE("SoftplusTransform: softplus of a normal integrates to 1 over (0, inf)", "[transforms]") {
  Tape<double> tape;
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.constant(0.5), tape.constant(1.5))),
      std::make_shared<SoftplusTransform<double>>());
  std::vector<double> grid;
  for (double u = -30; u <= 3.5; u += 5e-4) grid.push_back(std::exp(u));
  const xt::xarray<double> lp =
      d.log_prob(tape.constant(xt::xarray<double>(xt::adapt(grid, Shape{grid.size()})))).value();
  CHECK(transform_trapezoid(grid, [&](std::size_t i) { return std::exp(lp(i)); }) == Approx(1.0).margin(1e-6));
}

TEST_CASE("SoftplusTransform: float", "[transforms]") {
  const SoftplusTransform<float> t;
  Tape<float> tape;
  const auto x = tape.constant(xt::xarray<float>{-3.0f, 0.0f, 2.0f, 20.0f});
  CHECK(xt::allclose(t.inverse(t.forward(x)).value(), x.value(), 1e-5, 1e-5));
}
