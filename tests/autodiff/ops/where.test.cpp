#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// A 0/1 mask (with a few other nonzero values, which also count as true).
xt::xarray<double> mask(const Shape& shape, std::uint32_t seed) {
  xt::xarray<double> m = random_array(shape, 0, 1, seed);
  for (double& v : m) v = v < 0.45 ? 0.0 : (v < 0.9 ? 1.0 : -2.5);
  return m;
}

/// cond != 0 ? a : b with broadcasting, element by element (independent of xt::where).
xt::xarray<double> reference_where(const xt::xarray<double>& cond, const xt::xarray<double>& a,
                                   const xt::xarray<double>& b, const Shape& out) {
  const xt::xarray<double> c = xt::broadcast(cond, out);
  const xt::xarray<double> ab = xt::broadcast(a, out);
  const xt::xarray<double> bb = xt::broadcast(b, out);
  xt::xarray<double> r = xt::empty<double>(out);
  for (std::size_t i = 0; i < r.size(); ++i) r.data()[i] = c.data()[i] != 0 ? ab.data()[i] : bb.data()[i];
  return r;
}
}  // namespace

TEST_CASE("where: value, same shapes and broadcasting", "[ops]") {
  Tape<double> tape;
  const auto y = where(tape.constant(xt::xarray<double>{1, 0, 2, 0}), tape.constant(xt::xarray<double>{1, 2, 3, 4}),
                       tape.constant(xt::xarray<double>{-1, -2, -3, -4}));
  CHECK(std::string(y.op()) == "where");
  require_close(y.value(), xt::xarray<double>{1, -2, 3, -4});
  // cond [2,1], a [3], b scalar
  require_close(where(tape.constant(xt::xarray<double>(xt::xtensor<double, 2>{{1}, {0}})),
                      tape.constant(xt::xarray<double>{1, 2, 3}), tape.constant(xt::xarray<double>(9.0)))
                    .value(),
                xt::xarray<double>{{1, 2, 3}, {9, 9, 9}});

  const std::vector<std::array<Shape, 4>> cases{
      {Shape{3, 4}, Shape{3, 4}, Shape{3, 4}, Shape{3, 4}}, {Shape{3, 4}, Shape{4}, Shape{3, 1}, Shape{3, 4}},
      {Shape{3, 1}, Shape{1, 4}, Shape{}, Shape{3, 4}},     {Shape{4}, Shape{3, 4}, Shape{3, 4}, Shape{3, 4}},
      {Shape{}, Shape{3, 4}, Shape{4}, Shape{3, 4}},        {Shape{2, 1, 4}, Shape{3, 1}, Shape{4}, Shape{2, 3, 4}}};
  for (const auto& [sc, sa, sb, out] : cases) {
    INFO(to_string(sc) << " " << to_string(sa) << " " << to_string(sb));
    const auto c = mask(sc, 1), a = random_array(sa, -2, 2, 2), b = random_array(sb, -2, 2, 3);
    const auto r = where(tape.constant(c), tape.constant(a), tape.constant(b));
    CHECK(r.shape() == out);
    require_close(r.value(), reference_where(c, a, b, out));
  }
}

TEST_CASE("where: gradient, same shapes and broadcasting both ways", "[ops]") {
  const std::vector<std::array<Shape, 3>> cases{
      {Shape{3, 4}, Shape{3, 4}, Shape{3, 4}}, {Shape{3, 4}, Shape{4}, Shape{3, 1}},
      {Shape{3, 1}, Shape{1, 4}, Shape{}},     {Shape{4}, Shape{3, 4}, Shape{3, 4}},
      {Shape{}, Shape{3, 4}, Shape{4}},        {Shape{3, 4}, Shape{}, Shape{}},
      {Shape{2, 1, 4}, Shape{3, 1}, Shape{4}}};
  for (const auto& [sc, sa, sb] : cases) {
    INFO(to_string(sc) << " " << to_string(sa) << " " << to_string(sb));
    // The condition is a constant: it is a mask, not a differentiable input.
    const auto c = mask(sc, 4);
    require_gradient([c](Tape<double>& t, const Vars& v) { return where(t.constant(c), v[0], v[1]); },
                     {random_array(sa, -2, 2, 5), random_array(sb, -2, 2, 6)});
  }
  require_gradient([](Tape<double>& t, const Vars& v) { return where(t.constant(mask({5}, 7)), v[0], v[0] * v[0]); },
                   {random_array({5}, -2, 2, 8)});

  Tape<double> tape;
  const auto cond = tape.variable(xt::xarray<double>{{1, 0, 1}, {0, 0, 1}});
  const auto a = tape.variable(xt::xarray<double>{1, 2, 3});
  const auto b = tape.variable(xt::xarray<double>(5.0));
  tape.backward(sum(where(cond, a, b)));
  require_close(a.grad(), xt::xarray<double>{1, 0, 2});
  require_close(b.grad(), xt::xarray<double>(3.0));
  // The condition gets no gradient, even when it is a variable.
  require_close(cond.grad(), xt::xarray<double>{{0, 0, 0}, {0, 0, 0}});
}

TEST_CASE("where: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> c = xt::cast<float>(mask({3, 4}, 1));
  const xt::xarray<float> a = xt::cast<float>(random_array({3, 4}, -2, 2, 2));
  const xt::xarray<float> b = xt::cast<float>(random_array({4}, -2, 2, 3));
  require_close(where(tape.constant(c), tape.constant(a), tape.constant(b)).value(),
                xt::xarray<float>(xt::cast<float>(reference_where(c, a, b, Shape{3, 4}))), 0);
}

TEST_CASE("where: errors", "[ops]") {
  Tape<double> tape;
  const auto c = tape.constant(mask({2, 3}, 1));
  const auto a = tape.variable(random_array({2, 3}));
  const auto b = tape.variable(random_array({4}));
  REQUIRE_THROWS_AS(where(c, a, b), ShapeError);
  REQUIRE_THROWS_WITH(where(c, a, b),
                      "where: cannot broadcast shapes [2, 3] and [4] (axis -1: 3 vs 4; sizes must be equal or 1)");
  const auto bad_cond = tape.constant(mask({2}, 2));
  REQUIRE_THROWS_AS(where(bad_cond, a, a), ShapeError);
  REQUIRE_THROWS_WITH(where(bad_cond, a, a), Contains("where: cannot broadcast shapes [2] and [2, 3]"));
  Tape<double> other;
  const auto d = other.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(where(c, a, d), TapeError);
  REQUIRE_THROWS_WITH(where(c, a, d), Contains("where") && Contains("different tapes"));
  REQUIRE_THROWS_WITH(where(other.constant(mask({2, 3}, 1)), a, a), Contains("different tapes"));
  tape.clear();
  REQUIRE_THROWS_AS(where(c, a, a), TapeError);
  REQUIRE_THROWS_WITH(where(c, a, a), Contains("stale"));
}
