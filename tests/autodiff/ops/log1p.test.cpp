#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_log1p(xt::xarray<double> x) {
  for (double& v : x) v = std::log1p(v);
  return x;
}
xt::xarray<float> reference_log1p_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(std::log1p(v));
  return x;
}
}  // namespace

TEST_CASE("log1p: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, -0.5, 3.0, 1);
  const auto y = log1p(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "log1p");
  require_close(y.value(), reference_log1p(x));
  const auto x3 = random_array({2, 3, 2}, -0.5, 3.0, 2);
  require_close(log1p(tape.constant(x3)).value(), reference_log1p(x3));
  const auto s = random_array({}, -0.5, 3.0, 3);
  require_close(log1p(tape.constant(s)).value(), reference_log1p(s));
}

TEST_CASE("log1p: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return log1p(v[0]); }, {random_array({3, 4}, -0.5, 3.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return log1p(v[0]); }, {random_array({2, 3, 2}, -0.5, 3.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return log1p(v[0]); }, {random_array({}, -0.5, 3.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return log1p(v[0]) * v[0]; }, {random_array({5}, -0.5, 3.0, 7)});
}

TEST_CASE("log1p: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, -0.5, 3.0, 8));
  require_close(log1p(tape.constant(x)).value(), reference_log1p_float(x), 1e-5);
}

TEST_CASE("log1p: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, -0.5, 3.0));
  tape.clear();
  REQUIRE_THROWS_AS(log1p(x), TapeError);
  REQUIRE_THROWS_WITH(log1p(x), Contains("stale"));
}

TEST_CASE("log1p: accurate for tiny x, and closed-form gradient", "[ops]") {
  Tape<double> tape;
  const auto y = log1p(tape.constant(xt::xarray<double>{1e-12, -1e-12, 0.0, std::exp(1.0) - 1.0}));
  require_close(y.value(), xt::xarray<double>{1e-12 - 0.5e-24, -1e-12 - 0.5e-24, 0.0, 1.0}, 1e-15);
  // log(1 + 1e-12) computed naively is off by ~1e-4 relative; log1p is exact to rounding.
  CHECK(std::abs(y.value()(0) / 1e-12 - 1.0) < 1e-12);
  CHECK(std::abs(y.value()(1) / -1e-12 - 1.0) < 1e-12);
  const auto x = tape.variable(xt::xarray<double>{0.0, 1.0, -0.5});
  tape.backward(sum(log1p(x)));
  require_close(x.grad(), xt::xarray<double>{1.0, 0.5, 2.0});
}
