#pragma once
// How a rank's failure ends a distributed job. A rank that throws cannot just return: the
// others would wait forever in their next collective. So the failing rank says what went wrong,
// naming itself, and calls MPI_Abort, which makes mpirun end every rank of the job; mpirun
// then reports which rank aborted and with what code. A rank that dies without a word (killed,
// out of memory) is caught by mpirun the same way. Either way no rank is left writing: the
// checkpoint, written by rank 0 alone and atomically (io::save_checkpoint), is the last
// complete one.

#include <mpi.h>

#include <cstdio>
#include <exception>

#include "vaelib/distributed/communicator.hpp"

namespace vaelib::distributed {

/// The exit code MPI_Abort passes to mpirun when a rank fails.
inline constexpr int failed_rank_exit_code = 3;

/// Runs `body()` (returning the process's exit status) on this rank. An exception from it
/// prints "<program>: rank r of n failed: <what>; ending the job on every rank" on this rank's
/// stderr and aborts the job (MPI_Abort with failed_rank_exit_code).
template <class Body>
int run_rank(const Communicator& comm, const char* program, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: rank %d of %d failed: %s; ending the job on every rank\n", program, comm.rank(), comm.size(),
                 e.what());
    std::fflush(stderr);
    MPI_Abort(comm.get(), failed_rank_exit_code);
    return failed_rank_exit_code;  // MPI_Abort does not return
  }
}

}  // namespace vaelib::distributed
