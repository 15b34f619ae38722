#include "support/gradients.hpp"

#include <span>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("concat: value along the first, a middle and the last axis", "[ops]") {
  Tape<double> tape;
  const auto y =
      concat({tape.constant(xt::xarray<double>{{1, 2}}), tape.constant(xt::xarray<double>{{3, 4}, {5, 6}})}, 0);
  CHECK(std::string(y.op()) == "concat");
  require_close(y.value(), xt::xarray<double>{{1, 2}, {3, 4}, {5, 6}});
  require_close(concat({tape.constant(xt::xarray<double>(xt::xtensor<double, 2>{{1}, {2}})),
                        tape.constant(xt::xarray<double>{{3, 4}, {5, 6}})},
                       1)
                    .value(),
                xt::xarray<double>{{1, 3, 4}, {2, 5, 6}});

  // Three inputs of different sizes on the axis.
  const auto a0 = random_array({2, 3}, -2, 2, 1), b0 = random_array({1, 3}, -2, 2, 2),
             c0 = random_array({4, 3}, -2, 2, 3);
  const auto y0 = concat({tape.constant(a0), tape.constant(b0), tape.constant(c0)}, 0);
  CHECK(y0.shape() == Shape{7, 3});
  require_close(y0.value(), xt::xarray<double>(xt::concatenate(xt::xtuple(a0, b0, c0), 0)));

  const auto a1 = random_array({2, 1, 4}, -2, 2, 4), b1 = random_array({2, 3, 4}, -2, 2, 5),
             c1 = random_array({2, 2, 4}, -2, 2, 6);
  const auto y1 = concat({tape.constant(a1), tape.constant(b1), tape.constant(c1)}, 1);
  CHECK(y1.shape() == Shape{2, 6, 4});
  require_close(y1.value(), xt::xarray<double>(xt::concatenate(xt::xtuple(a1, b1, c1), 1)));

  const auto a2 = random_array({2, 3, 1}, -2, 2, 7), b2 = random_array({2, 3, 2}, -2, 2, 8),
             c2 = random_array({2, 3, 3}, -2, 2, 9);
  const auto expected2 = xt::xarray<double>(xt::concatenate(xt::xtuple(a2, b2, c2), 2));
  require_close(concat({tape.constant(a2), tape.constant(b2), tape.constant(c2)}, 2).value(), expected2);
  require_close(concat({tape.constant(a2), tape.constant(b2), tape.constant(c2)}, -1).value(), expected2);
  require_close(concat({tape.constant(a1), tape.constant(b1), tape.constant(c1)}, -2).value(),
                xt::xarray<double>(xt::concatenate(xt::xtuple(a1, b1, c1), 1)));

  // A span over a vector, one input, and an input that is empty along the axis.
  const std::vector<Var<double>> parts{tape.constant(a0), tape.constant(b0)};
  require_close(concat(std::span<const Var<double>>(parts), 0).value(),
                xt::xarray<double>(xt::concatenate(xt::xtuple(a0, b0), 0)));
  require_close(concat({tape.constant(a0)}, 1).value(), a0);
  const auto none = xt::xarray<double>(xt::zeros<double>({2, 0}));
  require_close(concat({tape.constant(none), tape.constant(a0), tape.constant(none)}, 1).value(), a0);
}

TEST_CASE("concat: gradient along the first, a middle and the last axis", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return concat({v[0], v[1], v[2]}, 0); },
                   {random_array({2, 3}, -2, 2, 1), random_array({1, 3}, -2, 2, 2), random_array({4, 3}, -2, 2, 3)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return concat({v[0], v[1], v[2]}, 1);
      },
      {random_array({2, 1, 4}, -2, 2, 4), random_array({2, 3, 4}, -2, 2, 5), random_array({2, 2, 4}, -2, 2, 6)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return concat({v[0], v[1], v[2]}, -1);
      },
      {random_array({2, 3, 1}, -2, 2, 7), random_array({2, 3, 2}, -2, 2, 8), random_array({2, 3, 3}, -2, 2, 9)});
  // The same input twice, and a constant among the inputs.
  require_gradient([](Tape<double>&, const Vars& v) { return concat({v[0], v[1], v[0]}, 0); },
                   {random_array({2, 3}, -2, 2, 10), random_array({1, 3}, -2, 2, 11)});
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return concat({v[0], t.constant(xt::xarray<double>(xt::ones<double>({2, 2}))), v[1]}, 1);
      },
      {random_array({2, 3}, -2, 2, 12), random_array({2, 1}, -2, 2, 13)});

  Tape<double> tape;
  const auto a = tape.variable(random_array({1, 2}));
  const auto b = tape.variable(random_array({2, 2}));
  tape.backward(sum(concat({a, b, a}, 0) * tape.constant(xt::xarray<double>{{1, 2}, {3, 4}, {5, 6}, {7, 8}})));
  require_close(a.grad(), xt::xarray<double>{{8, 10}});
  require_close(b.grad(), xt::xarray<double>{{3, 4}, {5, 6}});
}

TEST_CASE("concat: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> a = xt::cast<float>(random_array({2, 3}, -2, 2, 1));
  const xt::xarray<float> b = xt::cast<float>(random_array({2, 2}, -2, 2, 2));
  require_close(concat({tape.constant(a), tape.constant(b)}, 1).value(),
                xt::xarray<float>(xt::concatenate(xt::xtuple(a, b), 1)), 0);
}

TEST_CASE("concat: errors", "[ops]") {
  Tape<double> tape;
  const auto a = tape.variable(random_array({2, 3}));
  const auto b = tape.variable(random_array({2, 4}));
  const auto c = tape.variable(random_array({2, 3, 1}));
  REQUIRE_THROWS_AS(concat({a, b}, 0), ShapeError);
  REQUIRE_THROWS_WITH(
      concat({a, b}, 0),
      "concat: operand 1 has shape [2, 4], operand 0 has [2, 3] (expected the same rank and equal sizes "
      "except on axis 0)");
  REQUIRE_NOTHROW(concat({a, b}, 1));
  REQUIRE_THROWS_WITH(concat({a, a, c}, 1), Contains("concat: operand 2 has shape [2, 3, 1]"));
  REQUIRE_THROWS_AS(concat<double>({}, 0), ArgumentError);
  REQUIRE_THROWS_WITH(concat<double>({}, 0), "concat: expected at least one tensor, got none");
  const std::vector<Var<double>> none;
  REQUIRE_THROWS_AS(concat(std::span<const Var<double>>(none), 0), ArgumentError);
  REQUIRE_THROWS_AS(concat({a, a}, 2), ArgumentError);
  REQUIRE_THROWS_WITH(concat({a, a}, 2),
                      "concat: axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_WITH(concat({a, a}, -3), Contains("concat: axis -3 is out of range"));
  Tape<double> other;
  const auto d = other.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(concat({a, d}, 0), TapeError);
  REQUIRE_THROWS_WITH(concat({a, d}, 0), Contains("concat") && Contains("different tapes"));
  tape.clear();
  REQUIRE_THROWS_AS(concat({a, b}, 1), TapeError);
  REQUIRE_THROWS_WITH(concat({a, b}, 1), Contains("stale"));
}
