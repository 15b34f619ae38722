#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("add: value, same shapes", "[ops]") {
  Tape<double> tape;
  const auto y = add(tape.constant(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}}),
                     tape.constant(xt::xarray<double>{{10, 20, 30}, {40, 50, 60}}));
  CHECK(std::string(y.op()) == "add");
  require_close(y.value(), xt::xarray<double>{{11, 22, 33}, {44, 55, 66}});
}

TEST_CASE("add: value with NumPy broadcasting", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> m{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}};
  const xt::xarray<double> row{100, 200, 300, 400};
  const xt::xarray<double> col = xt::xtensor<double, 2>{{10}, {20}, {30}};
  // [3,4] + [4] and [4] + [3,4]
  const xt::xarray<double> m_plus_row{{101, 202, 303, 404}, {105, 206, 307, 408}, {109, 210, 311, 412}};
  require_close(add(tape.constant(m), tape.constant(row)).value(), m_plus_row);
  require_close(add(tape.constant(row), tape.constant(m)).value(), m_plus_row);
  // [3,1] + [1,4] -> [3,4]
  const xt::xarray<double> row2{{1, 2, 3, 4}};
  require_close(add(tape.constant(col), tape.constant(row2)).value(),
                xt::xarray<double>{{11, 12, 13, 14}, {21, 22, 23, 24}, {31, 32, 33, 34}});
  // a rank-0 scalar, both sides
  const xt::xarray<double> s(0.5);
  const xt::xarray<double> m_plus_half{{1.5, 2.5, 3.5, 4.5}, {5.5, 6.5, 7.5, 8.5}, {9.5, 10.5, 11.5, 12.5}};
  require_close(add(tape.constant(m), tape.constant(s)).value(), m_plus_half);
  require_close(add(tape.constant(s), tape.constant(m)).value(), m_plus_half);
  // [2,1,3] + [4,1] -> [2,4,3]
  const auto a = random_array({2, 1, 3}, -2, 2, 3);
  const auto b = random_array({4, 1}, -2, 2, 4);
  const auto y = add(tape.constant(a), tape.constant(b));
  REQUIRE(y.shape() == Shape{2, 4, 3});
  xt::xarray<double> expected = xt::zeros<double>({2, 4, 3});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      for (std::size_t k = 0; k < 3; ++k) expected(i, j, k) = a(i, 0, k) + b(j, 0);
  require_close(y.value(), expected);
}

TEST_CASE("add: scalar operator forms", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> x{{1, -2}, {3, 0.5}};
  const auto v = tape.constant(x);
  require_close((v + 2.0).value(), xt::xarray<double>{{3, 0}, {5, 2.5}});
  require_close((2.0 + v).value(), xt::xarray<double>{{3, 0}, {5, 2.5}});
  require_close((v + v).value(), xt::xarray<double>{{2, -4}, {6, 1}});
  CHECK((v + 2.0).shape() == Shape{2, 2});
}

TEST_CASE("add: gradient, same shapes and the same operand twice", "[ops]") {
  const auto a = random_array({3, 4}, -2, 2, 1);
  const auto b = random_array({3, 4}, -2, 2, 2);
  require_gradient([](Tape<double>&, const Vars& v) { return add(v[0], v[1]); }, {a, b});
  require_gradient([](Tape<double>&, const Vars& v) { return v[0] + v[0]; }, {a});

  Tape<double> tape;
  const auto x = tape.variable(a);
  tape.backward(sum(x + x));
  require_close(x.grad(), xt::xarray<double>(2.0 * xt::ones<double>({3, 4})));
}

TEST_CASE("add: gradient with broadcasting both ways", "[ops]") {
  const auto add_fn = [](Tape<double>&, const Vars& v) { return add(v[0], v[1]); };
  require_gradient(add_fn, {random_array({3, 4}, -2, 2, 1), random_array({4}, -2, 2, 2)});
  require_gradient(add_fn, {random_array({4}, -2, 2, 3), random_array({3, 4}, -2, 2, 4)});
  require_gradient(add_fn, {random_array({3, 1}, -2, 2, 5), random_array({1, 4}, -2, 2, 6)});
  require_gradient(add_fn, {random_array({3, 4}, -2, 2, 7), random_array({}, -2, 2, 8)});
  require_gradient(add_fn, {random_array({}, -2, 2, 9), random_array({3, 4}, -2, 2, 10)});
  require_gradient(add_fn, {random_array({2, 1, 3}, -2, 2, 11), random_array({4, 1}, -2, 2, 12)});
  require_gradient(add_fn, {random_array({}, -2, 2, 13), random_array({}, -2, 2, 14)});

  // The broadcast operand's gradient is the output gradient summed over the broadcast axes.
  Tape<double> tape;
  const auto m = tape.variable(random_array({3, 4}));
  const auto r = tape.variable(random_array({4}));
  const auto s = tape.variable(xt::xarray<double>(1.0));
  tape.backward(sum(add(add(m, r), s)));
  require_close(m.grad(), xt::xarray<double>(xt::ones<double>({3, 4})));
  require_close(r.grad(), xt::xarray<double>{3, 3, 3, 3});
  require_close(s.grad(), xt::xarray<double>(12.0));
}

TEST_CASE("add: gradient of the scalar operator forms", "[ops]") {
  const auto x = random_array({2, 3});
  require_gradient([](Tape<double>&, const Vars& v) { return v[0] + 2.0; }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return 2.0 + v[0]; }, {x});
}

TEST_CASE("add: a constant operand gets no gradient", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 2}));
  const auto c = tape.constant(random_array({2, 2}, -1, 1, 9));
  const auto y = add(x, c);
  CHECK(y.requires_grad());
  CHECK_FALSE(add(c, c).requires_grad());
  tape.backward(sum(y));
  require_close(x.grad(), xt::xarray<double>(xt::ones<double>({2, 2})));
  REQUIRE_THROWS_AS(c.grad(), TapeError);
}

TEST_CASE("add: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> a = xt::cast<float>(random_array({3, 4}, -2, 2, 1));
  const xt::xarray<float> b = xt::cast<float>(random_array({4}, -2, 2, 2));
  require_close(add(tape.constant(a), tape.constant(b)).value(), xt::xarray<float>(a + b), 1e-5);
  require_close((tape.constant(a) + 1.5f).value(), xt::xarray<float>(a + 1.5f), 1e-5);
}

TEST_CASE("add: incompatible shapes throw ShapeError naming the op and both shapes", "[ops]") {
  Tape<double> tape;
  const auto a = tape.constant(xt::xarray<double>(xt::zeros<double>({2, 3})));
  const auto b = tape.constant(xt::xarray<double>(xt::zeros<double>({4})));
  REQUIRE_THROWS_AS(add(a, b), ShapeError);
  REQUIRE_THROWS_WITH(add(a, b), Contains("add") && Contains("[2, 3]") && Contains("[4]"));
  REQUIRE_THROWS_WITH(add(a, b),
                      "add: cannot broadcast shapes [2, 3] and [4] (axis -1: 3 vs 4; sizes must be equal or 1)");
  REQUIRE_THROWS_AS(a + b, ShapeError);
}

TEST_CASE("add: operands of two tapes throw TapeError", "[ops]") {
  Tape<double> ta;
  Tape<double> tb;
  const auto x = ta.variable(random_array({2, 2}));
  const auto y = tb.variable(random_array({2, 2}));
  REQUIRE_THROWS_AS(add(x, y), TapeError);
  REQUIRE_THROWS_WITH(add(x, y), Contains("add") && Contains("different tapes"));
  REQUIRE_THROWS_WITH(add(y, x), Contains("different tapes"));
}

TEST_CASE("add: a handle used after clear() throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 2}));
  const auto y = tape.variable(random_array({2, 2}));
  tape.clear();
  REQUIRE_THROWS_AS(add(x, y), TapeError);
  REQUIRE_THROWS_WITH(add(x, y), Contains("add") && Contains("stale"));
  const auto fresh = tape.variable(random_array({2, 2}));
  REQUIRE_THROWS_WITH(add(fresh, y), Contains("stale"));
  REQUIRE_THROWS_AS(Var<double>() + fresh, TapeError);
}
