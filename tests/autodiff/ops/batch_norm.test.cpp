#include "vaelib/autodiff/ops/batch_norm.hpp"

#include "support/gradients.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Per channel of x [N, C, ...]: the mean and the biased variance, by direct loops.
void batch_norm_stats(const xt::xarray<double>& x, std::vector<double>& mean, std::vector<double>& var) {
  const std::size_t n_ = x.shape()[0], ch = x.shape()[1], plane = x.size() / (n_ * ch);
  mean.assign(ch, 0.0);
  var.assign(ch, 0.0);
  for (std::size_t c = 0; c < ch; ++c) {
    for (std::size_t n = 0; n < n_; ++n)
      for (std::size_t k = 0; k < plane; ++k) mean[c] += x.data()[(n * ch + c) * plane + k];
    mean[c] /= static_cast<double>(n_ * plane);
    for (std::size_t n = 0; n < n_; ++n)
      for (std::size_t k = 0; k < plane; ++k) {
        const double d = x.data()[(n * ch + c) * plane + k] - mean[c];
        var[c] += d * d;
      }
    var[c] /= static_cast<double>(n_ * plane);
  }
}

/// (x - mean_c) / sqrt(var_c + eps) gamma_c + beta_c, by a direct loop.
xt::xarray<double> batch_norm_reference(const xt::xarray<double>& x, const std::vector<double>& mean,
                                        const std::vector<double>& var, const xt::xarray<double>& gamma,
                                        const xt::xarray<double>& beta, double eps) {
  const std::size_t n_ = x.shape()[0], ch = x.shape()[1], plane = x.size() / (n_ * ch);
  xt::xarray<double> y = x;
  for (std::size_t n = 0; n < n_; ++n)
    for (std::size_t c = 0; c < ch; ++c)
      for (std::size_t k = 0; k < plane; ++k) {
        double& v = y.data()[(n * ch + c) * plane + k];
        v = (v - mean[c]) / std::sqrt(var[c] + eps) * gamma(c) + beta(c);
      }
  return y;
}

}  // namespace

TEST_CASE("batch_norm: training output has per-channel mean beta and variance gamma^2", "[ops][batch_norm]") {
  for (const Shape& shape : {Shape{4, 3, 5, 6}, Shape{7, 5}, Shape{2, 2, 1, 3}}) {
    INFO("x " << to_string(shape));
    Tape<double> tape;
    const std::size_t ch = shape[1];
    // a large offset: the two-pass statistics keep their precision
    const xt::xarray<double> xa = random_array(shape, -2, 2, 3) * 1.5 + 100.0;
    const xt::xarray<double> ga = random_array({ch}, 0.5, 2, 4), ba = random_array({ch}, -1, 1, 5);
    xt::xarray<double> rm = xt::zeros<double>({ch}), rv = xt::ones<double>({ch});
    const auto y = batch_norm(tape.variable(xa), tape.variable(ga), tape.variable(ba), rm, rv, {.eps = 1e-12});
    CHECK(std::string(y.op()) == "batch_norm");
    CHECK(y.shape() == shape);
    std::vector<double> mean, var;
    batch_norm_stats(y.value(), mean, var);
    for (std::size_t c = 0; c < ch; ++c) {
      CHECK(std::abs(mean[c] - ba(c)) < 1e-10);
      CHECK(std::abs(var[c] - ga(c) * ga(c)) < 1e-9);
    }
    std::vector<double> xm, xv;
    batch_norm_stats(xa, xm, xv);
    require_close(y.value(), batch_norm_reference(xa, xm, xv, ga, ba, 1e-12), 1e-10);
    // with PyTorch's eps: the reference with the same eps
    xt::xarray<double> rm2 = rm, rv2 = rv;
    const auto y2 = batch_norm(tape.constant(xa), tape.constant(ga), tape.constant(ba), rm2, rv2);
    require_close(y2.value(), batch_norm_reference(xa, xm, xv, ga, ba, 1e-5), 1e-12);
  }
}

TEST_CASE("batch_norm: running statistics over several steps match a hand computation", "[ops][batch_norm]") {
  Tape<double> tape;
  const Shape shape{3, 2, 4, 5};
  const std::size_t m = 3 * 4 * 5;
  xt::xarray<double> rm = xt::zeros<double>({2}), rv = xt::ones<double>({2});
  std::vector<double> hand_mean{0, 0}, hand_var{1, 1};
  const xt::xarray<double> ga = xt::ones<double>({2}), ba = xt::zeros<double>({2});
  for (std::uint32_t step = 0; step < 5; ++step) {
    tape.clear();
    const auto xa = random_array(shape, -1, 3, 10 + step);
    const double momentum = step < 3 ? 0.1 : 0.25;
    batch_norm(tape.variable(xa), tape.variable(ga), tape.variable(ba), rm, rv, {.momentum = momentum});
    std::vector<double> mean, var;
    batch_norm_stats(xa, mean, var);
    for (std::size_t c = 0; c < 2; ++c) {
      hand_mean[c] = (1 - momentum) * hand_mean[c] + momentum * mean[c];
      hand_var[c] = (1 - momentum) * hand_var[c] + momentum * var[c] * m / (m - 1);  // unbiased
    }
    for (std::size_t c = 0; c < 2; ++c) {
      CHECK(std::abs(rm(c) - hand_mean[c]) < 1e-13);
      CHECK(std::abs(rv(c) - hand_var[c]) < 1e-13);
    }
  }
  CHECK(rm(0) != 0);
  // momentum 1: the running statistics become the last batch's; 0: left as they were
  const auto xa = random_array({5, 2}, -1, 1, 30);
  std::vector<double> mean, var;
  batch_norm_stats(xa, mean, var);
  batch_norm(tape.constant(xa), tape.constant(ga), tape.constant(ba), rm, rv, {.momentum = 1.0});
  CHECK(std::abs(rm(1) - mean[1]) < 1e-15);
  CHECK(std::abs(rv(1) - var[1] * 5 / 4) < 1e-15);
  const xt::xarray<double> before_m = rm, before_v = rv;
  batch_norm(tape.constant(xa * 3.0), tape.constant(ga), tape.constant(ba), rm, rv, {.momentum = 0.0});
  CHECK((rm == before_m));
  CHECK((rv == before_v));
  // a no_grad step updates them too (as PyTorch in training mode)
  {
    const auto guard = tape.no_grad();
    batch_norm(tape.variable(xa), tape.variable(ga), tape.variable(ba), rm, rv, {.momentum = 0.5});
  }
  CHECK(std::abs(rm(0) - (0.5 * before_m(0) + 0.5 * mean[0])) < 1e-15);
}

TEST_CASE("batch_norm: evaluation uses the running statistics and leaves them alone", "[ops][batch_norm]") {
  Tape<double> tape;
  for (const Shape& shape : {Shape{2, 3, 4, 4}, Shape{6, 3}, Shape{1, 3, 1, 1}}) {
    INFO("x " << to_string(shape));
    tape.clear();
    const auto xa = random_array(shape, -2, 2, 40);
    const xt::xarray<double> ga = random_array({3}, -2, 2, 41), ba = random_array({3}, -1, 1, 42);
    xt::xarray<double> rm = random_array({3}, -1, 1, 43), rv = random_array({3}, 0.5, 2, 44);
    const xt::xarray<double> rm0 = rm, rv0 = rv;
    const auto y = batch_norm(tape.variable(xa), tape.variable(ga), tape.variable(ba), rm, rv,
                              {.training = false, .eps = 1e-3});
    CHECK((rm == rm0));
    CHECK((rv == rv0));
    require_close(y.value(),
                  batch_norm_reference(xa, {rm0(0), rm0(1), rm0(2)}, {rv0(0), rv0(1), rv0(2)}, ga, ba, 1e-3), 1e-13);
  }
}

TEST_CASE("batch_norm: gradients of x, gamma and beta by finite differences", "[ops][batch_norm]") {
  for (const Shape& shape : {Shape{3, 2, 4, 3}, Shape{6, 4}, Shape{1, 3, 2, 2}, Shape{2, 1, 1, 1}}) {
    INFO("x " << to_string(shape));
    const std::size_t ch = shape[1];
    xt::xarray<double> rm = xt::zeros<double>({ch}), rv = xt::ones<double>({ch});
    xt::xarray<double>* prm = &rm;
    xt::xarray<double>* prv = &rv;
    const std::vector<xt::xarray<double>> inputs{random_array(shape, -2, 2, 50), random_array({ch}, 0.5, 2, 51),
                                                 random_array({ch}, -1, 1, 52)};
    // training: through the batch statistics
    require_gradient(
        [prm, prv](Tape<double>&, const Vars& v) { return batch_norm(v[0], v[1], v[2], *prm, *prv); }, inputs);
    // evaluation: a per-channel affine map of x
    rv = random_array({ch}, 0.5, 2, 53);
    require_gradient(
        [prm, prv](Tape<double>&, const Vars& v) {
          return batch_norm(v[0], v[1], v[2], *prm, *prv, {.training = false});
        },
        inputs);
  }
  // accumulation: x read again by mul, gamma used as beta too
  xt::xarray<double> rm = xt::zeros<double>({3}), rv = xt::ones<double>({3});
  xt::xarray<double>* prm = &rm;
  xt::xarray<double>* prv = &rv;
  require_gradient(
      [prm, prv](Tape<double>&, const Vars& v) { return mul(batch_norm(v[0], v[1], v[1], *prm, *prv), v[0]); },
      {random_array({4, 3, 2, 2}, -2, 2, 54), random_array({3}, 0.5, 2, 55)});
  // only x needs a gradient; only gamma does
  require_gradient(
      [prm, prv](Tape<double>& t, const Vars& v) {
        return batch_norm(v[0], t.constant(xt::xarray<double>{1.5, -2, 0.5}), t.constant(xt::xarray<double>{0, 1, 2}),
                          *prm, *prv);
      },
      {random_array({4, 3}, -2, 2, 56)});
  const auto xc = random_array({4, 3, 2, 1}, -2, 2, 57);
  require_gradient(
      [prm, prv, xc](Tape<double>& t, const Vars& v) {
        return batch_norm(t.constant(xc), v[0], t.constant(xt::xarray<double>{0, 1, 2}), *prm, *prv);
      },
      {random_array({3}, -2, 2, 58)});
}

TEST_CASE("batch_norm: float agrees with double (double accumulators)", "[ops][batch_norm]") {
  const Shape shape{8, 3, 6, 5};
  const auto xa = random_array(shape, -2, 2, 60) + 20.0;
  const auto ga = random_array({3}, 0.5, 2, 61), ba = random_array({3}, -1, 1, 62);
  const auto r = random_array(shape, -1, 1, 63);
  for (const bool training : {true, false}) {
    INFO("training " << training);
    const auto run = [&]<class T>(Tape<T>& tape) {
      xt::xarray<T> rm = xt::xarray<T>(random_array({3}, 19, 21, 64)), rv = xt::ones<T>({3}) * T(1.3);
      const auto x = tape.variable(xt::xarray<T>(xa));
      const auto g = tape.variable(xt::xarray<T>(ga));
      const auto b = tape.variable(xt::xarray<T>(ba));
      const auto y = batch_norm(x, g, b, rm, rv, {.training = training});
      tape.backward(sum(mul(y, tape.constant(xt::xarray<T>(r)))));
      return std::vector<xt::xarray<double>>{xt::xarray<double>(y.value()), xt::xarray<double>(x.grad()),
                                             xt::xarray<double>(g.grad()),  xt::xarray<double>(b.grad()),
                                             xt::xarray<double>(rm),        xt::xarray<double>(rv)};
    };
    Tape<double> td;
    Tape<float> tf;
    const auto d = run(td);
    const auto f = run(tf);
    for (std::size_t k = 0; k < d.size(); ++k) {
      INFO("result " << k);
      const double scale = xt::amax(xt::abs(d[k]))() + 1;
      REQUIRE(xt::allclose(f[k], d[k], 0.0, 2e-5 * scale));
    }
  }
}

TEST_CASE("batch_norm: errors", "[ops][batch_norm]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3, 4, 4}));
  const auto g = tape.variable(random_array({3}));
  const auto b = tape.variable(random_array({3}));
  xt::xarray<double> rm = xt::zeros<double>({3}), rv = xt::ones<double>({3}), r4 = xt::ones<double>({4});
  REQUIRE_NOTHROW(batch_norm(x, g, b, rm, rv));
  REQUIRE_THROWS_AS(batch_norm(tape.variable(random_array({2, 3, 4})), g, b, rm, rv), ShapeError);
  REQUIRE_THROWS_WITH(batch_norm(tape.variable(random_array({2, 3, 4})), g, b, rm, rv),
                      "batch_norm: x has shape [2, 3, 4]; expected x [N, C] or [N, C, H, W]");
  REQUIRE_THROWS_WITH(batch_norm(tape.variable(random_array({6})), g, b, rm, rv),
                      "batch_norm: x has shape [6]; expected x [N, C] or [N, C, H, W]");
  REQUIRE_THROWS_AS(batch_norm(x, tape.variable(random_array({4})), b, rm, rv), ShapeError);
  REQUIRE_THROWS_WITH(batch_norm(x, tape.variable(random_array({4})), b, rm, rv),
                      "batch_norm: x has shape [2, 3, 4, 4] (C = 3), gamma has shape [4], beta has shape [3], "
                      "running_mean has shape [3], running_var has shape [3]; expected each of them [C] = [3]");
  REQUIRE_THROWS_WITH(batch_norm(x, g, tape.variable(random_array({1, 3})), rm, rv),
                      "batch_norm: x has shape [2, 3, 4, 4] (C = 3), gamma has shape [3], beta has shape [1, 3], "
                      "running_mean has shape [3], running_var has shape [3]; expected each of them [C] = [3]");
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, r4, rv),
                      "batch_norm: x has shape [2, 3, 4, 4] (C = 3), gamma has shape [3], beta has shape [3], "
                      "running_mean has shape [4], running_var has shape [3]; expected each of them [C] = [3]");
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, rm, r4, {.training = false}),
                      "batch_norm: x has shape [2, 3, 4, 4] (C = 3), gamma has shape [3], beta has shape [3], "
                      "running_mean has shape [3], running_var has shape [4]; expected each of them [C] = [3]");
  REQUIRE_THROWS_AS(batch_norm(tape.variable(random_array({1, 3, 1, 1})), g, b, rm, rv), ShapeError);
  REQUIRE_THROWS_WITH(batch_norm(tape.variable(random_array({1, 3})), g, b, rm, rv),
                      "batch_norm: x has shape [1, 3]; training needs more than one value per channel (N H W = 1)");
  REQUIRE_NOTHROW(batch_norm(tape.variable(random_array({1, 3})), g, b, rm, rv, {.training = false}));
  REQUIRE_THROWS_AS(batch_norm(x, g, b, rm, rv, {.momentum = 1.5}), ArgumentError);
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, rm, rv, {.momentum = 1.5}),
                      "batch_norm: expected momentum in [0, 1] and eps > 0; got momentum 1.5, eps 1e-05");
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, rm, rv, {.eps = 0}),
                      "batch_norm: expected momentum in [0, 1] and eps > 0; got momentum 0.1, eps 0");
  // a failed call leaves the running statistics alone
  const xt::xarray<double> rm0 = rm;
  REQUIRE_THROWS(batch_norm(x, tape.variable(random_array({4})), b, rm, rv));
  CHECK((rm == rm0));
}
