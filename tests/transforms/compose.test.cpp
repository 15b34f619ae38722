#include <cmath>

#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("ComposeTransform: parts applied in order, log|det J| by the chain rule", "[transforms]") {
  // x -> exp(x) -> 1 + 2 exp(x): onto (1, inf).
  const auto t =
      compose<double>({std::make_shared<ExpTransform<double>>(), std::make_shared<AffineTransform<double>>(1.0, 2.0)},
                      Support<double>::greater_than(1.0));
  CHECK(t->name() == "Compose(ExpTransform, AffineTransform)");
  CHECK(t->codomain().describe() == "greater_than(1)");
  const xt::xarray<double> x{-1.0, 0.0, 2.0};
  transform_check_round_trip(*t, x);
  transform_check_log_det(*t, x, transform_first_entries(3));
  transform_check_gradients(*t, x);
  Tape<double> tape;
  const auto xv = tape.constant(x);
  require_close(t->forward(xv).value(), xt::xarray<double>(1 + 2 * xt::exp(x)));
  require_close(t->log_abs_det_jacobian(xv, t->forward(xv)).value(), xt::xarray<double>(x + std::log(2.0)));
}

TEST_CASE("ComposeTransform: parts of different event ranks (elementwise, then vector, then matrix)", "[transforms]") {
  // An affine map of each coordinate, then stick-breaking: events are vectors.
  const auto simplex = compose<double>(
      {std::make_shared<AffineTransform<double>>(0.5, 3.0), std::make_shared<StickBreakingTransform<double>>()});
  CHECK(simplex->domain_event_rank() == 1);
  CHECK(simplex->codomain_event_rank() == 1);
  CHECK(simplex->codomain().kind() == SupportKind::simplex);
  CHECK(simplex->forward_shape({2, 3}) == Shape{2, 4});
  CHECK(simplex->inverse_shape({2, 4}) == Shape{2, 3});
  transform_check_round_trip(*simplex, random_array({2, 3}, -1.0, 1.0, 51));
  transform_check_log_det(*simplex, xt::xarray<double>{0.2, -0.4, 0.1}, transform_first_entries(3));
  transform_check_gradients(*simplex, random_array({2, 3}, -1.0, 1.0, 52));
  // A Cholesky factor, then exp of each entry... not a bijection onto anything useful, but
  // the ranks: a vector in, a matrix out, and an elementwise part after it.
  const auto chain = compose<double>(
      {std::make_shared<SoftplusTransform<double>>(), std::make_shared<LowerCholeskyTransform<double>>()});
  CHECK(chain->domain_event_rank() == 1);
  CHECK(chain->codomain_event_rank() == 2);
  CHECK(chain->codomain().kind() == SupportKind::lower_cholesky);
  transform_check_log_det(*chain, xt::xarray<double>{0.3, -0.5, 0.8}, transform_lower_triangle(2, true));
  Tape<double> tape;
  const auto x = tape.constant(random_array({4, 3}, -1.0, 1.0, 53));
  const auto both = chain->forward_and_log_abs_det_jacobian(x);
  CHECK(both.log_abs_det_jacobian.shape() == Shape{4});
  require_close(both.log_abs_det_jacobian.value(), chain->log_abs_det_jacobian(x, both.y).value(), 1e-14);
  CHECK(tape.size() > 0);
}

TEST_CASE("ComposeTransform: an empty chain or a null part is refused", "[transforms]") {
  CHECK_THROWS_WITH(ComposeTransform<double>({}), Catch::Contains("ComposeTransform: no parts"));
  CHECK_THROWS_WITH(ComposeTransform<double>({std::make_shared<ExpTransform<double>>(), nullptr}),
                    Catch::Contains("ComposeTransform: part 1 is null"));
}
