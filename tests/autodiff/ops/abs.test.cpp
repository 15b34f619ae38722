#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("abs: value, gradient, float and stale handle (shared checks)", "[ops]") {
  // Gradient inputs kept 0.05 away from the kink at 0.
  check_unary_op(
      "abs", [](const auto& x) { return vaelib::abs(x); }, [](auto v) { return std::fabs(v); }, -3.0, 3.0, 1,
      {.kinks = {0.0}});
}

TEST_CASE("abs: closed-form values, -0.0 included", "[ops]") {
  Tape<double> tape;
  const auto y = abs(tape.constant(xt::xarray<double>{{-2.0, -0.5, 0.0}, {0.25, 3.0, -0.0}}));
  CHECK(std::string(y.op()) == "abs");
  require_close(y.value(), xt::xarray<double>{{2.0, 0.5, 0.0}, {0.25, 3.0, 0.0}});
}

TEST_CASE("abs: gradient away from a kink moved to 1, and 0 at x = 0", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return abs(v[0] - 1.0); },
                   {away_from(random_array({6}, -1, 3, 4), {1.0})});
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{-2.0, -0.5, 0.0, 0.25, 3.0});
  tape.backward(sum(abs(x)));
  require_close(x.grad(), xt::xarray<double>{-1.0, -1.0, 0.0, 1.0, 1.0});
}
