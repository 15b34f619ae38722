#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_square(xt::xarray<double> x) {
  for (double& v : x) v = v * v;
  return x;
}
xt::xarray<float> reference_square_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(v * v);
  return x;
}
}  // namespace

TEST_CASE("square: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, -2.0, 2.0, 1);
  const auto y = square(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "square");
  require_close(y.value(), reference_square(x));
  const auto x3 = random_array({2, 3, 2}, -2.0, 2.0, 2);
  require_close(square(tape.constant(x3)).value(), reference_square(x3));
  const auto s = random_array({}, -2.0, 2.0, 3);
  require_close(square(tape.constant(s)).value(), reference_square(s));
}

TEST_CASE("square: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return square(v[0]); }, {random_array({3, 4}, -2.0, 2.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return square(v[0]); }, {random_array({2, 3, 2}, -2.0, 2.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return square(v[0]); }, {random_array({}, -2.0, 2.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return square(v[0]) * v[0]; }, {random_array({5}, -2.0, 2.0, 7)});
}

TEST_CASE("square: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, -2.0, 2.0, 8));
  require_close(square(tape.constant(x)).value(), reference_square_float(x), 1e-5);
}

TEST_CASE("square: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, -2.0, 2.0));
  tape.clear();
  REQUIRE_THROWS_AS(square(x), TapeError);
  REQUIRE_THROWS_WITH(square(x), Contains("stale"));
}

TEST_CASE("square: closed-form values and gradient", "[ops]") {
  Tape<double> tape;
  require_close(square(tape.constant(xt::xarray<double>{-3.0, 0.0, 0.5, 2.0})).value(),
                xt::xarray<double>{9.0, 0.0, 0.25, 4.0});
  const auto x = tape.variable(xt::xarray<double>{-3.0, 0.0, 0.5, 2.0});
  tape.backward(sum(square(x)));
  require_close(x.grad(), xt::xarray<double>{-6.0, 0.0, 1.0, 4.0});
}
