#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("AffineTransform: round trip, log|det J|, gradients, with numbers and tensors", "[transforms]") {
  const AffineTransform<double> t(1.5, -0.5);
  CHECK(t.codomain().kind() == SupportKind::real);
  transform_check_round_trip(t, xt::xarray<double>{-2.0, 0.0, 3.0});
  transform_check_log_det(t, xt::xarray<double>{-2.0, 0.0, 3.0}, transform_first_entries(3));
  transform_check_gradients(t, xt::xarray<double>{-2.0, 0.0, 3.0});
  Tape<double> tape;
  const AffineTransform<double> tensors(tape.constant(xt::xarray<double>{1.0, 2.0}),
                                        tape.constant(xt::xarray<double>{3.0, -4.0}));
  const auto x = tape.constant(xt::xarray<double>{{1.0, 1.0}, {0.0, 2.0}});
  const auto y = tensors.forward(x);
  require_close(y.value(), xt::xarray<double>{{4.0, -2.0}, {1.0, -6.0}});
  require_close(tensors.log_abs_det_jacobian(x, y).value(),
                xt::xarray<double>{{std::log(3.0), std::log(4.0)}, {std::log(3.0), std::log(4.0)}});
  CHECK(tensors.forward_shape({3, 1}) == Shape{3, 2});
  require_gradient(
      [](Tape<double>& tp, const Vars& in) {
        const AffineTransform<double> a(in[0], in[1]);
        const auto xv = tp.constant(xt::xarray<double>{{0.5, -1.0}, {2.0, 0.3}});
        const auto yv = a.forward(xv);
        return yv + a.log_abs_det_jacobian(xv, yv) + a.inverse(yv * 1.1);
      },
      {xt::xarray<double>{0.2, -0.7}, xt::xarray<double>{1.3, -0.6}});
}

TEST_CASE("AffineTransform: a zero or non-finite scale is refused", "[transforms]") {
  CHECK_THROWS_WITH(AffineTransform<double>(0.0, 0.0),
                    Catch::Contains("AffineTransform: scale must be finite and nonzero, got 0"));
  CHECK_THROWS_WITH(AffineTransform<double>(NAN, 1.0), Catch::Contains("AffineTransform: loc must be finite"));
}

TEST_CASE("AffineTransform: an affine image of a normal pair integrates to 1 (two dimensions)", "[transforms]") {
  Tape<double> tape;
  const TransformedDistribution<double> d(
      std::make_unique<Normal<double>>(
          Normal<double>::with_std(tape.zeros({2}), tape.constant(xt::xarray<double>{1.0, 1.0}))),
      std::make_shared<AffineTransform<double>>(tape.constant(xt::xarray<double>{1.0, -2.0}),
                                                tape.constant(xt::xarray<double>{0.5, -3.0})),
      DistributionOptions{.group_ndims = 1});
  const std::size_t n = 600;
  const double h0 = 8.0 / n, h1 = 48.0 / n;
  std::vector<double> points;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) points.insert(points.end(), {-3 + (i + 0.5) * h0, -26 + (j + 0.5) * h1});
  const xt::xarray<double> lp = d.log_prob(tape.constant(xt::adapt(points, Shape{n * n, 2}))).value();
  CHECK(xt::sum(xt::exp(lp))() * h0 * h1 == Approx(1.0).margin(1e-5));
}
