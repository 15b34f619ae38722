// Per-node cost of the tape: a chain of elementwise multiplications y = y * x on tiny
// tensors (1x1 and 16x16), forward and backward, divided by the number of nodes. On 1x1
// tensors this is almost all bookkeeping: node reuse, shape checks, closure dispatch.

#include <cstdio>

#include "ratio_reporter.hpp"
#include "vaelib/vae.hpp"

namespace {

constexpr int chain_length = 1000;

void tape_chain(benchmark::State& state) {
  const auto side = static_cast<std::size_t>(state.range(0));
  const bool with_backward = state.range(1) != 0;
  vaelib::Tape<float> tape;
  xt::xarray<float> value = xt::ones<float>({side, side}) * 1.0001f;
  xt::xarray<float> grad = xt::zeros<float>({side, side});
  std::size_t nodes = 0;
  for (auto _ : state) {
    tape.clear();
    auto x = tape.parameter(value, grad);
    vaelib::Var<float> y = x;
    for (int i = 0; i < chain_length; ++i) y = y * x;
    auto loss = vaelib::sum(y);
    if (with_backward) tape.backward(loss);
    benchmark::DoNotOptimize(tape.value_ptr(loss));
    nodes = tape.size();
  }
  state.counters["nodes"] = static_cast<double>(nodes);
}

}  // namespace

BENCHMARK(tape_chain)->ArgNames({"side", "backward"})->Args({1, 0})->Args({1, 1})->Args({16, 0})->Args({16, 1});

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  vaelib::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  // chain_length multiplications + the parameter leaf + the sum
  constexpr double nodes = chain_length + 2;
  for (const char* name : {"tape_chain/side:1/backward:0", "tape_chain/side:1/backward:1",
                           "tape_chain/side:16/backward:0", "tape_chain/side:16/backward:1"}) {
    const double s = reporter.seconds(name);
    if (s > 0) std::printf("PER-NODE %-32s %.1f ns\n", name, s / nodes * 1e9);
  }
  benchmark::Shutdown();
}
