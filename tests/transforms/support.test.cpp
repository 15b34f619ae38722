#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("Support: kinds, event ranks, bounds and descriptions", "[transforms]") {
  using S = Support<double>;
  CHECK(S::real().describe() == "real");
  CHECK(S::real().independent(1).describe() == "real (1 event axes)");
  CHECK(S::positive().event_rank() == 0);
  CHECK(S::simplex().event_rank() == 1);
  CHECK(S::ordered().event_rank() == 1);
  CHECK(S::lower_cholesky().event_rank() == 2);
  CHECK(S::correlation_cholesky().event_rank() == 2);
  CHECK(S::simplex().independent(2).event_rank() == 3);
  CHECK(S::interval(-1.0, 2.5).describe() == "interval(-1, 2.5)");
  CHECK(S::greater_than(3.0).describe() == "greater_than(3)");
  CHECK(S::less_than(-1.0).describe() == "less_than(-1)");
  CHECK(S::integer_interval(0.0, 10.0).describe() == "integer_interval(0, 10)");
  CHECK(S::interval(-1.0, 2.5).lower().scalar() == -1.0);
  CHECK(S::interval(-1.0, 2.5).upper().scalar() == 2.5);
  CHECK(S::greater_than(3.0).has_lower());
  CHECK_FALSE(S::greater_than(3.0).has_upper());
  CHECK_THROWS_WITH(S::positive().lower(), Catch::Contains("Support::lower: the support positive has no lower bound"));
  CHECK_THROWS_WITH(S::greater_than(0.0).upper(), Catch::Contains("greater_than(0) has no upper bound"));
  for (const S& s : {S::boolean(), S::integer(), S::nonnegative_integer(), S::integer_interval(0.0, 3.0), S::one_hot()})
    CHECK(s.is_discrete());
  for (const S& s : {S::real(), S::positive(), S::unit_interval(), S::simplex(), S::lower_cholesky()})
    CHECK_FALSE(s.is_discrete());
  Tape<double> tape;
  const S tensor_bounds = S::interval(tape.constant(xt::xarray<double>{0.0, 1.0}), 5.0);
  CHECK(tensor_bounds.lower().is_var());
  CHECK(tensor_bounds.describe() == "interval(tensor [2], 5)");
}

TEST_CASE("Support: a distribution's support defaults to the reals over its value", "[transforms]") {
  Tape<double> tape;
  const Normal<double> normal = Normal<double>::with_std(tape.zeros({3}), tape.constant(1.0));
  CHECK(normal.support().kind() == SupportKind::real);
  CHECK(normal.support().event_rank() == 0);
  const MultivariateNormalCholesky<double> mvn(tape.zeros({2}),
                                               tape.constant(xt::xarray<double>{{1.0, 0.0}, {0.5, 1.0}}));
  CHECK(mvn.support().kind() == SupportKind::real);
  CHECK(mvn.support().event_rank() == 1);
}
