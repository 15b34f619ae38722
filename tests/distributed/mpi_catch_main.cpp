// Catch2's main for the tests run under mpirun: MPI for the whole run, every rank running the
// same test cases in the same order (their collectives must match), and a failure on any rank
// failing the run (mpirun returns the worst exit status).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <vaelib/distributed/communicator.hpp>

int main(int argc, char** argv) {
  vaelib::distributed::Session mpi(argc, argv);
  return Catch::Session().run(argc, argv);
}
