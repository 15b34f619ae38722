#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_tanh(xt::xarray<double> x) {
  for (double& v : x) v = std::tanh(v);
  return x;
}
xt::xarray<float> reference_tanh_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(std::tanh(v));
  return x;
}
}  // namespace

TEST_CASE("tanh: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, -3.0, 3.0, 1);
  const auto y = tanh(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "tanh");
  require_close(y.value(), reference_tanh(x));
  const auto x3 = random_array({2, 3, 2}, -3.0, 3.0, 2);
  require_close(tanh(tape.constant(x3)).value(), reference_tanh(x3));
  const auto s = random_array({}, -3.0, 3.0, 3);
  require_close(tanh(tape.constant(s)).value(), reference_tanh(s));
}

TEST_CASE("tanh: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return tanh(v[0]); }, {random_array({3, 4}, -3.0, 3.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return tanh(v[0]); }, {random_array({2, 3, 2}, -3.0, 3.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return tanh(v[0]); }, {random_array({}, -3.0, 3.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return tanh(v[0]) * v[0]; }, {random_array({5}, -3.0, 3.0, 7)});
}

TEST_CASE("tanh: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, -3.0, 3.0, 8));
  require_close(tanh(tape.constant(x)).value(), reference_tanh_float(x), 1e-5);
}

TEST_CASE("tanh: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, -3.0, 3.0));
  tape.clear();
  REQUIRE_THROWS_AS(tanh(x), TapeError);
  REQUIRE_THROWS_WITH(tanh(x), Contains("stale"));
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
