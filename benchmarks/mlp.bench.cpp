// Forward + backward of a 784-500-500 ReLU MLP at batch 128 in float, taped (fused linear,
// and composed matmul + add + relu), beside the same five GEMMs called raw through cblas.
// The ratio taped / raw is what the tape costs above the physical limit of the step.

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "ratio_reporter.hpp"
#include "vaelib/vae.hpp"

namespace {

constexpr std::size_t batch = 128, n_in = 784, n_hidden = 500;

struct Mlp {
  xt::xarray<float> x = xt::ones<float>({batch, n_in}) * 0.5f;
  xt::xarray<float> w1 = xt::ones<float>({n_in, n_hidden}) * 0.01f, g1 = xt::zeros<float>({n_in, n_hidden});
  xt::xarray<float> b1 = xt::zeros<float>({n_hidden}), gb1 = xt::zeros<float>({n_hidden});
  xt::xarray<float> w2 = xt::ones<float>({n_hidden, n_hidden}) * 0.01f, g2 = xt::zeros<float>({n_hidden, n_hidden});
  xt::xarray<float> b2 = xt::zeros<float>({n_hidden}), gb2 = xt::zeros<float>({n_hidden});
};

void taped_step(Mlp& m, vaelib::Tape<float>& tape, bool fused) {
  tape.clear();
  auto x = tape.external(m.x.data(), nullptr, vaelib::Shape{batch, n_in});
  auto w1 = tape.parameter(m.w1, m.g1), b1 = tape.parameter(m.b1, m.gb1);
  auto w2 = tape.parameter(m.w2, m.g2), b2 = tape.parameter(m.b2, m.gb2);
  vaelib::Var<float> h2;
  if (fused) {
    h2 = vaelib::linear(vaelib::linear(x, w1, b1, vaelib::Activation::relu), w2, b2, vaelib::Activation::relu);
  } else {
    h2 = vaelib::relu(vaelib::matmul(vaelib::relu(vaelib::matmul(x, w1) + b1), w2) + b2);
  }
  tape.backward(vaelib::sum(h2));
  benchmark::DoNotOptimize(m.g1.data());
}

void mlp_taped(benchmark::State& state) {
  const bool fused = state.range(0) != 0;
  Mlp m;
  vaelib::Tape<float> tape;
  for (auto _ : state) taped_step(m, tape, fused);
}

// The GEMMs of the same step: x W1, h1 W2 forward; dW2 = h1^T g2, dh1 = g2 W2^T,
// dW1 = x^T g1 backward (x needs no gradient).
struct RawBuffers {
  xt::xarray<float> h1 = xt::zeros<float>({batch, n_hidden}), h2 = h1, dh1 = h1, dh2 = h1;
};

void raw_step(Mlp& m, RawBuffers& r) {
  auto& [h1, h2, dh1, dh2] = r;
  const int b = batch, i = n_in, h = n_hidden;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, h, i, 1, m.x.data(), i, m.w1.data(), h, 0, h1.data(), h);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, h, h, 1, h1.data(), h, m.w2.data(), h, 0, h2.data(), h);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, h, b, 1, h1.data(), h, dh2.data(), h, 1, m.g2.data(), h);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, h, h, 1, dh2.data(), h, m.w2.data(), h, 0, dh1.data(), h);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i, h, b, 1, m.x.data(), i, dh1.data(), h, 1, m.g1.data(), h);
  benchmark::DoNotOptimize(m.g1.data());
}

void mlp_raw_gemm(benchmark::State& state) {
  Mlp m;
  RawBuffers r;
  for (auto _ : state) raw_step(m, r);
}

// Rounds of `steps` raw steps then `steps` taped steps; the median of the per-round ratios
// is robust to the machine's load drifting during the run.
double alternating_ratio(bool fused, int rounds, int steps) {
  Mlp m;
  RawBuffers r;
  vaelib::Tape<float> tape;
  taped_step(m, tape, fused);  // warm-up: buffers sized
  raw_step(m, r);
  return vaelib::bench::alternating_ratio(rounds, steps, [&] { raw_step(m, r); }, [&] { taped_step(m, tape, fused); });
}

}  // namespace

BENCHMARK(mlp_raw_gemm)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_taped)->ArgName("fused")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  vaelib::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  vaelib::bench::print_ratio(reporter, "MLP taped (fused linear) / raw GEMMs", "mlp_taped/fused:1", "mlp_raw_gemm");
  vaelib::bench::print_ratio(reporter, "MLP taped (matmul+add+relu) / raw GEMMs", "mlp_taped/fused:0", "mlp_raw_gemm");
  for (const bool fused : {true, false}) {
    std::printf("RATIO %-40s %.3f   (alternating rounds, median of 21)\n",
                fused ? "MLP taped (fused linear) / raw GEMMs" : "MLP taped (matmul+add+relu) / raw GEMMs",
                alternating_ratio(fused, 21, 20));
  }
  benchmark::Shutdown();
}
