#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("ExpTransform: round trip, log|det J| against the tape's Jacobian, gradients", "[transforms]") {
  const ExpTransform<double> t;
  CHECK(t.domain_event_rank() == 0);
  CHECK(t.codomain_event_rank() == 0);
  CHECK(t.codomain().kind() == SupportKind::positive);
  const xt::xarray<double> x{{-3.0, 0.0, 0.7}, {2.5, -0.2, 1e-3}};
  transform_check_round_trip(t, x);
  transform_check_log_det(t, xt::xarray<double>{-1.5, 0.3, 2.0}, transform_first_entries(3));
  transform_check_gradients(t, x);
  Tape<double> tape;
  const auto xv = tape.constant(x);
  CHECK(t.log_abs_det_jacobian(xv, t.forward(xv)).shape() == Shape{2, 3});  // elementwise: one per entry
}

TEST_CASE("ExpTransform: exp of a standard normal integrates to 1 over (0, inf) and is the log-normal density",
          "[transforms]") {
  Tape<double> tape;
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.constant(0.3), tape.constant(0.8))),
      std::make_shared<ExpTransform<double>>());
  // A log-spaced grid: the density's mass sits over several decades.
  std::vector<double> grid;
  for (double u = -12; u <= 6; u += 1e-3) grid.push_back(std::exp(u));
  const xt::xarray<double> y = xt::adapt(grid, Shape{grid.size()});
  const xt::xarray<double> lp = d.log_prob(tape.constant(y)).value();
  CHECK(transform_trapezoid(grid, [&](std::size_t i) { return std::exp(lp(i)); }) == Approx(1.0).margin(1e-6));
  for (std::size_t i = 0; i < grid.size(); i += 997) {
    const double v = grid[i];
    const double z = (std::log(v) - 0.3) / 0.8;
    CHECK(lp(i) == Approx(-0.5 * z * z - std::log(0.8 * v) - 0.5 * std::log(2 * M_PI)).epsilon(1e-12).margin(1e-12));
  }
}

TEST_CASE("ExpTransform: float", "[transforms]") {
  Tape<float> tape;
  const ExpTransform<float> t;
  const auto x = tape.constant(xt::xarray<float>{-2.0f, 0.5f, 3.0f});
  const auto y = t.forward(x);
  CHECK(xt::allclose(t.inverse(y).value(), x.value(), 1e-6, 1e-6));
  CHECK(xt::allclose(t.log_abs_det_jacobian(x, y).value(), x.value()));
}
