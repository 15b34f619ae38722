// A training step of the ZhuSuan VAE (784-500-500-40, batch 128, float) in vaelib, beside the
// same GEMMs called raw through cblas: issue 8's target 1 is the ratio step / raw GEMMs
// (<= 1.15), taken with the step's first layer as a dense GEMM (vae_step_dense_input: the
// same work); the step as the example runs it takes that layer's mostly-zero input as sparse
// (LinearOptions::sparse_input_density) and so does less than the raw GEMMs. Also timed: the step
// with Adam's pass after the backward sweep rather than in it (vae_step_unfused), and the step's parts (forward only and data preparation, both with a
// fresh batch, and the Adam pass), so the profile in docs/performance.md can say where the
// rest of a step goes, and the two other workloads issue 8 compares with PyTorch
// (benchmarks/compare_peer.sh runs them alternately with benchmarks/peer_workloads.py): an
// IWAE step with k = 50 particles, and the importance-sampled log-likelihood with k = 1000
// (encoder once per image, the decoder over the particles in chunks). Last, it measures the
// machine's float FMA peak (fma_peak.hpp) and prints each step's GEMM FLOPs and the least
// time they take at that peak (PEAK and BOUND lines, read by compare_peer.sh).

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "fma_peak.hpp"
#include "ratio_reporter.hpp"
#include "vae_step.hpp"
#include "vaelib/vae.hpp"

namespace {

using vaelib::bench::x_dim;
using vaelib::bench::VaelibStep;

/// The GEMMs of that step with the same shapes, transposes and beta, nothing else. With
/// `particles` > 1 (IWAE) the decoder's GEMMs have particles x batch rows.
struct RawGemms {
  struct Layer {
    std::size_t in, out;
    std::vector<float> w, dw;
  };
  std::vector<Layer> encoder, decoder;  // encoder: h1, h2, z_mean, z_logstd; decoder: h1, h2, x
  std::vector<float> x, a, b, c, d, z;   // activations and their gradients (max size)
  std::size_t batch, decoder_rows;

  explicit RawGemms(std::size_t particles = 1, vaelib::bench::StepShape shape = {})
      : batch(shape.batch), decoder_rows(particles * shape.batch) {
    auto layer = [](std::size_t in, std::size_t out) {
      return Layer{in, out, std::vector<float>(in * out, 0.01f), std::vector<float>(in * out)};
    };
    const std::size_t hidden = shape.hidden, z_dim = shape.z_dim;
    encoder = {layer(x_dim, hidden), layer(hidden, hidden), layer(hidden, z_dim), layer(hidden, z_dim)};
    decoder = {layer(z_dim, hidden), layer(hidden, hidden), layer(hidden, x_dim)};
    x = std::vector<float>(batch * x_dim, 0.5f);
    for (auto* v : {&a, &b, &c, &d}) v->assign(decoder_rows * x_dim, 0.1f);
    z.assign(decoder_rows * z_dim, 0.1f);
  }

  static void forward(std::size_t rows, const float* in, Layer& l, float* out) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), static_cast<int>(l.out),
                static_cast<int>(l.in), 1, in, static_cast<int>(l.in), l.w.data(), static_cast<int>(l.out), 0, out,
                static_cast<int>(l.out));
  }
  // dW = in^T g (beta 0: the gradient's first write); d_in (+)= g W^T.
  static void backward(std::size_t rows, const float* in, Layer& l, const float* g, float* d_in, float beta_in) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(l.in), static_cast<int>(l.out),
                static_cast<int>(rows), 1, in, static_cast<int>(l.in), g, static_cast<int>(l.out), 0, l.dw.data(),
                static_cast<int>(l.out));
    if (d_in != nullptr) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(l.in),
                  static_cast<int>(l.out), 1, g, static_cast<int>(l.out), l.w.data(), static_cast<int>(l.out), beta_in,
                  d_in, static_cast<int>(l.in));
    }
  }

  void run() {
    float *h1 = a.data(), *h2 = b.data(), *g1 = c.data(), *g2 = d.data();
    std::vector<float>& mean = z;  // the heads' outputs and gradients are z-sized; reuse z
    const std::size_t n = decoder_rows;
    forward(batch, x.data(), encoder[0], h1);
    forward(batch, h1, encoder[1], h2);
    forward(batch, h2, encoder[2], mean.data());
    forward(batch, h2, encoder[3], mean.data());
    forward(n, z.data(), decoder[0], h1);
    forward(n, h1, decoder[1], h2);
    forward(n, h2, decoder[2], g1);  // logits
    backward(n, h2, decoder[2], g1, g2, 0);
    backward(n, h1, decoder[1], g2, g1, 0);
    backward(n, z.data(), decoder[0], g1, mean.data(), 0);
    backward(batch, h2, encoder[3], mean.data(), g2, 0);
    backward(batch, h2, encoder[2], mean.data(), g2, 1);
    backward(batch, h1, encoder[1], g2, g1, 0);
    backward(batch, x.data(), encoder[0], g1, nullptr, 0);
    benchmark::DoNotOptimize(encoder[0].dw.data());
  }

  /// FLOPs of run() (a multiply-add counts 2): each layer's product, weight gradient and
  /// input gradient, but the encoder's first layer's input gradient.
  double flops() const {
    double f = 0;
    for (const Layer& l : encoder) f += 3 * 2.0 * static_cast<double>(batch * l.in * l.out);
    for (const Layer& l : decoder) f += 3 * 2.0 * static_cast<double>(decoder_rows * l.in * l.out);
    return f - 2.0 * static_cast<double>(batch * x_dim * encoder[0].out);
  }

  /// Of those, the FLOPs of the GEMMs whose inputs are dense in practice: all but the encoder's
  /// first two layers' products and weight gradients, whose inputs (images, and the ReLU
  /// outputs of the first layer) are mostly zeros, so vaelib may skip most of that work.
  double dense_input_flops() const {
    const std::size_t hidden = encoder[0].out;
    return flops() - 2 * 2.0 * static_cast<double>(batch * (x_dim * hidden + hidden * hidden));
  }
};

/// What the FMA peak allows: the least time of a workload's GEMMs on dense inputs, on this
/// machine, in any library that runs them as dense products.
void print_bounds() {
  const double peak = vaelib::bench::fma_peak_gflops();
  if (peak <= 0) return;
  std::printf("PEAK float FMA peak on %d threads: %.1f GFLOP/s\n", vaelib::detail::parallel_threads(), peak);
  const RawGemms vae(1), iwae(50);
  std::printf("BOUND VAE step: %.3f GFLOP of GEMMs, %.3f on dense inputs: at least %.3f ms at the FMA peak\n",
              vae.flops() / 1e9, vae.dense_input_flops() / 1e9, vae.dense_input_flops() / peak / 1e6);
  std::printf("BOUND IWAE k=50 step: %.3f GFLOP of GEMMs, %.3f on dense inputs: at least %.3f ms at the FMA peak\n",
              iwae.flops() / 1e9, iwae.dense_input_flops() / 1e9, iwae.dense_input_flops() / peak / 1e6);
}

void vae_raw_gemm(benchmark::State& state) {
  RawGemms raw;
  for (auto _ : state) raw.run();
}

void vae_step(benchmark::State& state) {
  VaelibStep step;
  for (auto _ : state) benchmark::DoNotOptimize(step.run(true));
}

// vae_nf's posteriors as docs/examples.md runs them: the step with q pushed through 10 planar
// flows, or through 2 IAF steps (MADE 40-80-80 reading the encoder's last hidden layer).
const vaelib::models::PosteriorFlowConfig planar_posterior{.kind = vaelib::models::FlowKind::planar, .length = 10};
const vaelib::models::PosteriorFlowConfig iaf_posterior{.kind = vaelib::models::FlowKind::iaf, .length = 2};

void vae_step_planar(benchmark::State& state) {
  VaelibStep step(1, planar_posterior);
  for (auto _ : state) benchmark::DoNotOptimize(step.run(true));
}

void vae_step_iaf(benchmark::State& state) {
  VaelibStep step(1, iaf_posterior);
  for (auto _ : state) benchmark::DoNotOptimize(step.run(true));
}

// Burda et al.'s Table 1 network at their batch of 20 (784-200-200-50, tanh; iwae --protocol
// burda): the GEMMs are small and the step's fixed costs decide its time (issue 26). The
// step with its first layer dense, against the same GEMMs raw.
void burda_raw_gemm(benchmark::State& state) {
  RawGemms raw(1, vaelib::bench::burda_shape);
  for (auto _ : state) raw.run();
}

void burda_step(benchmark::State& state) {
  VaelibStep step(1, {}, {}, vaelib::bench::burda_shape);
  step.sparse_input_density = 0;
  for (auto _ : state) benchmark::DoNotOptimize(step.run(true));
}

// The log-density of q(z | x) at k samples a row, forward and backward, at Burda et al.'s
// batch of 20 and 50 latents: the mean and log-std [20, 50] under samples [k, 20, 50] (with
// k = 1, [1, 20, 50]), as an IWAE step with k particles evaluates it.
void burda_latent_log_density(benchmark::State& state) {
  const auto particles = static_cast<std::size_t>(state.range(0));
  vaelib::Tape<float> tape;
  const xt::xarray<float> z = xt::full_like(xt::xarray<float>::from_shape({particles, 20, 50}), 0.3f);
  xt::xarray<float> mean = xt::full_like(xt::xarray<float>::from_shape({20, 50}), 0.1f);
  xt::xarray<float> logstd = xt::full_like(mean, -0.2f);
  xt::xarray<float> mean_grad = xt::zeros_like(mean), logstd_grad = xt::zeros_like(mean);
  for (auto _ : state) {
    tape.clear();
    const auto q = vaelib::Normal<float>::with_logstd(tape.parameter(mean, mean_grad), tape.parameter(logstd, logstd_grad));
    const auto log_q = vaelib::sum(q.log_prob(tape.constant(z)));
    tape.backward(log_q);
    benchmark::DoNotOptimize(tape.value_ptr(log_q));
  }
}

// IWAE, k = 50: the encoder once on the batch, the decoder on k x batch rows.
void iwae_raw_gemm(benchmark::State& state) {
  RawGemms raw(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) raw.run();
}

void iwae_step(benchmark::State& state) {
  VaelibStep step(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(step.run(true));
}

// Importance-sampled log-likelihood, k = 1000, on 20 images (the peer's evaluation chunk);
// the counter is images per second.
void is_loglikelihood(benchmark::State& state) {
  VaelibStep step;
  const std::size_t images = 20, k = static_cast<std::size_t>(state.range(0));
  const std::size_t chunk = static_cast<std::size_t>(state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(step.log_likelihood(images, k, chunk));
  state.counters["images_per_second"] =
      benchmark::Counter(static_cast<double>(images * state.iterations()), benchmark::Counter::kIsRate);
}

// The step with its first layer as a dense GEMM (linear()'s sparse input path off): the same
// work as vae_raw_gemm, so vae_step_dense_input / vae_raw_gemm is vaelib's own overhead.
void vae_step_dense_input(benchmark::State& state) {
  VaelibStep step;
  step.sparse_input_density = 0;
  for (auto _ : state) benchmark::DoNotOptimize(step.run(true));
}

// The step with Adam's pass after the backward sweep instead of inside it (minimize).
void vae_step_unfused(benchmark::State& state) {
  VaelibStep step;
  for (auto _ : state) benchmark::DoNotOptimize(step.run(true, false));
}

void vae_forward(benchmark::State& state) {
  VaelibStep step;
  for (auto _ : state) benchmark::DoNotOptimize(step.run(false));
}

void vae_adam_pass(benchmark::State& state) {
  VaelibStep step;
  for (auto _ : state) step.adam.step();
}

// What the example does to each batch before the step (included in vae_step): gather the
// shuffled images and binarise them dynamically.
void vae_data_prep(benchmark::State& state) {
  VaelibStep step;
  for (auto _ : state) {
    step.prepare_batch();
    benchmark::DoNotOptimize(step.binary.data());
  }
}

/// Rounds of `steps` raw-GEMM steps then `steps` vaelib steps; the median of the per-round
/// ratios is robust to the machine's load drifting during the run. `sparse_input`: the step
/// as the example runs it; otherwise with its first layer as a dense GEMM, the raw GEMMs'
/// exact work. `shape`: the batch and sizes (Burda et al.'s network at batch 20, say).
double alternating_ratio(int rounds, int steps, bool sparse_input, vaelib::bench::StepShape shape = {}) {
  RawGemms raw(1, shape);
  VaelibStep step(1, {}, {}, shape);
  if (!sparse_input) step.sparse_input_density = 0;
  raw.run();
  return vaelib::bench::alternating_ratio(rounds, steps, [&] { raw.run(); }, [&] { step.run(true); });
}

/// The same rounds, a flow-posterior step against the plain step.
double alternating_flow_ratio(int rounds, int steps, const vaelib::models::PosteriorFlowConfig& flow) {
  VaelibStep plain, with_flow(1, flow);
  return vaelib::bench::alternating_ratio(rounds, steps, [&] { plain.run(true); }, [&] { with_flow.run(true); });
}

}  // namespace

BENCHMARK(vae_raw_gemm)->Unit(benchmark::kMillisecond);
BENCHMARK(vae_step)->Unit(benchmark::kMillisecond);
BENCHMARK(vae_step_dense_input)->Unit(benchmark::kMillisecond);
BENCHMARK(vae_step_planar)->Unit(benchmark::kMillisecond);
BENCHMARK(vae_step_iaf)->Unit(benchmark::kMillisecond);
BENCHMARK(vae_step_unfused)->Unit(benchmark::kMillisecond);
BENCHMARK(vae_forward)->Unit(benchmark::kMillisecond);
BENCHMARK(vae_adam_pass)->Unit(benchmark::kMillisecond);
BENCHMARK(vae_data_prep)->Unit(benchmark::kMillisecond);
BENCHMARK(burda_raw_gemm)->Unit(benchmark::kMicrosecond);
BENCHMARK(burda_step)->Unit(benchmark::kMicrosecond);
BENCHMARK(burda_latent_log_density)->ArgName("k")->Arg(1)->Arg(5)->Unit(benchmark::kMicrosecond);
BENCHMARK(iwae_raw_gemm)->ArgName("k")->Arg(50)->Unit(benchmark::kMillisecond);
BENCHMARK(iwae_step)->ArgName("k")->Arg(50)->Unit(benchmark::kMillisecond);
BENCHMARK(is_loglikelihood)->ArgNames({"k", "chunk"})->Args({1000, 100})->Args({1000, 250})->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  // --alternating-rounds=N (21 by default; 0 skips the alternating measurement)
  const std::optional<int> alternating = vaelib::bench::take_alternating_rounds(argc, argv, "bench_vae_step");
  if (!alternating) return 2;
  const int rounds = *alternating;
  benchmark::Initialize(&argc, argv);
  const vaelib::FlushDenormals flush_denormals;  // as the examples train (the peer's side is told the same)
  const vaelib::BlasKernels& kernels = vaelib::blas_kernels();  // the raw side runs on the same kernels
  std::printf("BLAS kernels: %s%s%s\n", kernels.name.c_str(), kernels.replaced.empty() ? "" : ", replacing ",
              kernels.replaced.c_str());
  vaelib::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  vaelib::bench::print_ratio(reporter, "VAE step, dense input / its raw GEMMs", "vae_step_dense_input", "vae_raw_gemm");
  vaelib::bench::print_ratio(reporter, "VAE step / the raw dense GEMMs", "vae_step", "vae_raw_gemm");
  vaelib::bench::print_ratio(reporter, "VAE step, Adam after the sweep / in it", "vae_step_unfused", "vae_step");
  vaelib::bench::print_ratio(reporter, "IWAE k=50 step / its raw GEMMs", "iwae_step/k:50", "iwae_raw_gemm/k:50");
  vaelib::bench::print_ratio(reporter, "Burda step, batch 20 / its raw GEMMs", "burda_step", "burda_raw_gemm");
  if (rounds > 0) {
    std::printf("RATIO %-40s %.3f   (alternating rounds, median of %d)\n", "VAE step, dense input / its raw GEMMs",
                alternating_ratio(rounds, 20, false), rounds);
    std::printf("RATIO %-40s %.3f   (alternating rounds, median of %d)\n", "VAE step / the raw dense GEMMs",
                alternating_ratio(rounds, 20, true), rounds);
    std::printf("RATIO %-40s %.3f   (alternating rounds, median of %d)\n", "Burda step, batch 20 / its raw GEMMs",
                alternating_ratio(rounds, 200, false, vaelib::bench::burda_shape), rounds);
    // the flow's share of its step is 1 - 1 / ratio
    for (const auto& [name, flow] : {std::pair{"planar K=10 step / plain VAE step", planar_posterior},
                                     std::pair{"IAF K=2 step / plain VAE step", iaf_posterior}}) {
      const double ratio = alternating_flow_ratio(rounds, 20, flow);
      std::printf("RATIO %-40s %.3f   (alternating rounds, median of %d; the flow's share %.1f%%)\n", name, ratio,
                  rounds, 100 * (1 - 1 / ratio));
    }
  }
  print_bounds();
  benchmark::Shutdown();
}
