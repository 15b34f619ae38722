#pragma once
// The examples' --distributed (mpirun -np N <example> --distributed ...): data-parallel
// training on MPI ranks (vaelib::distributed). Every rank reads the same data and shuffles it
// with the same generator; each takes its share of every batch, draws its noise from a stream of
// its own (per rank and epoch, so a resumed run draws what an uninterrupted one would), and the
// gradients are summed over the ranks in buckets during the sweep. Rank 0 alone prints, saves
// the checkpoint (atomically) and writes metrics and pictures; a checkpoint resumes with any
// number of ranks. The test-set evaluation is split over the ranks. Without --distributed, or
// in a build without MPI (VAELIB_HAVE_MPI unset), this is one rank and no MPI is touched.

#include <errno.h>  // program_invocation_short_name (glibc)

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vaelib/vae.hpp>
#include <vector>

#include "interruption.hpp"
#include "vaelib/distributed/share.hpp"  // no MPI: one rank splits the same way

#if VAELIB_HAVE_MPI
#include <vaelib/distributed.hpp>
#endif

namespace vaelib::examples {

#if VAELIB_HAVE_MPI
namespace detail {
/// MPI for the rest of the process, started by the first distributed Ranks: the session outlives
/// every object of the example, so an error on the way out can still end the job.
struct MpiJob {
  distributed::Session session;
  distributed::Communicator comm;
};
inline std::unique_ptr<MpiJob>& mpi_job() {
  static std::unique_ptr<MpiJob> job;
  return job;
}
}  // namespace detail
#endif

/// Runs an example's body; an exception ends it with "program: message" on stderr and exit
/// status 1 (the message names what was wrong: the option, the file, the shapes). With
/// --distributed the message names the rank, and the whole job ends (distributed::run_rank):
/// the other ranks would otherwise wait for this one forever.
template <class Body>
int report_errors(const char* program, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
#if VAELIB_HAVE_MPI
    if (const auto& job = detail::mpi_job()) {
      return distributed::run_rank(job->comm, program, [&]() -> int { throw; });
    }
#endif
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

class Ranks {
 public:
  /// One rank (the plain path), or with `distributed` this process's rank of the MPI job
  /// (MPI started by the first such Ranks; rank 0 keeps stdout, the others write nothing
  /// there). In a build without MPI, `distributed` is refused with the reason.
  explicit Ranks(bool distributed = false) {
    if (!distributed) return;
#if VAELIB_HAVE_MPI
    auto& job = detail::mpi_job();
    if (!job) {
      job = std::make_unique<detail::MpiJob>();
      end_rank_on_signal(program_invocation_short_name, job->comm.rank(), job->comm.size());
      if (job->comm.rank() != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) {
        throw ArgumentError("--distributed: rank " + std::to_string(job->comm.rank()) + " could not silence its stdout");
      }
    }
    m_comm = &job->comm;
#else
    throw ArgumentError("--distributed: this build has no MPI (install libopenmpi-dev and openmpi-bin, then configure "
                        "again; CMake reports 'vaelib: MPI not found' when it is missing)");
#endif
  }

#if VAELIB_HAVE_MPI
  bool distributed() const noexcept { return m_comm != nullptr; }
  int rank() const noexcept { return m_comm ? m_comm->rank() : 0; }
  int size() const noexcept { return m_comm ? m_comm->size() : 1; }
#else
  bool distributed() const noexcept { return false; }
  int rank() const noexcept { return 0; }
  int size() const noexcept { return 1; }
#endif
  bool is_root() const noexcept { return rank() == 0; }

  /// [begin, end) of n items for this rank (all of them on one rank).
  distributed::Share share(std::size_t n) const { return distributed::share_of(n, rank(), size()); }

  /// The sum of `value` over the ranks.
  double sum(double value) const {
#if VAELIB_HAVE_MPI
    if (m_comm) return m_comm->sum(value, "summing a metric over the ranks");
#endif
    return value;
  }

  /// Every rank's values in rank order, on rank 0 (the others get nothing); `local` itself on one rank.
  std::vector<double> gather_to_root(const std::vector<double>& local) const {
#if VAELIB_HAVE_MPI
    if (m_comm) return m_comm->gather_to_root(local, "gathering per-image values on rank 0");
#endif
    return local;
  }

  /// Refuses a batch smaller than the number of ranks (a rank would have no examples).
  void check_batch_size(std::size_t batch_size) const {
    if (batch_size < static_cast<std::size_t>(size())) {
      throw ArgumentError("--batch-size " + std::to_string(batch_size) + " is smaller than the " + std::to_string(size()) +
                          " ranks: each rank needs at least one image of every batch");
    }
  }

  /// The generator of binarisation and sampling noise: `shared` itself on one rank (the plain
  /// path, unchanged), else this rank's own, which begin_epoch sets.
  Rng& noise(Rng& shared) { return distributed() ? m_noise : shared; }
  /// With --distributed, this rank's noise for `epoch` (or a later stage, such as the
  /// evaluation): a stream of the seed named by the rank and the epoch, so a resumed run
  /// draws what an uninterrupted one would.
  void begin_epoch(const Rng& shared, std::size_t epoch) {
    if (distributed()) m_noise = shared.stream("rank " + std::to_string(rank()) + " epoch " + std::to_string(epoch));
  }

  /// One training step from this rank's cost, the mean over its `local_n` images of a batch of
  /// `global_n`: Optimizer::minimize on one rank, DataParallel::minimize on several.
  void minimize(optim::Optimizer<float>& optimizer, Tape<float>& tape, const Var<float>& cost, std::size_t local_n,
                std::size_t global_n) {
#if VAELIB_HAVE_MPI
    if (m_comm) {
      if (!m_parallel) m_parallel = std::make_unique<distributed::DataParallel<float>>(*m_comm, optimizer);
      m_parallel->minimize(tape, cost, local_n, global_n);
      return;
    }
#endif
    (void)local_n;
    (void)global_n;
    optimizer.minimize(tape, cost);
  }

 private:
#if VAELIB_HAVE_MPI
  const distributed::Communicator* m_comm = nullptr;
  std::unique_ptr<distributed::DataParallel<float>> m_parallel;
#endif
  Rng m_noise;
};

}  // namespace vaelib::examples
