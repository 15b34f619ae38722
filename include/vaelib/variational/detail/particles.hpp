#pragma once
// Loops over the particle axis shared by the variational objectives: averaging, normalised
// importance weights and VIMCO's leave-one-out signals. The weights are computed on values
// (no gradient flows through them), in double, with the maximum subtracted.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vaelib/autodiff/detail/axis_view.hpp"
#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/mean.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib::detail {

/// The particle axis of `shape`, normalised (ShapeError naming the objective if it is out of
/// range).
inline std::size_t particle_axis(const std::string& objective, std::ptrdiff_t axis, const Shape& shape) {
  const auto rank = static_cast<std::ptrdiff_t>(shape.size());
  if (axis < -rank || axis >= rank) {
    throw ShapeError(objective + ": the particle axis " + std::to_string(axis) + " is out of range for the per-particle " +
                     "objective of shape " + to_string(shape) + " (did q draw n_samples?)");
  }
  return static_cast<std::size_t>(axis < 0 ? axis + rank : axis);
}

/// The mean over the particle axis, or f itself when there is none.
template <class T>
Var<T> mean_over_particles(const std::string& objective, const Var<T>& f, std::optional<std::ptrdiff_t> axis) {
  if (!axis) return f;
  return mean(f, {static_cast<std::ptrdiff_t>(particle_axis(objective, *axis, f.shape()))});
}

/// The broadcast sum of several per-particle terms.
template <class T>
Var<T> sum_terms(const std::vector<Var<T>>& terms) {
  Var<T> total = terms.front();
  for (std::size_t i = 1; i < terms.size(); ++i) total = total + terms[i];
  return total;
}

/// A constant node of `shape` whose values the caller writes (weights, signals).
template <class T>
Var<T> constant_buffer(Tape<T>& tape, const char* name, const Shape& shape) {
  return tape.make_node(name, shape, std::span<const Var<T>>{});
}

/// log(sum(exp(x))) of n values at stride `stride`, in double.
template <class T>
double log_sum_exp(const T* x, std::size_t n, std::size_t stride) {
  double m = -std::numeric_limits<double>::infinity();
  for (std::size_t j = 0; j < n; ++j) m = std::max(m, static_cast<double>(x[j * stride]));
  if (std::isinf(m)) return m;
  double s = 0;
  for (std::size_t j = 0; j < n; ++j) s += std::exp(static_cast<double>(x[j * stride]) - m);
  return m + std::log(s);
}

/// out = softmax of the log-weights `log_w` along the particle axis.
template <class T>
void normalized_weights(const T* log_w, T* out, const AxisView& v) {
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t i = 0; i < v.inner; ++i) {
      const T* x = log_w + o * v.n * v.inner + i;
      T* y = out + o * v.n * v.inner + i;
      const double lse = log_sum_exp(x, v.n, v.inner);
      for (std::size_t j = 0; j < v.n; ++j) {
        y[j * v.inner] = std::isinf(lse) ? T(1) / static_cast<T>(v.n)
                                         : static_cast<T>(std::exp(static_cast<double>(x[j * v.inner]) - lse));
      }
    }
  }
}

/// VIMCO's per-particle learning signal: out_j = L - L_{-j}, where L = log mean_j w_j and
/// L_{-j} replaces log w_j by the mean of the other log-weights (Mnih & Rezende, 2016).
/// Prefix and suffix log-sum-exps keep it O(k) per example and free of cancellation.
template <class T>
void leave_one_out_signals(const T* log_w, T* out, const AxisView& v) {
  const std::size_t k = v.n;
  const double log_k = std::log(static_cast<double>(k));
  constexpr double minus_inf = -std::numeric_limits<double>::infinity();
  std::vector<double> prefix(k + 1), suffix(k + 1);
  auto lse2 = [](double a, double b) {
    const double m = std::max(a, b);
    return std::isinf(m) ? m : m + std::log(std::exp(a - m) + std::exp(b - m));
  };
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t i = 0; i < v.inner; ++i) {
      const T* x = log_w + o * k * v.inner + i;
      T* y = out + o * k * v.inner + i;
      double total = 0;
      prefix[0] = minus_inf;
      for (std::size_t j = 0; j < k; ++j) {
        total += static_cast<double>(x[j * v.inner]);
        prefix[j + 1] = lse2(prefix[j], static_cast<double>(x[j * v.inner]));
      }
      suffix[k] = minus_inf;
      for (std::size_t j = k; j-- > 0;) suffix[j] = lse2(suffix[j + 1], static_cast<double>(x[j * v.inner]));
      const double bound = prefix[k] - log_k;
      for (std::size_t j = 0; j < k; ++j) {
        const double others_mean = (total - static_cast<double>(x[j * v.inner])) / static_cast<double>(k - 1);
        const double without_j = lse2(lse2(prefix[j], suffix[j + 1]), others_mean) - log_k;
        y[j * v.inner] = static_cast<T>(bound - without_j);
      }
    }
  }
}

}  // namespace vaelib::detail
