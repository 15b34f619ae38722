#include "vaelib/autodiff/ops/upsample2d.hpp"

#include "support/gradients.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Direct upsampling in double: nearest copies x[i / sh, j / sw]; bilinear interpolates at
/// the source point max(0, (i + 0.5) / s - 0.5) between its floor and the next index
/// (clamped to the last).
xt::xarray<double> upsample_reference(const xt::xarray<double>& x, std::size_t sh, std::size_t sw, bool bilinear) {
  const std::size_t n_ = x.shape()[0], ch = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  xt::xarray<double> y = xt::zeros<double>({n_, ch, h * sh, w * sw});
  const auto source = [](std::size_t o, std::size_t s, std::size_t size, std::size_t& lo, std::size_t& hi,
                         double& frac) {
    double at = (o + 0.5) / static_cast<double>(s) - 0.5;
    if (at < 0) at = 0;
    lo = static_cast<std::size_t>(std::floor(at));
    hi = std::min(lo + 1, size - 1);
    frac = at - std::floor(at);
  };
  for (std::size_t n = 0; n < n_; ++n)
    for (std::size_t c = 0; c < ch; ++c)
      for (std::size_t i = 0; i < h * sh; ++i)
        for (std::size_t j = 0; j < w * sw; ++j) {
          if (!bilinear) {
            y(n, c, i, j) = x(n, c, i / sh, j / sw);
            continue;
          }
          std::size_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;
          double fr = 0, fc = 0;
          source(i, sh, h, r0, r1, fr);
          source(j, sw, w, c0, c1, fc);
          const double top = (1 - fc) * x(n, c, r0, c0) + fc * x(n, c, r0, c1);
          const double bottom = (1 - fc) * x(n, c, r1, c0) + fc * x(n, c, r1, c1);
          y(n, c, i, j) = (1 - fr) * top + fr * bottom;
        }
  return y;
}

struct UpsampleCase {
  Shape x;
  std::size_t sh, sw;
};

const std::vector<UpsampleCase> upsample_cases{
    {{2, 3, 4, 5}, 2, 2}, {{1, 2, 3, 3}, 1, 1}, {{2, 1, 3, 4}, 3, 2}, {{1, 2, 1, 1}, 2, 3},
    {{3, 2, 5, 2}, 1, 4}, {{1, 1, 2, 6}, 4, 1}, {{2, 2, 1, 3}, 2, 2}};

}  // namespace

TEST_CASE("upsample2d: value, closed form", "[ops][upsample]") {
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{{{{1, 2}, {3, 4}}}});
  const auto y = upsample2d(x, {2, 1});
  CHECK(std::string(y.op()) == "upsample2d");
  require_close(y.value(), xt::xarray<double>{{{{1, 2}, {1, 2}, {3, 4}, {3, 4}}}});
  // PyTorch's linear 2x of [1, 2] (align_corners = false)
  require_close(upsample2d(tape.constant(xt::xarray<double>{{{{1, 2}}}}), {1, 2}, UpsampleMode::bilinear).value(),
                xt::xarray<double>{{{{1, 1.25, 1.75, 2}}}});
  // a constant image stays constant
  const auto c = upsample2d(tape.constant(xt::xarray<double>(xt::ones<double>({1, 2, 3, 4}) * 2.5)), {3, 2},
                            UpsampleMode::bilinear);
  CHECK(xt::allclose(c.value(), 2.5, 0.0, 1e-15));
}

TEST_CASE("upsample2d: value against a direct loop, both modes", "[ops][upsample]") {
  Tape<double> tape;
  std::uint32_t seed = 1;
  for (const UpsampleCase& c : upsample_cases)
    for (const bool bilinear : {false, true}) {
      INFO("x " << to_string(c.x) << ", scale " << c.sh << " x " << c.sw << (bilinear ? ", bilinear" : ", nearest"));
      const auto xa = random_array(c.x, -2, 2, seed++);
      const auto y = upsample2d(tape.constant(xa), {c.sh, c.sw}, bilinear ? UpsampleMode::bilinear : UpsampleMode::nearest);
      CHECK(y.shape() == Shape{c.x[0], c.x[1], c.x[2] * c.sh, c.x[3] * c.sw});
      require_close(y.value(), upsample_reference(xa, c.sh, c.sw, bilinear), 1e-14);
    }
}

TEST_CASE("upsample2d: gradients by finite differences and the adjoint identity", "[ops][upsample]") {
  std::uint32_t seed = 100;
  for (const UpsampleCase& c : upsample_cases)
    for (const UpsampleMode mode : {UpsampleMode::nearest, UpsampleMode::bilinear}) {
      INFO("x " << to_string(c.x) << ", scale " << c.sh << " x " << c.sw << ", mode " << static_cast<int>(mode));
      const Conv2dPair s{c.sh, c.sw};
      require_gradient([s, mode](Tape<double>&, const Vars& v) { return upsample2d(v[0], s, mode); },
                       {random_array(c.x, -2, 2, seed++)});
      // <U x, r> = <x, U^T r>: the gradient of sum(U(x) r) is U^T r, checked element by element
      Tape<double> tape;
      const auto xa = random_array(c.x, -2, 2, seed++);
      const auto x = tape.variable(xa);
      const auto y = upsample2d(x, s, mode);
      const auto r = random_array(y.shape(), -1, 1, seed++);
      tape.backward(sum(mul(y, tape.constant(r))));
      double lhs = 0, rhs = 0;
      for (std::size_t i = 0; i < r.size(); ++i) lhs += y.value().data()[i] * r.data()[i];
      for (std::size_t i = 0; i < xa.size(); ++i) rhs += xa.data()[i] * x.grad().data()[i];
      CHECK(std::abs(lhs - rhs) < 1e-12 * (1 + std::abs(lhs)));
    }
  // x read twice: accumulation
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return add(sum(upsample2d(v[0], {2, 2}, UpsampleMode::bilinear)), sum(mul(v[0], v[0])));
      },
      {random_array({1, 2, 3, 3}, -2, 2, 9)});
}

TEST_CASE("upsample2d: float agrees with double", "[ops][upsample]") {
  std::uint32_t seed = 200;
  for (const UpsampleCase& c : upsample_cases)
    for (const UpsampleMode mode : {UpsampleMode::nearest, UpsampleMode::bilinear}) {
      const auto xa = random_array(c.x, -2, 2, seed++);
      const auto run = [&]<class T>(Tape<T>& tape) {
        const auto x = tape.variable(xt::xarray<T>(xa));
        const auto y = upsample2d(x, {c.sh, c.sw}, mode);
        tape.backward(sum(mul(y, tape.constant(xt::xarray<T>(random_array(y.shape(), -1, 1, 17))))));
        return std::vector<xt::xarray<double>>{xt::xarray<double>(y.value()), xt::xarray<double>(x.grad())};
      };
      Tape<double> td;
      Tape<float> tf;
      const auto d = run(td);
      const auto f = run(tf);
      for (std::size_t k = 0; k < d.size(); ++k) REQUIRE(xt::allclose(f[k], d[k], 0.0, 1e-5));
    }
}

TEST_CASE("upsample2d: errors", "[ops][upsample]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3, 4, 4}));
  REQUIRE_THROWS_AS(upsample2d(tape.variable(random_array({3, 4, 4})), {2, 2}), ShapeError);
  REQUIRE_THROWS_WITH(upsample2d(tape.variable(random_array({3, 4, 4})), {2, 2}),
                      "upsample2d: x has shape [3, 4, 4]; expected x [N, C, H, W] with H, W >= 1");
  REQUIRE_THROWS_WITH(upsample2d(tape.variable(random_array({1, 3, 4, 0})), {2, 2}, UpsampleMode::bilinear),
                      "upsample2d: x has shape [1, 3, 4, 0]; expected x [N, C, H, W] with H, W >= 1");
  REQUIRE_THROWS_AS(upsample2d(x, {0, 2}), ArgumentError);
  REQUIRE_THROWS_WITH(upsample2d(x, {0, 2}), "upsample2d: expected scale factors >= 1; got {0, 2}");
  REQUIRE_THROWS_WITH(upsample2d(x, {2, 0}, UpsampleMode::bilinear),
                      "upsample2d: expected scale factors >= 1; got {2, 0}");
}
