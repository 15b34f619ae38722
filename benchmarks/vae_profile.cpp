// Where a VAE training step's time goes: the step of bench_vae_step (the example's step) cut
// into its phases, each timed in total and in its GEMMs. The GEMM share is measured by
// wrapping cblas_sgemm: this program defines it, so vaelib's calls come here first and go on
// to OpenBLAS's (found with dlsym(RTLD_NEXT)). Averages over 300 steps after 30 warm-up
// steps; docs/performance.md shows a run.
//
//   build/benchmarks/vae_profile [steps] [--dense-input]

#include <cblas.h>
#include <dlfcn.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>

#include "vae_step.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double gemm_seconds = 0;
// vaelib splits a large GEMM by rows into calls on several threads at once: the time counted
// runs from the first call's start to the last one's end, wall time, not each thread's
std::mutex gemm_mutex;
int gemms_running = 0;
Clock::time_point gemms_since;

using Sgemm = void (*)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, float, const float*,
                       blasint, const float*, blasint, float, float*, blasint);

Sgemm real_sgemm() {
  static const Sgemm real = reinterpret_cast<Sgemm>(dlsym(RTLD_NEXT, "cblas_sgemm"));
  if (real == nullptr) {
    std::fprintf(stderr, "vae_profile: cannot find the BLAS's cblas_sgemm\n");
    std::exit(1);
  }
  return real;
}

}  // namespace

extern "C" void cblas_sgemm(const CBLAS_ORDER order, const CBLAS_TRANSPOSE ta, const CBLAS_TRANSPOSE tb, const blasint m,
                            const blasint n, const blasint k, const float alpha, const float* a, const blasint lda,
                            const float* b, const blasint ldb, const float beta, float* c, const blasint ldc) {
  {
    const std::lock_guard lock(gemm_mutex);
    if (gemms_running++ == 0) gemms_since = Clock::now();
  }
  real_sgemm()(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  const std::lock_guard lock(gemm_mutex);
  if (--gemms_running == 0) gemm_seconds += std::chrono::duration<double>(Clock::now() - gemms_since).count();
}

int main(int argc, char** argv) {
  int steps = 300;
  bool dense_input = false, have_steps = false, bad = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--dense-input") {
      dense_input = true;
      continue;
    }
    const auto [end, error] = std::from_chars(arg.data(), arg.data() + arg.size(), steps);
    bad = bad || have_steps || error != std::errc() || end != arg.data() + arg.size() || steps <= 0;
    have_steps = true;
  }
  if (bad) {
    std::fprintf(stderr,
                 "vae_profile: takes the number of steps (a whole number >= 1, 300 by default) and --dense-input "
                 "(the first layer as a dense GEMM, the raw GEMMs' exact work)\n");
    return 2;
  }
  const vaelib::FlushDenormals flush_denormals;
  std::printf("BLAS kernels: %s, %d OpenBLAS threads\n", vaelib::blas_kernels().name.c_str(), openblas_get_num_threads());
  vaelib::bench::VaelibStep s;
  if (dense_input) s.sparse_input_density = 0;
  const vaelib::bench::SparseInputDensity density(s.sparse_input_density);  // the phases below run outside run()
  std::printf("first layer: %s\n", dense_input ? "dense GEMM (--dense-input)" : "sparse input, as the example runs");
  for (int i = 0; i < 30; ++i) s.run(true);

  constexpr int phases = 4;
  const char* names[phases] = {"gather + binarise", "encoder and q", "model, ELBO",
                               "backward with Adam + zeroing (minimize)"};
  double total[phases] = {}, gemm[phases] = {};
  for (int step = 0; step < steps; ++step) {
    int phase = 0;
    auto mark = Clock::now();
    double gemm_mark = gemm_seconds;
    const auto end_phase = [&] {
      const auto now = Clock::now();
      total[phase] += std::chrono::duration<double>(now - mark).count();
      gemm[phase] += gemm_seconds - gemm_mark;
      mark = now;
      gemm_mark = gemm_seconds;
      ++phase;
    };
    s.prepare_batch();
    end_phase();
    s.tape.clear();
    const auto x = s.tape.external(s.binary.data(), nullptr, {vaelib::bench::batch, vaelib::bench::x_dim});
    const auto q = s.vae.variational(x, 1);
    end_phase();
    auto lower_bound = vaelib::elbo(s.vae.model(vaelib::bench::batch), {{"x", x}}, q, 0);
    const auto cost = vaelib::mean(lower_bound.sgvb());
    end_phase();
    s.adam.minimize(s.tape, cost);
    end_phase();
  }
  std::printf("| phase | total | GEMMs | the rest |\n| --- | --- | --- | --- |\n");
  double all = 0, all_gemm = 0;
  for (int p = 0; p < phases; ++p) {
    std::printf("| %s | %.3f ms | %.3f ms | %.3f ms |\n", names[p], total[p] / steps * 1e3, gemm[p] / steps * 1e3,
                (total[p] - gemm[p]) / steps * 1e3);
    all += total[p];
    all_gemm += gemm[p];
  }
  std::printf("| step | %.3f ms | %.3f ms (%.0f%%) | %.3f ms |\n", all / steps * 1e3, all_gemm / steps * 1e3,
              100 * all_gemm / all, (all - all_gemm) / steps * 1e3);
}
