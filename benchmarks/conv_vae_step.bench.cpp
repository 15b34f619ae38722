// A training step of vae_conv (ZhuSuan's convolutional VAE: conv 32, conv 64, dense heads;
// dense, transposed conv 32, transposed conv 1; batch 128, float) in vaelib, beside the GEMMs
// that step needs, called raw through cblas at whole-batch shapes: issue 24's "the step
// against its own GEMMs" (aim <= 1.3). A convolution done by im2col + GEMM is three GEMMs per
// layer (output, weight gradient, input gradient; the first layer needs no input gradient);
// the raw side runs exactly those products, each as one call on OpenBLAS's threads, and
// nothing else: no im2col or col2im, no bias, activation, sampling or optimiser. What the
// step spends beyond them is what vaelib adds.
//
//   build/benchmarks/bench_conv_vae_step [--alternating-rounds=N (21; 0: none)] [Google Benchmark flags]

#include <cblas.h>

#include <cstdio>
#include <vector>

#include "fma_peak.hpp"
#include "ratio_reporter.hpp"
#include "vae_conv/conv_networks.hpp"
#include "vae_step.hpp"

namespace {

using vaelib::bench::batch;

/// One layer's three products, named as for a convolution: out [m, n] = W [m, k] col [k, n],
/// dW [m, k] = dout col^T, dcol [k, n] = W^T dout. A convolution has m = C_out, k = C_in kH kW,
/// n = batch x output pixels; a transposed convolution m = C_out kH kW, k = C_in, n = batch x
/// input pixels; a dense layer m = outputs, k = inputs, n = batch.
struct GemmTriple {
  std::size_t m, n, k;
  bool input_gradient = true;
};

/// vae_conv's layers on 28x28 images, z of 40, batch 128.
std::vector<GemmTriple> conv_vae_gemms() {
  return {
      {32, batch * 14 * 14, 1 * 3 * 3, false},  // conv1: 1 -> 32, 3x3 stride 2: 28 -> 14
      {64, batch * 7 * 7, 32 * 3 * 3},          // conv2: 32 -> 64, 3x3 stride 2: 14 -> 7
      {40, batch, 64 * 7 * 7},                  // q's mean head
      {40, batch, 64 * 7 * 7},                  // q's log-std head
      {64 * 7 * 7, batch, 40},                  // decoder dense: z -> 64 x 7 x 7
      {32 * 4 * 4, batch * 7 * 7, 64},          // deconv1: 64 -> 32, 4x4 stride 2: 7 -> 14
      {1 * 4 * 4, batch * 14 * 14, 32},         // deconv2: 32 -> 1, 4x4 stride 2: 14 -> 28
  };
}

struct RawConvGemms {
  struct Layer {
    GemmTriple shape;
    std::vector<float> w, dw, col, dcol, out, dout;
  };
  std::vector<Layer> layers;

  RawConvGemms() {
    for (const GemmTriple& g : conv_vae_gemms()) {
      layers.push_back({g, std::vector<float>(g.m * g.k, 0.01f), std::vector<float>(g.m * g.k),
                        std::vector<float>(g.k * g.n, 0.1f), std::vector<float>(g.k * g.n),
                        std::vector<float>(g.m * g.n), std::vector<float>(g.m * g.n, 0.1f)});
    }
  }

  void run() {
    auto gemm = [](bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b,
                   float* c) {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                  static_cast<int>(n), static_cast<int>(k), 1, a, static_cast<int>(ta ? m : k), b,
                  static_cast<int>(tb ? k : n), 0, c, static_cast<int>(n));
    };
    for (Layer& l : layers) gemm(false, false, l.shape.m, l.shape.n, l.shape.k, l.w.data(), l.col.data(), l.out.data());
    for (auto l = layers.rbegin(); l != layers.rend(); ++l) {
      const GemmTriple& s = l->shape;
      gemm(false, true, s.m, s.k, s.n, l->dout.data(), l->col.data(), l->dw.data());
      if (s.input_gradient) gemm(true, false, s.k, s.n, s.m, l->w.data(), l->dout.data(), l->dcol.data());
    }
    benchmark::DoNotOptimize(layers.front().dw.data());
  }

  double flops() const {
    double f = 0;
    for (const Layer& l : layers) f += (l.shape.input_gradient ? 3 : 2) * 2.0 * static_cast<double>(l.shape.m * l.shape.n * l.shape.k);
    return f;
  }
};

/// The step as vae_conv runs it (MNIST batches, dynamically binarised); its dense heads read
/// the convolutions' output as dense (as the raw side does: the same work).
vaelib::bench::VaelibStep& conv_step() {
  static vaelib::bench::VaelibStep step(1, {}, vaelib::examples::conv_networks(28, 1));
  step.sparse_input_density = 0;
  return step;
}

void conv_vae_raw_gemm(benchmark::State& state) {
  RawConvGemms raw;
  for (auto _ : state) raw.run();
  state.counters["GFLOP/s"] = benchmark::Counter(raw.flops(), benchmark::Counter::kIsIterationInvariantRate);
}

void conv_vae_step(benchmark::State& state) {
  auto& step = conv_step();
  for (auto _ : state) benchmark::DoNotOptimize(step.run(true));
}

void conv_vae_forward(benchmark::State& state) {
  auto& step = conv_step();
  for (auto _ : state) benchmark::DoNotOptimize(step.run(false));
}

}  // namespace

BENCHMARK(conv_vae_raw_gemm)->Unit(benchmark::kMillisecond);
BENCHMARK(conv_vae_step)->Unit(benchmark::kMillisecond);
BENCHMARK(conv_vae_forward)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  // --alternating-rounds=N (21 by default; 0 skips the alternating measurement)
  const std::optional<int> alternating = vaelib::bench::take_alternating_rounds(argc, argv, "bench_conv_vae_step");
  if (!alternating) return 2;
  const int rounds = *alternating;
  benchmark::Initialize(&argc, argv);
  const vaelib::FlushDenormals flush_denormals;
  const vaelib::BlasKernels& kernels = vaelib::blas_kernels();
  std::printf("BLAS kernels: %s\n", kernels.name.c_str());
  vaelib::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  vaelib::bench::print_ratio(reporter, "conv VAE step / its raw GEMMs", "conv_vae_step", "conv_vae_raw_gemm");
  if (rounds > 0) {
    RawConvGemms raw;
    auto& step = conv_step();
    const double ratio = vaelib::bench::alternating_ratio(rounds, 10, [&] { raw.run(); }, [&] { step.run(true); });
    std::printf("RATIO %-40s %.3f   (alternating rounds, median of %d)\n", "conv VAE step / its raw GEMMs", ratio, rounds);
  }
  const double peak = vaelib::bench::fma_peak_gflops();
  if (peak > 0) {
    std::printf("BOUND conv VAE step: %.3f GFLOP of GEMMs: at least %.3f ms at the FMA peak (%.1f GFLOP/s)\n",
                RawConvGemms().flops() / 1e9, RawConvGemms().flops() / peak / 1e6, peak);
  }
  benchmark::Shutdown();
}
