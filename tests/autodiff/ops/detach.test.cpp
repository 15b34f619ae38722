#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("detach: the same value, needing no gradient", "[ops]") {
  Tape<double> tape;
  const auto xv = random_array({2, 3}, -2, 2, 1);
  const auto x = tape.variable(xv);
  const auto d = detach(x);
  CHECK(std::string(d.op()) == "detach");
  CHECK(d.shape() == Shape{2, 3});
  require_close(d.value(), xv, 0);
  CHECK(x.requires_grad());
  CHECK_FALSE(d.requires_grad());
  REQUIRE_THROWS_AS(d.grad(), TapeError);
  // Nothing that depends on x only through detach can be the root of a backward pass.
  REQUIRE_THROWS_AS(tape.backward(sum(d)), TapeError);
  require_close(detach(tape.constant(xv)).value(), xv, 0);
}

TEST_CASE("detach: no gradient flows through it", "[ops]") {
  // y = x * detach(x): dy/dx = detach(x) only, not 2x.
  Tape<double> tape;
  const auto xv = random_array({2, 3}, -2, 2, 1);
  const auto x = tape.variable(xv);
  const auto y = x * detach(x);
  require_close(y.value(), xt::xarray<double>(xv * xv));
  tape.backward(sum(y));
  require_close(x.grad(), xv);

  // A variable seen only through detach gets a zero gradient.
  Tape<double> t2;
  const auto a = t2.variable(random_array({3}, -2, 2, 2));
  const auto b = t2.variable(random_array({3}, -2, 2, 3));
  t2.backward(sum(a * detach(b) + exp(detach(a))));
  require_close(a.grad(), random_array({3}, -2, 2, 3));
  require_close(b.grad(), xt::xarray<double>{0, 0, 0});
}

TEST_CASE("detach: gradient check with a detached variable held fixed", "[ops]") {
  // The detached operand is a variable of its own, so finite differences in x see it fixed:
  // the tape's gradient must match them exactly as if it were a constant.
  const auto yv = random_array({3, 4}, -2, 2, 4);
  require_gradient(
      [yv](Tape<double>& t, const Vars& v) {
        const auto y = t.variable(yv);
        return v[0] * detach(y) + exp(detach(y * y));
      },
      {random_array({3, 4}, -2, 2, 5)});
  require_gradient(
      [yv](Tape<double>& t, const Vars& v) { return v[0] * v[0] + detach(t.variable(yv)) * v[0]; },
      {random_array({3, 4}, -2, 2, 6)});
}

TEST_CASE("detach: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> xv = xt::cast<float>(random_array({3, 4}));
  const auto x = tape.variable(xv);
  require_close(detach(x).value(), xv, 0);
  tape.backward(sum(x * detach(x)));
  require_close(x.grad(), xv, 1e-6);
}

TEST_CASE("detach: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}));
  tape.clear();
  REQUIRE_THROWS_AS(detach(x), TapeError);
  REQUIRE_THROWS_WITH(detach(x), Contains("stale"));
}
