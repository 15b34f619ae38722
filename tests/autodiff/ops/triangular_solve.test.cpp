#include <cmath>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// Random well-conditioned lower-triangular matrices [..., d, d]: diagonal in [0.8, 2),
/// strict lower triangle in [-0.5, 0.5); the strict upper triangle is `upper` (ignored).
xt::xarray<double> random_tril(const Shape& shape, std::uint32_t seed, double upper = 0.0) {
  xt::xarray<double> l = random_array(shape, -0.5, 0.5, seed);
  const auto diag = random_array(shape, 0.8, 2.0, seed + 100);
  const std::size_t d = shape.back();
  for (std::size_t i = 0; i < l.size(); ++i) {
    const std::size_t r = (i / d) % d, c = i % d;
    if (r == c) l.data()[i] = diag.data()[i];
    if (c > r) l.data()[i] = upper;
  }
  return l;
}

/// A [rows, cols] matrix from row-major values (single-column braces are ambiguous for xarray).
template <class T = double>
xt::xarray<T> matrix(std::size_t rows, std::size_t cols, std::initializer_list<T> values) {
  xt::xarray<T> m = xt::empty<T>({rows, cols});
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

/// L Y for one [d, d] and one [d, m] block, reading only the lower triangle of L.
xt::xarray<double> tril_times(const xt::xarray<double>& l, const xt::xarray<double>& y) {
  const std::size_t d = l.shape()[0], m = y.shape()[1];
  xt::xarray<double> out = xt::zeros<double>({d, m});
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t k = 0; k <= i; ++k)
      for (std::size_t c = 0; c < m; ++c) out(i, c) += l(i, k) * y(k, c);
  return out;
}
}  // namespace

TEST_CASE("triangular_solve: a small system by hand", "[ops]") {
  Tape<double> tape;
  // [[2, 0], [1, 3]] y = [[4, 2], [5, 7]]  ->  y = [[2, 1], [1, 2]]
  const auto l = tape.constant(xt::xarray<double>{{2.0, 0.0}, {1.0, 3.0}});
  const auto y = triangular_solve(l, tape.constant(xt::xarray<double>{{4.0, 2.0}, {5.0, 7.0}}));
  CHECK(std::string(y.op()) == "triangular_solve");
  require_close(y.value(), xt::xarray<double>{{2.0, 1.0}, {1.0, 2.0}});
  // The strict upper triangle is never read.
  const auto l_garbage = tape.constant(xt::xarray<double>{{2.0, 99.0}, {1.0, 3.0}});
  require_close(triangular_solve(l_garbage, tape.constant(matrix(2, 1, {4.0, 5.0}))).value(), matrix(2, 1, {2.0, 1.0}));
}

TEST_CASE("triangular_solve: L Y = B over broadcast batch axes", "[ops]") {
  Tape<double> tape;
  struct Case {
    Shape l, b, out;
  };
  const std::vector<Case> cases{
      {{4, 4}, {4, 3}, {4, 3}},
      {{2, 3, 3}, {2, 3, 1}, {2, 3, 1}},
      {{3, 3}, {5, 2, 3, 2}, {5, 2, 3, 2}},     // one L for every right-hand side
      {{2, 3, 3}, {4, 1, 3, 2}, {4, 2, 3, 2}},  // both broadcast
      {{1, 3, 3}, {3, 3, 1}, {3, 3, 1}},
  };
  std::uint32_t seed = 1;
  for (const Case& c : cases) {
    INFO("l " << to_string(c.l) << ", b " << to_string(c.b));
    const auto lx = random_tril(c.l, seed, 7.0);
    const auto bx = random_array(c.b, -2, 2, seed + 1);
    seed += 2;
    const auto y = triangular_solve(tape.constant(lx), tape.constant(bx));
    REQUIRE(y.shape() == c.out);
    const std::size_t d = c.l.back(), m = c.b.back();
    const Shape batch(c.out.begin(), c.out.end() - 2);
    const xt::xarray<double> yv = y.value();
    for (std::size_t q = 0; q < shape_size(batch); ++q) {
      const std::size_t ql = detail::broadcast_source_index(q, batch, Shape(c.l.begin(), c.l.end() - 2));
      const std::size_t qb = detail::broadcast_source_index(q, batch, Shape(c.b.begin(), c.b.end() - 2));
      xt::xarray<double> lq = xt::empty<double>({d, d}), bq = xt::empty<double>({d, m}), yq = xt::empty<double>({d, m});
      std::copy_n(lx.data() + ql * d * d, d * d, lq.data());
      std::copy_n(bx.data() + qb * d * m, d * m, bq.data());
      std::copy_n(yv.data() + q * d * m, d * m, yq.data());
      require_close(tril_times(lq, yq), bq, 1e-12);
    }
  }
}

TEST_CASE("triangular_solve: gradients by finite differences", "[ops]") {
  const auto f = [](Tape<double>&, const Vars& v) { return triangular_solve(v[0], v[1]); };
  require_gradient(f, {random_tril({3, 3}, 1), random_array({3, 2}, -2, 2, 2)});
  require_gradient(f, {random_tril({2, 3, 3}, 3), random_array({2, 3, 1}, -2, 2, 4)});
  require_gradient(f, {random_tril({3, 3}, 5), random_array({4, 3, 2}, -2, 2, 6)});        // L broadcast
  require_gradient(f, {random_tril({2, 1, 3, 3}, 7), random_array({3, 3, 1}, -2, 2, 8)});  // both broadcast
  require_gradient(f, {random_tril({1, 1}, 9), random_array({1, 4}, -2, 2, 10)});
  // The upper triangle gets a zero gradient (it is not read); the same input on both sides.
  require_gradient([](Tape<double>&, const Vars& v) { return triangular_solve(v[0], v[0]); },
                   {random_tril({3, 3}, 11, 0.4)});
  // dL = -tril(L^{-T} dY Y^T), checked once by hand: L = [[2]], b = [[4]]: y = 2, dL = -(1/2)(2) = -1, db = 1/2
  Tape<double> tape;
  const auto l = tape.variable(matrix(1, 1, {2.0}));
  const auto b = tape.variable(matrix(1, 1, {4.0}));
  tape.backward(sum(triangular_solve(l, b)));
  CHECK(l.grad()(0, 0) == Approx(-1.0));
  CHECK(b.grad()(0, 0) == Approx(0.5));
}

TEST_CASE("triangular_solve: float smoke test", "[ops]") {
  Tape<float> tape;
  const auto l = tape.constant(xt::xarray<float>{{2.0f, 0.0f}, {1.0f, 4.0f}});
  const auto y = triangular_solve(l, tape.constant(matrix<float>(2, 1, {2.0f, 9.0f})));
  require_close(y.value(), matrix<float>(2, 1, {1.0f, 2.0f}), 1e-6);
}

TEST_CASE("triangular_solve: shape errors and stale handles", "[ops]") {
  Tape<double> tape;
  const auto l3 = tape.constant(random_tril({3, 3}, 1));
  REQUIRE_THROWS_AS(triangular_solve(l3, tape.constant(random_array({2, 2}))), ShapeError);
  REQUIRE_THROWS_WITH(
      triangular_solve(l3, tape.constant(random_array({2, 2}))),
      "triangular_solve: l has shape [3, 3], b has shape [2, 2] (expected l [..., d, d] and b [..., d, m])");
  REQUIRE_THROWS_WITH(
      triangular_solve(tape.constant(random_array({3, 2})), tape.constant(random_array({3, 1}))),
      "triangular_solve: l has shape [3, 2], b has shape [3, 1] (expected l [..., d, d] and b [..., d, m])");
  REQUIRE_THROWS_WITH(
      triangular_solve(l3, tape.constant(random_array({3}))),
      "triangular_solve: l has shape [3, 3], b has shape [3] (expected l [..., d, d] and b [..., d, m])");
  REQUIRE_THROWS_AS(triangular_solve(tape.constant(random_tril({2, 3, 3}, 2)), tape.constant(random_array({4, 3, 1}))),
                    ShapeError);
  REQUIRE_THROWS_WITH(
      triangular_solve(tape.constant(random_tril({2, 3, 3}, 2)), tape.constant(random_array({4, 3, 1}))),
      "triangular_solve: the batch axes of l [2, 3, 3] and b [4, 3, 1] do not broadcast (expected batch "
      "axes, all but the last two, that are equal or 1)");
  const auto stale = tape.variable(random_tril({2, 2}, 3));
  const auto rhs = random_array({2, 1});
  tape.clear();
  const auto fresh = tape.constant(rhs);
  REQUIRE_THROWS_AS(triangular_solve(stale, fresh), TapeError);
  REQUIRE_THROWS_WITH(triangular_solve(stale, fresh), Contains("triangular_solve: an operand is a stale handle"));
}
