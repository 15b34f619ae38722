#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("neg: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "neg", [](const auto& x) { return vaelib::neg(x); }, [](auto v) { return -v; }, -2.0, 2.0, 1);
}

TEST_CASE("neg: operator-, closed-form values and gradient", "[ops]") {
  Tape<double> tape;
  const auto c = tape.constant(xt::xarray<double>{{1.0, -2.0}, {0.0, 3.5}});
  require_close((-c).value(), xt::xarray<double>{{-1.0, 2.0}, {0.0, -3.5}});
  CHECK(std::string((-c).op()) == "neg");
  const auto x = tape.variable(xt::xarray<double>{1.0, -2.0});
  tape.backward(sum(-x));
  require_close(x.grad(), xt::xarray<double>{-1.0, -1.0});
  require_gradient([](Tape<double>&, const Vars& v) { return -(v[0] * v[1]); },
                   {random_array({2, 3}, -2, 2, 11), random_array({3}, -2, 2, 12)});
}
