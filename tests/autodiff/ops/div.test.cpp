#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("div: value, same shapes and broadcasting", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> m{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}};
  const xt::xarray<double> row{1, 2, 4, -8};
  require_close(div(tape.constant(m), tape.constant(m)).value(), xt::xarray<double>(xt::ones<double>({3, 4})));
  require_close(div(tape.constant(m), tape.constant(row)).value(),
                xt::xarray<double>{{1, 1, 0.75, -0.5}, {5, 3, 1.75, -1}, {9, 5, 2.75, -1.5}});
  require_close(
      div(tape.constant(row), tape.constant(m)).value(),
      xt::xarray<double>{{1, 1, 4.0 / 3, -2}, {0.2, 2.0 / 6, 4.0 / 7, -1}, {1.0 / 9, 0.2, 4.0 / 11, -8.0 / 12}});
  require_close(div(tape.constant(xt::xarray<double>(xt::xtensor<double, 2>{{1}, {2}})),
                    tape.constant(xt::xarray<double>{{1, 2, 4}}))
                    .value(),
                xt::xarray<double>{{1, 0.5, 0.25}, {2, 1, 0.5}});
  require_close(div(tape.constant(m), tape.constant(xt::xarray<double>(2.0))).value(),
                xt::xarray<double>{{0.5, 1, 1.5, 2}, {2.5, 3, 3.5, 4}, {4.5, 5, 5.5, 6}});
  require_close(div(tape.constant(xt::xarray<double>(6.0)), tape.constant(row)).value(),
                xt::xarray<double>{6, 3, 1.5, -0.75});
}

TEST_CASE("div: scalar operator forms", "[ops]") {
  Tape<double> tape;
  const auto v = tape.constant(xt::xarray<double>{1.0, -2.0, 4.0});
  require_close((v / 2.0).value(), xt::xarray<double>{0.5, -1.0, 2.0});
  require_close((2.0 / v).value(), xt::xarray<double>{2.0, -1.0, 0.5});
  require_close((v / v).value(), xt::xarray<double>{1.0, 1.0, 1.0});
}

TEST_CASE("div: gradient, same shapes and broadcasting both ways", "[ops]") {
  const auto fn = [](Tape<double>&, const Vars& v) { return div(v[0], v[1]); };
  // Denominators in [0.5, 2]: far from the pole at 0.
  require_gradient(fn, {random_array({3, 4}, -2, 2, 1), random_array({3, 4}, 0.5, 2, 2)});
  require_gradient(fn, {random_array({3, 4}, -2, 2, 3), random_array({4}, 0.5, 2, 4)});
  require_gradient(fn, {random_array({4}, -2, 2, 5), random_array({3, 4}, 0.5, 2, 6)});
  require_gradient(fn, {random_array({3, 1}, -2, 2, 7), random_array({1, 4}, 0.5, 2, 8)});
  require_gradient(fn, {random_array({3, 4}, -2, 2, 9), random_array({}, 0.5, 2, 10)});
  require_gradient(fn, {random_array({}, -2, 2, 11), random_array({3, 4}, 0.5, 2, 12)});
  require_gradient([](Tape<double>&, const Vars& v) { return v[0] / 4.0; }, {random_array({2, 3})});
  require_gradient([](Tape<double>&, const Vars& v) { return 2.0 / v[0]; }, {random_array({2, 3}, 0.5, 2)});
  require_gradient([](Tape<double>&, const Vars& v) { return v[0] / v[0]; }, {random_array({2, 3}, 0.5, 2)});

  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{2.0, 3.0});
  const auto b = tape.variable(xt::xarray<double>(4.0));
  tape.backward(sum(a / b));
  require_close(a.grad(), xt::xarray<double>{0.25, 0.25});
  require_close(b.grad(), xt::xarray<double>(-5.0 / 16.0));
}

TEST_CASE("div: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> a = xt::cast<float>(random_array({3, 4}, -2, 2, 1));
  const xt::xarray<float> b = xt::cast<float>(random_array({3, 4}, 0.5, 2, 2));
  require_close(div(tape.constant(a), tape.constant(b)).value(), xt::xarray<float>(a / b), 1e-5);
  require_close((1.0f / tape.constant(b)).value(), xt::xarray<float>(1.0f / b), 1e-5);
}

TEST_CASE("div: errors", "[ops]") {
  Tape<double> tape;
  const auto a = tape.constant(xt::xarray<double>(xt::ones<double>({2, 3})));
  const auto b = tape.constant(xt::xarray<double>(xt::ones<double>({2, 2})));
  REQUIRE_THROWS_AS(div(a, b), ShapeError);
  REQUIRE_THROWS_WITH(div(a, b),
                      "div: cannot broadcast shapes [2, 3] and [2, 2] (axis -1: 3 vs 2; sizes must be equal or 1)");
  Tape<double> other;
  const auto c = other.constant(xt::xarray<double>(xt::ones<double>({2, 3})));
  REQUIRE_THROWS_WITH(a / c, Contains("div") && Contains("different tapes"));
  tape.clear();
  REQUIRE_THROWS_WITH(div(a, a), Contains("div") && Contains("stale"));
}
