#include "support/gradients.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
double activate(Activation a, double z) {
  switch (a) {
    case Activation::none: return z;
    case Activation::relu: return z > 0 ? z : 0.0;
    case Activation::tanh: return std::tanh(z);
    case Activation::sigmoid: return 1.0 / (1.0 + std::exp(-z));
  }
  return z;
}

/// x W + b row by row (x [..., in], W [in, out], b [out]), in plain loops.
xt::xarray<double> pre_activation(const xt::xarray<double>& x, const xt::xarray<double>& w,
                                  const xt::xarray<double>& b) {
  const std::size_t in = w.shape()[0], out = w.shape()[1], rows = x.size() / in;
  std::vector<std::size_t> shape(x.shape().begin(), x.shape().end());
  shape.back() = out;
  xt::xarray<double> z = xt::zeros<double>(shape);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < out; ++j) {
      double s = b(j);
      for (std::size_t i = 0; i < in; ++i) s += x.data()[r * in + i] * w(i, j);
      z.data()[r * out + j] = s;
    }
  return z;
}

xt::xarray<double> reference_linear(const xt::xarray<double>& x, const xt::xarray<double>& w,
                                    const xt::xarray<double>& b, Activation a) {
  xt::xarray<double> z = pre_activation(x, w, b);
  for (double& v : z) v = activate(a, v);
  return z;
}

/// Inputs whose pre-activations stay clear of relu's kink.
void require_clear_of_kink(const xt::xarray<double>& x, const xt::xarray<double>& w, const xt::xarray<double>& b) {
  const xt::xarray<double> z = pre_activation(x, w, b);
  REQUIRE(xt::amin(xt::abs(z))() > 1e-3);
}

Var<double> composed(const Var<double>& x, const Var<double>& w, const Var<double>& b, Activation a) {
  const Var<double> z = matmul(x, w) + b;
  switch (a) {
    case Activation::none: return z;
    case Activation::relu: return relu(z);
    case Activation::tanh: return tanh(z);
    case Activation::sigmoid: return sigmoid(z);
  }
  return z;
}

struct Result {
  xt::xarray<double> y, gx, gw, gb;
};

Result run(bool fused, const xt::xarray<double>& x, const xt::xarray<double>& w, const xt::xarray<double>& b,
           Activation a) {
  Tape<double> tape;
  const auto vx = tape.variable(x), vw = tape.variable(w), vb = tape.variable(b);
  const auto y = fused ? linear(vx, vw, vb, a) : composed(vx, vw, vb, a);
  const auto weights = random_array(y.shape(), -1, 1, 99);
  tape.backward(sum(y * tape.constant(weights)));
  return {y.value(), vx.grad(), vw.grad(), vb.grad()};
}
}  // namespace

TEST_CASE("linear: value for each activation", "[ops]") {
  Tape<double> tape;
  // Closed form: x W + b = [[1 + 6 + 0.5, 2 + 8 - 1], [-1 - 6 + 0.5, -2 - 8 - 1]].
  const auto w = tape.constant(xt::xarray<double>{{1, 2}, {3, 4}});
  const auto b = tape.constant(xt::xarray<double>{0.5, -1});
  const auto x = tape.constant(xt::xarray<double>{{1, 2}, {-1, -2}});
  const auto y = linear(x, w, b);
  CHECK(std::string(y.op()) == "linear");
  require_close(y.value(), xt::xarray<double>{{7.5, 9}, {-6.5, -11}});
  require_close(linear(x, w, b, Activation::relu).value(), xt::xarray<double>{{7.5, 9}, {0, 0}});
  require_close(linear(x, w, b, Activation::tanh).value(),
                xt::xarray<double>{{std::tanh(7.5), std::tanh(9.0)}, {std::tanh(-6.5), std::tanh(-11.0)}});

  for (Activation a : all_activations) {
    INFO(to_string(a));
    for (const Shape& sx : {Shape{5, 3}, Shape{2, 4, 3}, Shape{3}, Shape{1, 3}}) {
      INFO(to_string(sx));
      const auto xv = random_array(sx, -2, 2, 1), wv = random_array({3, 4}, -2, 2, 2), bv = random_array({4}, -2, 2, 3);
      const auto out = linear(tape.constant(xv), tape.constant(wv), tape.constant(bv), a);
      require_close(out.value(), reference_linear(xv, wv, bv, a));
    }
  }
}

TEST_CASE("linear: gradient for each activation", "[ops]") {
  for (Activation a : all_activations) {
    INFO(to_string(a));
    std::uint32_t seed = 10;
    for (const Shape& sx : {Shape{5, 3}, Shape{2, 4, 3}, Shape{3}}) {
      INFO(to_string(sx));
      const auto x = random_array(sx, -2, 2, seed), w = random_array({3, 4}, -2, 2, seed + 1),
                 b = random_array({4}, -2, 2, seed + 2);
      seed += 3;
      if (a == Activation::relu) require_clear_of_kink(x, w, b);
      require_gradient([a](Tape<double>&, const Vars& v) { return linear(v[0], v[1], v[2], a); }, {x, w, b});
    }
  }
  // One variable as both x and W: the two gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return linear(v[0], v[0], v[1], Activation::tanh); },
                   {random_array({3, 3}, -1, 1, 40), random_array({3}, -1, 1, 41)});
  // Only some inputs requiring a gradient.
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return linear(t.constant(random_array({4, 3}, -2, 2, 42)), v[0], t.constant(random_array({2}, -2, 2, 43)),
                      Activation::sigmoid);
      },
      {random_array({3, 2}, -2, 2, 44)});
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return linear(v[0], t.constant(random_array({3, 2}, -2, 2, 45)), v[1], Activation::none);
      },
      {random_array({4, 3}, -2, 2, 46), random_array({2}, -2, 2, 47)});
}

TEST_CASE("linear: equals matmul + b then the activation, in value and every gradient", "[ops]") {
  for (Activation a : all_activations) {
    INFO(to_string(a));
    for (const Shape& sx : {Shape{6, 3}, Shape{2, 5, 3}}) {
      INFO(to_string(sx));
      const auto x = random_array(sx, -2, 2, 20), w = random_array({3, 4}, -2, 2, 21), b = random_array({4}, -2, 2, 22);
      if (a == Activation::relu) require_clear_of_kink(x, w, b);
      const Result fused = run(true, x, w, b, a);
      const Result plain = run(false, x, w, b, a);
      require_close(fused.y, plain.y, 1e-12);
      require_close(fused.gx, plain.gx, 1e-12);
      require_close(fused.gw, plain.gw, 1e-12);
      require_close(fused.gb, plain.gb, 1e-12);
    }
  }
}

TEST_CASE("linear: gradients accumulate into parameters", "[ops]") {
  const auto xv = random_array({4, 3}, -2, 2, 30);
  const xt::xarray<double> wv = random_array({3, 2}, -2, 2, 31);
  const xt::xarray<double> bv = random_array({2}, -2, 2, 32);
  xt::xarray<double> gw = xt::ones<double>({3, 2});
  xt::xarray<double> gb = xt::ones<double>({2});
  Tape<double> tape;
  const auto w = tape.parameter(wv, gw);
  const auto b = tape.parameter(bv, gb);
  tape.backward(sum(linear(tape.constant(xv), w, b, Activation::tanh)));  // adds onto the ones
  // Reference: d sum(tanh(z)) / dW = x^T (1 - y^2), / db = column sums of (1 - y^2).
  const xt::xarray<double> y = reference_linear(xv, wv, bv, Activation::tanh);
  const xt::xarray<double> g = 1.0 - y * y;
  xt::xarray<double> ref_w = xt::ones<double>({3, 2});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t r = 0; r < 4; ++r) ref_w(i, j) += xv(r, i) * g(r, j);
  xt::xarray<double> ref_b = xt::ones<double>({2});
  for (std::size_t j = 0; j < 2; ++j)
    for (std::size_t r = 0; r < 4; ++r) ref_b(j) += g(r, j);
  require_close(gw, ref_w, 1e-12);
  require_close(gb, ref_b, 1e-12);
}

TEST_CASE("linear: float smoke test", "[ops]") {
  for (Activation a : all_activations) {
    INFO(to_string(a));
    Tape<float> tape;
    const auto x = random_array({5, 3}, -2, 2, 1), w = random_array({3, 4}, -2, 2, 2), b = random_array({4}, -2, 2, 3);
    const xt::xarray<float> xf = xt::cast<float>(x), wf = xt::cast<float>(w), bf = xt::cast<float>(b);
    const auto y = linear(tape.constant(xf), tape.constant(wf), tape.constant(bf), a);
    require_close(y.value(), xt::xarray<float>(xt::cast<float>(reference_linear(x, w, b, a))), 1e-5);
  }
}

TEST_CASE("linear: wrong shapes throw ShapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({5, 3}));
  const auto w = tape.variable(random_array({3, 4}));
  const auto b = tape.variable(random_array({4}));
  REQUIRE_NOTHROW(linear(x, w, b));
  const auto w44 = tape.variable(random_array({4, 4}));
  REQUIRE_THROWS_AS(linear(x, w44, b), ShapeError);
  REQUIRE_THROWS_WITH(
      linear(x, w44, b),
      "linear: x has shape [5, 3], W has shape [4, 4], b has shape [4]; expected x [..., in], W [in, out], "
      "b [out]");
  const auto b3 = tape.variable(random_array({3}));
  REQUIRE_THROWS_WITH(linear(x, w, b3), Contains("b has shape [3]"));
  const auto b14 = tape.variable(random_array({1, 4}));
  REQUIRE_THROWS_WITH(linear(x, w, b14), Contains("b has shape [1, 4]"));
  const auto w3 = tape.variable(random_array({2, 3, 4}));
  REQUIRE_THROWS_WITH(linear(x, w3, b), Contains("W has shape [2, 3, 4]"));
  REQUIRE_THROWS_AS(linear(tape.constant(xt::xarray<double>(1.0)), w, b), ShapeError);
  REQUIRE_THROWS_WITH(linear(tape.constant(xt::xarray<double>(1.0)), w, b), Contains("x has shape []"));
  Tape<double> other;
  const auto wo = other.variable(random_array({3, 4}));
  REQUIRE_THROWS_AS(linear(x, wo, b), TapeError);
  REQUIRE_THROWS_WITH(linear(x, wo, b), Contains("linear") && Contains("different tapes"));
  tape.clear();
  REQUIRE_THROWS_AS(linear(x, w, b), TapeError);
  REQUIRE_THROWS_WITH(linear(x, w, b), Contains("stale"));
}

namespace {

/// Every linear()'s sparse_input_density overridden for a scope (run() calls linear() itself).
using SparseInputDensity = detail::LinearSparseInputDensity;

/// x with about 15% nonzeros, big enough for linear() to look at its sparsity.
xt::xarray<double> mostly_zeros(const Shape& shape, std::uint32_t seed) {
  xt::xarray<double> x = random_array(shape, -2, 2, seed);
  const xt::xarray<double> keep = random_array(shape, 0, 1, seed + 1);
  for (std::size_t i = 0; i < x.size(); ++i)
    if (keep.flat(i) > 0.15) x.flat(i) = 0;
  return x;
}

}  // namespace

TEST_CASE("linear: a mostly-zero input takes the sparse path with the GEMM's value and gradients", "[ops]") {
  const auto x = mostly_zeros({2, 40, 100}, 60);
  const auto w = random_array({100, 70}, -1, 1, 62), b = random_array({70}, -1, 1, 63);
  REQUIRE(2 * 40 * 100 * 70 >= detail::linear_sparse_min_work);
  for (Activation a : all_activations) {
    INFO(to_string(a));
    Result sparse, dense;
    {
      const SparseInputDensity on(0.3);
      sparse = run(true, x, w, b, a);
    }
    {
      const SparseInputDensity off(0);
      dense = run(true, x, w, b, a);
    }
    require_close(sparse.y, dense.y, 1e-12);
    require_close(sparse.gx, dense.gx, 1e-12);
    require_close(sparse.gw, dense.gw, 1e-12);
    require_close(sparse.gb, dense.gb, 1e-12);
    require_close(sparse.y, reference_linear(x, w, b, a), 1e-12);
  }
  // float, with the parameters' gradients accumulating across two backward sweeps
  Tape<float> tape;
  xt::xarray<float> xf = xt::cast<float>(x), wf = xt::cast<float>(w), bf = xt::cast<float>(b);
  xt::xarray<float> gw = xt::zeros<float>({100, 70}), gb = xt::zeros<float>({70});
  const auto y = linear(tape.constant(xf), tape.parameter(wf, gw), tape.parameter(bf, gb), Activation::tanh);
  CHECK(detail::linear_took_sparse_path(tape.node(y)) == bool(VAELIB_SIMD));  // the sparse path was taken
  // the threshold is an option of the call: 0 turns the sparse path off, a lower one declines x
  const auto y_dense = linear(tape.constant(xf), tape.constant(wf), tape.constant(bf),
                              {.activation = Activation::tanh, .sparse_input_density = 0});
  CHECK_FALSE(detail::linear_took_sparse_path(tape.node(y_dense)));
  const auto y_low = linear(tape.constant(xf), tape.constant(wf), tape.constant(bf), {.sparse_input_density = 0.05});
  CHECK_FALSE(detail::linear_took_sparse_path(tape.node(y_low)));
  const auto y_high = linear(tape.constant(xf), tape.constant(wf), tape.constant(bf), {.sparse_input_density = 0.3});
  CHECK(detail::linear_took_sparse_path(tape.node(y_high)) == bool(VAELIB_SIMD));
  require_close(y_dense.value(), y.value(), 1e-5);
  CHECK(LinearOptions{}.sparse_input_density == 0.2);
  tape.backward(sum(y));
  tape.backward(sum(y));
  Tape<double> check;
  const auto vw = check.variable(w), vb = check.variable(b);
  const auto yd = linear(check.constant(x), vw, vb, Activation::tanh);
  check.backward(sum(yd));
  require_close(xt::xarray<double>(xt::cast<double>(y.value())), yd.value(), 1e-5);
  require_close(xt::xarray<double>(xt::cast<double>(gw)), xt::xarray<double>(2.0 * vw.grad()), 1e-4);
  require_close(xt::xarray<double>(xt::cast<double>(gb)), xt::xarray<double>(2.0 * vb.grad()), 1e-4);
}

TEST_CASE("linear: gradient with a mostly-zero input", "[ops]") {
  const SparseInputDensity on(0.3);
  REQUIRE(64 * 80 * 60 >= detail::linear_sparse_min_work);
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return linear(t.constant(mostly_zeros({64, 80}, 70)), v[0], v[1], Activation::sigmoid);
      },
      {random_array({80, 60}, -1, 1, 72), random_array({60}, -1, 1, 73)});
}
