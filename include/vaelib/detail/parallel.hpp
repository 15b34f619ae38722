#pragma once
// parallel_for: elementwise work split over the BLAS's own threads. DESIGN rule 5 asks for
// one threading layer: OpenBLAS's worker threads run the GEMMs and, between GEMMs, spin
// waiting for the next one, so a second thread pool of ours would fight them for the cores.
// Debian's OpenBLAS (pthread build) exports `gotoblas_pthread`, which runs a function on its
// workers and the calling thread and waits for all of them: vaelib hands its elementwise
// kernels to the same workers, which are already awake.
//
// Results never depend on the split: every caller writes each output element from the same
// inputs in the same order whatever the number of threads (reductions split over outputs,
// or combine fixed-size partials in a fixed order). With any other BLAS, a single OpenBLAS
// thread (OPENBLAS_NUM_THREADS=1), a small range or a call from inside a task, the work runs
// on the calling thread.

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define VAELIB_OPENBLAS_THREADS 1
// Weak: null unless the BLAS is a threaded OpenBLAS (pthread server).
extern "C" {
int gotoblas_pthread(int numthreads, void* function, void* args, int stride) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
int openblas_get_parallel(void) __attribute__((weak));
void openblas_set_num_threads(int num_threads) __attribute__((weak));
}
#else
#define VAELIB_OPENBLAS_THREADS 0
#endif

namespace vaelib::detail {

/// Elements a task gets at least: below this, handing work to another thread costs more
/// than it saves (a grain of a cheap elementwise pass takes about as long as a hand-off; the
/// figures: docs/performance.md, "Figures behind the code's choices").
inline constexpr std::size_t parallel_grain = 16384;

/// The grain, in items, for items of `elements` elements each (rows of a matrix, say).
inline constexpr std::size_t grain_for(std::size_t elements) {
  return std::max<std::size_t>(1, parallel_grain / std::max<std::size_t>(elements, 1));
}

namespace parallel_impl {

inline constexpr int max_threads = 16;

inline bool& inside_task() {
  thread_local bool inside = false;
  return inside;
}

/// True inside a SerialRegion (inside_task() is then true as well).
inline bool& in_serial_region() {
  thread_local bool serial = false;
  return serial;
}

/// How many threads OpenBLAS runs its GEMMs on (1 if it is not a pthread OpenBLAS).
inline int blas_threads() {
#if VAELIB_OPENBLAS_THREADS
  if (gotoblas_pthread == nullptr || openblas_get_num_threads == nullptr) return 1;
  // openblas_get_parallel: 1 for the pthread server, 2 for the OpenMP build (its threads
  // are OpenMP's, which gotoblas_pthread does not drive); absent in old versions.
  if (openblas_get_parallel != nullptr && openblas_get_parallel() != 1) return 1;
  return std::clamp(openblas_get_num_threads(), 1, max_threads);
#else
  return 1;
#endif
}

struct Task {
  void (*run)(const void* body, std::size_t begin, std::size_t end);
  const void* body;
  std::size_t begin, end;
  unsigned int mxcsr;  // the caller's floating-point mode (denormal flushing), for the workers
  std::exception_ptr error;
};

inline void run_task(void* arg) {
  Task& task = *static_cast<Task*>(arg);
  bool& inside = inside_task();
  const bool was_inside = inside;
  inside = true;
#if defined(__SSE__)
  const unsigned int own_mxcsr = _mm_getcsr();
  if (own_mxcsr != task.mxcsr) _mm_setcsr(task.mxcsr);
#endif
  try {
    task.run(task.body, task.begin, task.end);
  } catch (...) {
    task.error = std::current_exception();
  }
#if defined(__SSE__)
  if (own_mxcsr != task.mxcsr) _mm_setcsr(own_mxcsr);
#endif
  inside = was_inside;
}

/// parallel_for on at most `available` threads; with `on_caller`, the same ranges one after
/// the other on the calling thread.
template <class Body>
void split(int available, std::size_t n, std::size_t grain, const Body& body, std::size_t align,
           bool on_caller = false) {
  const std::size_t by_size = grain == 0 ? n : n / grain;
  const int threads = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(available), by_size));
  if (threads <= 1) {
    if (n > 0) body(std::size_t{0}, n);
    return;
  }
  const std::size_t per = (n / static_cast<std::size_t>(threads) + align - 1) / align * align;
  // f(index, begin, end) for each range: `per` long, the last one taking the rest
  const auto for_each_range = [&](const auto& f) {
    std::size_t begin = 0;
    for (int index = 0; begin < n && index < threads; ++index) {
      const std::size_t end = index + 1 == threads ? n : std::min(n, begin + per);
      f(index, begin, end);
      begin = end;
    }
  };
  if (on_caller) {
    for_each_range([&](int, std::size_t begin, std::size_t end) { body(begin, end); });
    return;
  }
#if VAELIB_OPENBLAS_THREADS
  Task tasks[max_threads];
  const auto run = [](const void* b, std::size_t begin, std::size_t end) { (*static_cast<const Body*>(b))(begin, end); };
#if defined(__SSE__)
  const unsigned int mxcsr = _mm_getcsr();
#else
  const unsigned int mxcsr = 0;
#endif
  int used = 0;
  for_each_range([&](int index, std::size_t begin, std::size_t end) {
    tasks[index] = {run, &body, begin, end, mxcsr, nullptr};
    used = index + 1;
  });
  gotoblas_pthread(used, reinterpret_cast<void*>(&run_task), tasks, static_cast<int>(sizeof(Task)));
  for (int t = 0; t < used; ++t)
    if (tasks[t].error) std::rethrow_exception(tasks[t].error);
#endif
}

/// Held by the thread whose split runs with the BLAS single-threaded (the setting is global).
inline std::mutex& serial_blas_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace parallel_impl

/// Calls body(begin, end) over a split of [0, n) into contiguous ranges, each at least
/// `grain` long and starting at a multiple of `align`, on the BLAS's threads; returns when
/// all are done. An exception from a range is rethrown here (the first one, by range).
template <class Body>
void parallel_for(std::size_t n, std::size_t grain, const Body& body, std::size_t align = 16) {
  parallel_impl::split(parallel_impl::inside_task() ? 1 : parallel_impl::blas_threads(), n, grain, body, align);
}

/// parallel_for whose ranges may each call the BLAS: OpenBLAS is set to one thread while
/// they run (a range's GEMM then stays on the thread running it, instead of handing work
/// to the threads that run the other ranges), and set back after. The ranges follow from n
/// and the BLAS's thread count alone; in a SerialRegion the same ranges run one after the
/// other on the caller, so the results are the same bits. Returns false without running
/// anything where it cannot split: another BLAS, one thread, fewer than two grains, inside
/// a task, or while another thread of the program is in such a split (the setting is
/// global). The caller then makes its one BLAS call itself.
template <class Body>
bool parallel_for_with_serial_blas(std::size_t n, std::size_t grain, const Body& body, std::size_t align = 16) {
#if VAELIB_OPENBLAS_THREADS
  const int threads = parallel_impl::blas_threads();
  const bool on_caller = parallel_impl::in_serial_region();
  if (threads <= 1 || openblas_set_num_threads == nullptr || n / std::max<std::size_t>(grain, 1) < 2) return false;
  if (parallel_impl::inside_task() && !on_caller) return false;
  std::unique_lock<std::mutex> lock(parallel_impl::serial_blas_mutex(), std::try_to_lock);
  if (!lock.owns_lock()) return false;
  struct SetBack {
    int threads;
    ~SetBack() { openblas_set_num_threads(threads); }
  } set_back{threads};
  openblas_set_num_threads(1);
  parallel_impl::split(threads, n, grain, body, align, on_caller);
  return true;
#else
  (void)n, (void)grain, (void)body, (void)align;
  return false;
#endif
}

/// The number of threads parallel_for may use (1 when it runs everything on the caller).
inline int parallel_threads() { return parallel_impl::blas_threads(); }

/// While alive, parallel_for on this thread runs everything on it, and a GEMM split by rows
/// runs its ranges one after the other on it: for comparing a kernel's split run with its
/// serial one.
class SerialRegion {
 public:
  SerialRegion() : m_was_inside(parallel_impl::inside_task()), m_was_serial(parallel_impl::in_serial_region()) {
    parallel_impl::inside_task() = true;
    parallel_impl::in_serial_region() = true;
  }
  ~SerialRegion() {
    parallel_impl::inside_task() = m_was_inside;
    parallel_impl::in_serial_region() = m_was_serial;
  }
  SerialRegion(const SerialRegion&) = delete;
  SerialRegion& operator=(const SerialRegion&) = delete;

 private:
  bool m_was_inside, m_was_serial;
};

}  // namespace vaelib::detail
