#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("mul: value, same shapes and broadcasting", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> m{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}};
  const xt::xarray<double> row{1, -1, 2, 0};
  const xt::xarray<double> col = xt::xtensor<double, 2>{{1}, {2}, {-1}};
  require_close(mul(tape.constant(m), tape.constant(m)).value(),
                xt::xarray<double>{{1, 4, 9, 16}, {25, 36, 49, 64}, {81, 100, 121, 144}});
  const xt::xarray<double> m_row{{1, -2, 6, 0}, {5, -6, 14, 0}, {9, -10, 22, 0}};
  require_close(mul(tape.constant(m), tape.constant(row)).value(), m_row);
  require_close(mul(tape.constant(row), tape.constant(m)).value(), m_row);
  require_close(mul(tape.constant(col), tape.constant(xt::xarray<double>{{1, 2, 3, 4}})).value(),
                xt::xarray<double>{{1, 2, 3, 4}, {2, 4, 6, 8}, {-1, -2, -3, -4}});
  const xt::xarray<double> half{{0.5, 1, 1.5, 2}, {2.5, 3, 3.5, 4}, {4.5, 5, 5.5, 6}};
  require_close(mul(tape.constant(m), tape.constant(xt::xarray<double>(0.5))).value(), half);
  require_close(mul(tape.constant(xt::xarray<double>(0.5)), tape.constant(m)).value(), half);
}

TEST_CASE("mul: scalar operator forms", "[ops]") {
  Tape<double> tape;
  const auto v = tape.constant(xt::xarray<double>{{1.0, -2.0}, {0.25, 3.0}});
  require_close((v * 2.0).value(), xt::xarray<double>{{2.0, -4.0}, {0.5, 6.0}});
  require_close((2.0 * v).value(), xt::xarray<double>{{2.0, -4.0}, {0.5, 6.0}});
  require_close((v * v).value(), xt::xarray<double>{{1.0, 4.0}, {0.0625, 9.0}});
}

TEST_CASE("mul: gradient, same shapes and broadcasting both ways", "[ops]") {
  const auto fn = [](Tape<double>&, const Vars& v) { return mul(v[0], v[1]); };
  require_gradient(fn, {random_array({3, 4}, -2, 2, 1), random_array({3, 4}, -2, 2, 2)});
  require_gradient(fn, {random_array({3, 4}, -2, 2, 3), random_array({4}, -2, 2, 4)});
  require_gradient(fn, {random_array({4}, -2, 2, 5), random_array({3, 4}, -2, 2, 6)});
  require_gradient(fn, {random_array({3, 1}, -2, 2, 7), random_array({1, 4}, -2, 2, 8)});
  require_gradient(fn, {random_array({3, 4}, -2, 2, 9), random_array({}, -2, 2, 10)});
  require_gradient(fn, {random_array({}, -2, 2, 11), random_array({3, 4}, -2, 2, 12)});
  require_gradient(fn, {random_array({2, 3, 1}, -2, 2, 13), random_array({1, 4}, -2, 2, 14)});
  require_gradient([](Tape<double>&, const Vars& v) { return v[0] * v[0]; }, {random_array({2, 3})});
  require_gradient([](Tape<double>&, const Vars& v) { return v[0] * 2.0; }, {random_array({2, 3})});
  require_gradient([](Tape<double>&, const Vars& v) { return 2.0 * v[0]; }, {random_array({2, 3})});

  // d(x * x)/dx = 2x, and a broadcast factor collects sum(dy * other).
  Tape<double> tape;
  const xt::xarray<double> xv{{1, 2}, {3, 4}};
  const auto x = tape.variable(xv);
  const auto s = tape.variable(xt::xarray<double>(3.0));
  tape.backward(sum(x * x + x * s));
  require_close(x.grad(), xt::xarray<double>{{5, 7}, {9, 11}});
  require_close(s.grad(), xt::xarray<double>(10.0));
}

TEST_CASE("mul: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> a = xt::cast<float>(random_array({3, 4}, -2, 2, 1));
  const xt::xarray<float> b = xt::cast<float>(random_array({4}, -2, 2, 2));
  require_close(mul(tape.constant(a), tape.constant(b)).value(), xt::xarray<float>(a * b), 1e-5);
  require_close((tape.constant(a) * 3.0f).value(), xt::xarray<float>(a * 3.0f), 1e-5);
}

TEST_CASE("mul: errors", "[ops]") {
  Tape<double> tape;
  const auto a = tape.constant(xt::xarray<double>(xt::zeros<double>({3, 2})));
  const auto b = tape.constant(xt::xarray<double>(xt::zeros<double>({3})));
  REQUIRE_THROWS_AS(mul(a, b), ShapeError);
  REQUIRE_THROWS_WITH(mul(a, b),
                      "mul: cannot broadcast shapes [3, 2] and [3] (axis -1: 2 vs 3; sizes must be equal or 1)");
  Tape<double> other;
  const auto c = other.constant(xt::xarray<double>(xt::zeros<double>({3, 2})));
  REQUIRE_THROWS_WITH(a * c, Contains("mul") && Contains("different tapes"));
  tape.clear();
  REQUIRE_THROWS_AS(a * 2.0, TapeError);
  REQUIRE_THROWS_WITH(mul(a, a), Contains("mul") && Contains("stale"));
}
