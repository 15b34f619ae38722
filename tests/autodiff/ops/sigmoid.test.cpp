#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("sigmoid: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "sigmoid", [](const auto& x) { return vaelib::sigmoid(x); }, [](auto v) { return 1.0 / (1.0 + std::exp(-v)); },
      -4.0, 4.0, 1);
}

TEST_CASE("sigmoid: closed-form values, saturation without NaN and gradient", "[ops]") {
  Tape<double> tape;
  const auto y = sigmoid(tape.constant(xt::xarray<double>{0.0, std::log(3.0), -std::log(3.0), 1000.0, -1000.0}));
  require_close(y.value(), xt::xarray<double>{0.5, 0.75, 0.25, 1.0, 0.0});
  const auto x = tape.variable(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0});
  tape.backward(sum(sigmoid(x)));
  require_close(x.grad(), xt::xarray<double>{0.25, 0.1875, 0.0, 0.0});
  Tape<float> tf;
  const auto yf = sigmoid(tf.constant(xt::xarray<float>{100.0f, -100.0f}));
  CHECK(yf.value()(0) == 1.0f);
  CHECK(yf.value()(1) == 0.0f);
}
