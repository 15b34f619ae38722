#pragma once
// Data-parallel training (as PyTorch's DistributedDataParallel and Horovod do it): each rank
// computes the gradient of its share of the batch, and the ranks' gradients are summed with
// MPI_Iallreduce in buckets started during the reverse sweep. The tape reports each
// parameter's gradient as final as soon as the sweep has passed its last reader
// (Tape::backward's callback); a bucket whose parameters are all final is sent at once, while
// the sweep goes on through the layers below, and a bucket whose sum has arrived is applied by
// the optimiser (Optimizer::RangedStep) while later ones are still on the wire. Every rank
// applies the same summed gradient to the same parameters with the same code, so the replicas
// stay equal bit for bit.

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vaelib/autodiff/tape.hpp"
#include "vaelib/distributed/communicator.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/optim/optimizer.hpp"

namespace vaelib::distributed {

struct DataParallelOptions {
  /// Gradient bytes per allreduce (PyTorch DDP's bucket_cap_mb is 25 MB, for much larger
  /// models): big enough that each message is bandwidth-bound, small enough that the first
  /// bucket leaves while most of the sweep is still to run.
  std::size_t bucket_bytes = std::size_t{1} << 20;
  /// Sum the buckets on a thread of their own (blocking MPI_Allreduce, one bucket after
  /// another), as Horovod's background thread does, rather than with MPI_Iallreduce on the
  /// training thread. An MPI library moves a non-blocking collective on only inside MPI calls,
  /// which the training thread makes only between layers; the thread keeps the messages moving
  /// while the sweep computes. It needs MPI_THREAD_SERIALIZED (Session asks for it) and a core
  /// to run on: on a machine whose cores all compute, it competes with the sweep
  /// (docs/distributed.md has both measured).
  bool communication_thread = false;
};

/// The communication thread of DataParallelOptions::communication_thread: sums the buckets
/// it is given, in order, each with a blocking MPI_Allreduce. Between steps it waits, out of
/// MPI, so the training thread's own MPI calls never overlap its (MPI_THREAD_SERIALIZED).
template <class T>
class BucketSumThread {
 public:
  explicit BucketSumThread(const Communicator& comm) : m_comm(comm) {
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    if (level < MPI_THREAD_SERIALIZED) {
      throw DistributedError("DataParallel: communication_thread needs MPI_THREAD_SERIALIZED, and MPI provides less "
                             "(start MPI with distributed::Session, which asks for it)");
    }
    m_thread = std::thread([this] { run(); });
  }
  BucketSumThread(const BucketSumThread&) = delete;
  BucketSumThread& operator=(const BucketSumThread&) = delete;
  ~BucketSumThread() {
    {
      const std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_ready.notify_all();
    m_thread.join();
  }

  /// A new step over these buckets (each a span of gradient memory), none yet released.
  void begin(std::vector<std::pair<T*, std::size_t>> buckets) {
    const std::lock_guard lock(m_mutex);
    m_buckets = std::move(buckets);
    m_released = 0;
    m_done = 0;
    m_error = MPI_SUCCESS;
  }
  /// Buckets [0, n) may be summed.
  void release(std::size_t n) {
    {
      const std::lock_guard lock(m_mutex);
      m_released = n;
    }
    m_ready.notify_all();
  }
  /// How many buckets, in order, have their sums (without waiting).
  std::size_t done() const { return m_done.load(std::memory_order_acquire); }
  /// Waits until bucket b has its sum; a failed MPI call throws DistributedError naming it.
  void wait(std::size_t b) {
    std::unique_lock lock(m_mutex);
    m_finished.wait(lock, [&] { return m_done.load(std::memory_order_acquire) > b || m_error != MPI_SUCCESS; });
    if (m_error != MPI_SUCCESS) {
      const int code = m_error;
      lock.unlock();
      check_mpi(code, "MPI_Allreduce", "DataParallel: summing a gradient bucket on the communication thread");
    }
  }

 private:
  void run() {
    for (;;) {
      std::pair<T*, std::size_t> bucket;
      {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [&] { return m_stop || (m_error == MPI_SUCCESS && m_done.load() < m_released); });
        if (m_stop) return;
        bucket = m_buckets[m_done.load()];
      }
      const int code = MPI_Allreduce(MPI_IN_PLACE, bucket.first, static_cast<int>(bucket.second), mpi_type<T>(), MPI_SUM,
                                     m_comm.get());
      {
        const std::lock_guard lock(m_mutex);
        if (code != MPI_SUCCESS) m_error = code;
        else m_done.fetch_add(1, std::memory_order_release);
      }
      m_finished.notify_all();
    }
  }

  const Communicator& m_comm;
  std::mutex m_mutex;
  std::condition_variable m_ready, m_finished;
  std::vector<std::pair<T*, std::size_t>> m_buckets;
  std::size_t m_released = 0;
  std::atomic<std::size_t> m_done{0};
  int m_error = MPI_SUCCESS;
  bool m_stop = false;
  std::thread m_thread;  // last: started once everything it reads exists
};

template <class T>
class DataParallel {
 public:
  DataParallel(const Communicator& comm, optim::Optimizer<T>& optimizer, DataParallelOptions options = {})
      : m_comm(comm), m_optimizer(optimizer), m_params(optimizer.parameters()), m_options(options) {
    if (m_options.bucket_bytes < sizeof(T)) {
      throw ArgumentError("DataParallel: bucket_bytes = " + std::to_string(m_options.bucket_bytes) +
                          "; it must hold at least one element");
    }
    if (m_options.communication_thread) m_thread = std::make_unique<BucketSumThread<T>>(m_comm);
  }

  /// Rank 0's parameter values into every rank. Every rank must hold the same parameters (the
  /// same names and shapes, created in the same order): DistributedError otherwise, on every rank.
  /// minimize() calls it at its first step (after the forward pass has created the parameters)
  /// and checks that no rank's values changed, which holds when every rank creates them with the
  /// same seed; call it before the first forward pass when they are made differently.
  void broadcast_parameters() {
    check_same_layout();
    for (const auto& block : m_params.blocks()) {
      m_comm.broadcast(block->values.data(), block->used, "DataParallel: rank 0's parameters to every rank");
    }
    m_synchronised_count = m_params.count();
  }

  /// One data-parallel step: `cost` is this rank's cost, the mean over its `local_n` examples of
  /// a batch of `global_n` over all ranks (Communicator::share splits it). Its gradient is
  /// weighted by local_n / global_n and summed over the ranks, which is the gradient of the
  /// mean over the whole batch, and the optimiser takes its step with it on every rank.
  /// With gradient clipping or the tape's anomaly mode, every bucket is summed after the sweep
  /// and the optimiser's step() follows (both need the whole gradient first).
  void minimize(Tape<T>& tape, const Var<T>& cost, std::size_t local_n, std::size_t global_n) {
    if (global_n == 0 || local_n > global_n) {
      throw ArgumentError("DataParallel::minimize: this rank's " + std::to_string(local_n) + " examples of a batch of " +
                          std::to_string(global_n) + " (expected 0 < local_n <= global_n)");
    }
    if (m_bucketed_count != m_params.count()) {
      if (m_synchronised_count != m_params.count()) synchronise_new_parameters();
      build_buckets();
    }
    prepare_buckets(static_cast<T>(static_cast<double>(local_n) / static_cast<double>(global_n)));
    const auto start = std::chrono::steady_clock::now();
    if (m_optimizer.clips_gradient_norm() || tape.detecting_anomaly()) {
      tape.backward(cost);
      launch_up_to(m_buckets.size());
      wait_all([](std::size_t) {});
      m_optimizer.step_and_zero_grad();
    } else {
      auto step = m_optimizer.begin_ranged_step();
      const auto apply = [&](std::size_t b) { step.update(bucket_grads(b), m_buckets[b].end - m_buckets[b].begin); };
      tape.backward(cost, [&](T* grad, std::size_t size) {
        count_final(grad, size);
        std::size_t ready = m_next_launch;
        while (ready < m_buckets.size() && m_buckets[ready].pending == 0) ++ready;
        launch_up_to(ready);
        progress(apply);  // MPI moves messages on only inside its calls
      });
      const auto sweep_end = std::chrono::steady_clock::now();
      launch_up_to(m_buckets.size());
      wait_all(apply);
      step.finish();
      m_last_wait = std::chrono::duration<double>(std::chrono::steady_clock::now() - sweep_end).count();
    }
    m_last_step = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (m_foreign_gradient) {
      throw ArgumentError("DataParallel::minimize: the cost depends on a parameter outside the optimiser's store, whose "
                          "gradient is not summed over the ranks (register it in the ParameterStore)");
    }
  }

  const Communicator& communicator() const noexcept { return m_comm; }
  /// The buckets of the last step and their gradient bytes.
  std::size_t bucket_count() const noexcept { return m_buckets.size(); }
  std::size_t gradient_bytes() const noexcept {
    std::size_t n = 0;
    for (const Bucket& b : m_buckets) n += (b.end - b.begin) * sizeof(T);
    return n;
  }
  /// Seconds of the last step (sweep, communication and update), and of it the time spent after
  /// the sweep waiting for sums (the communication the sweep did not hide).
  double last_step_seconds() const noexcept { return m_last_step; }
  double last_wait_seconds() const noexcept { return m_last_wait; }

 private:
  struct Bucket {
    std::size_t block = 0, begin = 0, end = 0;  // elements [begin, end) of a block's gradients
    std::size_t parameter_elements = 0;         // of which the sweep reports (no padding)
    std::size_t pending = 0;                    // parameter elements not yet final this step
    bool applied = false;
  };

  T* bucket_grads(std::size_t b) const { return m_params.blocks()[m_buckets[b].block]->grads.data() + m_buckets[b].begin; }

  /// A 64-bit digest of the names, shapes and places of the parameters.
  std::uint64_t layout_digest() const {
    std::uint64_t h = 1469598103934665603ull;
    const auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    for (const auto& p : m_params) {
      for (const char c : p->name) mix(static_cast<unsigned char>(c));
      for (const std::size_t d : p->shape) mix(d);
      mix(p->block);
      mix(p->offset);
    }
    return h;
  }

  void check_same_layout() const {
    std::uint64_t root_digest = layout_digest();
    m_comm.broadcast(&root_digest, 1, "DataParallel: rank 0's parameter layout");
    const int differs = m_comm.max(root_digest != layout_digest() ? 1 : 0, "DataParallel: comparing parameter layouts");
    if (differs != 0) {
      throw DistributedError("DataParallel: the ranks hold different parameters (names, shapes or creation order differ "
                             "from rank 0's; this rank has " + std::to_string(m_params.size()) +
                             "): every rank must build the same model");
    }
  }

  /// Parameters created since the last step (the first forward pass creates them): rank 0's
  /// values to every rank, refusing values that differed (the forward pass has used them).
  void synchronise_new_parameters() {
    std::vector<T> before;
    for (const auto& block : m_params.blocks()) before.insert(before.end(), block->values.data(), block->values.data() + block->used);
    broadcast_parameters();
    std::size_t at = 0;
    int changed = 0;
    for (const auto& block : m_params.blocks()) {
      if (std::memcmp(before.data() + at, block->values.data(), block->used * sizeof(T)) != 0) changed = 1;
      at += block->used;
    }
    if (m_comm.max(changed, "DataParallel: comparing the ranks' parameters") != 0) {
      throw DistributedError("DataParallel: the ranks' parameters differed from rank 0's at the first step (rank " +
                             std::to_string(m_comm.rank()) + (changed ? " among them" : " not among them") +
                             "): create them with the same seed on every rank, or call broadcast_parameters() before "
                             "the first forward pass");
    }
  }

  /// Buckets of whole parameters, in the reverse of their order in memory: the sweep finishes
  /// the last-created layers first, so the first buckets are ready first. Every rank builds
  /// the same buckets (the layouts agree) and starts them in the same order.
  void build_buckets() {
    std::vector<const Parameter<T>*> order;
    for (const auto& p : m_params) order.push_back(p.get());
    std::sort(order.begin(), order.end(), [](const Parameter<T>* a, const Parameter<T>* b) {
      return a->block != b->block ? a->block > b->block : a->offset > b->offset;
    });
    m_buckets.clear();
    const std::size_t limit = std::max<std::size_t>(1, m_options.bucket_bytes / sizeof(T));
    for (const Parameter<T>* p : order) {
      if (p->size == 0) continue;
      Bucket* last = m_buckets.empty() ? nullptr : &m_buckets.back();
      if (last != nullptr && last->block == p->block && last->end - p->offset <= limit) {
        last->begin = p->offset;  // grows downwards, over the padding between the two
      } else {
        m_buckets.push_back({p->block, p->offset, p->offset + p->size, 0, 0, false});
        last = &m_buckets.back();
      }
      last->parameter_elements += p->size;
    }
    m_requests.assign(m_buckets.size(), MPI_REQUEST_NULL);
    m_indices.resize(m_buckets.size());
    m_bucketed_count = m_params.count();
  }

  void prepare_buckets(T weight) {
    for (Bucket& b : m_buckets) {
      b.pending = b.parameter_elements;
      b.applied = false;
    }
    std::fill(m_requests.begin(), m_requests.end(), MPI_REQUEST_NULL);
    if (m_thread) {
      std::vector<std::pair<T*, std::size_t>> spans;
      for (std::size_t b = 0; b < m_buckets.size(); ++b) spans.emplace_back(bucket_grads(b), m_buckets[b].end - m_buckets[b].begin);
      m_thread->begin(std::move(spans));
    }
    m_next_launch = 0;
    m_weight = weight;
    m_foreign_gradient = false;
    m_last_wait = 0;
  }

  /// A stretch of gradient memory the sweep has finished: counted off its buckets.
  void count_final(const T* grad, std::size_t size) {
    const auto blocks = m_params.blocks();
    const std::less<const T*> before;
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      const T* grads = blocks[k]->grads.data();
      if (before(grad, grads) || !before(grad, grads + blocks[k]->used)) continue;
      const auto begin = static_cast<std::size_t>(grad - grads), end = begin + size;
      for (Bucket& b : m_buckets) {
        if (b.block != k || b.end <= begin || end <= b.begin) continue;
        b.pending -= std::min(b.pending, std::min(end, b.end) - std::max(begin, b.begin));
      }
      return;
    }
    m_foreign_gradient = true;
  }

  /// Starts the sums of buckets [m_next_launch, until), in bucket order on every rank.
  void launch_up_to(std::size_t until) {
    for (; m_next_launch < until; ++m_next_launch) {
      const Bucket& b = m_buckets[m_next_launch];
      T* grads = bucket_grads(m_next_launch);
      const std::size_t n = b.end - b.begin;
      if (m_weight != T(1)) {
        for (std::size_t i = 0; i < n; ++i) grads[i] *= m_weight;
      }
      if (!m_thread) {
        m_requests[m_next_launch] = m_comm.start_sum_in_place(grads, n, "DataParallel: summing a gradient bucket over the ranks");
      }
    }
    if (m_thread) m_thread->release(m_next_launch);
  }

  /// Applies the buckets whose sums have arrived, without waiting.
  template <class Apply>
  void progress(Apply&& apply) {
    if (m_thread) {
      for (std::size_t b = 0, done = m_thread->done(); b < done; ++b) finish_bucket(b, apply);
      return;
    }
    if (m_next_launch == 0) return;
    int done = 0;
    check_mpi(MPI_Testsome(static_cast<int>(m_next_launch), m_requests.data(), &done, m_indices.data(), MPI_STATUSES_IGNORE),
              "MPI_Testsome", "DataParallel: checking the gradient sums");
    for (int i = 0; done != MPI_UNDEFINED && i < done; ++i) finish_bucket(static_cast<std::size_t>(m_indices[i]), apply);
  }

  /// Waits for every started sum, applying each as it arrives.
  template <class Apply>
  void wait_all(Apply&& apply) {
    if (m_thread) {
      for (std::size_t b = 0; b < m_buckets.size(); ++b) {
        m_thread->wait(b);
        finish_bucket(b, apply);
      }
      return;
    }
    for (;;) {
      int index = MPI_UNDEFINED;
      check_mpi(MPI_Waitany(static_cast<int>(m_requests.size()), m_requests.data(), &index, MPI_STATUS_IGNORE),
                "MPI_Waitany", "DataParallel: waiting for the gradient sums");
      if (index == MPI_UNDEFINED) break;  // none left
      finish_bucket(static_cast<std::size_t>(index), apply);
    }
    for (std::size_t b = 0; b < m_buckets.size(); ++b) {
      if (!m_buckets[b].applied) finish_bucket(b, apply);  // a bucket of no elements on the wire
    }
  }

  template <class Apply>
  void finish_bucket(std::size_t b, Apply&& apply) {
    if (m_buckets[b].applied) return;
    m_buckets[b].applied = true;
    apply(b);
  }

  const Communicator& m_comm;
  optim::Optimizer<T>& m_optimizer;
  ParameterStore<T>& m_params;
  DataParallelOptions m_options;
  std::size_t m_synchronised_count = static_cast<std::size_t>(-1);  // parameters broadcast so far
  std::size_t m_bucketed_count = static_cast<std::size_t>(-1);       // parameters the buckets cover
  std::vector<Bucket> m_buckets;
  std::vector<MPI_Request> m_requests;
  std::unique_ptr<BucketSumThread<T>> m_thread;  // with communication_thread
  std::vector<int> m_indices;
  std::size_t m_next_launch = 0;
  T m_weight = T(1);
  bool m_foreign_gradient = false;
  double m_last_step = 0, m_last_wait = 0;
};

}  // namespace vaelib::distributed
