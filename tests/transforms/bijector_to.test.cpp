#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("bijector_to: a transform onto each continuous support", "[transforms]") {
  using S = Support<double>;
  struct Case {
    S support;
    std::string transform;
    xt::xarray<double> x;  // one unconstrained point
  };
  const std::vector<Case> cases = {
      {S::real(), "IdentityTransform", {0.3, -2.0}},
      {S::positive(), "ExpTransform", {0.3, -2.0}},
      {S::greater_than(1.5), "Compose(ExpTransform, AffineTransform)", {0.3, -2.0}},
      {S::less_than(-1.0), "Compose(ExpTransform, AffineTransform)", {0.3, -2.0}},
      {S::unit_interval(), "SigmoidTransform", {0.3, -2.0}},
      {S::interval(-2.0, 4.0), "SigmoidTransform", {0.3, -2.0}},
      {S::simplex(), "StickBreakingTransform", {0.3, -2.0}},
      {S::ordered(), "OrderedTransform", {0.3, -2.0}},
      {S::lower_cholesky(), "LowerCholeskyTransform", {0.3, -2.0, 0.7}},
      {S::correlation_cholesky(), "CorrelationCholeskyTransform", {0.3, -2.0, 0.7}},
  };
  for (const Case& c : cases) {
    INFO(c.support.describe());
    const TransformPtr<double> t = bijector_to(c.support);
    CHECK(t->name() == c.transform);
    CHECK(t->codomain().kind() == c.support.kind());
    CHECK(t->codomain().event_rank() == c.support.event_rank());
    transform_check_round_trip(*t, c.x);
  }
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{-3.0, 0.0, 2.0});
  CHECK(xt::all(bijector_to(S::greater_than(1.5))->forward(x).value() > 1.5));
  CHECK(xt::all(bijector_to(S::less_than(-1.0))->forward(x).value() < -1.0));
  CHECK(xt::all(bijector_to(S::interval(-2.0, 4.0))->forward(x).value() > -2.0));
  transform_check_log_det(*bijector_to(S::greater_than(1.5)), xt::xarray<double>{-3.0, 0.0, 2.0},
                          transform_first_entries(3));
  transform_check_log_det(*bijector_to(S::less_than(-1.0)), xt::xarray<double>{-3.0, 0.0, 2.0},
                          transform_first_entries(3));
}

TEST_CASE("bijector_to: tensor bounds, and supports with more event axes than their set's", "[transforms]") {
  using S = Support<double>;
  Tape<double> tape;
  const auto lower = tape.constant(xt::xarray<double>{0.0, 10.0});
  const auto t = bijector_to(S::greater_than(lower));
  const auto y = t->forward(tape.zeros({3, 2}));
  require_close(y.value(), xt::xarray<double>{{1.0, 11.0}, {1.0, 11.0}, {1.0, 11.0}});
  CHECK(t->codomain().describe() == "greater_than(tensor [2])");

  const auto positive_vectors = bijector_to(S::positive().independent(1));
  CHECK(positive_vectors->name() == "Independent(ExpTransform, 1)");
  const auto x = tape.constant(random_array({4, 3}));
  CHECK(positive_vectors->log_abs_det_jacobian(x, positive_vectors->forward(x)).shape() == Shape{4});
  const auto real_matrices = bijector_to(S::real().independent(2));
  CHECK(real_matrices->name() == "IdentityTransform");
  CHECK(real_matrices->log_abs_det_jacobian(x, x).shape() == Shape{});
  const auto simplex_rows = bijector_to(S::simplex().independent(1));
  CHECK(simplex_rows->log_abs_det_jacobian(x, simplex_rows->forward(x)).shape() == Shape{});
}

TEST_CASE("bijector_to: a discrete support has no transform, and says so", "[transforms]") {
  using S = Support<double>;
  for (const S& s :
       {S::boolean(), S::integer(), S::nonnegative_integer(), S::integer_interval(0.0, 5.0), S::one_hot()}) {
    INFO(s.describe());
    CHECK_THROWS_WITH(bijector_to(s), Catch::Contains("bijector_to: the support " + s.describe() + " is discrete"));
  }
}
