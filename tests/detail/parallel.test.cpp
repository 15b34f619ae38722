// parallel_for hands ranges to OpenBLAS's worker threads: every element exactly once, the
// caller's floating-point mode on the workers, errors back on the caller, and results
// identical to the serial run for every kernel that uses it (maps, the optimiser's pass,
// gradient norms, linear's bias sums).

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/gradients.hpp"
#include "vaelib/detail/parallel.hpp"
#include "vaelib/detail/simd.hpp"
#include "vaelib/flush_denormals.hpp"

using namespace vaelib;

namespace {

/// Runs `f` with vaelib's elementwise work on this thread alone (GEMMs keep their threads).
template <class F>
auto serially(F&& f) {
  const detail::SerialRegion serial;
  return f();
}

std::vector<float> parallel_test_values(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(-7.0 + 14.0 * static_cast<double>((i * 7919) % 1009) / 1008.0);
  return v;
}

}  // namespace

TEST_CASE("parallel_for: the BLAS's threads are the ones used", "[detail][parallel]") {
  // Debian's OpenBLAS is the pthread build: its threads run vaelib's elementwise work too
  REQUIRE(detail::parallel_threads() == openblas_get_num_threads());
  if (std::thread::hardware_concurrency() >= 2) REQUIRE(detail::parallel_threads() >= 2);
}

TEST_CASE("parallel_for: covers the range once, in aligned ranges, on several threads", "[detail][parallel]") {
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100}, detail::parallel_grain * 2 + 5,
                              std::size_t{1000003}}) {
    INFO("n = " << n);
    std::vector<int> hits(n, 0);
    std::mutex mutex;
    std::set<std::thread::id> threads;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    detail::parallel_for(n, detail::parallel_grain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) ++hits[i];
      const std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
      ranges.emplace_back(begin, end);
    });
    CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
    for (const auto& [begin, end] : ranges) {
      CHECK(begin % 16 == 0);
      CHECK(begin < end);
    }
    const std::size_t expected_threads =
        std::min<std::size_t>(static_cast<std::size_t>(detail::parallel_threads()), std::max<std::size_t>(1, n / detail::parallel_grain));
    CHECK(threads.size() == (n == 0 ? 0 : expected_threads));
  }
}

TEST_CASE("parallel_for: workers run in the caller's floating-point mode", "[detail][parallel]") {
  const std::size_t n = detail::parallel_grain * 4;
  std::vector<float> in(n, std::numeric_limits<float>::denorm_min() * 64), out(n, -1);
  {
    const FlushDenormals flush;
    detail::parallel_for(n, detail::parallel_grain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) out[i] = in[i] * 1.5f;  // a denormal result, flushed to 0
    });
  }
  CHECK(std::count(out.begin(), out.end(), 0.0f) == static_cast<std::ptrdiff_t>(n));
  detail::parallel_for(n, detail::parallel_grain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) out[i] = in[i] * 1.5f;
  });
  CHECK(std::count(out.begin(), out.end(), in[0] * 1.5f) == static_cast<std::ptrdiff_t>(n));
}

TEST_CASE("parallel_for: an exception in any range reaches the caller", "[detail][parallel]") {
  const std::size_t n = detail::parallel_grain * 4;
  const auto throw_in_last = [n](std::size_t, std::size_t end) {
    if (end == n) throw std::runtime_error("the last range failed");
  };
  CHECK_THROWS_WITH(detail::parallel_for(n, detail::parallel_grain, throw_in_last), "the last range failed");
  // and the threads still work afterwards
  std::vector<int> hits(n, 0);
  detail::parallel_for(n, detail::parallel_grain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) ++hits[i];
  });
  CHECK(std::count(hits.begin(), hits.end(), 1) == static_cast<std::ptrdiff_t>(n));
}

TEST_CASE("parallel_for: a parallel_for inside a range runs on that range's thread", "[detail][parallel]") {
  const std::size_t n = detail::parallel_grain * 4;
  std::vector<int> hits(n * 4, 0);
  detail::parallel_for(n, detail::parallel_grain, [&](std::size_t begin, std::size_t end) {
    const auto outer = std::this_thread::get_id();
    detail::parallel_for((end - begin) * 4, detail::parallel_grain, [&](std::size_t b, std::size_t e) {
      CHECK(std::this_thread::get_id() == outer);
      for (std::size_t i = b; i < e; ++i) ++hits[begin * 4 + i];
    });
  });
  CHECK(std::count(hits.begin(), hits.end(), 1) == static_cast<std::ptrdiff_t>(n * 4));
}

TEST_CASE("parallel_for_with_serial_blas: ranges on several threads with the BLAS on one, set back after",
          "[detail][parallel]") {
  const int blas_threads = openblas_get_num_threads();
  REQUIRE(blas_threads >= 2);  // the split needs the threaded OpenBLAS (see the first test)
  const std::size_t n = 1000;
  std::vector<int> hits(n, 0);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::vector<int> blas_threads_seen;
  const bool split = detail::parallel_for_with_serial_blas(n, 16, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) ++hits[i];
    const std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
    blas_threads_seen.push_back(openblas_get_num_threads());
  });
  REQUIRE(split);
  CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
  CHECK(threads.size() == std::min<std::size_t>(static_cast<std::size_t>(blas_threads), n / 16));
  CHECK(std::all_of(blas_threads_seen.begin(), blas_threads_seen.end(), [](int t) { return t == 1; }));
  CHECK(openblas_get_num_threads() == blas_threads);

  SECTION("an exception in a range reaches the caller, and the BLAS's threads are set back") {
    CHECK_THROWS_WITH(detail::parallel_for_with_serial_blas(n, 16,
                                                            [](std::size_t begin, std::size_t) {
                                                              if (begin > 0) throw std::runtime_error("range failed");
                                                            }),
                      "range failed");
    CHECK(openblas_get_num_threads() == blas_threads);
  }
  SECTION("in a SerialRegion, the same ranges run one after the other on this thread") {
    std::vector<std::pair<std::size_t, std::size_t>> split_ranges, serial_ranges;
    std::set<std::thread::id> serial_threads;
    REQUIRE(detail::parallel_for_with_serial_blas(n, 16, [&](std::size_t begin, std::size_t end) {
      const std::lock_guard lock(mutex);
      split_ranges.emplace_back(begin, end);
    }));
    {
      const detail::SerialRegion serial;
      REQUIRE(detail::parallel_for_with_serial_blas(n, 16, [&](std::size_t begin, std::size_t end) {
        serial_ranges.emplace_back(begin, end);
        serial_threads.insert(std::this_thread::get_id());
        CHECK(openblas_get_num_threads() == 1);
      }));
    }
    std::sort(split_ranges.begin(), split_ranges.end());
    CHECK(serial_ranges == split_ranges);
    CHECK(serial_threads == std::set<std::thread::id>{std::this_thread::get_id()});
    CHECK(openblas_get_num_threads() == blas_threads);
  }
  SECTION("declines, running nothing, where it cannot split") {
    bool ran = false;
    const auto body = [&](std::size_t, std::size_t) { ran = true; };
    CHECK_FALSE(detail::parallel_for_with_serial_blas(20, 16, body));  // fewer than two grains
    std::atomic<int> in_task_splits{0};
    detail::parallel_for(2, 1, [&](std::size_t, std::size_t) {  // inside a task
      if (detail::parallel_for_with_serial_blas(n, 16, body)) ++in_task_splits;
    }, 1);
    CHECK(in_task_splits == 0);
    // while one thread's split runs, another thread's split declines (the setting is global);
    // assertions stay on this thread
    std::atomic<int> outer_split{-1}, inner_splits{0}, inner_declined{0};
    std::thread other([&] {
      outer_split = detail::parallel_for_with_serial_blas(n, 16, [&](std::size_t, std::size_t) {
        std::thread([&] {
          ++inner_splits;
          if (!detail::parallel_for_with_serial_blas(n, 16, body)) ++inner_declined;
        }).join();
      });
    });
    other.join();
    CHECK(outer_split == 1);
    CHECK(inner_splits > 0);
    CHECK(inner_declined == inner_splits);
    CHECK_FALSE(ran);
    CHECK(openblas_get_num_threads() == blas_threads);
  }
}

TEST_CASE("parallel kernels: the same bits serially and split", "[detail][parallel]") {
  const std::size_t n = 1000003;
  const std::vector<float> a = parallel_test_values(n), b = parallel_test_values(n + 17);
  const auto kernel = [](const auto& x, const auto& y) { return detail::simd::softplus(x) * y - detail::simd::sigmoid(y); };
  const auto run_map = [&] {
    std::vector<float> out(n);
    detail::simd::map(n, out.data(), kernel, a.data(), b.data() + 17);
    return out;
  };
  const auto one = serially(run_map);
  const auto all = run_map();
  CHECK(std::equal(one.begin(), one.end(), all.begin()));
  std::vector<float> serial(n);
  detail::simd::map_serial(n, serial.data(), kernel, a.data(), b.data() + 17);
  CHECK(std::equal(serial.begin(), serial.end(), all.begin()));

  const double sum_one = serially([&] { return detail::simd::sum_of_squares(n, a.data()); });
  const double sum_all = detail::simd::sum_of_squares(n, a.data());
  CHECK(sum_one == sum_all);
  double exact = 0;
  for (float v : a) exact += static_cast<double>(v) * v;
  CHECK(sum_all == Approx(exact).epsilon(1e-6));

  const auto is_small = [](const auto& v) { return detail::simd::abs(v) <= decltype(detail::simd::abs(v))(7.5f); };
  CHECK(detail::simd::all_of(n, a.data(), is_small));
  std::vector<float> one_bad = a;
  one_bad[n - 3] = 8.0f;
  CHECK_FALSE(detail::simd::all_of(n, one_bad.data(), is_small));
}

TEST_CASE("parallel kernels: a VAE-sized linear layer and Adam step give the same bits serially", "[detail][parallel]") {
  // linear's forward (bias rows, activation), backward (activation mask, bias sums) and
  // Adam's pass all split over threads; none may change a bit
  const auto train = [] {
    Tape<float> tape;
    ParameterStore<float> params(3);
    optim::Adam<float> adam(params, {});
    const std::vector<float> xs = parallel_test_values(256 * 300);
    for (int step = 0; step < 3; ++step) {
      tape.clear();
      const auto x = tape.external(xs.data(), nullptr, {256, 300});
      auto h = dense(params.scope("net"), "h", x, 500, {.activation = Activation::relu});
      h = dense(params.scope("net"), "t", h, 200, {.activation = Activation::tanh});
      h = dense(params.scope("net"), "s", h, 100, {.activation = Activation::sigmoid});
      const auto cost = mean(h * h);
      adam.zero_grad();
      tape.backward(cost);
      adam.step();
    }
    std::vector<float> out;
    for (const auto& block : params.blocks()) out.insert(out.end(), block->values.data(), block->values.data() + block->used);
    return std::pair{out, adam.last_gradient_norm()};
  };
  const auto one = serially(train);
  const auto all = train();
  REQUIRE(one.first.size() == all.first.size());
  CHECK(std::equal(one.first.begin(), one.first.end(), all.first.begin()));
  CHECK(one.second == all.second);
}
