// DataParallel, run by ctest under mpirun with 1 and 2 ranks (tests/distributed/CMakeLists.txt):
// every rank builds the same small network and batch, trains its share, and checks itself
// against a reference it computes alone, without MPI.

#include <catch2/catch.hpp>
#include <cstring>
#include <vaelib/distributed.hpp>
#include <vaelib/vae.hpp>
#include <vector>

namespace {

using vaelib::Activation;
using vaelib::ParameterStore;
using vaelib::Tape;
using vaelib::Var;
using vaelib::distributed::Communicator;
using vaelib::distributed::DataParallel;
using vaelib::distributed::DistributedError;
using vaelib::distributed::Share;

constexpr std::size_t n_in = 6, n_out = 3;

/// The same batch on every rank: inputs [n, 6] and targets [n, 3].
struct Batch {
  std::vector<float> x, y;
  std::size_t n = 0;
};
Batch make_batch(std::size_t n, std::uint64_t seed) {
  vaelib::Rng rng(seed);
  Batch b{std::vector<float>(n * n_in), std::vector<float>(n * n_out), n};
  for (float& v : b.x) v = rng.normal<float>();
  for (float& v : b.y) v = rng.normal<float>();
  return b;
}

/// A 6-32-32-3 tanh network (three layers: several gradient buckets), created with `seed`.
struct Network {
  explicit Network(std::uint64_t seed) : params(seed), adam(params, {.learning_rate = 0.01}) {}
  explicit Network(std::uint64_t seed, vaelib::optim::AdamOptions options) : params(seed), adam(params, options) {}
  /// Mean squared error over rows [s.begin, s.end) of the batch, recorded on the cleared tape.
  Var<float> cost(const Batch& b, Share s) {
    tape.clear();
    const auto x = tape.external(b.x.data() + s.begin * n_in, nullptr, {s.size(), n_in});
    const auto y = tape.external(b.y.data() + s.begin * n_out, nullptr, {s.size(), n_out});
    const auto scope = params.scope("net");
    auto h = vaelib::dense(scope, "h1", x, 32, {.activation = Activation::tanh});
    h = vaelib::dense(scope, "h2", h, 32, {.activation = Activation::tanh});
    const auto out = vaelib::dense(scope, "out", h, n_out);
    return vaelib::mean(vaelib::sum(vaelib::square(out - y), {1}));
  }
  std::vector<float> values() const {
    std::vector<float> all;
    for (const auto& block : params.blocks()) all.insert(all.end(), block->values.data(), block->values.data() + block->used);
    return all;
  }
  Tape<float> tape;
  ParameterStore<float> params;
  vaelib::optim::Adam<float> adam;
};

float max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

/// Whether every rank holds rank 0's `values` bit for bit.
bool replicas_equal(const Communicator& comm, const std::vector<float>& values) {
  std::vector<float> root = values;
  comm.broadcast(root.data(), root.size(), "test: rank 0's values");
  const int differs = std::memcmp(root.data(), values.data(), values.size() * sizeof(float)) != 0 ? 1 : 0;
  return comm.max(differs, "test: comparing replicas") == 0;
}

/// `steps` data-parallel steps on the batch, this rank taking its share.
std::vector<float> train_distributed(const Communicator& comm, const Batch& b, std::size_t steps,
                                     vaelib::distributed::DataParallelOptions options = {},
                                     vaelib::optim::AdamOptions adam = {.learning_rate = 0.01}) {
  Network net(7, adam);
  DataParallel<float> parallel(comm, net.adam, options);
  const Share mine = comm.share(b.n);
  for (std::size_t t = 0; t < steps; ++t) parallel.minimize(net.tape, net.cost(b, mine), mine.size(), b.n);
  return net.values();
}

}  // namespace

TEST_CASE("data_parallel: ranks with shares of the batch give one process's parameters with the whole batch", "[distributed]") {
  const Communicator comm;
  for (const std::size_t n : {std::size_t{8}, std::size_t{7}}) {  // equal shares, and 4 + 3 on two ranks
    CAPTURE(n, comm.size());
    const Batch b = make_batch(n, 11);
    const auto parallel = train_distributed(comm, b, 5);
    Network alone(7);
    for (int t = 0; t < 5; ++t) alone.adam.minimize(alone.tape, alone.cost(b, {0, n}));
    CHECK(max_difference(parallel, alone.values()) < 2e-6f);
    CHECK(replicas_equal(comm, parallel));
  }
}

TEST_CASE("data_parallel: bit for bit the weighted sum of the shares' gradients, whatever the buckets", "[distributed]") {
  // With one or two ranks the reduction adds at most two numbers, which is exact in any order,
  // so the result is the emulation below to the bit.
  const Communicator comm;
  if (comm.size() > 2) return;
  const Batch b = make_batch(8, 12);
  Network emulated(7);
  for (int t = 0; t < 4; ++t) {
    std::vector<float> total;
    for (int r = 0; r < comm.size(); ++r) {
      const Share s = vaelib::distributed::share_of(b.n, r, comm.size());
      emulated.tape.backward(emulated.cost(b, s));
      const float weight = static_cast<float>(static_cast<double>(s.size()) / static_cast<double>(b.n));
      std::vector<float> g;
      for (const auto& block : emulated.params.blocks()) {
        for (std::size_t i = 0; i < block->used; ++i) g.push_back(weight == 1.0f ? block->grads.data()[i] : block->grads.data()[i] * weight);
      }
      if (total.empty()) total = g;
      else for (std::size_t i = 0; i < g.size(); ++i) total[i] += g[i];
      emulated.params.zero_grad();
    }
    std::size_t at = 0;
    for (const auto& block : emulated.params.blocks()) {
      std::copy(total.begin() + static_cast<std::ptrdiff_t>(at), total.begin() + static_cast<std::ptrdiff_t>(at + block->used),
                block->grads.data());
      at += block->used;
    }
    emulated.adam.step_and_zero_grad();
  }
  for (const bool thread : {false, true}) {  // MPI_Iallreduce on this thread, or a communication thread
    for (const std::size_t bucket_bytes : {std::size_t{64}, std::size_t{4096}, std::size_t{1} << 20}) {
      CAPTURE(bucket_bytes, thread);
      const auto parallel = train_distributed(comm, b, 4, {.bucket_bytes = bucket_bytes, .communication_thread = thread});
      CHECK(std::memcmp(parallel.data(), emulated.values().data(), parallel.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("data_parallel: buckets follow the sweep, several per network, and cover every gradient", "[distributed]") {
  const Communicator comm;
  Network net(7);
  const Batch b = make_batch(4, 13);
  DataParallel<float> parallel(comm, net.adam, {.bucket_bytes = 1024});
  const Share mine = comm.share(b.n);
  parallel.minimize(net.tape, net.cost(b, mine), mine.size(), b.n);
  CHECK(parallel.bucket_count() >= 3);  // 6x32, 32x32 and 32x3 weights of 4-byte floats, 1 KiB each
  std::size_t parameter_bytes = 0;
  for (const auto& p : net.params) parameter_bytes += p->size * sizeof(float);
  CHECK(parallel.gradient_bytes() >= parameter_bytes);
  CHECK(net.adam.steps() == 1);
  CHECK(parallel.last_wait_seconds() <= parallel.last_step_seconds());
}

TEST_CASE("data_parallel: with gradient clipping the step waits for the whole sum and clips its norm", "[distributed]") {
  const Communicator comm;
  const Batch b = make_batch(8, 14);
  const vaelib::optim::AdamOptions clipped{.learning_rate = 0.01, .clip_norm = 0.5};
  const auto parallel = train_distributed(comm, b, 3, {}, clipped);
  const auto threaded = train_distributed(comm, b, 3, {.communication_thread = true}, clipped);
  CHECK(std::memcmp(parallel.data(), threaded.data(), parallel.size() * sizeof(float)) == 0);
  Network alone(7, clipped);
  for (int t = 0; t < 3; ++t) alone.adam.minimize(alone.tape, alone.cost(b, {0, b.n}));
  CHECK(max_difference(parallel, alone.values()) < 2e-6f);
  CHECK(replicas_equal(comm, parallel));
}

TEST_CASE("data_parallel: parameters that differ between ranks, or a different model, are refused on every rank", "[distributed]") {
  const Communicator comm;
  const Batch b = make_batch(4, 15);
  const Share mine = comm.share(b.n);
  if (comm.size() > 1) {
    Network net(comm.rank() == 0 ? 7 : 8);  // another seed on the other ranks
    DataParallel<float> parallel(comm, net.adam);
    CHECK_THROWS_AS(parallel.minimize(net.tape, net.cost(b, mine), mine.size(), b.n), DistributedError);
    Network again(comm.rank() == 0 ? 7 : 8);
    DataParallel<float> parallel_again(comm, again.adam);
    CHECK_THROWS_WITH(parallel_again.minimize(again.tape, again.cost(b, mine), mine.size(), b.n),
                      Catch::Contains("parameters differed from rank 0's at the first step"));

    Network other(7);
    if (comm.rank() == 1) (void)other.params.get_or_create("extra", {3}, vaelib::init::zeros<float>());
    DataParallel<float> mismatched(comm, other.adam);
    CHECK_THROWS_WITH(mismatched.minimize(other.tape, other.cost(b, mine), mine.size(), b.n),
                      Catch::Contains("the ranks hold different parameters"));
  }
  // broadcast_parameters before the first forward pass makes differently seeded ranks agree
  Network net(static_cast<std::uint64_t>(7 + comm.rank()));
  (void)net.cost(b, mine);  // creates the parameters
  DataParallel<float> parallel(comm, net.adam);
  parallel.broadcast_parameters();
  parallel.minimize(net.tape, net.cost(b, mine), mine.size(), b.n);
  CHECK(replicas_equal(comm, net.values()));
}

TEST_CASE("data_parallel: refuses a batch share that cannot be, and bucket sizes below one element", "[distributed]") {
  const Communicator comm;
  Network net(7);
  const Batch b = make_batch(4, 16);
  DataParallel<float> parallel(comm, net.adam);
  CHECK_THROWS_WITH(parallel.minimize(net.tape, net.cost(b, {0, 4}), 5, 4),
                    Catch::Contains("this rank's 5 examples of a batch of 4"));
  CHECK_THROWS_WITH(DataParallel<float>(comm, net.adam, {.bucket_bytes = 2}), Catch::Contains("bucket_bytes = 2"));
}

TEST_CASE("data_parallel: shares split n items in rank order, differing by at most one", "[distributed]") {
  for (const int size : {1, 2, 3, 7}) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{10}, std::size_t{20}}) {
      std::size_t next = 0;
      for (int r = 0; r < size; ++r) {
        const Share s = vaelib::distributed::share_of(n, r, size);
        CHECK(s.begin == next);
        CHECK((s.size() == n / static_cast<std::size_t>(size) || s.size() == n / static_cast<std::size_t>(size) + 1));
        next = s.end;
      }
      CHECK(next == n);
    }
  }
}

TEST_CASE("evaluate_split: each rank evaluates its share, every rank gets the whole sum", "[distributed]") {
  const Communicator comm;
  const auto sums = vaelib::distributed::evaluate_split(comm, 11, [](Share s, vaelib::distributed::ItemSums& out) {
    for (std::size_t i = s.begin; i < s.end; ++i) out.add(static_cast<double>(i));
  });
  CHECK(sums.count == 11);
  CHECK(sums.sum == 55);
  CHECK(sums.mean() == 5);
  CHECK(sums.standard_error() == Approx(std::sqrt(11.0 / 11.0)));  // variance of 0..10 is 11
}
