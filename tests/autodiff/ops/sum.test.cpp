#include "support/gradients.hpp"

#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("sum: value over all axes, one axis, several axes, negative axes", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> m{{1, 2, 3}, {4, 5, 6}};
  const auto c = tape.constant(m);
  require_close(sum(c).value(), xt::xarray<double>(21.0));
  CHECK(sum(c).shape() == Shape{});
  require_close(sum(c, {0}).value(), xt::xarray<double>{5, 7, 9});
  require_close(sum(c, {1}).value(), xt::xarray<double>{6, 15});
  require_close(sum(c, {-1}).value(), xt::xarray<double>{6, 15});
  require_close(sum(c, {-2}).value(), xt::xarray<double>{5, 7, 9});
  require_close(sum(c, {0, 1}).value(), xt::xarray<double>(21.0));
  require_close(sum(c, {}, true).value(), xt::xarray<double>(xt::xtensor<double, 2>{{21.0}}));
  require_close(sum(c, {1}, true).value(), xt::xarray<double>(xt::xtensor<double, 2>{{6}, {15}}));
  require_close(sum(c, {0}, true).value(), xt::xarray<double>{{5, 7, 9}});
  CHECK(std::string(sum(c).op()) == "sum");

  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  const auto v = tape.constant(x);
  require_close(sum(v).value(), xt::xarray<double>(xt::sum(x)), 1e-12);
  require_close(sum(v, {1}).value(), xt::xarray<double>(xt::sum(x, {1})));
  require_close(sum(v, {0, 2}).value(), xt::xarray<double>(xt::sum(x, {0, 2})));
  require_close(sum(v, {2, 0}).value(), xt::xarray<double>(xt::sum(x, {0, 2})));
  require_close(sum(v, {-1, -3}).value(), xt::xarray<double>(xt::sum(x, {0, 2})));
  require_close(sum(v, {-1}, true).value(), xt::xarray<double>(xt::sum(x, {2}, xt::keep_dims)));
  require_close(sum(v, {0, 2}, true).value(), xt::xarray<double>(xt::sum(x, {0, 2}, xt::keep_dims)));
  require_close(sum(v, {}, true).value(), xt::xarray<double>(xt::sum(x, {0, 1, 2}, xt::keep_dims)));
  CHECK(sum(v, {}, true).shape() == Shape{1, 1, 1});
  // Axes from a container.
  require_close(sum(v, std::vector<int>{0, 1}).value(), xt::xarray<double>(xt::sum(x, {0, 1})));
  // A rank-0 input, and an empty input (sum 0).
  require_close(sum(tape.constant(xt::xarray<double>(2.5))).value(), xt::xarray<double>(2.5));
  require_close(sum(tape.constant(xt::xarray<double>(xt::zeros<double>({0, 3}))), {0}).value(),
                xt::xarray<double>{0, 0, 0});
}

TEST_CASE("sum: gradient for every kind of axes and keep_dims", "[ops]") {
  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0]); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0], {}, true); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0], {0}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0], {1}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0], {2}, true); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0], {0, 2}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0], {0, 1}, true); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0], {-1}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0], {-3, -2}, true); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0]); }, {random_array({}, -2, 2, 3)});
  require_gradient([](Tape<double>&, const Vars& v) { return sum(v[0] * v[0], {1}); },
                   {random_array({3, 5}, -2, 2, 4)});

  Tape<double> tape;
  const auto w = tape.variable(random_array({2, 3}));
  tape.backward(sum(sum(w, {1}) * tape.constant(xt::xarray<double>{2.0, -1.0})));
  require_close(w.grad(), xt::xarray<double>{{2, 2, 2}, {-1, -1, -1}});
}

TEST_CASE("sum: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}));
  require_close(sum(tape.constant(x), {1}).value(), xt::xarray<float>(xt::sum(x, {1})), 1e-5);
  require_close(sum(tape.constant(x)).value(), xt::xarray<float>(xt::sum(x)), 1e-5);
}

TEST_CASE("sum: bad axes throw ArgumentError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3, 4}));
  REQUIRE_THROWS_AS(sum(x, {3}), ArgumentError);
  REQUIRE_THROWS_WITH(sum(x, {3}), "sum: axis 3 is out of range for a tensor of rank 3 (expected -3 <= axis < 3)");
  REQUIRE_THROWS_WITH(sum(x, {-4}), "sum: axis -4 is out of range for a tensor of rank 3 (expected -3 <= axis < 3)");
  REQUIRE_THROWS_AS(sum(x, {1, 1}), ArgumentError);
  REQUIRE_THROWS_WITH(sum(x, {1, -2}), "sum: axis -2 is listed twice");
  REQUIRE_THROWS_WITH(sum(tape.constant(xt::xarray<double>(1.0)), {0}), Contains("sum: axis 0 is out of range"));
  tape.clear();
  REQUIRE_THROWS_AS(sum(x), TapeError);
  REQUIRE_THROWS_WITH(sum(x), Contains("stale"));
}

TEST_CASE("sum: an empty tensor sums to 0, and its gradient is empty", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>(xt::zeros<double>({0, 3})));
  const auto total = sum(x);
  CHECK(total.item() == 0.0);
  CHECK(sum(x, {0}).shape() == Shape{3});
  tape.backward(total);
  CHECK(x.grad().size() == 0);
}
