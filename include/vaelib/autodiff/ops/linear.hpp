#pragma once
// linear: the fused dense layer x W + b, optionally with its activation.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <string>
#include <type_traits>

#include "vaelib/autodiff/detail/elementwise.hpp"
#include "vaelib/detail/blas.hpp"
#include "vaelib/detail/parallel.hpp"
#include "vaelib/detail/simd.hpp"

namespace vaelib {

/// Activations that linear() can fuse. Each derivative is a function of the output y, so
/// the pre-activation is never stored.
enum class Activation { none, relu, tanh, sigmoid };

/// linear() treats x as sparse when at most this fraction of its entries is nonzero: x W
/// and dW = x^T g then cost in proportion to x's nonzeros (detail/sparse_rows.hpp) instead
/// of a GEMM's every entry. Binary and grey-scale image batches (MNIST: 13% and 19% nonzero)
/// take it; hidden ReLU activations (a quarter to a half nonzero) do not. The sparse x W
/// costs about a GEMM's time at a quarter nonzero, hence the 0.2 (the measured figures:
/// docs/performance.md, "Figures behind the code's choices"). The results differ from the GEMM's
/// in rounding only (and where W holds an infinity, a zero of x times it gives 0, not NaN).
/// 0 turns it off: every linear() a GEMM.
inline std::atomic<double> linear_sparse_input_density{0.2};

/// Below this many multiply-adds (rows x in x out) linear() does not look at x's sparsity.
inline constexpr std::size_t linear_sparse_min_work = std::size_t{1} << 18;

/// forward:  y = act(x W + b)   x [..., in], W [in, out], b [out]; one GEMM onto rows
///           pre-filled with b (beta = 1), the activation applied in place
/// backward: g = dy * act'(y)  (relu: y > 0; tanh: 1 - y^2; sigmoid: y (1 - y));
///           dW += x^T g, db += column sums of g, dx += g W^T (GEMMs accumulate, beta = 1)
/// When x is mostly zeros (linear_sparse_input_density), x W and x^T g use its nonzeros.
template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b, Activation activation = Activation::none) {
  Tape<T>& tape = x.tape();
  tape.check_handle("linear", x);
  tape.check_handle("linear", w);
  tape.check_handle("linear", b);
  const Shape& sx = x.shape();
  const Shape& sw = w.shape();
  const Shape& sb = b.shape();
  if (sx.empty() || sw.size() != 2 || sb.size() != 1 || sx.back() != sw[0] || sb[0] != sw[1]) {
    throw ShapeError("linear: x has shape " + to_string(sx) + ", W has shape " + to_string(sw) + ", b has shape " +
                     to_string(sb) + "; expected x [..., in], W [in, out], b [out]");
  }
  const std::size_t in = sw[0];
  const std::size_t out = sw[1];
  const std::size_t rows = in == 0 ? shape_size(Shape(sx.begin(), sx.end() - 1)) : x.size() / in;
  Shape out_shape = sx;
  out_shape.back() = out;
  const Var<T> y = tape.make_node("linear", out_shape, {x, w, b});
  T* yv = tape.value_ptr(y);
  const T* bias = b.data();
  detail::parallel_for(
      rows, detail::grain_for(out),
      [=](std::size_t first, std::size_t last) {
        for (std::size_t r = first; r < last; ++r) std::copy_n(bias, out, yv + r * out);
      },
      1);
  detail::SparseRows<T>& sparse_x = tape.node(y).sparse_input;
  const bool sparse = rows * in * out >= linear_sparse_min_work &&
                      sparse_x.assign(x.data(), rows, in, linear_sparse_input_density.load(std::memory_order_relaxed));
  if (sparse) {
    sparse_x.times(w.data(), out, yv);
  } else {
    detail::gemm_stored(false, false, rows, out, in, x.data(), w.data(), T(1), yv);
  }
  const std::size_t n = rows * out;
  switch (activation) {
    case Activation::none: break;
    case Activation::relu:
      detail::simd::map(n, yv, [](const auto& v) { return detail::simd::max(v, std::decay_t<decltype(v)>(0)); }, yv);
      break;
    case Activation::tanh: detail::simd::map(n, yv, [](const auto& v) { return detail::simd::tanh(v); }, yv); break;
    case Activation::sigmoid: detail::simd::map(n, yv, [](const auto& v) { return detail::simd::sigmoid(v); }, yv); break;
  }
  tape.set_backward(y, [x, w, b, activation, rows, in, out, sparse](Tape<T>& t, Node<T>& self) {
    const T* g = self.grad;
    if (activation != Activation::none) {  // g = dy * act'(y), in the node's scratch
      T* pre = self.scratch.ensure(self.size);
      const T* yv = self.value;
      switch (activation) {
        case Activation::relu:
          detail::simd::map(self.size, pre, [](const auto& y, const auto& dy) {
            using V = std::decay_t<decltype(y)>;
            return detail::simd::select(y > V(0), dy, V(0));
          }, yv, g);
          break;
        case Activation::tanh:
          detail::simd::map(self.size, pre, [](const auto& y, const auto& dy) {
            using V = std::decay_t<decltype(y)>;
            return (V(1) - y * y) * dy;
          }, yv, g);
          break;
        case Activation::sigmoid:
          detail::simd::map(self.size, pre, [](const auto& y, const auto& dy) {
            using V = std::decay_t<decltype(y)>;
            return y * (V(1) - y) * dy;
          }, yv, g);
          break;
        case Activation::none: break;
      }
      g = pre;
    }
    if (t.node(w).requires_grad) {
      const GradTarget<T> gw = t.grad_target(w);
      if (sparse) {
        self.sparse_input.transpose_times(g, out, gw.accumulate, gw.data);
      } else {
        detail::gemm_stored(true, false, in, out, rows, t.value_ptr(x), g, gw.accumulate ? T(1) : T(0), gw.data);
      }
    }
    if (t.node(b).requires_grad) {
      // column sums, split over columns: each sum adds its rows in order whatever the split
      const GradTarget<T> gb = t.grad_target(b);
      detail::parallel_for(out, detail::grain_for(rows), [&](std::size_t first, std::size_t last) {
        if (!gb.accumulate) std::fill(gb.data + first, gb.data + last, T(0));
        for (std::size_t r = 0; r < rows; ++r) {
          const T* row = g + r * out;
          for (std::size_t j = first; j < last; ++j) gb.data[j] += row[j];
        }
      });
    }
    if (t.node(x).requires_grad) {
      const GradTarget<T> gx = t.grad_target(x);
      detail::gemm_stored(false, true, rows, in, out, g, t.value_ptr(w), gx.accumulate ? T(1) : T(0), gx.data);
    }
  });
  return y;
}

}  // namespace vaelib
