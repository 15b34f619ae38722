#pragma once
// scalar_log_density: a log-density computed element by element in double, with its partial
// derivatives, as one tape node. The distributions that use it (StudentT, InverseGamma, ...)
// write their density once as a scalar kernel; a float tape then gets the density rounded
// once to float instead of the sum of float terms that cancel (lgamma differences, alpha log x
// against beta / x at large shapes), and values outside the support are handled in the kernel
// (-inf with zero partials) instead of through masks over several ops.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <type_traits>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/detail/strided.hpp"
#include "vaelib/autodiff/ops/digamma.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib::detail {

/// A kernel's answer for one element: the log-density and its partial derivatives with
/// respect to each input (in the order the inputs were given).
template <std::size_t N>
struct ScalarLogDensity {
  double value;
  std::array<double, N> partials;
};

/// The answer outside the support: log p = -inf, no gradient to anything.
template <std::size_t N>
constexpr ScalarLogDensity<N> outside_support() {
  return {-std::numeric_limits<double>::infinity(), {}};
}

/// forward:  y[i] = kernel(inputs at i).value, the inputs broadcast together, in double
/// backward: d input_k += kernel(...).partials[k] dy (summed over the axes input_k was
///           broadcast along; 0 where dy = 0, even if the partial is NaN); the partials are kept from the forward pass in the node's
///           scratch buffer, so the kernel runs once per element.
/// `bulk`, when given, is a faster forward for the common case where every input is of the
/// output's shape or a single value: bulk(n, data, single, out, partials) fills out[0, n) and,
/// unless partials is null, the rows partials[k n, (k + 1) n) in one branch-free pass the
/// compiler can vectorise, reading input k at data[k][i] (or data[k][0] where single[k]). It
/// returns false if any element needs the kernel's care (a non-finite intermediate); the
/// kernel then recomputes them all.
template <class T, std::size_t N, class Kernel, class Bulk = std::nullptr_t>
Var<T> scalar_log_density(const char* name, const std::array<Var<T>, N>& inputs, const Kernel& kernel,
                          const Bulk& bulk = nullptr) {
  Tape<T>& tape = inputs[0].tape();
  Shape out_shape;
  for (const Var<T>& in : inputs) {
    tape.check_handle(name, in);
    out_shape = broadcast_shapes(name, out_shape, in.shape());
  }
  const Var<T> y = tape.make_node(name, out_shape, std::span<const Var<T>>(inputs.data(), N));
  TapeRecord<T>& node = tape.node(y);
  const std::size_t n = node.size;
  const bool keep_partials = node.requires_grad;
  T* partials = keep_partials ? node.scratch.ensure(N * n) : nullptr;  // [N][n]
  T* out = tape.value_ptr(y);
  // How each input is read, looked up once (not per element). An input whose shape is a
  // suffix of the output's (leading 1s aside) is read at i mod its size, which a counter per
  // input keeps without division: data and parameters of the same shape, a scalar parameter,
  // and parameters repeated over leading axes (particles in front of a batch) are all this
  // case. Any other broadcast goes through the index arithmetic.
  std::array<const T*, N> data{};
  std::array<std::size_t, N> period{};  // 0: read through broadcast_source_index
  std::array<Shape, N> shapes{};
  bool needs_broadcast_index = false;
  for (std::size_t k = 0; k < N; ++k) {
    data[k] = inputs[k].data();
    shapes[k] = inputs[k].shape();
    if (repeats_along_leading_axes(shapes[k], out_shape)) {
      period[k] = shape_size(shapes[k]);
    } else {
      needs_broadcast_index = true;
    }
  }
  const auto evaluate_all = [&](auto broadcast_index) {
    std::array<double, N> args{};
    std::array<std::size_t, N> at{};  // i mod period[k]
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < N; ++k) {
        std::size_t index = at[k];
        if constexpr (decltype(broadcast_index)::value) {
          if (!period[k]) index = broadcast_source_index(i, out_shape, shapes[k]);
        }
        args[k] = static_cast<double>(data[k][index]);
        if (++at[k] == period[k]) at[k] = 0;
      }
      const ScalarLogDensity<N> r = kernel(args);
      out[i] = static_cast<T>(r.value);
      if (keep_partials)
        for (std::size_t k = 0; k < N; ++k) partials[k * n + i] = static_cast<T>(r.partials[k]);
    }
  };
  bool done = false;
  if constexpr (!std::is_same_v<Bulk, std::nullptr_t>) {
    std::array<bool, N> single{};
    bool whole_or_single = true;
    for (std::size_t k = 0; k < N; ++k) {
      single[k] = period[k] == 1;
      whole_or_single = whole_or_single && (period[k] == n || single[k]);
    }
    if (whole_or_single) done = bulk(n, data, single, out, partials);
  }
  if (!done) {
    if (needs_broadcast_index) {
      evaluate_all(std::true_type{});
    } else {
      evaluate_all(std::false_type{});
    }
  }
  tape.set_backward(y, [inputs](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t size = self.size;
    T* kept = self.scratch.ensure(N * size);
    for (std::size_t k = 0; k < N; ++k) {
      if (!t.node(inputs[k]).requires_grad) continue;
      T* contribution = kept + k * size;  // each row is read once: overwrite it with partial * dy
      // dy = 0 contributes nothing, also where the partial is NaN (a NaN value elsewhere in the batch)
      for (std::size_t i = 0; i < size; ++i) contribution[i] = self.grad[i] == T(0) ? T(0) : contribution[i] * self.grad[i];
      const Shape& target_shape = t.node(inputs[k]).shape;
      const GradTarget<T> g = t.grad_target(inputs[k]);
      if (target_shape == self.shape) {
        for (std::size_t i = 0; i < size; ++i) g.data[i] = g.accumulate ? g.data[i] + contribution[i] : contribution[i];
      } else {
        reduce_sum_into(g.data, target_shape, static_cast<const T*>(contribution), self.shape, g.accumulate);
      }
    }
  });
  return y;
}

/// lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2), Stirling's correction, for x >= 20: its
/// series 1/(12x) - 1/(360x^3) + 1/(1260x^5) - 1/(1680x^7) + 1/(1188x^9) is accurate to ~1e-16
/// relative there. Densities whose lgamma cancels against other large terms use it.
inline double stirling_correction(double x) {
  const double inv = 1 / x;
  const double inv2 = inv * inv;
  return inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680 - inv2 / 1188))));
}

/// c'(x), the derivative of stirling_correction, for x >= 20 (the same series, term by term).
inline double stirling_correction_derivative(double x) {
  const double inv2 = 1 / (x * x);
  return -inv2 * (1.0 / 12 - inv2 * (3.0 / 360 - inv2 * (5.0 / 1260 - inv2 * (7.0 / 1680 - inv2 * 9.0 / 1188))));
}

/// x trigamma(x) - 1 for x > 0: small (~1/(2x)) where x trigamma(x) is near 1, so that
/// differences such as (s - 2) trigamma(s) - (a - 1) trigamma(a) in the entropy gradients keep
/// their digits. For x >= 20 from the asymptotic series x psi'(x) = 1 + 1/(2x) + sum B_2n / x^2n
/// (no 1 + small - 1), below it x trigamma(x) - 1 itself (>= 0.025, the subtraction loses less
/// than two digits).
inline double trigamma_excess(double x) {
  if (!(x >= 20)) return x * trigamma(x) - 1;
  const double inv = 1 / x;
  const double inv2 = inv * inv;
  return inv * (0.5 + inv * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 * (1.0 / 30 - inv2 * 5.0 / 66)))));
}

/// log Gamma(a + 1/2) - log Gamma(a) for a > 0, without the cancellation of the two lgammas
/// at large a: from Stirling's series, a log1p(1 / (2a)) - 1/2 + (1/2) log a plus the
/// difference of the corrections (relative error ~1e-16 for a >= 20, checked against mpmath;
/// below, the two lgammas lose at most ~1e-14).
inline double log_gamma_half_ratio(double a) {
  if (!(a >= 20)) return std::lgamma(a + 0.5) - std::lgamma(a);
  return a * std::log1p(0.5 / a) - 0.5 + 0.5 * std::log(a) + (stirling_correction(a + 0.5) - stirling_correction(a));
}

/// d/da of log_gamma_half_ratio: digamma(a + 1/2) - digamma(a), by the same series for a >= 20.
inline double digamma_half_ratio(double a) {
  if (!(a >= 20)) return digamma(a + 0.5) - digamma(a);
  return std::log1p(0.5 / a) - 1 / (2 * a + 1) + 0.5 / a +
         (stirling_correction_derivative(a + 0.5) - stirling_correction_derivative(a));
}

}  // namespace vaelib::detail
