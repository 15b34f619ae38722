#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_neg(xt::xarray<double> x) {
  for (double& v : x) v = -v;
  return x;
}
xt::xarray<float> reference_neg_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(-v);
  return x;
}
}  // namespace

TEST_CASE("neg: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, -2.0, 2.0, 1);
  const auto y = neg(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "neg");
  require_close(y.value(), reference_neg(x));
  const auto x3 = random_array({2, 3, 2}, -2.0, 2.0, 2);
  require_close(neg(tape.constant(x3)).value(), reference_neg(x3));
  const auto s = random_array({}, -2.0, 2.0, 3);
  require_close(neg(tape.constant(s)).value(), reference_neg(s));
}

TEST_CASE("neg: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return neg(v[0]); }, {random_array({3, 4}, -2.0, 2.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return neg(v[0]); }, {random_array({2, 3, 2}, -2.0, 2.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return neg(v[0]); }, {random_array({}, -2.0, 2.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return neg(v[0]) * v[0]; }, {random_array({5}, -2.0, 2.0, 7)});
}

TEST_CASE("neg: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, -2.0, 2.0, 8));
  require_close(neg(tape.constant(x)).value(), reference_neg_float(x), 1e-5);
}

TEST_CASE("neg: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, -2.0, 2.0));
  tape.clear();
  REQUIRE_THROWS_AS(neg(x), TapeError);
  REQUIRE_THROWS_WITH(neg(x), Contains("stale"));
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
