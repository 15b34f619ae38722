#include "support/gradients.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("pow: value with a scalar exponent", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> x{{1, 2, 3}, {-2, 0.5, 4}};
  require_close(pow(tape.constant(x), 2.0).value(), xt::xarray<double>{{1, 4, 9}, {4, 0.25, 16}});
  require_close(pow(tape.constant(x), 3.0).value(), xt::xarray<double>{{1, 8, 27}, {-8, 0.125, 64}});
  require_close(pow(tape.constant(x), 0.0).value(), xt::xarray<double>(xt::ones<double>({2, 3})));
  const xt::xarray<double> p{1, 4, 0.25};
  require_close(pow(tape.constant(p), 0.5).value(), xt::xarray<double>{1, 2, 0.5});
  require_close(pow(tape.constant(p), -1.0).value(), xt::xarray<double>{1, 0.25, 4});
  CHECK(std::string(pow(tape.constant(p), 2.0).op()) == "pow");
}

TEST_CASE("pow: value with a tensor exponent, same shapes and broadcasting", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> a{{1, 2, 3}, {4, 9, 0.5}};
  const xt::xarray<double> b{{2, 3, 0}, {0.5, 0.5, -1}};
  require_close(pow(tape.constant(a), tape.constant(b)).value(), xt::xarray<double>{{1, 8, 1}, {2, 3, 2}});
  // [2,3] ^ [3]
  require_close(pow(tape.constant(a), tape.constant(xt::xarray<double>{1, 2, -1})).value(),
                xt::xarray<double>{{1, 4, 1.0 / 3}, {4, 81, 2}});
  // [3] ^ [2,3]
  require_close(pow(tape.constant(xt::xarray<double>{2, 4, 1}), tape.constant(a)).value(),
                xt::xarray<double>{{2, 16, 1}, {16, 262144, 1}});
  // [2,1] ^ [1,3]
  require_close(pow(tape.constant(xt::xarray<double>(xt::xtensor<double, 2>{{2}, {3}})),
                    tape.constant(xt::xarray<double>{{0, 1, 2}}))
                    .value(),
                xt::xarray<double>{{1, 2, 4}, {1, 3, 9}});
  // rank-0 exponent and rank-0 base
  require_close(pow(tape.constant(a), tape.constant(xt::xarray<double>(2.0))).value(),
                xt::xarray<double>{{1, 4, 9}, {16, 81, 0.25}});
  require_close(pow(tape.constant(xt::xarray<double>(2.0)), tape.constant(b)).value(),
                xt::xarray<double>{{4, 8, 1}, {std::sqrt(2.0), std::sqrt(2.0), 0.5}});
}

TEST_CASE("pow: gradient with a scalar exponent", "[ops]") {
  const auto x = random_array({3, 4}, -2, 2, 1);
  require_gradient([](Tape<double>&, const Vars& v) { return pow(v[0], 2.0); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return pow(v[0], 3.0); }, {x});
  require_gradient([](Tape<double>&, const Vars& v) { return pow(v[0], 1.0); }, {x});
  const auto pos = random_array({3, 4}, 0.5, 3, 2);
  require_gradient([](Tape<double>&, const Vars& v) { return pow(v[0], 0.5); }, {pos});
  require_gradient([](Tape<double>&, const Vars& v) { return pow(v[0], -1.5); }, {pos});
  require_gradient([](Tape<double>&, const Vars& v) { return pow(v[0], 2.7); }, {pos});
}

TEST_CASE("pow: gradient with a tensor exponent, same shapes and broadcasting both ways", "[ops]") {
  const auto fn = [](Tape<double>&, const Vars& v) { return pow(v[0], v[1]); };
  // Positive bases (log(a) is needed for the exponent's gradient).
  require_gradient(fn, {random_array({3, 4}, 0.5, 2, 1), random_array({3, 4}, -2, 2, 2)});
  require_gradient(fn, {random_array({3, 4}, 0.5, 2, 3), random_array({4}, -2, 2, 4)});
  require_gradient(fn, {random_array({4}, 0.5, 2, 5), random_array({3, 4}, -2, 2, 6)});
  require_gradient(fn, {random_array({3, 1}, 0.5, 2, 7), random_array({1, 4}, -2, 2, 8)});
  require_gradient(fn, {random_array({3, 4}, 0.5, 2, 9), random_array({}, -2, 2, 10)});
  require_gradient(fn, {random_array({}, 0.5, 2, 11), random_array({3, 4}, -2, 2, 12)});
  require_gradient([](Tape<double>&, const Vars& v) { return pow(v[0], v[0]); }, {random_array({2, 3}, 0.5, 2, 13)});

  // Closed form: d a^b / da = b a^(b-1), d a^b / db = a^b log a.
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{2.0, 3.0});
  const auto b = tape.variable(xt::xarray<double>{3.0, 2.0});
  tape.backward(sum(pow(a, b)));
  require_close(a.grad(), xt::xarray<double>{12.0, 6.0});
  require_close(b.grad(), xt::xarray<double>{8.0 * std::log(2.0), 9.0 * std::log(3.0)});
}

TEST_CASE("pow: gradient at a zero base and a zero exponent", "[ops]") {
  // d a^b / db is taken as 0 where a == 0 (the limit for b > 0), not 0 * log 0 = NaN.
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{0.0, 2.0});
  const auto b = tape.variable(xt::xarray<double>{2.0, 2.0});
  tape.backward(sum(pow(a, b)));
  require_close(a.grad(), xt::xarray<double>{0.0, 4.0});
  require_close(b.grad(), xt::xarray<double>{0.0, 4.0 * std::log(2.0)});

  // x^0 is the constant 1: its derivative is 0 everywhere, at x = 0 too (not 0 * 0^-1 = NaN).
  Tape<double> t2;
  const auto x = t2.variable(xt::xarray<double>{0.0, 1.5, -2.0});
  t2.backward(sum(pow(x, 0.0)));
  require_close(x.grad(), xt::xarray<double>{0.0, 0.0, 0.0});

  Tape<double> t3;
  const auto base = t3.variable(xt::xarray<double>{0.0, 1.5});
  const auto expo = t3.variable(xt::xarray<double>{0.0, 0.0});
  t3.backward(sum(pow(base, expo)));
  require_close(base.grad(), xt::xarray<double>{0.0, 0.0});
  require_close(expo.grad(), xt::xarray<double>{0.0, std::log(1.5)});
}

TEST_CASE("pow: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> a = xt::cast<float>(random_array({3, 4}, 0.5, 2, 1));
  const xt::xarray<float> b = xt::cast<float>(random_array({4}, -2, 2, 2));
  require_close(pow(tape.constant(a), tape.constant(b)).value(), xt::xarray<float>(xt::pow(a, b)), 1e-5);
  require_close(pow(tape.constant(a), 3.0f).value(), xt::xarray<float>(a * a * a), 1e-5);
}

TEST_CASE("pow: errors", "[ops]") {
  Tape<double> tape;
  const auto a = tape.constant(xt::xarray<double>(xt::ones<double>({2, 3})));
  const auto b = tape.constant(xt::xarray<double>(xt::ones<double>({4})));
  REQUIRE_THROWS_AS(pow(a, b), ShapeError);
  REQUIRE_THROWS_WITH(pow(a, b),
                      "pow: cannot broadcast shapes [2, 3] and [4] (axis -1: 3 vs 4; sizes must be equal or 1)");
  Tape<double> other;
  const auto c = other.constant(xt::xarray<double>(xt::ones<double>({2, 3})));
  REQUIRE_THROWS_WITH(pow(a, c), Contains("pow") && Contains("different tapes"));
  tape.clear();
  REQUIRE_THROWS_AS(pow(a, 2.0), TapeError);
  REQUIRE_THROWS_WITH(pow(a, a), Contains("pow") && Contains("stale"));
}
