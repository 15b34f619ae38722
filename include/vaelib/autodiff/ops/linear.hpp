#pragma once
// linear: the fused dense layer x W + b, optionally with its activation.

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/detail/elementwise.hpp"
#include "vaelib/autodiff/detail/sparse_rows.hpp"
#include "vaelib/detail/blas.hpp"
#include "vaelib/detail/parallel.hpp"

namespace vaelib {

/// linear()'s options.
struct LinearOptions {
  /// The activation applied to x W + b in place (see autodiff/activation.hpp).
  Activation activation = Activation::none;
  /// x is taken as sparse when at most this fraction of its entries is nonzero: x W and
  /// dW = x^T g then cost in proportion to x's nonzeros (detail/sparse_rows.hpp) instead of a
  /// GEMM's every entry. Binary and grey-scale image batches (MNIST: 13% and 19% nonzero)
  /// take it; hidden ReLU activations (a quarter to a half nonzero) do not. The sparse x W
  /// costs about a GEMM's time at a quarter nonzero, hence the 0.2 (the measured figures:
  /// docs/performance.md, "Figures behind the code's choices"). The results differ from the GEMM's
  /// in rounding only (and where W holds an infinity, a zero of x times it gives 0, not NaN).
  /// 0 turns it off: a GEMM always.
  double sparse_input_density = 0.2;
};

namespace detail {

/// Below this many multiply-adds (rows x in x out) linear() does not look at x's sparsity.
inline constexpr std::size_t linear_sparse_min_work = std::size_t{1} << 18;

/// What linear() keeps in its tape record across steps (op_cache): its input's nonzeros,
/// and whether this recording took the sparse path.
template <class T>
struct LinearCache {
  SparseRows<T> sparse_input;
  bool sparse = false;
};

/// Whether `record`, recorded by linear(), computed x W from x's nonzeros (for tests and
/// benchmarks; false for a record of another op).
template <class T>
bool linear_took_sparse_path(const TapeRecord<T>& record) {
  const LinearCache<T>* cache = record.cache.template find<LinearCache<T>>();
  return cache != nullptr && std::string_view(record.op) == "linear" && cache->sparse;
}

/// While alive, every linear() on the calling thread uses `density` instead of its options'
/// sparse_input_density, and the previous setting comes back afterwards. For benchmarks and
/// tests that compare the sparse and the dense path through code that calls linear() for
/// them (dense(), MLP, models::VAE); programs set LinearOptions instead.
class LinearSparseInputDensity {
 public:
  explicit LinearSparseInputDensity(double density) noexcept : m_previous(s_override) { s_override = density; }
  ~LinearSparseInputDensity() { s_override = m_previous; }
  LinearSparseInputDensity(const LinearSparseInputDensity&) = delete;
  LinearSparseInputDensity& operator=(const LinearSparseInputDensity&) = delete;

  /// The density linear() uses given its options' one.
  static double effective(double option) noexcept { return s_override >= 0 ? s_override : option; }

 private:
  static inline thread_local double s_override = -1;  // negative: no override
  double m_previous;
};

}  // namespace detail

/// forward:  y = act(x W + b)   x [..., in], W [in, out], b [out]; one GEMM onto rows
///           pre-filled with b (beta = 1), the activation applied in place
/// backward: g = dy * act'(y)  (relu: y > 0; tanh: 1 - y^2; sigmoid: y (1 - y));
///           dW += x^T g, db += column sums of g, dx += g W^T (GEMMs accumulate, beta = 1)
/// When x is mostly zeros (LinearOptions::sparse_input_density), x W and x^T g use its
/// nonzeros, kept in the output's tape record across steps.
template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b, const LinearOptions& options) {
  const Activation activation = options.activation;
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
  const double density = detail::LinearSparseInputDensity::effective(options.sparse_input_density);
  bool sparse = false;
  if (rows * in * out >= detail::linear_sparse_min_work && density > 0) {
    detail::LinearCache<T>& cache = op_cache<detail::LinearCache<T>>(tape.node(y));
    sparse = cache.sparse = cache.sparse_input.assign(x.data(), rows, in, density);
    if (sparse) cache.sparse_input.times(w.data(), out, yv);
  } else if (detail::LinearCache<T>* cache = tape.node(y).cache.template find<detail::LinearCache<T>>()) {
    cache->sparse = false;
  }
  if (!sparse) {
    detail::gemm_stored(false, false, rows, out, in, x.data(), w.data(), T(1), yv);
  }
  if (activation != Activation::none) detail::activation_forward(activation, rows * out, static_cast<const T*>(yv), yv);
  tape.set_backward(y, [x, w, b, activation, rows, in, out, sparse](Tape<T>& t, TapeRecord<T>& self) {
    const T* g = self.grad;
    if (activation != Activation::none) {  // g = dy * act'(y), in the node's scratch
      T* pre = self.scratch.ensure(self.size);
      detail::activation_backward(activation, self.size, static_cast<const T*>(self.value), g, false, pre);
      g = pre;
    }
    if (t.node(w).requires_grad) {
      const GradTarget<T> gw = t.grad_target(w);
      if (sparse) {
        op_cache<detail::LinearCache<T>>(self).sparse_input.transpose_times(g, out, gw.accumulate, gw.data);
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

/// linear(x, W, b, {.activation = activation}).
template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b, Activation activation = Activation::none) {
  return linear(x, w, b, LinearOptions{.activation = activation});
}

}  // namespace vaelib
