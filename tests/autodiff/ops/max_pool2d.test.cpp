#include "vaelib/autodiff/ops/max_pool2d.hpp"

#include "support/gradients.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

struct MaxPoolCase {
  Shape x;
  Conv2dPair kernel;
  std::optional<Conv2dPair> stride;
  Conv2dPair padding;
};

std::string max_pool_describe(const MaxPoolCase& c) {
  const Conv2dPair s = c.stride.value_or(c.kernel);
  return "x " + to_string(c.x) + ", kernel {" + std::to_string(c.kernel.h) + ", " + std::to_string(c.kernel.w) +
         "}, stride {" + std::to_string(s.h) + ", " + std::to_string(s.w) + "}" + (c.stride ? "" : " (default)") +
         ", padding {" + std::to_string(c.padding.h) + ", " + std::to_string(c.padding.w) + "}";
}

/// Direct max pooling: the largest tap inside x of each window (the first in row-major order
/// among equals), and where it is (flat offset in its plane).
xt::xarray<double> max_pool_reference(const xt::xarray<double>& x, const MaxPoolCase& c,
                                      std::vector<std::size_t>* where = nullptr) {
  const std::ptrdiff_t n_ = x.shape()[0], ch = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const Conv2dPair s = c.stride.value_or(c.kernel);
  const std::ptrdiff_t kh = c.kernel.h, kw = c.kernel.w, sh = s.h, sw = s.w, ph = c.padding.h, pw = c.padding.w;
  const std::ptrdiff_t oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
  xt::xarray<double> y = xt::zeros<double>({n_, ch, oh, ow});
  if (where != nullptr) where->clear();
  for (std::ptrdiff_t n = 0; n < n_; ++n)
    for (std::ptrdiff_t k = 0; k < ch; ++k)
      for (std::ptrdiff_t i = 0; i < oh; ++i)
        for (std::ptrdiff_t j = 0; j < ow; ++j) {
          double best = -std::numeric_limits<double>::infinity();
          std::ptrdiff_t at = -1;
          for (std::ptrdiff_t a = 0; a < kh; ++a)
            for (std::ptrdiff_t b = 0; b < kw; ++b) {
              const std::ptrdiff_t r = i * sh - ph + a, q = j * sw - pw + b;
              if (r >= 0 && r < h && q >= 0 && q < w && (at < 0 || x(n, k, r, q) > best)) {
                best = x(n, k, r, q);
                at = r * w + q;
              }
            }
          REQUIRE(at >= 0);
          y(n, k, i, j) = best;
          if (where != nullptr) where->push_back(static_cast<std::size_t>(at));
        }
  return y;
}

std::vector<MaxPoolCase> max_pool_grid() {
  std::vector<MaxPoolCase> cases;
  const Conv2dPair kernels[] = {{1, 1}, {2, 2}, {3, 3}, {2, 3}, {3, 2}, {4, 4}};
  const std::optional<Conv2dPair> strides[] = {std::nullopt, Conv2dPair{1, 1}, Conv2dPair{2, 2}, Conv2dPair{3, 3},
                                               Conv2dPair{1, 2}};
  const Conv2dPair paddings[] = {{0, 0}, {1, 1}, {1, 0}, {2, 2}};
  const Shape shapes[] = {{2, 3, 7, 6}, {1, 2, 4, 9}};
  for (const Shape& x : shapes)
    for (const Conv2dPair k : kernels)
      for (const auto& s : strides)
        for (const Conv2dPair p : paddings) {
          if (2 * p.h > k.h || 2 * p.w > k.w) continue;
          if (x[2] + 2 * p.h < k.h || x[3] + 2 * p.w < k.w) continue;
          cases.push_back({x, k, s, p});
        }
  return cases;
}

/// Distinct values 0.05 apart in a random order (negative and positive): no window has a tie,
/// and a finite-difference step never changes a window's argmax.
xt::xarray<double> max_pool_distinct(const Shape& shape, std::uint32_t seed) {
  xt::xarray<double> a = xt::empty<double>(shape);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = 0.05 * static_cast<double>(i) - 1.0;
  std::mt19937 rng(seed);
  std::shuffle(a.begin(), a.end(), rng);
  return a;
}

}  // namespace

TEST_CASE("max_pool2d: value, closed form, and ties go to the first tap", "[ops][pool]") {
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{{{{1, 7, 3, 4}, {5, 6, 2, 8}, {-9, -1, -11, -12}}}});
  const auto y = max_pool2d(x, {2, 2});
  CHECK(std::string(y.op()) == "max_pool2d");
  require_close(y.value(), xt::xarray<double>{{{{7, 8}}}});
  // padding is never the max: the all-negative bottom row keeps its own values
  require_close(max_pool2d(x, {2, 2}, {.stride = Conv2dPair{2, 2}, .padding = {1, 1}}).value(),
                xt::xarray<double>{{{{1, 7, 4}, {5, 6, 8}}}});
  // a window of equal values sends its whole gradient to its first tap
  const auto t = tape.variable(xt::xarray<double>{{{{2, 2, 1}, {2, 2, 2}}}});
  const auto yt = max_pool2d(t, {2, 2}, {.stride = Conv2dPair{1, 1}});
  require_close(yt.value(), xt::xarray<double>{{{{2, 2}}}});
  tape.backward(sum(yt));
  require_close(t.grad(), xt::xarray<double>{{{{1, 1, 0}, {0, 0, 0}}}});
  // one tap the max of two overlapping windows gets both gradients
  const auto u = tape.variable(xt::xarray<double>{{{{0, 9, 0}, {1, 0, 2}}}});
  const auto yu = max_pool2d(u, {2, 2}, {.stride = Conv2dPair{1, 1}});
  tape.backward(sum(mul(yu, tape.constant(xt::xarray<double>{{{{3, 5}}}}))));
  require_close(u.grad(), xt::xarray<double>{{{{0, 8, 0}, {0, 0, 0}}}});
  // a NaN is the max of its window (as PyTorch)
  const auto nan = std::numeric_limits<double>::quiet_NaN();
  const auto v = max_pool2d(tape.constant(xt::xarray<double>{{{{1, nan, 3, 4}}}}), {1, 2});
  CHECK(std::isnan(v.value()(0, 0, 0, 0)));
  CHECK(v.value()(0, 0, 0, 1) == 4);
}

TEST_CASE("max_pool2d: value and kept argmax over kernels, strides and paddings against a direct loop",
          "[ops][pool]") {
  Tape<double> tape;
  std::uint32_t seed = 1;
  std::size_t checked = 0, padded = 0;
  for (const MaxPoolCase& c : max_pool_grid()) {
    INFO(max_pool_describe(c));
    tape.clear();
    // random values, and small integers (many ties)
    for (const bool ties : {false, true}) {
      xt::xarray<double> xa = random_array(c.x, -2, 2, seed++);
      if (ties) xa = xt::round(xa);
      const auto x = tape.variable(xa);
      const auto y = max_pool2d(x, c.kernel, {.stride = c.stride, .padding = c.padding});
      std::vector<std::size_t> where;
      require_close(y.value(), max_pool_reference(xa, c, &where), 0.0);
      // the node keeps the argmax the backward routes to
      const auto* cache = tape.node(y).cache.find<vaelib::detail::MaxPoolCache>();
      REQUIRE(cache != nullptr);
      REQUIRE(cache->argmax.size() == where.size());
      for (std::size_t k = 0; k < where.size(); ++k) REQUIRE(cache->argmax[k] == where[k]);
      // and the backward matches a scatter of dy to the reference's argmax
      const auto r = random_array(y.shape(), -1, 1, seed++);
      tape.backward(sum(mul(y, tape.constant(r))));
      xt::xarray<double> expected = xt::zeros<double>(c.x);
      const std::size_t plane = c.x[2] * c.x[3], out_plane = y.size() / (c.x[0] * c.x[1]);
      for (std::size_t k = 0; k < where.size(); ++k) expected.data()[(k / out_plane) * plane + where[k]] += r.data()[k];
      require_close(x.grad(), expected, 1e-15);
      ++checked;
    }
    padded += c.padding.h + c.padding.w > 0 ? 1 : 0;
  }
  CHECK(checked >= 150);
  CHECK(padded >= 30);
}

TEST_CASE("max_pool2d: gradients by finite differences away from ties", "[ops][pool]") {
  std::uint32_t seed = 100;
  const auto grid = max_pool_grid();
  std::size_t checked = 0;
  for (std::size_t i = 0; i < grid.size(); i += 3) {
    const MaxPoolCase c = grid[i];
    INFO(max_pool_describe(c));
    const MaxPool2dOptions o{.stride = c.stride, .padding = c.padding};
    require_gradient([c, o](Tape<double>&, const Vars& v) { return max_pool2d(v[0], c.kernel, o); },
                     {max_pool_distinct(c.x, seed++)});
    ++checked;
  }
  CHECK(checked >= 30);
  // x read twice: the routed gradient accumulates onto mul's
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return mul(max_pool2d(v[0], {3, 3}, {.stride = Conv2dPair{1, 1}, .padding = {1, 1}}), v[0]);
      },
      {max_pool_distinct({2, 2, 5, 4}, 7)});
}

TEST_CASE("max_pool2d: float agrees with double; steady state reuses the argmax buffer", "[ops][pool]") {
  const auto grid = max_pool_grid();
  std::uint32_t seed = 200;
  for (std::size_t i = 0; i < grid.size(); i += 9) {
    const MaxPoolCase c = grid[i];
    INFO(max_pool_describe(c));
    const auto xa = max_pool_distinct(c.x, seed++);
    const auto run = [&]<class T>(Tape<T>& tape) {
      const auto x = tape.variable(xt::xarray<T>(xa));
      const auto y = max_pool2d(x, c.kernel, {.stride = c.stride, .padding = c.padding});
      const auto r = tape.constant(xt::xarray<T>(random_array(y.shape(), -1, 1, 17)));
      tape.backward(sum(mul(y, r)));
      return std::vector<xt::xarray<double>>{xt::xarray<double>(y.value()), xt::xarray<double>(x.grad())};
    };
    Tape<double> td;
    Tape<float> tf;
    const auto d = run(td);
    const auto f = run(tf);
    for (std::size_t k = 0; k < d.size(); ++k) REQUIRE(xt::allclose(f[k], d[k], 0.0, 1e-6));
  }
  Tape<double> tape;
  const std::uint32_t* argmax = nullptr;
  for (int step = 0; step < 3; ++step) {
    tape.clear();
    const auto x = tape.variable(max_pool_distinct({2, 3, 6, 6}, 5));
    const auto y = max_pool2d(x, {2, 2});
    tape.backward(sum(y));
    const auto* cache = tape.node(y).cache.find<vaelib::detail::MaxPoolCache>();
    REQUIRE(cache != nullptr);
    if (step > 0) CHECK(cache->argmax.data() == argmax);
    argmax = cache->argmax.data();
    CHECK(xt::sum(x.grad())() == 2 * 3 * 9);
  }
}

TEST_CASE("max_pool2d: errors", "[ops][pool]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3, 5, 5}));
  REQUIRE_THROWS_AS(max_pool2d(tape.variable(random_array({2, 3, 5, 5, 1})), {2, 2}), ShapeError);
  REQUIRE_THROWS_WITH(max_pool2d(tape.variable(random_array({2, 3, 5, 5, 1})), {2, 2}),
                      "max_pool2d: x has shape [2, 3, 5, 5, 1]; expected x [N, C, H, W] with H, W >= 1");
  REQUIRE_THROWS_WITH(max_pool2d(tape.variable(random_array({2, 3, 0, 5})), {1, 1}),
                      "max_pool2d: x has shape [2, 3, 0, 5]; expected x [N, C, H, W] with H, W >= 1");
  REQUIRE_THROWS_AS(max_pool2d(x, {2, 6}), ShapeError);
  REQUIRE_THROWS_WITH(max_pool2d(x, {2, 6}),
                      "max_pool2d: x has shape [2, 3, 5, 5]; the kernel (2 x 6) is larger than the padded input "
                      "(5 x 5 with padding {0, 0})");
  REQUIRE_NOTHROW(max_pool2d(x, {2, 6}, {.padding = {0, 1}}));
  REQUIRE_THROWS_AS(max_pool2d(x, {2, 2}, {.stride = Conv2dPair{1, 0}}), ArgumentError);
  REQUIRE_THROWS_WITH(max_pool2d(x, {2, 2}, {.stride = Conv2dPair{1, 0}}),
                      "max_pool2d: expected kernel and stride >= 1; got kernel {2, 2}, stride {1, 0}");
  REQUIRE_THROWS_WITH(max_pool2d(x, {3, 3}, {.padding = {1, 2}}),
                      "max_pool2d: padding {1, 2} must be at most half the kernel {3, 3}");
}
