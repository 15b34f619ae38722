#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_sigmoid(xt::xarray<double> x) {
  for (double& v : x) v = 1.0 / (1.0 + std::exp(-v));
  return x;
}
xt::xarray<float> reference_sigmoid_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(1.0 / (1.0 + std::exp(-v)));
  return x;
}
}  // namespace

TEST_CASE("sigmoid: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, -4.0, 4.0, 1);
  const auto y = sigmoid(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "sigmoid");
  require_close(y.value(), reference_sigmoid(x));
  const auto x3 = random_array({2, 3, 2}, -4.0, 4.0, 2);
  require_close(sigmoid(tape.constant(x3)).value(), reference_sigmoid(x3));
  const auto s = random_array({}, -4.0, 4.0, 3);
  require_close(sigmoid(tape.constant(s)).value(), reference_sigmoid(s));
}

TEST_CASE("sigmoid: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return sigmoid(v[0]); }, {random_array({3, 4}, -4.0, 4.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return sigmoid(v[0]); }, {random_array({2, 3, 2}, -4.0, 4.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return sigmoid(v[0]); }, {random_array({}, -4.0, 4.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return sigmoid(v[0]) * v[0]; },
                   {random_array({5}, -4.0, 4.0, 7)});
}

TEST_CASE("sigmoid: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, -4.0, 4.0, 8));
  require_close(sigmoid(tape.constant(x)).value(), reference_sigmoid_float(x), 1e-5);
}

TEST_CASE("sigmoid: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, -4.0, 4.0));
  tape.clear();
  REQUIRE_THROWS_AS(sigmoid(x), TapeError);
  REQUIRE_THROWS_WITH(sigmoid(x), Contains("stale"));
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
