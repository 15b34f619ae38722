// Stands in for MPI's header where the core must build without it (see zlib.h beside it).
#error "mpi.h included: the core (vaelib::vaelib, vaelib/vae.hpp) must not need MPI; that belongs to vaelib::distributed"
