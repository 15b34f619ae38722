#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("IdentityTransform: y = x, log|det J| = 0 with the batch shape of its event rank", "[transforms]") {
  const IdentityTransform<double> scalar_events;
  const IdentityTransform<double> vector_events(1);
  CHECK(vector_events.codomain().describe() == "real (1 event axes)");
  transform_check_round_trip(vector_events, random_array({2, 3}));
  transform_check_log_det(vector_events, xt::xarray<double>{0.5, -1.0}, transform_first_entries(2));
  Tape<double> tape;
  const auto x = tape.constant(random_array({2, 3}));
  CHECK(scalar_events.log_abs_det_jacobian(x, x).shape() == Shape{2, 3});
  CHECK(vector_events.log_abs_det_jacobian(x, x).shape() == Shape{2});
  CHECK(vector_events.forward(x).index() == x.index());  // no node recorded
}
