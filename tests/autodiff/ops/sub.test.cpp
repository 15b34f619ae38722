#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("sub: value, same shapes and broadcasting", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> m{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}};
  const xt::xarray<double> row{1, 1, 2, 2};
  const xt::xarray<double> col = xt::xtensor<double, 2>{{1}, {2}, {3}};
  require_close(sub(tape.constant(m), tape.constant(m)).value(), xt::xarray<double>(xt::zeros<double>({3, 4})));
  require_close(sub(tape.constant(m), tape.constant(row)).value(),
                xt::xarray<double>{{0, 1, 1, 2}, {4, 5, 5, 6}, {8, 9, 9, 10}});
  require_close(sub(tape.constant(row), tape.constant(m)).value(),
                xt::xarray<double>{{0, -1, -1, -2}, {-4, -5, -5, -6}, {-8, -9, -9, -10}});
  require_close(sub(tape.constant(col), tape.constant(xt::xarray<double>{{1, 2, 3, 4}})).value(),
                xt::xarray<double>{{0, -1, -2, -3}, {1, 0, -1, -2}, {2, 1, 0, -1}});
  require_close(sub(tape.constant(m), tape.constant(xt::xarray<double>(1.0))).value(),
                xt::xarray<double>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}});
  require_close(sub(tape.constant(xt::xarray<double>(1.0)), tape.constant(m)).value(),
                xt::xarray<double>{{0, -1, -2, -3}, {-4, -5, -6, -7}, {-8, -9, -10, -11}});
}

TEST_CASE("sub: scalar operator forms", "[ops]") {
  Tape<double> tape;
  const auto v = tape.constant(xt::xarray<double>{1.0, -2.0, 3.5});
  require_close((v - 2.0).value(), xt::xarray<double>{-1.0, -4.0, 1.5});
  require_close((2.0 - v).value(), xt::xarray<double>{1.0, 4.0, -1.5});
  require_close((v - v).value(), xt::xarray<double>{0.0, 0.0, 0.0});
  CHECK(std::string((v - v).op()) == "sub");
}

TEST_CASE("sub: gradient, same shapes and broadcasting both ways", "[ops]") {
  const auto fn = [](Tape<double>&, const Vars& v) { return sub(v[0], v[1]); };
  require_gradient(fn, {random_array({3, 4}, -2, 2, 1), random_array({3, 4}, -2, 2, 2)});
  require_gradient(fn, {random_array({3, 4}, -2, 2, 3), random_array({4}, -2, 2, 4)});
  require_gradient(fn, {random_array({4}, -2, 2, 5), random_array({3, 4}, -2, 2, 6)});
  require_gradient(fn, {random_array({3, 1}, -2, 2, 7), random_array({1, 4}, -2, 2, 8)});
  require_gradient(fn, {random_array({3, 4}, -2, 2, 9), random_array({}, -2, 2, 10)});
  require_gradient(fn, {random_array({}, -2, 2, 11), random_array({3, 4}, -2, 2, 12)});
  require_gradient([](Tape<double>&, const Vars& v) { return v[0] - 2.0; }, {random_array({2, 3})});
  require_gradient([](Tape<double>&, const Vars& v) { return 2.0 - v[0]; }, {random_array({2, 3})});

  Tape<double> tape;
  const auto a = tape.variable(random_array({2, 3}));
  const auto b = tape.variable(random_array({3}));
  tape.backward(sum(a - b));
  require_close(a.grad(), xt::xarray<double>(xt::ones<double>({2, 3})));
  require_close(b.grad(), xt::xarray<double>{-2, -2, -2});
}

TEST_CASE("sub: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> a = xt::cast<float>(random_array({3, 4}, -2, 2, 1));
  const xt::xarray<float> b = xt::cast<float>(random_array({3, 1}, -2, 2, 2));
  require_close(sub(tape.constant(a), tape.constant(b)).value(), xt::xarray<float>(a - b), 1e-5);
  require_close((2.0f - tape.constant(a)).value(), xt::xarray<float>(2.0f - a), 1e-5);
}

TEST_CASE("sub: errors", "[ops]") {
  Tape<double> tape;
  const auto a = tape.constant(xt::xarray<double>(xt::zeros<double>({2, 3})));
  const auto b = tape.constant(xt::xarray<double>(xt::zeros<double>({2})));
  REQUIRE_THROWS_AS(sub(a, b), ShapeError);
  REQUIRE_THROWS_WITH(sub(a, b),
                      "sub: cannot broadcast shapes [2, 3] and [2] (axis -1: 3 vs 2; sizes must be equal or 1)");
  Tape<double> other;
  const auto c = other.constant(xt::xarray<double>(xt::zeros<double>({2, 3})));
  REQUIRE_THROWS_AS(a - c, TapeError);
  REQUIRE_THROWS_WITH(a - c, Contains("sub") && Contains("different tapes"));
  tape.clear();
  REQUIRE_THROWS_WITH(sub(a, a), Contains("sub") && Contains("stale"));
}
