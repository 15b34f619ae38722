#include "support/unary_op_checks.hpp"

#include <algorithm>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("relu: value, gradient, float and stale handle (shared checks)", "[ops]") {
  // Gradient inputs kept 0.05 away from the kink at 0.
  check_unary_op(
      "relu", [](const auto& x) { return vaelib::relu(x); }, [](auto v) { return std::max(v, decltype(v)(0)); }, -3.0,
      3.0, 1, {.kinks = {0.0}});
}

TEST_CASE("relu: closed-form values", "[ops]") {
  Tape<double> tape;
  const auto y = relu(tape.constant(xt::xarray<double>{{-2.0, -0.5, 0.0}, {0.25, 3.0, -1e-300}}));
  CHECK(std::string(y.op()) == "relu");
  require_close(y.value(), xt::xarray<double>{{0.0, 0.0, 0.0}, {0.25, 3.0, 0.0}});
}

TEST_CASE("relu: closed-form gradient, 0 at and below 0", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{-2.0, -0.5, 0.0, 0.25, 3.0});
  tape.backward(sum(relu(x)));
  require_close(x.grad(), xt::xarray<double>{0.0, 0.0, 0.0, 1.0, 1.0});
}
