#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("IndependentTransform: the same map, log|det J| summed over the extra axes", "[transforms]") {
  const IndependentTransform<double> t(std::make_shared<ExpTransform<double>>(), 1);
  CHECK(t.domain_event_rank() == 1);
  CHECK(t.codomain_event_rank() == 1);
  CHECK(t.codomain().kind() == SupportKind::positive);
  CHECK(t.codomain().event_rank() == 1);
  CHECK(t.name() == "Independent(ExpTransform, 1)");
  const xt::xarray<double> x = random_array({2, 3}, -1.0, 1.0, 41);
  transform_check_round_trip(t, x);
  transform_check_log_det(t, xt::xarray<double>{0.3, -0.2, 1.1}, transform_first_entries(3));
  transform_check_gradients(t, x);
  Tape<double> tape;
  const auto xv = tape.constant(x);
  const auto ld = t.log_abs_det_jacobian(xv, t.forward(xv));
  REQUIRE(ld.shape() == Shape{2});
  require_close(ld.value(), xt::xarray<double>(xt::sum(x, {1})));
  const IndependentTransform<double> two(std::make_shared<StickBreakingTransform<double>>(), 1);
  CHECK(two.log_abs_det_jacobian(xv, two.forward(xv)).shape() == Shape{});
  CHECK_THROWS_AS(IndependentTransform<double>(nullptr, 1), ArgumentError);
}
