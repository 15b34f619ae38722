#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("tanh: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "tanh", [](const auto& x) { return vaelib::tanh(x); }, [](auto v) { return std::tanh(v); }, -3.0, 3.0, 1);
}

TEST_CASE("tanh: closed-form values, saturation and gradient", "[ops]") {
  Tape<double> tape;
  const double t1 = (std::exp(2.0) - 1) / (std::exp(2.0) + 1);
  require_close(tanh(tape.constant(xt::xarray<double>{0.0, 1.0, -1.0, 1000.0, -1000.0})).value(),
                xt::xarray<double>{0.0, t1, -t1, 1.0, -1.0});
  const auto x = tape.variable(xt::xarray<double>{0.0, 1.0, 1000.0});
  tape.backward(sum(tanh(x)));
  require_close(x.grad(), xt::xarray<double>{1.0, 1 - t1 * t1, 0.0});
}
