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
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vaelib/vae.hpp>

#include "interruption.hpp"

#if VAELIB_HAVE_MPI
#include <vaelib/distributed.hpp>
#endif

namespace vaelib::examples {

/// Runs an example's body; an exception ends it with "program: message" on stderr and exit
/// status 1 (the message names what was wrong: the option, the file, the shapes).
template <class Body>
int report_errors(const char* program, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

class Ranks {
 public:
  /// One rank: the plain path.
  Ranks() = default;

  /// With `distributed`, starts MPI (after the options are parsed: argc and argv are only
  /// passed on); rank 0 keeps stdout, the others write nothing there. In a build without MPI,
  /// --distributed is refused with the reason.
  Ranks(bool distributed, int& argc, char**& argv) {
    if (!distributed) return;
#if VAELIB_HAVE_MPI
    m_mpi = std::make_unique<Mpi>(argc, argv);
    end_rank_on_signal(program_invocation_short_name, rank(), size());
    if (!is_root() && std::freopen("/dev/null", "w", stdout) == nullptr) {
      throw ArgumentError("--distributed: rank " + std::to_string(rank()) + " could not silence its stdout");
    }
#else
    (void)argc;
    (void)argv;
    throw ArgumentError("--distributed: this build has no MPI (install libopenmpi-dev and openmpi-bin, then configure "
                        "again; CMake reports 'vaelib: MPI not found' when it is missing)");
#endif
  }

  bool distributed() const noexcept { return m_mpi != nullptr; }
#if VAELIB_HAVE_MPI
  int rank() const noexcept { return m_mpi ? m_mpi->comm.rank() : 0; }
  int size() const noexcept { return m_mpi ? m_mpi->comm.size() : 1; }
#else
  int rank() const noexcept { return 0; }
  int size() const noexcept { return 1; }
#endif
  bool is_root() const noexcept { return rank() == 0; }

  /// [begin, end) of n items for this rank (all of them on one rank).
  std::pair<std::size_t, std::size_t> share(std::size_t n) const {
    const auto r = static_cast<std::size_t>(rank()), s = static_cast<std::size_t>(size());
    const std::size_t base = n / s, extra = n % s;
    const std::size_t begin = r * base + std::min(r, extra);
    return {begin, begin + base + (r < extra ? 1 : 0)};
  }

  /// The sum of `value` over the ranks.
  double sum(double value) const {
#if VAELIB_HAVE_MPI
    if (m_mpi) return m_mpi->comm.sum(value, "summing a metric over the ranks");
#endif
    return value;
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
    if (m_mpi) {
      if (!m_mpi->parallel) m_mpi->parallel = std::make_unique<distributed::DataParallel<float>>(m_mpi->comm, optimizer);
      m_mpi->parallel->minimize(tape, cost, local_n, global_n);
      return;
    }
#endif
    (void)local_n;
    (void)global_n;
    optimizer.minimize(tape, cost);
  }

  /// Runs the example's body: errors end the whole job on several ranks (distributed::run_rank),
  /// else they are printed and give exit status 1.
  template <class Body>
  int run(const char* program, Body&& body) {
#if VAELIB_HAVE_MPI
    if (m_mpi) return distributed::run_rank(m_mpi->comm, program, std::forward<Body>(body));
#endif
    return report_errors(program, std::forward<Body>(body));
  }

 private:
#if VAELIB_HAVE_MPI
  struct Mpi {
    Mpi(int& argc, char**& argv) : session(argc, argv) {}
    distributed::Session session;
    distributed::Communicator comm;
    std::unique_ptr<distributed::DataParallel<float>> parallel;
  };
  std::unique_ptr<Mpi> m_mpi;
#else
  std::unique_ptr<int> m_mpi;  // never set: one rank
#endif
  Rng m_noise;
};

/// main()'s last line for an example with --distributed: sets up its ranks (`distributed`
/// parsed from the command line first) and runs `body(ranks)` under Ranks::run.
template <class Body>
int run_example(const char* program, bool distributed, int& argc, char**& argv, Body&& body) {
  std::unique_ptr<Ranks> ranks;
  const int status = report_errors(program, [&] {
    ranks = std::make_unique<Ranks>(distributed, argc, argv);
    return 0;
  });
  if (status != 0) return status;
  return ranks->run(program, [&] { return body(*ranks); });
}

}  // namespace vaelib::examples
