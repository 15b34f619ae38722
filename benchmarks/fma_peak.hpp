#pragma once
// The machine's float FMA peak, measured: independent fused multiply-adds in registers on
// every thread vaelib's kernels and the GEMMs run on, at once. No GEMM on this machine can
// go faster, so a workload's GEMM FLOPs over this peak bound its time from below whatever
// library runs it; benchmarks print that bound beside the measured times.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <utility>

#include "vaelib/detail/parallel.hpp"
#include "vaelib/detail/simd.hpp"

namespace vaelib::bench {

/// GFLOP/s (an fma counts 2) on all of parallel_for's threads at once: the best of `tries`
/// runs of `iterations` rounds each. 0 (unknown) in a build without xsimd.
inline double fma_peak_gflops(int tries = 5, std::size_t iterations = 20'000'000) {
#if VAELIB_SIMD
  using B = xsimd::batch<float>;
  // independent chains: more than an fma's latency (4-5 cycles) times the fmas issued per
  // cycle (2), so the loop is bound by throughput, not latency
  constexpr std::size_t chains = 12;
  const std::size_t threads = static_cast<std::size_t>(vaelib::detail::parallel_threads());
  double best = 0;
  for (int t = 0; t < tries; ++t) {
    float sums[vaelib::detail::parallel_impl::max_threads] = {};
    const auto start = std::chrono::steady_clock::now();
    vaelib::detail::parallel_for(
        threads, 1,
        [&](std::size_t first, std::size_t last) {
          for (std::size_t thread = first; thread < last; ++thread) {
            const B scale(0.9999f), shift(0.001f);  // stays near 10: no overflow, no denormals
            [&]<std::size_t... c>(std::index_sequence<c...>) {
              B acc[chains] = {B(static_cast<float>(c))...};
              for (std::size_t i = 0; i < iterations; ++i) ((acc[c] = xsimd::fma(acc[c], scale, shift)), ...);
              sums[thread] = xsimd::hadd((acc[c] + ...));
              benchmark::DoNotOptimize(sums[thread]);  // keeps the loop alive
            }(std::make_index_sequence<chains>{});
          }
        },
        1);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double flops = 2.0 * static_cast<double>(threads * iterations * chains * B::size);
    best = std::max(best, flops / seconds / 1e9);
  }
  return best;
#else
  (void)tries, (void)iterations;
  return 0;
#endif
}

}  // namespace vaelib::bench
