#include "support/unary_op_checks.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("exp: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "exp", [](const auto& x) { return vaelib::exp(x); }, [](auto v) { return std::exp(v); }, -2.0, 2.0, 1);
}

TEST_CASE("exp: closed-form values, ranks 0 to 3 and infinities", "[ops]") {
  Tape<double> tape;
  const double inf = std::numeric_limits<double>::infinity();
  require_close(exp(tape.constant(xt::xarray<double>{0.0, 1.0, -1.0, std::log(2.0)})).value(),
                xt::xarray<double>{1.0, std::exp(1.0), std::exp(-1.0), 2.0});
  require_close(exp(tape.constant(xt::xarray<double>(0.0))).value(), xt::xarray<double>(1.0));
  const auto y = exp(tape.constant(xt::xarray<double>{-inf, inf}));
  CHECK(y.value()(0) == 0.0);
  CHECK(y.value()(1) == inf);
  const auto x3 = random_array({2, 3, 2}, -3, 3, 5);
  xt::xarray<double> expected = x3;
  for (double& v : expected) v = std::exp(v);
  const auto y3 = exp(tape.constant(x3));
  CHECK(y3.shape() == Shape{2, 3, 2});
  CHECK(std::string(y3.op()) == "exp");
  require_close(y3.value(), expected);
}

TEST_CASE("exp: gradient equals the value; rank 0 and rank 3", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return exp(v[0]); }, {random_array({}, -2, 2, 2)});
  require_gradient([](Tape<double>&, const Vars& v) { return exp(v[0]); }, {random_array({2, 3, 4}, -3, 3, 3)});
  require_gradient([](Tape<double>&, const Vars& v) { return exp(exp(v[0])); }, {random_array({5}, -1, 1, 4)});
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  tape.backward(sum(exp(x)));
  require_close(x.grad(), xt::xarray<double>(xt::exp(random_array({2, 3}))));
}

TEST_CASE("exp: an empty handle throws TapeError", "[ops]") {
  REQUIRE_THROWS_AS(exp(Var<double>()), TapeError);
  REQUIRE_THROWS_WITH(exp(Var<double>()), Contains("empty"));
}
