#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("var: a handle is three words and copies cheaply", "[var]") {
  STATIC_REQUIRE(sizeof(Var<float>) <= 16);
  STATIC_REQUIRE(std::is_trivially_copyable_v<Var<double>>);
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  Var<double> copy = x;
  CHECK(copy.index() == x.index());
  CHECK(&copy.tape() == &tape);
  CHECK(copy.shape() == Shape{2, 3});
  CHECK(copy.size() == 6);
  CHECK(copy.rank() == 2);
  CHECK(copy.value()(1, 2) == 6.0);
  CHECK_FALSE(copy.empty());
  CHECK(Var<double>().empty());
}
