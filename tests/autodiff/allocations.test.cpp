// Steady-state training steps must not allocate tensor buffers: after a warm-up step with
// the same shapes, a forward + backward of a 784-500-500 ReLU MLP at batch 128 allocates
// nothing, and the whole ZhuSuan VAE step (BayesianNet, elbo().sgvb(), Adam) no buffer.
// Counts every operator new in this program.

#include <atomic>
#include <cstdlib>
#include <new>
#include <string_view>

#include "support/gradients.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocated_bytes{0};
std::atomic<std::size_t> allocation_count{0};
std::atomic<std::size_t> largest_allocation{0};

void* counted_alloc(std::size_t size, std::size_t alignment) {
  if (counting.load(std::memory_order_relaxed)) {
    allocated_bytes += size;
    ++allocation_count;
    if (size > largest_allocation) largest_allocation = size;
  }
  void* p = alignment <= alignof(std::max_align_t) ? std::malloc(size == 0 ? 1 : size)
                                                   : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

// Every replacement below pairs malloc with free, but GCC 12 at -O1 (the sanitizer stage)
// inlines them into library code and then sees `free` on memory from `operator new`.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) { return counted_alloc(size, 0); }
void* operator new[](std::size_t size) { return counted_alloc(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) { return counted_alloc(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return counted_alloc(size, static_cast<std::size_t>(a)); }
// The nothrow forms too: otherwise Catch2's nothrow new comes from the runtime (under
// AddressSanitizer, its own allocator) and its memory reaches the free() below.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size, 0);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size, static_cast<std::size_t>(a));
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t& tag) noexcept {
  return operator new(size, a, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace vaelib;

namespace {

struct Mlp {
  xt::xarray<float> x = xt::ones<float>({128, 784});
  xt::xarray<float> w1 = xt::ones<float>({784, 500}) * 0.01f, g1 = xt::zeros<float>({784, 500});
  xt::xarray<float> b1 = xt::zeros<float>({500}), gb1 = xt::zeros<float>({500});
  xt::xarray<float> w2 = xt::ones<float>({500, 500}) * 0.01f, g2 = xt::zeros<float>({500, 500});
  xt::xarray<float> b2 = xt::zeros<float>({500}), gb2 = xt::zeros<float>({500});

  // One training step's tape work, written two ways: fused linear, and composed ops.
  float step(Tape<float>& tape, bool fused) {
    tape.clear();
    auto in = tape.external(x.data(), nullptr, Shape{128, 784});
    auto W1 = tape.parameter(w1, g1), B1 = tape.parameter(b1, gb1);
    auto W2 = tape.parameter(w2, g2), B2 = tape.parameter(b2, gb2);
    Var<float> h2;
    if (fused) {
      auto h1 = linear(in, W1, B1, Activation::relu);
      h2 = linear(h1, W2, B2, Activation::relu);
    } else {
      auto h1 = relu(matmul(in, W1) + B1);
      h2 = relu(matmul(h1, W2) + B2);
    }
    auto loss = mean(h2);
    tape.backward(loss);
    return loss.item();
  }
};

}  // namespace

TEST_CASE("a steady-state MLP step allocates less than 64 KiB", "[tape][allocations]") {
  for (const bool fused : {true, false}) {
    DYNAMIC_SECTION((fused ? "fused linear" : "matmul + add + relu")) {
      Mlp mlp;
      Tape<float> tape;
      mlp.step(tape, fused);  // warm-up: sizes every buffer
      allocated_bytes = 0;
      allocation_count = 0;
      counting = true;
      const float loss = mlp.step(tape, fused);
      counting = false;
      INFO("allocations: " << allocation_count.load() << ", bytes: " << allocated_bytes.load());
      CHECK(allocated_bytes.load() < 64 * 1024);
      CHECK(allocation_count.load() == 0);
      REQUIRE(loss > 0);
    }
  }
}

namespace {

/// The ZhuSuan VAE's training step as the example runs it: q(z | x) as a BayesianNet, the
/// model observed through MetaBayesianNet, elbo(...).sgvb(), and minimize() (backward with
/// Adam's updates in the sweep). Each step gets another batch, about 1 pixel in 8 set, as a
/// binarised MNIST batch: the first layer takes its sparse path, and a batch with more
/// nonzeros than the ones before must not allocate either.
struct VaeStep {
  Tape<float> tape;
  Rng rng{1};
  ParameterStore<float> params{2};
  models::VAE<float> vae;
  optim::Adam<float> adam{params, {}};

  explicit VaeStep(models::PosteriorFlowConfig flow = {}, models::VaeNetworks<float> networks = {})
      : vae(tape, rng, params.scope("vae"), {.x_dim = 784, .z_dim = 40, .flow = flow},
            models::bernoulli_likelihood<float>(), std::move(networks)) {}
  std::vector<float> binary = std::vector<float>(128 * 784);

  std::uint32_t batch = 0;

  float step() {
    ++batch;
    for (std::size_t i = 0; i < binary.size(); ++i)  // 1 in 8 set; the third batch has the most
      binary[i] = ((i + 17 * batch) * 2654435761u) % (batch == 3 ? 6 : 9) == 0 ? 1.0f : 0.0f;
    tape.clear();
    const auto x = tape.external(binary.data(), nullptr, {128, 784});
    const auto q = vae.variational(x, 1);
    auto lower_bound = elbo(vae.model(128), {{"x", x}}, q, 0);
    const auto cost = mean(lower_bound.sgvb());
    adam.minimize(tape, cost);
    return cost.item();
  }

  /// Two warm-up steps (parameters, optimiser state and every tape buffer sized), then one
  /// step with the allocation counters on; returns its cost.
  float counted_steady_step() {
    step();
    step();
    allocated_bytes = 0;
    allocation_count = 0;
    largest_allocation = 0;
    counting = true;
    const float cost = step();
    counting = false;
    return cost;
  }
  /// Checks that the counted step allocated only small bookkeeping blocks: none of
  /// `largest_below` bytes or more, fewer than `bytes_below` in all, and a finite cost.
  static void check_only_bookkeeping(float cost, std::size_t largest_below, std::size_t bytes_below) {
    INFO("allocations: " << allocation_count.load() << ", bytes: " << allocated_bytes.load() << ", largest "
                         << largest_allocation.load());
    CHECK(largest_allocation.load() < largest_below);
    CHECK(allocated_bytes.load() < bytes_below);
    REQUIRE(std::isfinite(cost));
  }
};

}  // namespace

TEST_CASE("a steady-state VAE training step (BayesianNet, elbo().sgvb(), Adam) allocates no tensor buffer",
          "[allocations]") {
  VaeStep vae;
  const float cost = vae.counted_steady_step();
  // What is left is the probabilistic layer's bookkeeping (BayesianNet's node maps and its
  // distribution objects, about 30 small blocks); no value, gradient or scratch buffer.
  VaeStep::check_only_bookkeeping(cost, 256, 4096);
  // the first layer took the sparse path (without xsimd it is always a GEMM)
  bool sparse_first_layer = false;
  for (std::uint32_t i = 0; i < vae.tape.size(); ++i) {
    const TapeRecord<float>& n = vae.tape.node(vae.tape.handle(i));
    if (std::string_view(n.op) == "linear") {
      sparse_first_layer = detail::linear_took_sparse_path(n);
      break;
    }
  }
  CHECK(sparse_first_layer == bool(VAELIB_SIMD));
}

TEST_CASE("a steady-state VAE step with an IAF posterior (K = 2, MADE, context) allocates no tensor buffer",
          "[allocations]") {
  VaeStep vae({.kind = models::FlowKind::iaf, .length = 2, .hidden = {80, 80}});
  const float cost = vae.counted_steady_step();
  // Beside the plain step's bookkeeping: the flows bound to the batch's context (small
  // copies sharing their masks and parameters) and the FlowDistribution's list of them.
  VaeStep::check_only_bookkeeping(cost, 512, 8192);
}

namespace {

/// A small convolutional encoder and decoder for 28x28 images (vae_conv's shape, narrower):
/// conv 8 (stride 2) then flatten; dense to 8 x 7 x 7, transposed convs 4 and 1 (stride 2).
models::VaeNetworks<float> allocation_conv_networks() {
  models::VaeNetworks<float> n;
  n.encoder = [](const ParameterScope<float>& scope, const Var<float>& x) {
    return flatten(conv2d(scope, "conv", reshape(x, {-1, 1, 28, 28}), 8, {3, 3},
                          {.stride = {2, 2}, .padding = {1, 1}, .activation = Activation::relu}));
  };
  n.decoder = [](const ParameterScope<float>& scope, const Var<float>& z) {
    const Var<float> h = dense(scope, "h", reshape(z, {-1, 40}), 8 * 7 * 7, {.activation = Activation::relu});
    const Var<float> up = conv_transpose2d(scope, "up1", unflatten(h, {8, 7, 7}), 4, {4, 4},
                                           {.stride = {2, 2}, .padding = {1, 1}, .activation = Activation::relu});
    const Var<float> logits = conv_transpose2d(scope, "up2", up, 1, {4, 4}, {.stride = {2, 2}, .padding = {1, 1}});
    Shape out(z.shape().begin(), z.shape().end() - 1);
    out.push_back(784);
    return reshape(logits, out);
  };
  n.decoder_gives_heads = true;
  return n;
}

}  // namespace

TEST_CASE("a steady-state convolutional VAE step (conv2d, conv_transpose2d layers) allocates no tensor buffer",
          "[allocations]") {
  VaeStep vae({}, allocation_conv_networks());
  const float cost = vae.counted_steady_step();
  // The column buffers live in the tape nodes' scratch; what is left is the plain step's
  // bookkeeping and the layers' parameter names.
  VaeStep::check_only_bookkeeping(cost, 512, 8192);
}
