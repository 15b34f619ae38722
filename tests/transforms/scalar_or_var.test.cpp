#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("ScalarOrVar: a number or a tensor that broadcasts and carries gradients", "[transforms]") {
  Tape<double> tape;
  const ScalarOrVar<double> two(2.0);
  CHECK_FALSE(two.is_var());
  CHECK(two.scalar() == 2.0);
  CHECK(two.shape() == Shape{});
  CHECK(two.describe() == "2");
  const auto x = tape.constant(xt::xarray<double>{1.0, 3.0});
  const auto y = vaelib::detail::times(vaelib::detail::plus(x, two), two);
  require_close(y.value(), xt::xarray<double>{6.0, 10.0});
  CHECK_THROWS_WITH(two.var(), Catch::Contains("ScalarOrVar::var: this holds the number 2"));

  const ScalarOrVar<double> v(tape.constant(xt::xarray<double>(xt::xtensor<double, 2>{{1.0}, {2.0}})));
  CHECK(v.is_var());
  CHECK(v.shape() == Shape{2, 1});
  CHECK(v.describe() == "tensor [2, 1]");
  CHECK(vaelib::detail::minus(x, v).shape() == Shape{2, 2});
  CHECK_THROWS_WITH(v.scalar(), Catch::Contains("ScalarOrVar::scalar: this holds a tensor of shape [2, 1]"));
  CHECK(two.on(tape).item() == 2.0);
  CHECK_THROWS_AS(ScalarOrVar<double>(Var<double>()), ArgumentError);
  require_gradient(
      [](Tape<double>&, const Vars& in) {
        const ScalarOrVar<double> p(in[1]);
        return vaelib::detail::divided_by(vaelib::detail::minus(vaelib::detail::times(in[0], p), p), p);
      },
      {xt::xarray<double>{0.5, -1.0}, xt::xarray<double>{1.5, 2.5}});
}
