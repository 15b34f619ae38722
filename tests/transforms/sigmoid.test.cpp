#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("SigmoidTransform: onto (0, 1) and onto (a, b): round trip, log|det J|, gradients", "[transforms]") {
  const SigmoidTransform<double> unit;
  CHECK(unit.codomain().kind() == SupportKind::unit_interval);
  const SigmoidTransform<double> ab(-2.0, 5.0);
  CHECK(ab.codomain().kind() == SupportKind::interval);
  CHECK(ab.codomain().describe() == "interval(-2, 5)");
  for (const Transform<double>* t :
       {static_cast<const Transform<double>*>(&unit), static_cast<const Transform<double>*>(&ab)}) {
    transform_check_round_trip(*t, xt::xarray<double>{-8.0, -1.0, 0.0, 0.3, 6.0}, 1e-9);
    transform_check_log_det(*t, xt::xarray<double>{-1.5, 0.2, 3.0}, transform_first_entries(3));
    transform_check_gradients(*t, xt::xarray<double>{-2.0, 0.1, 1.7});
  }
  Tape<double> tape;
  CHECK(ab.forward(tape.constant(0.0)).item() == Approx(1.5));
}

TEST_CASE("SigmoidTransform: tensor bounds broadcast and receive gradients", "[transforms]") {
  const xt::xarray<double> x{{0.3, -1.0}, {2.0, 0.5}};
  require_gradient(
      [&](Tape<double>& tape, const Vars& in) {
        const SigmoidTransform<double> t(in[0], in[1]);
        const auto xv = tape.constant(x);
        const auto y = t.forward(xv);
        return y + t.log_abs_det_jacobian(xv, y) + t.inverse(y * 0.9 + in[0] * 0.1);
      },
      {xt::xarray<double>{-1.0, 0.5}, xt::xarray<double>{2.0, 3.0}});
  Tape<double> tape;
  const SigmoidTransform<double> t(tape.constant(xt::xarray<double>{-1.0, 0.5}), 4.0);
  CHECK(t.forward_shape({3, 1}) == Shape{3, 2});
  CHECK(t.codomain().describe() == "interval(tensor [2], 4)");
}

TEST_CASE("SigmoidTransform: densities integrate to 1 over (a, b) and over a rectangle (two dimensions)",
          "[transforms]") {
  Tape<double> tape;
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.constant(0.4), tape.constant(1.3))),
      std::make_shared<SigmoidTransform<double>>(-1.0, 2.0));
  std::vector<double> grid = transform_linspace(-1, 2, 300001);
  grid.front() += 1e-12;
  grid.back() -= 1e-12;
  const xt::xarray<double> lp =
      d.log_prob(tape.constant(xt::xarray<double>(xt::adapt(grid, Shape{grid.size()})))).value();
  CHECK(transform_trapezoid(grid, [&](std::size_t i) { return std::exp(lp(i)); }) == Approx(1.0).margin(1e-6));

  // Two dimensions: (0, 1) x (-1, 3) with bounds as a tensor, the pair one event.
  const TransformedDistribution<double> d2(
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.constant(xt::xarray<double>{0.2, -0.5}),
                                                                tape.constant(xt::xarray<double>{0.8, 1.1}))),
      std::make_shared<SigmoidTransform<double>>(tape.constant(xt::xarray<double>{0.0, -1.0}),
                                                 tape.constant(xt::xarray<double>{1.0, 3.0})),
      DistributionOptions{.group_ndims = 1});
  const std::size_t n = 1000;
  std::vector<double> points;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) points.insert(points.end(), {(i + 0.5) / n, -1 + 4 * (j + 0.5) / n});
  const xt::xarray<double> lp2 = d2.log_prob(tape.constant(xt::adapt(points, Shape{n * n, 2}))).value();
  CHECK(xt::sum(xt::exp(lp2))() * (1.0 / n) * (4.0 / n) == Approx(1.0).margin(1e-4));
}

TEST_CASE("SigmoidTransform: bad bounds are refused, naming them", "[transforms]") {
  CHECK_THROWS_WITH(SigmoidTransform<double>(1.0, 1.0),
                    Catch::Contains("SigmoidTransform") && Catch::Contains("lower = 1, upper = 1"));
  CHECK_THROWS_AS(SigmoidTransform<double>(0.0, INFINITY), ArgumentError);
}

TEST_CASE("SigmoidTransform: float", "[transforms]") {
  const SigmoidTransform<float> t(-1.0f, 1.0f);
  Tape<float> tape;
  const auto x = tape.constant(xt::xarray<float>{-3.0f, 0.0f, 2.0f});
  CHECK(xt::allclose(t.inverse(t.forward(x)).value(), x.value(), 1e-4, 1e-4));
}
