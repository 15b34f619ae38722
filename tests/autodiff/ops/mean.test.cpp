#include "support/gradients.hpp"

#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("mean: value over all axes, one axis, several axes, negative axes", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> m{{1, 2, 3}, {4, 5, 6}};
  const auto c = tape.constant(m);
  require_close(mean(c).value(), xt::xarray<double>(3.5));
  CHECK(mean(c).shape() == Shape{});
  require_close(mean(c, {0}).value(), xt::xarray<double>{2.5, 3.5, 4.5});
  require_close(mean(c, {1}).value(), xt::xarray<double>{2, 5});
  require_close(mean(c, {-1}).value(), xt::xarray<double>{2, 5});
  require_close(mean(c, {-2}, true).value(), xt::xarray<double>{{2.5, 3.5, 4.5}});
  require_close(mean(c, {}, true).value(), xt::xarray<double>(xt::xtensor<double, 2>{{3.5}}));
  CHECK(std::string(mean(c).op()) == "mean");

  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  const auto v = tape.constant(x);
  require_close(mean(v).value(), xt::xarray<double>(xt::mean(x)));
  require_close(mean(v, {1}).value(), xt::xarray<double>(xt::mean(x, {1})));
  require_close(mean(v, {0, 2}).value(), xt::xarray<double>(xt::mean(x, {0, 2})));
  require_close(mean(v, {-1, -3}).value(), xt::xarray<double>(xt::mean(x, {0, 2})));
  require_close(mean(v, {-1}, true).value(), xt::xarray<double>(xt::mean(x, {2}, xt::keep_dims)));
  require_close(mean(v, {0, 2}, true).value(), xt::xarray<double>(xt::mean(x, {0, 2}, xt::keep_dims)));
  require_close(mean(v, std::vector<long>{2, 1}).value(), xt::xarray<double>(xt::mean(x, {1, 2})));
  require_close(mean(tape.constant(xt::xarray<double>(2.5))).value(), xt::xarray<double>(2.5));
}

TEST_CASE("mean: gradient for every kind of axes and keep_dims", "[ops]") {
  const auto x = random_array({2, 3, 4}, -2, 2, 1);
  require_gradient([](Tape<double>&, const Vars& v) { return mean(v[0]); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return mean(v[0], {}, true); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return mean(v[0], {0}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return mean(v[0], {1}, true); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return mean(v[0], {0, 2}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return mean(v[0], {-1}); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return mean(v[0], {-3, -1}, true); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return mean(v[0] * v[0], {1}); },
                   {random_array({3, 5}, -2, 2, 4)});

  // d mean / dx = 1 / count
  Tape<double> tape;
  const auto w = tape.variable(random_array({2, 4}));
  tape.backward(mean(w));
  require_close(w.grad(), xt::xarray<double>(0.125 * xt::ones<double>({2, 4})));
}

TEST_CASE("mean: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}));
  require_close(mean(tape.constant(x), {0}).value(), xt::xarray<float>(xt::mean(x, {0})), 1e-5);
  require_close(mean(tape.constant(x)).value(), xt::xarray<float>(xt::mean(x)), 1e-5);
}

TEST_CASE("mean: errors", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(mean(x, {2}), ArgumentError);
  REQUIRE_THROWS_WITH(mean(x, {2}), "mean: axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_WITH(mean(x, {-3}), Contains("mean: axis -3 is out of range"));
  REQUIRE_THROWS_AS(mean(x, {0, 0}), ArgumentError);
  REQUIRE_THROWS_WITH(mean(x, {0, -2}), "mean: axis -2 is listed twice");
  const auto empty = tape.constant(xt::xarray<double>(xt::zeros<double>({0, 3})));
  REQUIRE_THROWS_AS(mean(empty), ShapeError);
  REQUIRE_THROWS_WITH(mean(empty),
                      "mean: cannot average over an empty axis of shape [0, 3] (the mean of no elements is undefined)");
  const auto averaged_rows = mean(empty, {1});  // three elements per output, no outputs: fine
  CHECK(averaged_rows.shape() == Shape{0});
  tape.clear();
  REQUIRE_THROWS_WITH(mean(x), "mean: an operand is a stale handle (node 0 of tape generation 0; the tape was cleared or rewound "
                               "and is at generation 1)");
}
