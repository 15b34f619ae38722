#include "vaelib/autodiff/ops/avg_pool2d.hpp"

#include "support/gradients.hpp"

#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

struct AvgPoolCase {
  Shape x;
  Conv2dPair kernel;
  std::optional<Conv2dPair> stride;
  Conv2dPair padding;
};

std::string avg_pool_describe(const AvgPoolCase& c) {
  const Conv2dPair s = c.stride.value_or(c.kernel);
  return "x " + to_string(c.x) + ", kernel {" + std::to_string(c.kernel.h) + ", " + std::to_string(c.kernel.w) +
         "}, stride {" + std::to_string(s.h) + ", " + std::to_string(s.w) + "}" + (c.stride ? "" : " (default)") +
         ", padding {" + std::to_string(c.padding.h) + ", " + std::to_string(c.padding.w) + "}";
}

/// Direct average pooling: each window's taps inside x, summed and divided by their count
/// (or by kH kW with include_pad).
xt::xarray<double> avg_pool_reference(const xt::xarray<double>& x, const AvgPoolCase& c, bool include_pad) {
  const std::ptrdiff_t n_ = x.shape()[0], ch = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const Conv2dPair s = c.stride.value_or(c.kernel);
  const std::ptrdiff_t kh = c.kernel.h, kw = c.kernel.w, sh = s.h, sw = s.w, ph = c.padding.h, pw = c.padding.w;
  const std::ptrdiff_t oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
  xt::xarray<double> y = xt::zeros<double>({n_, ch, oh, ow});
  for (std::ptrdiff_t n = 0; n < n_; ++n)
    for (std::ptrdiff_t k = 0; k < ch; ++k)
      for (std::ptrdiff_t i = 0; i < oh; ++i)
        for (std::ptrdiff_t j = 0; j < ow; ++j) {
          double sum = 0;
          int count = 0;
          for (std::ptrdiff_t a = 0; a < kh; ++a)
            for (std::ptrdiff_t b = 0; b < kw; ++b) {
              const std::ptrdiff_t r = i * sh - ph + a, q = j * sw - pw + b;
              if (r >= 0 && r < h && q >= 0 && q < w) sum += x(n, k, r, q), ++count;
            }
          y(n, k, i, j) = sum / (include_pad ? static_cast<double>(kh * kw) : count);
        }
  return y;
}

/// Kernels 1 x 1 to 3 x 3 (and 2 x 3, 3 x 2), strides default, 1, 2, 3 and {1, 2}, paddings
/// 0, 1 and {1, 0} where at most half the kernel, two input shapes; fitting settings only.
std::vector<AvgPoolCase> avg_pool_grid() {
  std::vector<AvgPoolCase> cases;
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

}  // namespace

TEST_CASE("avg_pool2d: value, closed form", "[ops][pool]") {
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{{{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}}});
  const auto y = avg_pool2d(x, {2, 2});
  CHECK(std::string(y.op()) == "avg_pool2d");
  require_close(y.value(), xt::xarray<double>{{{{3.5, 5.5}}}});
  // padding 1 with stride 2: the corner windows hold one tap, which is their average...
  require_close(avg_pool2d(x, {2, 2}, {.stride = Conv2dPair{2, 2}, .padding = {1, 1}}).value(),
                xt::xarray<double>{{{{1, 2.5, 4}, {7, 8.5, 10}}}});
  // ...or a quarter of it when the padding counts
  require_close(
      avg_pool2d(x, {2, 2}, {.stride = Conv2dPair{2, 2}, .padding = {1, 1}, .count_include_pad = true}).value(),
      xt::xarray<double>{{{{0.25, 1.25, 1}, {3.5, 8.5, 5}}}});
}

TEST_CASE("avg_pool2d: value over kernels, strides and paddings against a direct loop", "[ops][pool]") {
  Tape<double> tape;
  std::uint32_t seed = 1;
  std::size_t checked = 0, padded = 0;
  for (const AvgPoolCase& c : avg_pool_grid()) {
    INFO(avg_pool_describe(c));
    tape.clear();
    const auto xa = random_array(c.x, -2, 2, seed++);
    const auto x = tape.constant(xa);
    for (const bool include_pad : {false, true}) {
      const auto y = avg_pool2d(x, c.kernel, {.stride = c.stride, .padding = c.padding, .count_include_pad = include_pad});
      require_close(y.value(), avg_pool_reference(xa, c, include_pad), 1e-13);
      ++checked;
    }
    padded += c.padding.h + c.padding.w > 0 ? 1 : 0;
  }
  CHECK(checked >= 150);
  CHECK(padded >= 30);
}

TEST_CASE("avg_pool2d: gradients by finite differences", "[ops][pool]") {
  std::uint32_t seed = 100;
  const auto grid = avg_pool_grid();
  std::size_t checked = 0;
  for (std::size_t i = 0; i < grid.size(); i += 5) {
    const AvgPoolCase c = grid[i];
    INFO(avg_pool_describe(c));
    for (const bool include_pad : {false, true}) {
      const AvgPool2dOptions o{.stride = c.stride, .padding = c.padding, .count_include_pad = include_pad};
      require_gradient([c, o](Tape<double>&, const Vars& v) { return avg_pool2d(v[0], c.kernel, o); },
                       {random_array(c.x, -2, 2, seed++)});
      ++checked;
    }
  }
  CHECK(checked >= 30);
  // x read twice: the pooled gradient accumulates onto mul's
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return mul(avg_pool2d(v[0], {3, 3}, {.stride = Conv2dPair{1, 1}, .padding = {1, 1}}), v[0]);
      },
      {random_array({2, 2, 5, 4}, -2, 2, 7)});
}

TEST_CASE("avg_pool2d: float agrees with double", "[ops][pool]") {
  const auto grid = avg_pool_grid();
  std::uint32_t seed = 200;
  for (std::size_t i = 0; i < grid.size(); i += 9) {
    const AvgPoolCase c = grid[i];
    INFO(avg_pool_describe(c));
    const auto xa = random_array(c.x, -2, 2, seed++);
    const auto run = [&]<class T>(Tape<T>& tape) {
      const auto x = tape.variable(xt::xarray<T>(xa));
      const auto y = avg_pool2d(x, c.kernel, {.stride = c.stride, .padding = c.padding});
      const auto r = tape.constant(xt::xarray<T>(random_array(y.shape(), -1, 1, 17)));
      tape.backward(sum(mul(y, r)));
      return std::vector<xt::xarray<double>>{xt::xarray<double>(y.value()), xt::xarray<double>(x.grad())};
    };
    Tape<double> td;
    Tape<float> tf;
    const auto d = run(td);
    const auto f = run(tf);
    for (std::size_t k = 0; k < d.size(); ++k) REQUIRE(xt::allclose(f[k], d[k], 0.0, 2e-6 * 3));
  }
}

TEST_CASE("avg_pool2d: errors", "[ops][pool]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3, 5, 5}));
  REQUIRE_THROWS_AS(avg_pool2d(tape.variable(random_array({3, 5, 5})), {2, 2}), ShapeError);
  REQUIRE_THROWS_WITH(avg_pool2d(tape.variable(random_array({3, 5, 5})), {2, 2}),
                      "avg_pool2d: x has shape [3, 5, 5]; expected x [N, C, H, W] with H, W >= 1");
  REQUIRE_THROWS_WITH(avg_pool2d(x, {6, 2}),
                      "avg_pool2d: x has shape [2, 3, 5, 5]; the kernel (6 x 2) is larger than the padded input "
                      "(5 x 5 with padding {0, 0})");
  REQUIRE_THROWS_WITH(avg_pool2d(x, {8, 2}, {.padding = {1, 0}}),
                      "avg_pool2d: x has shape [2, 3, 5, 5]; the kernel (8 x 2) is larger than the padded input "
                      "(7 x 5 with padding {1, 0})");
  REQUIRE_NOTHROW(avg_pool2d(x, {7, 2}, {.padding = {1, 0}}));
  REQUIRE_THROWS_AS(avg_pool2d(x, {2, 2}, {.stride = Conv2dPair{0, 1}}), ArgumentError);
  REQUIRE_THROWS_WITH(avg_pool2d(x, {2, 2}, {.stride = Conv2dPair{0, 1}}),
                      "avg_pool2d: expected kernel and stride >= 1; got kernel {2, 2}, stride {0, 1}");
  REQUIRE_THROWS_WITH(avg_pool2d(x, {0, 2}),
                      "avg_pool2d: expected kernel and stride >= 1; got kernel {0, 2}, stride {0, 2}");
  REQUIRE_THROWS_AS(avg_pool2d(x, {2, 2}, {.padding = {2, 1}}), ArgumentError);
  REQUIRE_THROWS_WITH(avg_pool2d(x, {2, 2}, {.padding = {2, 1}}),
                      "avg_pool2d: padding {2, 1} must be at most half the kernel {2, 2}");
}
