// Fits w in mean((w - y)^2) over a batch of 4 targets split over the ranks: every rank ends
// with the same w, the whole batch's mean.
#include <cstdio>
#include <vaelib/distributed.hpp>
#include <vaelib/vae.hpp>

int main(int argc, char** argv) {
  vaelib::distributed::Session mpi(argc, argv);
  const vaelib::distributed::Communicator comm;
  return vaelib::distributed::run_rank(comm, "distributed_consumer", [&] {
    const float targets[4] = {1.0f, 2.0f, 3.0f, 6.0f};
    vaelib::ParameterStore<float> params(1);
    vaelib::optim::SGD<float> sgd(params, {.learning_rate = 0.25});
    vaelib::distributed::DataParallel<float> parallel(comm, sgd);
    const auto mine = comm.share(4);
    vaelib::Tape<float> tape;
    auto& w = params.get_or_create("w", {1}, vaelib::init::zeros<float>());
    for (int step = 0; step < 50; ++step) {
      tape.clear();
      const auto y = tape.external(targets + mine.begin, nullptr, {mine.size()});
      parallel.minimize(tape, vaelib::mean(vaelib::square(w.on(tape) - y)), mine.size(), 4);
    }
    std::printf("rank %d of %d: w = %.4f\n", comm.rank(), comm.size(), w.value[0]);
    return 0;
  });
}
