#pragma once
// Vectorised loops for fused kernels. A kernel is one generic lambda written with the
// functions below; `map` calls it with xsimd batches over the bulk of a range and with
// scalars on the tail, so each formula is written once and the scalar path is the same
// formula. Without xsimd (VAELIB_USE_XSIMD=OFF) every element takes the scalar path.
//
// Why not xtensor expressions: xtensor 0.24 evaluates log1p (and a few others) one scalar
// libm call at a time, and a fused kernel wants several inputs and a reduction in one pass.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "vaelib/detail/parallel.hpp"

#if defined(XTENSOR_USE_XSIMD)
#include <xsimd/xsimd.hpp>
#define VAELIB_SIMD 1
#else
#define VAELIB_SIMD 0
#endif

namespace vaelib::detail::simd {

/// true for a plain float/double, false for an xsimd batch.
template <class V>
inline constexpr bool is_scalar = std::is_floating_point_v<V>;

// Math for scalars and batches alike (std:: for scalars, xsimd:: found by ADL for batches).
template <class V>
V exp(const V& x) {
  using std::exp;
  return exp(x);
}
template <class V>
V log(const V& x) {
  using std::log;
  return log(x);
}
template <class V>
V log1p(const V& x) {
  using std::log1p;
  return log1p(x);
}
template <class V>
V sqrt(const V& x) {
  using std::sqrt;
  return sqrt(x);
}
template <class V>
V tanh(const V& x) {
  using std::tanh;
  return tanh(x);
}
template <class V>
V abs(const V& x) {
  using std::abs;
  return abs(x);
}
template <class V>
V max(const V& a, const V& b) {
  if constexpr (is_scalar<V>)
    return std::max(a, b);
  else
    return xsimd::max(a, b);
}
template <class V>
V min(const V& a, const V& b) {
  if constexpr (is_scalar<V>)
    return std::min(a, b);
  else
    return xsimd::min(a, b);
}
/// cond ? a : b, elementwise (cond from a comparison of V's).
template <class C, class V>
V select(const C& cond, const V& a, const V& b) {
  if constexpr (is_scalar<V>)
    return cond ? a : b;
  else
    return xsimd::select(cond, a, b);
}
/// log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)).
template <class V>
V softplus(const V& x) {
  return max(x, V(0)) + log1p(exp(-abs(x)));
}
/// 1 / (1 + exp(-x)), saturating to exactly 0 or 1.
template <class V>
V sigmoid(const V& x) {
  return V(1) / (V(1) + exp(-x));
}

/// The number of T lanes `map` processes at once (1 without xsimd).
template <class T>
constexpr std::size_t width() {
#if VAELIB_SIMD
  return xsimd::batch<T>::size;
#else
  return 1;
#endif
}

/// out[i] = kernel(in[i]...) for i < n, on the calling thread.
template <class T, class Kernel, class... In>
void map_serial(std::size_t n, T* out, const Kernel& kernel, const In*... in) {
  std::size_t i = 0;
#if VAELIB_SIMD
  using B = xsimd::batch<T>;
  for (; i + B::size <= n; i += B::size) kernel(B::load_unaligned(in + i)...).store_unaligned(out + i);
#endif
  for (; i < n; ++i) out[i] = kernel(in[i]...);
}

/// out[i] = kernel(in[i]...) for i < n, split over the BLAS's threads when n is large
/// (detail/parallel.hpp). `out` may be one of the inputs.
template <class T, class Kernel, class... In>
void map(std::size_t n, T* out, const Kernel& kernel, const In*... in) {
  parallel_for(n, parallel_grain, [&](std::size_t begin, std::size_t end) {
    map_serial(end - begin, out + begin, kernel, (in + begin)...);
  });
}

/// out[i] = kernel(in[i]...) when `!accumulate`, out[i] += kernel(in[i]...) when `accumulate`
/// (the two ways a backward pass writes a gradient).
template <class T, class Kernel, class... In>
void map_into(bool accumulate, std::size_t n, T* out, const Kernel& kernel, const In*... in) {
  if (accumulate) {
    map(n, out, [&](const auto& o, const auto&... v) { return o + kernel(v...); }, static_cast<const T*>(out), in...);
  } else {
    map(n, out, kernel, in...);
  }
}

/// Whether pred(in[i]) holds for every i < n, without an early exit so the check is one
/// vector pass. A generic `pred` (written like a map kernel, conditions combined with & and
/// |, not && and ||) runs on batches; a scalar one on each element. Callers find the first
/// failing element only when there is one (to name it in an error).
template <class T, class Pred>
bool all_of_serial(std::size_t n, const T* in, const Pred& pred) {
  std::size_t i = 0;
#if VAELIB_SIMD
  using B = xsimd::batch<T>;
  if constexpr (std::is_invocable_v<const Pred&, const B&>) {
    auto ok = B(T(0)) == B(T(0));
    for (; i + B::size <= n; i += B::size) ok = ok & pred(B::load_unaligned(in + i));
    if (!xsimd::all(ok)) return false;
  }
#endif
  bool ok = true;
  for (; i < n; ++i) ok = ok & static_cast<bool>(pred(in[i]));
  return ok;
}

/// all_of over the BLAS's threads when n is large.
template <class T, class Pred>
bool all_of(std::size_t n, const T* in, const Pred& pred) {
  std::atomic<bool> ok{true};
  parallel_for(n, parallel_grain, [&](std::size_t begin, std::size_t end) {
    if (!all_of_serial(end - begin, in + begin, pred)) ok.store(false, std::memory_order_relaxed);
  });
  return ok.load();
}

/// The sum of p[i] for i < n, in T: lane-wise partial sums (two vectors of them, to hide
/// the add latency) added up lane by lane at the end, then the tail. The order depends on
/// n alone.
template <class T>
T sum(std::size_t n, const T* p) {
  std::size_t i = 0;
  T total = 0;
#if VAELIB_SIMD
  using B = xsimd::batch<T>;
  if (n >= 2 * B::size) {
    B acc0(T(0)), acc1(T(0));
    for (; i + 2 * B::size <= n; i += 2 * B::size) {
      acc0 += B::load_unaligned(p + i);
      acc1 += B::load_unaligned(p + i + B::size);
    }
    alignas(64) T lanes[B::size];
    (acc0 + acc1).store_aligned(lanes);
    for (T lane : lanes) total += lane;
  }
#endif
  for (; i < n; ++i) total += p[i];
  return total;
}

/// The sum of p[i]^2 for from <= i < to, in double: float partial sums over chunks of 1024
/// (vectorised, exact enough over a chunk), added up in double. After each chunk's partial,
/// visit(begin, end) runs on that chunk while it is in cache.
template <class T, class Visit>
double sum_of_squares_serial(std::size_t from, std::size_t to, const T* p, const Visit& visit) {
  constexpr std::size_t chunk = 1024;
  double total = 0;
  for (std::size_t begin = from; begin < to; begin += chunk) {
    const std::size_t end = std::min(to, begin + chunk);
    std::size_t i = begin;
    T partial = 0;
#if VAELIB_SIMD
    using B = xsimd::batch<T>;
    // four accumulators: one would wait on each fma's latency
    B acc0(T(0)), acc1(T(0)), acc2(T(0)), acc3(T(0));
    for (; i + 4 * B::size <= end; i += 4 * B::size) {
      const B v0 = B::load_unaligned(p + i), v1 = B::load_unaligned(p + i + B::size);
      const B v2 = B::load_unaligned(p + i + 2 * B::size), v3 = B::load_unaligned(p + i + 3 * B::size);
      acc0 = xsimd::fma(v0, v0, acc0);
      acc1 = xsimd::fma(v1, v1, acc1);
      acc2 = xsimd::fma(v2, v2, acc2);
      acc3 = xsimd::fma(v3, v3, acc3);
    }
    for (; i + B::size <= end; i += B::size) {
      const B v = B::load_unaligned(p + i);
      acc0 = xsimd::fma(v, v, acc0);
    }
    alignas(64) T lanes[B::size];
    ((acc0 + acc1) + (acc2 + acc3)).store_aligned(lanes);
    for (T lane : lanes) partial += lane;
#endif
    for (; i < end; ++i) partial += p[i] * p[i];
    total += static_cast<double>(partial);
    visit(begin, end);
  }
  return total;
}

/// The sum of p[i]^2 for i < n, in double, with visit(begin, end) called on every chunk
/// right after it is summed (a pass that also needs the sum, such as an optimiser's
/// update with its gradient norm, reads the memory once). The range is cut into at most
/// 256 spans whose bounds depend on n alone; spans run on the BLAS's threads and their sums
/// are added in order, so the result is the same whatever the number of threads.
template <class T, class Visit>
double sum_of_squares_then(std::size_t n, const T* p, const Visit& visit) {
  constexpr std::size_t max_spans = 256, min_span = 65536;
  const std::size_t span = std::max(min_span, (n + max_spans - 1) / max_spans + 1023) / 1024 * 1024;
  const std::size_t spans = (n + span - 1) / span;
  double sums[max_spans];
  parallel_for(spans, 1, [&](std::size_t first, std::size_t last) {
    for (std::size_t s = first; s < last; ++s) sums[s] = sum_of_squares_serial(s * span, std::min(n, (s + 1) * span), p, visit);
  }, 1);
  double total = 0;
  for (std::size_t s = 0; s < spans; ++s) total += sums[s];
  return total;
}

template <class T>
double sum_of_squares(std::size_t n, const T* p) {
  return sum_of_squares_then(n, p, [](std::size_t, std::size_t) {});
}

}  // namespace vaelib::detail::simd
