#pragma once
// vaelib::distributed, the optional MPI component (target vaelib::distributed, found with
// find_package(MPI)): data-parallel training with bucketed allreduce overlapped with the
// reverse sweep, evaluation split over ranks, and how a failed rank ends the job. The core
// (vaelib/vae.hpp) never includes MPI. Running it: docs/distributed.md.

#include "vaelib/distributed/communicator.hpp"
#include "vaelib/distributed/data_parallel.hpp"
#include "vaelib/distributed/evaluation.hpp"
#include "vaelib/distributed/job.hpp"
