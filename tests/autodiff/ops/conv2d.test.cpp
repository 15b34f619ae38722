#include "support/gradients.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Direct convolution: y[n, o, i, j] = b[o] + sum over o's group's channels c and taps (a, e)
/// of w[o, c, a, e] x[n, g C_in/G + c, i s - p + a d, j s - p + e d], zero outside x.
xt::xarray<double> conv_reference(const xt::xarray<double>& x, const xt::xarray<double>& w,
                                  const xt::xarray<double>* b, const Conv2dOptions& o) {
  const std::ptrdiff_t n_ = x.shape()[0], h = x.shape()[2], wd = x.shape()[3];
  const std::ptrdiff_t co = w.shape()[0], cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  const std::ptrdiff_t sh = o.stride.h, sw = o.stride.w, ph = o.padding.h, pw = o.padding.w;
  const std::ptrdiff_t dh = o.dilation.h, dw = o.dilation.w, cog = co / static_cast<std::ptrdiff_t>(o.groups);
  const std::ptrdiff_t oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  xt::xarray<double> y = xt::zeros<double>({n_, co, oh, ow});
  for (std::ptrdiff_t n = 0; n < n_; ++n)
    for (std::ptrdiff_t oc = 0; oc < co; ++oc)
      for (std::ptrdiff_t i = 0; i < oh; ++i)
        for (std::ptrdiff_t j = 0; j < ow; ++j) {
          double s = b != nullptr ? (*b)(oc) : 0.0;
          const std::ptrdiff_t g = oc / cog;
          for (std::ptrdiff_t c = 0; c < cg; ++c)
            for (std::ptrdiff_t a = 0; a < kh; ++a)
              for (std::ptrdiff_t e = 0; e < kw; ++e) {
                const std::ptrdiff_t ih = i * sh - ph + a * dh, iw = j * sw - pw + e * dw;
                if (ih >= 0 && ih < h && iw >= 0 && iw < wd) s += w(oc, c, a, e) * x(n, g * cg + c, ih, iw);
              }
          y(n, oc, i, j) = s;
        }
  return y;
}

/// Transposed convolution by its definition: each input pixel x[n, c, i, j] scatters
/// x[n, c, i, j] w[c, o, a, e] to y[n, g C_out/G + o, i s - p + a d, j s - p + e d].
xt::xarray<double> conv_transpose_reference(const xt::xarray<double>& x, const xt::xarray<double>& w,
                                            const xt::xarray<double>* b, const ConvTranspose2dOptions& o) {
  const std::ptrdiff_t n_ = x.shape()[0], ci = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  const std::ptrdiff_t cog = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  const std::ptrdiff_t groups = static_cast<std::ptrdiff_t>(o.groups), cig = ci / groups, co = cog * groups;
  const std::ptrdiff_t sh = o.stride.h, sw = o.stride.w, ph = o.padding.h, pw = o.padding.w;
  const std::ptrdiff_t dh = o.dilation.h, dw = o.dilation.w;
  const std::ptrdiff_t oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + static_cast<std::ptrdiff_t>(o.output_padding.h) + 1;
  const std::ptrdiff_t ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + static_cast<std::ptrdiff_t>(o.output_padding.w) + 1;
  xt::xarray<double> y = xt::zeros<double>({n_, co, oh, ow});
  for (std::ptrdiff_t n = 0; n < n_; ++n)
    for (std::ptrdiff_t c = 0; c < co; ++c)
      for (std::ptrdiff_t i = 0; i < oh; ++i)
        for (std::ptrdiff_t j = 0; j < ow; ++j) y(n, c, i, j) = b != nullptr ? (*b)(c) : 0.0;
  for (std::ptrdiff_t n = 0; n < n_; ++n)
    for (std::ptrdiff_t c = 0; c < ci; ++c)
      for (std::ptrdiff_t i = 0; i < h; ++i)
        for (std::ptrdiff_t j = 0; j < wd; ++j)
          for (std::ptrdiff_t oc = 0; oc < cog; ++oc)
            for (std::ptrdiff_t a = 0; a < kh; ++a)
              for (std::ptrdiff_t e = 0; e < kw; ++e) {
                const std::ptrdiff_t yi = i * sh - ph + a * dh, yj = j * sw - pw + e * dw;
                if (yi >= 0 && yi < oh && yj >= 0 && yj < ow)
                  y(n, (c / cig) * cog + oc, yi, yj) += x(n, c, i, j) * w(c, oc, a, e);
              }
  return y;
}

/// One setting of the grid: x [batch, c_in, h, w], c_out output channels, a kh x kw kernel.
struct ConvCase {
  std::size_t batch, c_in, h, w, c_out, kh, kw;
  Conv2dOptions options;
  bool bias;
};

std::string conv_describe_case(const ConvCase& c) {
  const Conv2dOptions& o = c.options;
  return "x [" + std::to_string(c.batch) + ", " + std::to_string(c.c_in) + ", " + std::to_string(c.h) + ", " +
         std::to_string(c.w) + "], C_out " + std::to_string(c.c_out) + ", kernel " + std::to_string(c.kh) + " x " +
         std::to_string(c.kw) + ", stride {" + std::to_string(o.stride.h) + ", " + std::to_string(o.stride.w) +
         "}, padding {" + std::to_string(o.padding.h) + ", " + std::to_string(o.padding.w) + "}, dilation {" +
         std::to_string(o.dilation.h) + ", " + std::to_string(o.dilation.w) + "}, groups " +
         std::to_string(o.groups) + (c.bias ? ", bias" : "");
}

bool conv_fits(const ConvCase& c) {
  const Conv2dOptions& o = c.options;
  return c.h + 2 * o.padding.h >= o.dilation.h * (c.kh - 1) + 1 && c.w + 2 * o.padding.w >= o.dilation.w * (c.kw - 1) + 1;
}

/// The grid: strides 1, 2, 3; paddings 0, 1, 2; dilations 1, 2; groups 1, 2, C_in; kernels
/// 1 x 1, 3 x 3, 5 x 5, 2 x 3; a 7 x 10 input, batch 2; bias on every other setting; and a
/// few settings that differ between height and width. Settings whose kernel does not fit
/// are left out.
const std::vector<ConvCase>& conv_grid() {
  static const std::vector<ConvCase> all = [] {
    std::vector<ConvCase> cases;
    const std::size_t kernels[4][2] = {{1, 1}, {3, 3}, {5, 5}, {2, 3}};
    bool bias = false;
    for (std::size_t s : {1, 2, 3})
      for (std::size_t p : {0, 1, 2})
        for (std::size_t d : {1, 2})
          for (std::size_t g : {1, 2, 4})
            for (const auto& k : kernels) {
              ConvCase c{2, 4, 7, 10, g == 4 ? 8u : 6u, k[0], k[1], {{s, s}, {p, p}, {d, d}, g}, bias};
              if (!conv_fits(c)) continue;
              cases.push_back(c);
              bias = !bias;
            }
    cases.push_back({3, 4, 9, 6, 6, 3, 2, {{1, 2}, {2, 0}, {2, 1}, 2}, true});
    cases.push_back({2, 3, 5, 11, 4, 1, 3, {{3, 1}, {0, 1}, {1, 3}, 1}, false});
    cases.push_back({1, 6, 8, 8, 6, 5, 1, {{2, 3}, {1, 2}, {1, 1}, 3}, true});
    cases.push_back({5, 2, 6, 7, 4, 2, 2, {{2, 2}, {0, 0}, {1, 1}, 2}, true});
    return cases;
  }();
  return all;
}

/// The transposed convolution's options matching a conv2d setting, with the output padding
/// that makes its output x's size again.
ConvTranspose2dOptions conv_transposed_options(const ConvCase& c) {
  const Conv2dOptions& o = c.options;
  const std::size_t span_h = o.dilation.h * (c.kh - 1) + 1, span_w = o.dilation.w * (c.kw - 1) + 1;
  return {o.stride,
          o.padding,
          {(c.h + 2 * o.padding.h - span_h) % o.stride.h, (c.w + 2 * o.padding.w - span_w) % o.stride.w},
          o.dilation,
          o.groups};
}

double conv_dot(const xt::xarray<double>& a, const xt::xarray<double>& b) {
  REQUIRE(a.size() == b.size());
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a.data()[i] * b.data()[i];
  return s;
}

}  // namespace

TEST_CASE("conv2d: value, closed form", "[ops][conv]") {
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});
  const auto w = tape.constant(xt::xarray<double>{{{{1, 0}, {0, -1}}}});
  const auto y = conv2d(x, w);
  CHECK(std::string(y.op()) == "conv2d");
  require_close(y.value(), xt::xarray<double>{{{{-4, -4}, {-4, -4}}}});
  const auto b = tape.constant(xt::xarray<double>{0.5});
  require_close(conv2d(x, w, b).value(), xt::xarray<double>{{{{-3.5, -3.5}, {-3.5, -3.5}}}});
  // padding 1, stride 2: the corners of the padded image
  require_close(conv2d(x, w, {.stride = {2, 2}, .padding = {1, 1}}).value(),
                xt::xarray<double>{{{{-1, -3}, {-7, -4}}}});
  // the transposed convolution of one pixel is the kernel, scaled
  const auto one = tape.constant(xt::xarray<double>(xt::xtensor<double, 4>{{{{2}}}}));
  require_close(conv_transpose2d(one, w).value(), xt::xarray<double>{{{{2, 0}, {0, -2}}}});
  CHECK(std::string(conv_transpose2d(one, w).op()) == "conv_transpose2d");
  // stride 2 spreads the pixels apart; output_padding adds a row and a column of bias
  const auto two = tape.constant(xt::xarray<double>{{{{1, 2}}}});
  require_close(conv_transpose2d(two, w, b, {.stride = {2, 2}, .output_padding = {1, 1}}).value(),
                xt::xarray<double>{{{{1.5, 0.5, 2.5, 0.5, 0.5}, {0.5, -0.5, 0.5, -1.5, 0.5}, {0.5, 0.5, 0.5, 0.5, 0.5}}}});
}

TEST_CASE("conv2d: value over strides, paddings, dilations, groups and kernels against a direct loop",
          "[ops][conv]") {
  Tape<double> tape;
  std::uint32_t seed = 1;
  std::size_t checked = 0, with_bias = 0;
  for (const ConvCase& c : conv_grid()) {
    INFO(conv_describe_case(c));
    tape.clear();
    const auto xa = random_array({c.batch, c.c_in, c.h, c.w}, -2, 2, seed++);
    const auto wa = random_array({c.c_out, c.c_in / c.options.groups, c.kh, c.kw}, -2, 2, seed++);
    const auto ba = random_array({c.c_out}, -2, 2, seed++);
    const auto x = tape.constant(xa);
    const auto w = tape.constant(wa);
    const auto y = c.bias ? conv2d(x, w, tape.constant(ba), c.options) : conv2d(x, w, c.options);
    const auto expected = conv_reference(xa, wa, c.bias ? &ba : nullptr, c.options);
    require_close(y.value(), expected, 1e-11);
    ++checked;
    with_bias += c.bias ? 1 : 0;
  }
  CHECK(checked >= 200);
  CHECK(with_bias >= 100);
}

TEST_CASE("conv_transpose2d: value against the scatter definition and the adjoint identity", "[ops][conv]") {
  Tape<double> tape;
  std::uint32_t seed = 1000;
  std::size_t with_output_padding = 0;
  for (const ConvCase& c : conv_grid()) {
    INFO(conv_describe_case(c));
    tape.clear();
    const ConvTranspose2dOptions to = conv_transposed_options(c);
    with_output_padding += to.output_padding.h + to.output_padding.w > 0 ? 1 : 0;
    // conv2d x [N, C_in, H, W] -> y [N, C_out, OH, OW]; its transpose maps y's shape back
    const auto xa = random_array({c.batch, c.c_in, c.h, c.w}, -2, 2, seed++);
    const auto wa = random_array({c.c_out, c.c_in / c.options.groups, c.kh, c.kw}, -2, 2, seed++);
    const auto conv = conv2d(tape.constant(xa), tape.constant(wa), c.options);
    const Shape ys = conv.shape();
    const auto ya = random_array(ys, -2, 2, seed++);
    const auto ba = random_array({c.c_in}, -2, 2, seed++);
    const auto w = tape.constant(wa);
    const auto t = c.bias ? conv_transpose2d(tape.constant(ya), w, tape.constant(ba), to)
                          : conv_transpose2d(tape.constant(ya), w, to);
    CHECK(t.shape() == Shape{c.batch, c.c_in, c.h, c.w});
    require_close(t.value(), conv_transpose_reference(ya, wa, c.bias ? &ba : nullptr, to), 1e-11);
    // <conv(x), y> = <x, conv_T(y)> (without the bias)
    const xt::xarray<double> ty = conv_transpose2d(tape.constant(ya), w, to).value();
    const double lhs = conv_dot(conv.value(), ya), rhs = conv_dot(xa, ty);
    CHECK(std::abs(lhs - rhs) <= 1e-10 * (1 + std::abs(lhs)));
    // output_padding beyond the adjoint's: more rows of bias only, still the definition
    if (to.stride.h > 1 && to.output_padding.h + 1 < to.stride.h) {
      ConvTranspose2dOptions more = to;
      ++more.output_padding.h;
      const auto tm = conv_transpose2d(tape.constant(ya), w, tape.constant(ba), more);
      CHECK(tm.shape() == Shape{c.batch, c.c_in, c.h + 1, c.w});
      require_close(tm.value(), conv_transpose_reference(ya, wa, &ba, more), 1e-11);
    }
  }
  CHECK(with_output_padding > 20);
}

TEST_CASE("conv_transpose2d: output_padding below the dilation, and 1 x 1 kernels", "[ops][conv]") {
  Tape<double> tape;
  const auto xa = random_array({2, 4, 3, 5}, -2, 2, 51);
  const auto wa = random_array({4, 3, 1, 1}, -2, 2, 52);
  const auto ba = random_array({6}, -2, 2, 53);
  // stride 1, dilation 2: output_padding 1 is allowed (a 1 x 1 kernel then leaves a bias-only edge)
  const ConvTranspose2dOptions o{.output_padding = {1, 1}, .dilation = {2, 2}, .groups = 2};
  const auto y = conv_transpose2d(tape.constant(xa), tape.constant(wa), tape.constant(ba), o);
  CHECK(y.shape() == Shape{2, 6, 4, 6});
  require_close(y.value(), conv_transpose_reference(xa, wa, &ba, o), 1e-12);
  // 1 x 1, stride 1, no padding: the columns are the images themselves
  const ConvTranspose2dOptions plain{.groups = 2};
  require_close(conv_transpose2d(tape.constant(xa), tape.constant(wa), tape.constant(ba), plain).value(),
                conv_transpose_reference(xa, wa, &ba, plain), 1e-12);
  const auto wc = random_array({6, 2, 1, 1}, -2, 2, 54);
  require_close(conv2d(tape.constant(xa), tape.constant(wc), tape.constant(ba), {.groups = 2}).value(),
                conv_reference(xa, wc, &ba, {.groups = 2}), 1e-12);
}

TEST_CASE("conv2d: gradients of x, weight and bias by finite differences", "[ops][conv]") {
  const std::vector<ConvCase> cases{
      {2, 4, 6, 5, 6, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1}, true},
      {3, 4, 7, 6, 6, 3, 2, {{2, 1}, {2, 1}, {2, 1}, 2}, true},
      {2, 4, 5, 7, 8, 5, 5, {{3, 3}, {2, 2}, {1, 1}, 4}, false},
      {3, 4, 3, 4, 2, 1, 1, {{1, 1}, {0, 0}, {1, 1}, 2}, true},  // 1 x 1: no unfolding
      {2, 2, 5, 5, 3, 1, 1, {{2, 2}, {1, 0}, {1, 1}, 1}, true},  // 1 x 1, strided and padded
      {1, 3, 6, 8, 2, 2, 3, {{1, 3}, {0, 0}, {1, 1}, 1}, true},  // one image
      {2, 2, 8, 7, 4, 3, 3, {{2, 2}, {2, 2}, {2, 2}, 2}, false},
  };
  std::uint32_t seed = 2000;
  for (const ConvCase& c : cases) {
    INFO(conv_describe_case(c));
    const Conv2dOptions o = c.options;
    std::vector<xt::xarray<double>> inputs{random_array({c.batch, c.c_in, c.h, c.w}, -2, 2, seed),
                                           random_array({c.c_out, c.c_in / o.groups, c.kh, c.kw}, -2, 2, seed + 1)};
    seed += 3;
    if (c.bias) {
      inputs.push_back(random_array({c.c_out}, -2, 2, seed + 2));
      require_gradient([o](Tape<double>&, const Vars& v) { return conv2d(v[0], v[1], v[2], o); }, inputs);
    } else {
      require_gradient([o](Tape<double>&, const Vars& v) { return conv2d(v[0], v[1], o); }, inputs);
    }
  }
}

TEST_CASE("conv2d: gradients with one operand constant, and accumulated", "[ops][conv]") {
  const Conv2dOptions o{.stride = {2, 1}, .padding = {1, 2}, .groups = 2};
  const auto xa = random_array({3, 4, 6, 5}, -2, 2, 61);
  const auto wa = random_array({4, 2, 3, 3}, -2, 2, 62);
  require_gradient([o, wa](Tape<double>& t, const Vars& v) { return conv2d(v[0], t.constant(wa), o); }, {xa});
  require_gradient([o, xa](Tape<double>& t, const Vars& v) { return conv2d(t.constant(xa), v[0], o); }, {wa});
  // w used twice (its gradient accumulates), x through both layers
  const Conv2dOptions same{.padding = {1, 1}, .groups = 2};
  require_gradient([same](Tape<double>&, const Vars& v) { return conv2d(conv2d(v[0], v[1], same), v[1], same); },
                   {xa, wa});
  // x also read by mul: conv2d's dx accumulates onto mul's, with and without unfolding
  require_gradient([same](Tape<double>&, const Vars& v) { return mul(conv2d(v[0], v[1], v[2], same), v[0]); },
                   {xa, wa, random_array({4}, -2, 2, 63)});
  require_gradient([](Tape<double>&, const Vars& v) { return mul(conv2d(v[0], v[1], {.groups = 2}), v[0]); },
                   {xa, random_array({4, 2, 1, 1}, -2, 2, 64)});
  // bias used twice
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        const auto x = t.constant(random_array({2, 2, 4, 4}, -2, 2, 65));
        const auto w = t.constant(random_array({2, 2, 3, 3}, -2, 2, 66));
        return conv2d(conv2d(x, w, v[0], {.padding = {1, 1}}), w, v[0], {.padding = {1, 1}});
      },
      {random_array({2}, -2, 2, 67)});
}

TEST_CASE("conv_transpose2d: gradients of x, weight and bias by finite differences", "[ops][conv]") {
  struct TransposedCase {
    Shape x;
    std::size_t c_out_per_group, kh, kw;
    ConvTranspose2dOptions options;
    bool bias;
  };
  const std::vector<TransposedCase> cases{
      {{2, 4, 4, 3}, 3, 3, 3, {{1, 1}, {1, 1}, {0, 0}, {1, 1}, 1}, true},
      {{3, 4, 3, 4}, 2, 3, 2, {{2, 3}, {1, 0}, {1, 2}, {1, 1}, 2}, true},
      {{2, 4, 3, 3}, 1, 5, 5, {{3, 3}, {2, 2}, {0, 1}, {1, 1}, 4}, false},
      {{2, 4, 3, 4}, 3, 1, 1, {{1, 1}, {0, 0}, {0, 0}, {1, 1}, 2}, true},   // 1 x 1: no unfolding
      {{2, 2, 3, 3}, 2, 3, 3, {{2, 2}, {2, 1}, {1, 0}, {2, 2}, 1}, false},  // dilated
      {{1, 3, 4, 5}, 2, 2, 3, {{2, 1}, {0, 1}, {1, 0}, {1, 1}, 1}, true},   // one image
      {{2, 4, 3, 3}, 3, 1, 1, {{1, 1}, {0, 0}, {1, 1}, {2, 2}, 2}, true},   // 1 x 1 with an edge
  };
  std::uint32_t seed = 3000;
  for (const TransposedCase& c : cases) {
    INFO("x " << to_string(c.x) << ", kernel " << c.kh << " x " << c.kw << ", groups " << c.options.groups);
    const ConvTranspose2dOptions o = c.options;
    std::vector<xt::xarray<double>> inputs{random_array(c.x, -2, 2, seed),
                                           random_array({c.x[1], c.c_out_per_group, c.kh, c.kw}, -2, 2, seed + 1)};
    seed += 3;
    if (c.bias) {
      inputs.push_back(random_array({c.c_out_per_group * o.groups}, -2, 2, seed + 2));
      require_gradient([o](Tape<double>&, const Vars& v) { return conv_transpose2d(v[0], v[1], v[2], o); }, inputs);
    } else {
      require_gradient([o](Tape<double>&, const Vars& v) { return conv_transpose2d(v[0], v[1], o); }, inputs);
    }
  }
  // accumulation: weight used twice, x read by mul as well
  const ConvTranspose2dOptions same{.padding = {1, 1}, .groups = 2};
  const auto xa = random_array({2, 4, 5, 4}, -2, 2, 71);
  const auto wa = random_array({4, 2, 3, 3}, -2, 2, 72);
  require_gradient(
      [same](Tape<double>&, const Vars& v) { return conv_transpose2d(conv_transpose2d(v[0], v[1], same), v[1], same); },
      {xa, wa});
  require_gradient([same](Tape<double>&, const Vars& v) { return mul(conv_transpose2d(v[0], v[1], same), v[0]); },
                   {xa, wa});
  require_gradient([wa](Tape<double>& t, const Vars& v) { return conv_transpose2d(v[0], t.constant(wa)); }, {xa});
  require_gradient([xa](Tape<double>& t, const Vars& v) { return conv_transpose2d(t.constant(xa), v[0]); }, {wa});
}

TEST_CASE("conv2d: float agrees with double to float precision", "[ops][conv]") {
  std::uint32_t seed = 4000;
  std::size_t checked = 0;
  for (std::size_t i = 0; i < conv_grid().size(); i += 7) {
    const ConvCase& c = conv_grid()[i];
    INFO(conv_describe_case(c));
    const auto xa = random_array({c.batch, c.c_in, c.h, c.w}, -2, 2, seed++);
    const auto wa = random_array({c.c_out, c.c_in / c.options.groups, c.kh, c.kw}, -2, 2, seed++);
    const auto ba = random_array({c.c_out}, -2, 2, seed++);
    const ConvTranspose2dOptions to = conv_transposed_options(c);
    // the values, and the gradients of sum(r * y) for both ops, in double and in float
    const auto run = [&]<class T>(Tape<T>& tape) {
      const auto x = tape.variable(xt::xarray<T>(xa));
      const auto w = tape.variable(xt::xarray<T>(wa));
      const auto b = tape.variable(xt::xarray<T>(ba));
      const auto y = conv2d(x, w, b, c.options);
      const auto yr = tape.constant(xt::xarray<T>(random_array(y.shape(), -1, 1, 17)));
      const auto wt = tape.variable(xt::xarray<T>(wa));
      const auto bt = tape.variable(xt::xarray<T>(random_array({c.c_in}, -2, 2, 18)));
      const auto t = conv_transpose2d(y, wt, bt, to);
      const auto tr = tape.constant(xt::xarray<T>(random_array(t.shape(), -1, 1, 19)));
      tape.backward(add(sum(mul(y, yr)), sum(mul(t, tr))));
      return std::vector<xt::xarray<double>>{xt::xarray<double>(y.value()), xt::xarray<double>(t.value()),
                                             xt::xarray<double>(x.grad()),  xt::xarray<double>(w.grad()),
                                             xt::xarray<double>(b.grad()),  xt::xarray<double>(wt.grad()),
                                             xt::xarray<double>(bt.grad())};
    };
    Tape<double> td;
    Tape<float> tf;
    const auto d = run(td);
    const auto f = run(tf);
    for (std::size_t k = 0; k < d.size(); ++k) {
      INFO("result " << k);
      const double scale = xt::amax(xt::abs(d[k]))() + 1;
      REQUIRE(xt::allclose(f[k], d[k], 0.0, 2e-5 * scale));
      ++checked;
    }
  }
  CHECK(checked >= 7 * 25);
}

TEST_CASE("conv2d: steady-state steps reuse the node buffers and give the same bits, threaded or serial", "[ops][conv]") {
  Tape<double> tape;
  const auto xa = random_array({4, 4, 9, 8}, -2, 2, 81);
  const auto wa = random_array({6, 2, 3, 3}, -2, 2, 82);
  const Conv2dOptions o{.stride = {2, 2}, .padding = {1, 1}, .groups = 2};
  const ConvTranspose2dOptions to{.stride = {2, 2}, .padding = {1, 1}, .output_padding = {0, 1}, .groups = 2};
  const double* scratch[2] = {nullptr, nullptr};
  std::vector<xt::xarray<double>> first;
  for (int step = 0; step < 4; ++step) {
    // the last step runs its images one after the other: the same slots, so the same bits
    std::optional<vaelib::detail::SerialRegion> serial;
    if (step == 3) serial.emplace();
    tape.clear();
    const auto x = tape.variable(xa);
    const auto w = tape.variable(wa);
    const auto y = conv2d(x, w, o);
    const auto t = conv_transpose2d(y, w, to);
    CHECK(t.shape() == Shape{4, 4, 9, 8});
    tape.backward(sum(mul(t, t)));
    const std::vector<xt::xarray<double>> now{t.value(), x.grad(), w.grad()};
    if (step == 0) {
      first = now;
    } else {
      for (std::size_t k = 0; k < now.size(); ++k) REQUIRE(now[k] == first[k]);
      CHECK(tape.node(y).scratch.data() == scratch[0]);
      CHECK(tape.node(t).scratch.data() == scratch[1]);
    }
    scratch[0] = tape.node(y).scratch.data();
    scratch[1] = tape.node(t).scratch.data();
    CHECK(scratch[0] != nullptr);
    CHECK(scratch[1] != nullptr);
  }
}

TEST_CASE("conv2d: a batch unfolded in several chunks gives what its images give one at a time", "[ops][conv]") {
  // 24 images whose columns (8 x 3 x 3 x 28 x 28 each) fill a chunk four at a time: three
  // or six chunks a slot (two threads or one), against each image alone (one chunk of one);
  // both ops, groups 2, every gradient
  constexpr std::size_t batch = 24;
  const auto xa = random_array({batch, 8, 28, 28}, -1, 1, 91);
  const auto wa = random_array({8, 4, 3, 3}, -1, 1, 92);
  const auto ba = random_array({8}, -1, 1, 93);
  const auto ra = random_array({batch, 8, 28, 28}, -1, 1, 94);
  const Conv2dOptions o{.padding = {1, 1}, .groups = 2};
  const ConvTranspose2dOptions to{.padding = {1, 1}, .groups = 2};
  REQUIRE(vaelib::detail::conv_chunk(12, 8 * 9 * 28 * 28, false) == 4);
  REQUIRE(vaelib::detail::conv_chunk(24, 8 * 9 * 28 * 28, false) == 4);
  // for one op: y = op(x, w, b), loss sum(y r); returns y, dx, dw, db
  const auto run = [&](bool transposed, std::size_t first, std::size_t count) {
    Tape<double> tape;
    const auto slice = [&](const xt::xarray<double>& a) { return xt::xarray<double>(xt::view(a, xt::range(first, first + count))); };
    const auto x = tape.variable(slice(xa));
    const auto w = tape.variable(wa);
    const auto b = tape.variable(ba);
    const auto y = transposed ? conv_transpose2d(x, w, b, to) : conv2d(x, w, b, o);
    tape.backward(sum(mul(y, tape.constant(slice(ra)))));
    return std::vector<xt::xarray<double>>{y.value(), x.grad(), w.grad(), b.grad()};
  };
  for (const bool transposed : {false, true}) {
    INFO((transposed ? "conv_transpose2d" : "conv2d"));
    const auto whole = run(transposed, 0, batch);
    xt::xarray<double> dw = xt::zeros_like(wa), db = xt::zeros_like(ba);
    for (std::size_t n = 0; n < batch; ++n) {
      const auto one = run(transposed, n, 1);
      REQUIRE(xt::allclose(xt::view(whole[0], xt::range(n, n + 1)), one[0], 1e-12, 1e-12));
      REQUIRE(xt::allclose(xt::view(whole[1], xt::range(n, n + 1)), one[1], 1e-12, 1e-12));
      dw += one[2];
      db += one[3];
    }
    CHECK(xt::allclose(whole[2], dw, 1e-10, 1e-10));
    CHECK(xt::allclose(whole[3], db, 1e-10, 1e-10));
  }
}

TEST_CASE("conv2d: an empty batch gives an empty output and zero weight and bias gradients", "[ops][conv]") {
  for (const bool transposed : {false, true}) {
    INFO((transposed ? "conv_transpose2d" : "conv2d"));
    Tape<double> tape;
    const auto x = tape.variable(xt::xarray<double>(xt::zeros<double>({0, 4, 5, 5})));
    const auto w = tape.variable(random_array({4, 2, 3, 3}, -1, 1, 95));
    const auto b = tape.variable(random_array({4}, -1, 1, 96));
    const auto y = transposed ? conv_transpose2d(x, w, b, {.stride = {2, 2}, .groups = 2})
                              : conv2d(x, w, b, {.stride = {2, 2}, .groups = 2});
    CHECK(y.shape()[0] == 0);
    tape.backward(sum(y));
    CHECK(xt::all(xt::equal(w.grad(), 0.0)));
    CHECK(xt::all(xt::equal(b.grad(), 0.0)));
  }
}

TEST_CASE("conv2d: errors", "[ops][conv]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 4, 5, 5}));
  const auto w = tape.variable(random_array({6, 4, 3, 3}));
  REQUIRE_THROWS_AS(conv2d(tape.variable(random_array({2, 4, 5})), w), ShapeError);
  REQUIRE_THROWS_WITH(conv2d(tape.variable(random_array({2, 4, 5})), w),
                      "conv2d: x has shape [2, 4, 5], weight has shape [6, 4, 3, 3]; expected x [N, C_in, H, W] with "
                      "H, W >= 1, weight [C_out, C_in / groups, kH, kW] with kH, kW >= 1");
  REQUIRE_THROWS_WITH(conv2d(x, tape.variable(random_array({6, 4, 0, 3}))),
                      "conv2d: x has shape [2, 4, 5, 5], weight has shape [6, 4, 0, 3]; expected x [N, C_in, H, W] "
                      "with H, W >= 1, weight [C_out, C_in / groups, kH, kW] with kH, kW >= 1");
  REQUIRE_THROWS_WITH(conv2d(x, w, tape.variable(random_array({6, 1}))),
                      "conv2d: x has shape [2, 4, 5, 5], weight has shape [6, 4, 3, 3], bias has shape [6, 1]; "
                      "expected x [N, C_in, H, W] with H, W >= 1, weight [C_out, C_in / groups, kH, kW] with kH, "
                      "kW >= 1, bias [C_out]");
  REQUIRE_THROWS_AS(conv2d(x, tape.variable(random_array({6, 2, 3, 3})), {.groups = 3}), ShapeError);
  REQUIRE_THROWS_WITH(conv2d(x, tape.variable(random_array({6, 2, 3, 3})), {.groups = 3}),
                      "conv2d: x has shape [2, 4, 5, 5], weight has shape [6, 2, 3, 3]; expected C_in (4) and C_out "
                      "(6) divisible by groups (3)");
  REQUIRE_THROWS_WITH(conv2d(x, tape.variable(random_array({6, 3, 3, 3})), {.groups = 2}),
                      "conv2d: x has shape [2, 4, 5, 5], weight has shape [6, 3, 3, 3]; expected weight [C_out, C_in "
                      "/ groups, kH, kW] with C_in / groups = 2 (groups 2)");
  REQUIRE_THROWS_WITH(conv2d(x, w, tape.variable(random_array({5}))),
                      "conv2d: x has shape [2, 4, 5, 5], weight has shape [6, 4, 3, 3], bias has shape [5]; expected "
                      "bias [C_out] = [6]");
  REQUIRE_THROWS_AS(conv2d(tape.variable(random_array({1, 1, 2, 3})), tape.variable(random_array({1, 1, 3, 3}))),
                    ShapeError);
  REQUIRE_THROWS_WITH(conv2d(tape.variable(random_array({1, 1, 2, 3})), tape.variable(random_array({1, 1, 3, 3}))),
                      "conv2d: x has shape [1, 1, 2, 3], weight has shape [1, 1, 3, 3]; the kernel (3 x 3 with "
                      "dilation {1, 1}) is larger than the padded input (2 x 3 with padding {0, 0})");
  REQUIRE_THROWS_WITH(conv2d(tape.variable(random_array({1, 1, 3, 3})), tape.variable(random_array({1, 1, 3, 3})),
                             {.padding = {0, 1}, .dilation = {2, 2}}),
                      "conv2d: x has shape [1, 1, 3, 3], weight has shape [1, 1, 3, 3]; the kernel (5 x 5 with "
                      "dilation {2, 2}) is larger than the padded input (3 x 5 with padding {0, 1})");
  REQUIRE_NOTHROW(conv2d(tape.variable(random_array({1, 1, 3, 3})), tape.variable(random_array({1, 1, 3, 3})),
                         {.padding = {1, 1}, .dilation = {2, 2}}));
  REQUIRE_THROWS_AS(conv2d(x, w, {.stride = {0, 1}}), ArgumentError);
  REQUIRE_THROWS_WITH(conv2d(x, w, {.stride = {0, 1}}),
                      "conv2d: expected stride, dilation and groups >= 1; got stride {0, 1}, dilation {1, 1}, groups 1");
  REQUIRE_THROWS_WITH(conv2d(x, w, {.dilation = {1, 0}}),
                      "conv2d: expected stride, dilation and groups >= 1; got stride {1, 1}, dilation {1, 0}, groups 1");
  REQUIRE_THROWS_WITH(conv2d(x, w, {.groups = 0}),
                      "conv2d: expected stride, dilation and groups >= 1; got stride {1, 1}, dilation {1, 1}, groups 0");
}

TEST_CASE("conv_transpose2d: errors", "[ops][conv]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 4, 5, 5}));
  const auto w = tape.variable(random_array({4, 3, 3, 3}));
  REQUIRE_NOTHROW(conv_transpose2d(x, w));
  REQUIRE_THROWS_AS(conv_transpose2d(x, tape.variable(random_array({3, 2, 3, 3}))), ShapeError);
  REQUIRE_THROWS_WITH(conv_transpose2d(x, tape.variable(random_array({3, 2, 3, 3}))),
                      "conv_transpose2d: x has shape [2, 4, 5, 5], weight has shape [3, 2, 3, 3]; expected weight "
                      "[C_in, C_out / groups, kH, kW] with C_in = 4 (groups 1)");
  REQUIRE_THROWS_WITH(conv_transpose2d(tape.variable(random_array({4, 5, 5})), w),
                      "conv_transpose2d: x has shape [4, 5, 5], weight has shape [4, 3, 3, 3]; expected x [N, C_in, "
                      "H, W] with H, W >= 1, weight [C_in, C_out / groups, kH, kW] with kH, kW >= 1");
  REQUIRE_THROWS_WITH(conv_transpose2d(x, w, {.groups = 3}),
                      "conv_transpose2d: x has shape [2, 4, 5, 5], weight has shape [4, 3, 3, 3]; expected C_in (4) "
                      "and C_out (9) divisible by groups (3)");
  REQUIRE_THROWS_WITH(conv_transpose2d(x, w, tape.variable(random_array({4}))),
                      "conv_transpose2d: x has shape [2, 4, 5, 5], weight has shape [4, 3, 3, 3], bias has shape "
                      "[4]; expected bias [C_out] = [3]");
  const auto pixel = tape.variable(random_array({1, 2, 1, 1}));
  const auto w1 = tape.variable(random_array({2, 1, 1, 1}));
  REQUIRE_THROWS_AS(conv_transpose2d(pixel, w1, {.padding = {1, 1}}), ShapeError);
  REQUIRE_THROWS_WITH(conv_transpose2d(pixel, w1, {.padding = {1, 0}}),
                      "conv_transpose2d: x has shape [1, 2, 1, 1], weight has shape [2, 1, 1, 1]; the output size "
                      "(-1 x 1) is not positive with stride {1, 1}, padding {1, 0}, output_padding {0, 0}, dilation "
                      "{1, 1}");
  REQUIRE_THROWS_AS(conv_transpose2d(x, w, {.stride = {2, 2}, .output_padding = {2, 0}}), ArgumentError);
  REQUIRE_THROWS_WITH(conv_transpose2d(x, w, {.stride = {2, 2}, .output_padding = {2, 0}}),
                      "conv_transpose2d: output_padding {2, 0} must be smaller than the stride {2, 2} or the "
                      "dilation {1, 1} in each dimension");
  REQUIRE_NOTHROW(conv_transpose2d(x, w, {.stride = {2, 2}, .output_padding = {1, 0}}));
  REQUIRE_THROWS_WITH(conv_transpose2d(x, w, {.stride = {1, 0}}),
                      "conv_transpose2d: expected stride, dilation and groups >= 1; got stride {1, 0}, dilation {1, "
                      "1}, groups 1");
}
