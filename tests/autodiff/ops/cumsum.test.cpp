#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("cumsum: running sums along each axis", "[ops]") {
  Tape<double> tape;
  const auto y = cumsum(tape.constant(xt::xarray<double>{1, 2, 3, 4}), 0);
  CHECK(std::string(y.op()) == "cumsum");
  require_close(y.value(), xt::xarray<double>{1, 3, 6, 10}, 0.0);
  const xt::xarray<double> m{{1, 2, 3}, {4, 5, 6}};
  require_close(cumsum(tape.constant(m), 0).value(), xt::xarray<double>{{1, 2, 3}, {5, 7, 9}}, 0.0);
  require_close(cumsum(tape.constant(m), -1).value(), xt::xarray<double>{{1, 3, 6}, {4, 9, 15}}, 0.0);
  const auto x = random_array({3, 4, 5}, -1, 1, 1);
  for (std::size_t axis = 0; axis < 3; ++axis) {
    INFO("axis " << axis);
    require_close(cumsum(tape.constant(x), static_cast<std::ptrdiff_t>(axis)).value(),
                  xt::xarray<double>(xt::cumsum(x, axis)), 1e-14);
  }
  CHECK(cumsum(tape.constant(xt::xarray<double>(xt::zeros<double>({2, 0}))), 1).shape() == Shape{2, 0});
  Tape<float> tf;
  require_close(cumsum(tf.constant(xt::xarray<float>{0.5f, 0.25f, 0.125f}), 0).value(),
                xt::xarray<float>{0.5f, 0.75f, 0.875f}, 0.0);
}

TEST_CASE("cumsum: gradient by finite differences along each axis", "[ops]") {
  for (std::ptrdiff_t axis : {0, 1, 2, -1}) {
    INFO("axis " << axis);
    require_gradient([axis](Tape<double>&, const Vars& v) { return cumsum(v[0], axis); },
                     {random_array({3, 4, 2}, -1, 1, 2)});
  }
  require_gradient([](Tape<double>&, const Vars& v) { return cumsum(v[0], 0) * v[0]; }, {random_array({6}, -1, 1, 3)});
  // d sum(cumsum(x)) / dx_j = n - j.
  Tape<double> tape;
  const auto x = tape.variable(random_array({4}, -1, 1, 4));
  tape.backward(sum(cumsum(x, 0)));
  require_close(x.grad(), xt::xarray<double>{4, 3, 2, 1}, 0.0);
}

TEST_CASE("cumsum: errors", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(cumsum(x, 2), ArgumentError);
  REQUIRE_THROWS_WITH(cumsum(x, 2), "cumsum: axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_AS(cumsum(tape.constant(1.0), 0), ArgumentError);
  tape.clear();
  REQUIRE_THROWS_WITH(cumsum(x, 0), Contains("cumsum: an operand is a stale handle"));
}
