// The figures of docs/distributed.md, measured under mpirun on this machine:
//   mpirun -np 1 bench_distributed_step   the ZhuSuan VAE step (batch 128) through DataParallel
//                                         against the plain Adam::minimize step, alternated in one
//                                         run (ratio of medians: the distributed path's overhead)
//   mpirun -np 2 bench_distributed_step   MPI_Allreduce of the step's gradient (5.4 MB) and of
//                                         smaller messages on loopback (latency and bandwidth of
//                                         the scaling model), and the data-parallel step with
//                                         64 images per rank: its time and the part of it spent
//                                         waiting for sums after the sweep
// Options: --alternating-rounds=N (21), --threads=N (OpenBLAS threads per rank; default 1).
// Reads MNIST as the other VAE benchmarks do. Every rank prints nothing but rank 0.

#include <cblas.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vaelib/distributed.hpp>
#include <vector>

#include "ratio_reporter.hpp"
#include "vae_step.hpp"

namespace {

using vaelib::distributed::Communicator;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Median seconds of MPI_Allreduce (sum, in place) of n floats over `reps` calls.
double allreduce_seconds(const Communicator& comm, std::size_t n, int reps) {
  std::vector<float> data(n, 1.0f);
  std::vector<double> times;
  for (int r = 0; r < reps + 3; ++r) {
    comm.barrier("bench: lining the ranks up");
    const auto t0 = std::chrono::steady_clock::now();
    comm.sum_in_place(data.data(), n, "bench: allreduce");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r >= 3) times.push_back(comm.max(s, "bench: the slowest rank's time"));
    std::fill(data.begin(), data.end(), 1.0f);
  }
  return median(times);
}

int take_int_flag(int& argc, char** argv, std::string_view flag, int fallback) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with(flag)) continue;
    int value = 0;
    const std::string_view text = arg.substr(flag.size());
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 1) {
      throw vaelib::ArgumentError(std::string(flag) + " takes a whole number >= 1, not '" + std::string(text) + "'");
    }
    for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
    --argc;
    return value;
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  vaelib::distributed::Session mpi(argc, argv);
  const Communicator comm;
  return vaelib::distributed::run_rank(comm, "bench_distributed_step", [&] {
    const auto rounds = vaelib::bench::take_alternating_rounds(argc, argv, "bench_distributed_step");
    if (!rounds || *rounds < 1) throw vaelib::ArgumentError("--alternating-rounds must be at least 1");
    const int threads = take_int_flag(argc, argv, "--threads=", 1);
    if (argc > 1) throw vaelib::ArgumentError(std::string("unknown argument '") + argv[1] + "'");
    openblas_set_num_threads(threads);
    const bool root = comm.is_root();

    if (comm.size() == 1) {
      // The distributed path's overhead on one rank: the same step, plain and through DataParallel.
      vaelib::bench::VaelibStep plain, parallel_step;
      vaelib::distributed::DataParallel<float> parallel(comm, parallel_step.adam);
      parallel_step.minimize_with = [&](vaelib::Tape<float>& tape, const vaelib::Var<float>& cost) {
        parallel.minimize(tape, cost, parallel_step.shape.batch, parallel_step.shape.batch);
      };
      for (int warm = 0; warm < 5; ++warm) {
        plain.run(true);
        parallel_step.run(true);
      }
      const double ratio = vaelib::bench::alternating_ratio(*rounds, 20, [&] { plain.run(true); },
                                                            [&] { parallel_step.run(true); });
      std::vector<double> plain_s;
      for (int s = 0; s < 50; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        plain.run(true);
        plain_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("STEP 1 rank x %zu images (plain): %.2f ms (median of 50 steps)\n", plain.shape.batch, median(plain_s) * 1e3);
      std::printf("gradient: %zu bytes in %zu buckets\n", parallel.gradient_bytes(), parallel.bucket_count());
      std::printf("RATIO %-40s %.3f   (median of %d alternating rounds of 20 steps, %d OpenBLAS thread(s))\n",
                  "distributed_1_rank/plain_step", ratio, *rounds, threads);
      return 0;
    }

    // Several ranks: the allreduce on this machine's links, then the data-parallel step.
    for (const std::size_t bytes : {std::size_t{4} << 10, std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{5'364'000}}) {
      const double s = allreduce_seconds(comm, bytes / sizeof(float), 50);
      if (root) {
        std::printf("ALLREDUCE %2d ranks %9zu bytes: %8.1f us  (%.2f GB/s of message)\n", comm.size(), bytes, s * 1e6,
                    static_cast<double>(bytes) / s / 1e9);
      }
    }
    const std::size_t batch = 64 * static_cast<std::size_t>(comm.size());
    const auto mine = comm.share(batch);
    // Each rank steps on batches of its share's size (its own shuffle of MNIST: the time does
    // not depend on which images), the gradient weighted as a share of the whole batch; the
    // sums by MPI_Iallreduce on the training thread, then on a communication thread.
    for (const bool thread : {false, true}) {
      vaelib::bench::StepShape shape;
      shape.batch = mine.size();
      vaelib::bench::VaelibStep local(1, {}, {}, shape);
      vaelib::distributed::DataParallel<float> local_parallel(comm, local.adam, {.communication_thread = thread});
      local.minimize_with = [&](vaelib::Tape<float>& tape, const vaelib::Var<float>& cost) {
        local_parallel.minimize(tape, cost, mine.size(), batch);
      };
      std::vector<double> step_s, wait_s;
      for (int s = 0; s < 20 + 100; ++s) {
        local.run(true);
        if (s >= 20) {
          step_s.push_back(comm.max(local_parallel.last_step_seconds(), "bench: step time"));
          wait_s.push_back(comm.max(local_parallel.last_wait_seconds(), "bench: wait time"));
        }
      }
      if (root) {
        std::printf("STEP %d ranks x %zu images, %s: backward + allreduce + update %.2f ms, of which waiting after the "
                    "sweep %.2f ms (medians of 100 steps; gradient %zu bytes in %zu buckets)\n",
                    comm.size(), mine.size(), thread ? "communication thread" : "MPI_Iallreduce", median(step_s) * 1e3,
                    median(wait_s) * 1e3, local_parallel.gradient_bytes(), local_parallel.bucket_count());
      }
    }
    return 0;
  });
}
