#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// log(sum(exp(x))) along `axis`, the naive way (fine for moderate values).
xt::xarray<double> naive_logsumexp(const xt::xarray<double>& x, std::size_t axis, bool keep_dims) {
  if (keep_dims) return xt::xarray<double>(xt::log(xt::sum(xt::exp(x), {axis}, xt::keep_dims)));
  return xt::xarray<double>(xt::log(xt::sum(xt::exp(x), {axis})));
}
}  // namespace

TEST_CASE("logsumexp: value along each axis, with and without keep_dims", "[ops]") {
  Tape<double> tape;
  require_close(logsumexp(tape.constant(xt::xarray<double>{0.0, std::log(2.0), std::log(5.0)}), 0).value(),
                xt::xarray<double>(std::log(8.0)));
  require_close(logsumexp(tape.constant(xt::xarray<double>{{0.0, 0.0}, {1.0, 1.0}}), 1).value(),
                xt::xarray<double>{std::log(2.0), 1.0 + std::log(2.0)});

  const auto x = random_array({3, 4, 5}, -3, 3, 1);
  const auto v = tape.constant(x);
  for (std::ptrdiff_t axis = -3; axis < 3; ++axis) {
    const auto ax = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
    INFO("axis " << axis);
    for (bool keep : {false, true}) {
      const auto y = logsumexp(v, axis, keep);
      CHECK(std::string(y.op()) == "logsumexp");
      require_close(y.value(), naive_logsumexp(x, ax, keep));
    }
  }
  CHECK(logsumexp(v, 1).shape() == Shape{3, 5});
  CHECK(logsumexp(v, 1, true).shape() == Shape{3, 1, 5});
  CHECK(logsumexp(v, -1, true).shape() == Shape{3, 4, 1});
}

TEST_CASE("logsumexp: gradient along each axis, with and without keep_dims", "[ops]") {
  const auto x = random_array({3, 4, 5}, -3, 3, 2);
  for (std::ptrdiff_t axis : {0, 1, 2, -1, -2, -3}) {
    INFO("axis " << axis);
    require_gradient([axis](Tape<double>&, const Vars& v) { return logsumexp(v[0], axis); }, {x});
    require_gradient([axis](Tape<double>&, const Vars& v) { return logsumexp(v[0], axis, true); }, {x});
  }
  require_gradient([](Tape<double>&, const Vars& v) { return logsumexp(v[0], 0); }, {random_array({6}, -3, 3, 3)});
  // d logsumexp / dx is the softmax.
  Tape<double> tape;
  const auto w = tape.variable(xt::xarray<double>{{0.0, std::log(3.0)}, {std::log(2.0), std::log(2.0)}});
  tape.backward(sum(logsumexp(w, 1)));
  require_close(w.grad(), xt::xarray<double>{{0.25, 0.75}, {0.5, 0.5}});
}

TEST_CASE("logsumexp: stable for large magnitudes; all -inf gives -inf with zero gradient", "[ops]") {
  const double inf = std::numeric_limits<double>::infinity();
  Tape<double> tape;
  const auto x =
      tape.variable(xt::xarray<double>{{1000, 1000}, {-1000, -1000}, {1000, -1000}, {-inf, -inf}, {-inf, 2.0}});
  const auto y = logsumexp(x, 1);
  const auto yv = y.value();
  CHECK(yv(0) == Approx(1000 + std::log(2.0)).epsilon(1e-15));
  CHECK(yv(1) == Approx(-1000 + std::log(2.0)).epsilon(1e-15));
  CHECK(yv(2) == 1000.0);
  CHECK(yv(3) == -inf);
  CHECK(yv(4) == 2.0);
  // Gradient: the softmax per row; zero for an all -inf row (not NaN).
  tape.backward(sum(y * tape.constant(xt::xarray<double>{1, 2, 3, 4, 5})));
  const auto g = x.grad();
  const xt::xarray<double> expected{{0.5, 0.5}, {1.0, 1.0}, {3.0, 0.0}, {0.0, 0.0}, {0.0, 5.0}};
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 2; ++j) {
      INFO(i << ", " << j);
      CHECK(std::isfinite(g(i, j)));
      CHECK(g(i, j) == Approx(expected(i, j)).margin(1e-15));
    }
  // Finite differences at a large offset: the same as at the origin.
  // (A larger step keeps the rounding error of f ~ 1000 well below the tolerance.)
  GradCheckOptions options;
  options.step = 1e-4;
  require_gradient([](Tape<double>&, const Vars& v) { return logsumexp(v[0] - 1000.0, 1); },
                   {random_array({2, 3}, -1, 1, 4)}, options);
  require_gradient([](Tape<double>&, const Vars& v) { return logsumexp(v[0] + 1000.0, 0); },
                   {random_array({2, 3}, -1, 1, 5)}, options);

  Tape<float> tf;
  const auto yf = logsumexp(tf.constant(xt::xarray<float>{100.0f, 100.0f}), 0);
  CHECK(yf.item() == Approx(100.0f + std::log(2.0f)).epsilon(1e-6));
}

TEST_CASE("logsumexp: a +inf entry gives +inf, and the gradient goes to the +inf entries", "[ops]") {
  const double inf = std::numeric_limits<double>::infinity();
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{{inf, 1.0, inf}, {0.0, inf, -inf}});
  auto y = logsumexp(x, -1);
  CHECK(y.value()(0) == inf);
  CHECK(y.value()(1) == inf);
  tape.backward(sum(y * tape.constant(xt::xarray<double>{2.0, 3.0})));
  require_close(x.grad(), xt::xarray<double>{{1.0, 0.0, 1.0}, {0.0, 3.0, 0.0}});
}

TEST_CASE("logsumexp: float smoke test", "[ops]") {
  Tape<float> tape;
  const auto x = random_array({3, 4}, -3, 3, 5);
  const xt::xarray<float> xf = xt::cast<float>(x);
  require_close(logsumexp(tape.constant(xf), 1).value(),
                xt::xarray<float>(xt::cast<float>(naive_logsumexp(x, 1, false))), 1e-5);
}

TEST_CASE("logsumexp: errors", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(logsumexp(x, 2), ArgumentError);
  REQUIRE_THROWS_WITH(logsumexp(x, 2),
                      "logsumexp: axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_WITH(logsumexp(x, -3), Contains("logsumexp: axis -3 is out of range"));
  REQUIRE_THROWS_AS(logsumexp(tape.constant(xt::xarray<double>(1.0)), 0), ArgumentError);
  const auto empty = tape.constant(xt::xarray<double>(xt::zeros<double>({2, 0})));
  REQUIRE_THROWS_AS(logsumexp(empty, 1), ShapeError);
  REQUIRE_THROWS_WITH(logsumexp(empty, 1),
                      "logsumexp: axis 1 of shape [2, 0] is empty (expected at least one element to reduce)");
  tape.clear();
  REQUIRE_THROWS_WITH(logsumexp(x, 0), Contains("stale"));
}
