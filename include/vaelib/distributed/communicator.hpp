#pragma once
// The MPI layer of vaelib::distributed (the core never includes MPI): the process's MPI
// session, a communicator with the few collectives data-parallel training and distributed
// evaluation need, each MPI error turned into a DistributedError naming the call, and a
// rank's share of n items. MPI is OpenMPI from Debian (libopenmpi-dev); any MPI-3 works.

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "vaelib/distributed/share.hpp"
#include "vaelib/error.hpp"

namespace vaelib::distributed {

/// An MPI call failed, or the ranks disagree (different parameters at the start, ...).
class DistributedError : public Error {
 public:
  using Error::Error;
};

/// Throws DistributedError naming the MPI call and what it was doing when `code` is not MPI_SUCCESS.
inline void check_mpi(int code, const char* call, const std::string& what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw DistributedError(std::string(call) + " failed (" + what + "): " + std::string(text, static_cast<std::size_t>(length)));
}

/// The MPI datatype of float, double, std::uint64_t and int.
template <class T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
  else if constexpr (std::is_same_v<T, int>) return MPI_INT;
  else static_assert(sizeof(T) == 0, "mpi_type: float, double, std::uint64_t or int");
}

/// MPI for the life of the process: MPI_Init_thread at construction, MPI_Finalize at
/// destruction. It asks for MPI_THREAD_SERIALIZED: one thread at a time calls MPI, the
/// training thread or DataParallel's communication thread (the BLAS's threads never do).
/// One per process, made first in main(), before any other thread starts.
class Session {
 public:
  Session(int& argc, char**& argv) { start(&argc, &argv); }
  /// Without the command line (MPI-2 and later allow it), e.g. once options are parsed.
  Session() { start(nullptr, nullptr); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

 private:
  static void start(int* argc, char*** argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) throw DistributedError("distributed::Session: MPI is already initialised in this process");
    int provided = 0;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread", "starting MPI");
  }
};

/// A duplicate of MPI_COMM_WORLD (vaelib's messages never mix with the user's own), whose
/// errors are returned to vaelib rather than aborting, so each becomes a DistributedError.
class Communicator {
 public:
  Communicator() : Communicator(MPI_COMM_WORLD) {}
  explicit Communicator(MPI_Comm parent) {
    check_mpi(MPI_Comm_dup(parent, &m_comm), "MPI_Comm_dup", "duplicating the communicator");
    MPI_Comm_set_errhandler(m_comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(m_comm, &m_rank);
    MPI_Comm_size(m_comm, &m_size);
  }
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  ~Communicator() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&m_comm);
  }

  int rank() const noexcept { return m_rank; }
  int size() const noexcept { return m_size; }
  bool is_root() const noexcept { return m_rank == 0; }
  MPI_Comm get() const noexcept { return m_comm; }
  /// This rank's share of n items (share_of).
  Share share(std::size_t n) const { return share_of(n, m_rank, m_size); }

  /// Rank 0's n values into every rank's `data`.
  template <class T>
  void broadcast(T* data, std::size_t n, const char* what) const {
    check_mpi(MPI_Bcast(data, to_count(n, what), mpi_type<T>(), 0, m_comm), "MPI_Bcast", what);
  }
  /// Element-wise sums over the ranks, in place on every rank.
  template <class T>
  void sum_in_place(T* data, std::size_t n, const char* what) const {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, data, to_count(n, what), mpi_type<T>(), MPI_SUM, m_comm), "MPI_Allreduce", what);
  }
  template <class T>
  T sum(T value, const char* what) const {
    sum_in_place(&value, 1, what);
    return value;
  }
  template <class T>
  T max(T value, const char* what) const {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, &value, 1, mpi_type<T>(), MPI_MAX, m_comm), "MPI_Allreduce", what);
    return value;
  }
  /// Starts an in-place sum over the ranks (MPI_Iallreduce); every rank must start the same
  /// reductions in the same order.
  template <class T>
  MPI_Request start_sum_in_place(T* data, std::size_t n, const char* what) const {
    MPI_Request request = MPI_REQUEST_NULL;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data, to_count(n, what), mpi_type<T>(), MPI_SUM, m_comm, &request),
              "MPI_Iallreduce", what);
    return request;
  }
  /// Every rank's `local` values, concatenated in rank order, on rank 0 (empty elsewhere).
  std::vector<double> gather_to_root(const std::vector<double>& local, const char* what) const {
    const int count = to_count(local.size(), what);
    std::vector<int> counts(is_root() ? static_cast<std::size_t>(m_size) : 0), offsets(counts.size());
    check_mpi(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, m_comm), "MPI_Gather", what);
    std::vector<double> all;
    if (is_root()) {
      std::size_t total = 0;
      for (std::size_t r = 0; r < counts.size(); ++r) {
        offsets[r] = static_cast<int>(total);
        total += static_cast<std::size_t>(counts[r]);
      }
      all.resize(total);
      to_count(total, what);
    }
    check_mpi(MPI_Gatherv(local.data(), count, MPI_DOUBLE, all.data(), counts.data(), offsets.data(), MPI_DOUBLE, 0, m_comm),
              "MPI_Gatherv", what);
    return all;
  }
  void barrier(const char* what) const { check_mpi(MPI_Barrier(m_comm), "MPI_Barrier", what); }

 private:
  static int to_count(std::size_t n, const char* what) {
    if (n > static_cast<std::size_t>(INT32_MAX)) {
      throw DistributedError(std::string(what) + ": " + std::to_string(n) + " elements in one message (MPI counts are int)");
    }
    return static_cast<int>(n);
  }
  MPI_Comm m_comm = MPI_COMM_NULL;
  int m_rank = 0, m_size = 1;
};

}  // namespace vaelib::distributed
