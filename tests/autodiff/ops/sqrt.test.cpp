#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_sqrt(xt::xarray<double> x) {
  for (double& v : x) v = std::sqrt(v);
  return x;
}
xt::xarray<float> reference_sqrt_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(std::sqrt(v));
  return x;
}
}  // namespace

TEST_CASE("sqrt: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, 0.5, 3.0, 1);
  const auto y = sqrt(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "sqrt");
  require_close(y.value(), reference_sqrt(x));
  const auto x3 = random_array({2, 3, 2}, 0.5, 3.0, 2);
  require_close(sqrt(tape.constant(x3)).value(), reference_sqrt(x3));
  const auto s = random_array({}, 0.5, 3.0, 3);
  require_close(sqrt(tape.constant(s)).value(), reference_sqrt(s));
}

TEST_CASE("sqrt: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return sqrt(v[0]); }, {random_array({3, 4}, 0.5, 3.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return sqrt(v[0]); }, {random_array({2, 3, 2}, 0.5, 3.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return sqrt(v[0]); }, {random_array({}, 0.5, 3.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return sqrt(v[0]) * v[0]; }, {random_array({5}, 0.5, 3.0, 7)});
}

TEST_CASE("sqrt: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, 0.5, 3.0, 8));
  require_close(sqrt(tape.constant(x)).value(), reference_sqrt_float(x), 1e-5);
}

TEST_CASE("sqrt: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, 0.5, 3.0));
  tape.clear();
  REQUIRE_THROWS_AS(sqrt(x), TapeError);
  REQUIRE_THROWS_WITH(sqrt(x), Contains("stale"));
}

TEST_CASE("sqrt: closed-form values and gradient", "[ops]") {
  Tape<double> tape;
  require_close(sqrt(tape.constant(xt::xarray<double>{0.0, 1.0, 4.0, 0.25, 2.0})).value(),
                xt::xarray<double>{0.0, 1.0, 2.0, 0.5, std::sqrt(2.0)});
  const auto x = tape.variable(xt::xarray<double>{1.0, 4.0, 0.25});
  tape.backward(sum(sqrt(x)));
  require_close(x.grad(), xt::xarray<double>{0.5, 0.25, 1.0});
}
