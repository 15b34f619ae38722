// peer_libtorch_vae_conv: the convolutional VAE of examples/vae_conv written with LibTorch's C++
// frontend (Debian's libtorch-dev 1.13), the program a C++ user would write without vaelib; it
// is the yardstick of benchmarks/compare_conv_peer.sh (issue 24, item 5). It does not use vaelib.
//
//   encoder: x [n, 784] as [n, 1, 28, 28] -> Conv2d 32 (3x3, stride 2, pad 1), ReLU
//            -> Conv2d 64 (3x3, stride 2, pad 1), ReLU -> [n, 64 * 7 * 7]
//            -> Linear heads: q's mean and log-std (40 each)
//   decoder: z -> Linear 64 * 7 * 7, ReLU -> ConvTranspose2d 32 (4x4, stride 2, pad 1), ReLU
//            -> ConvTranspose2d 1 (4x4, stride 2, pad 1) -> the 784 pixels' Bernoulli logits
//
// As vaelib's example trains it: the 1-particle ELBO, reparameterised, with the KL term sampled
// (log q(z | x) - log p(z) at the draw); Adam, learning rate 1e-3; batches of 128 in a new
// random order each epoch, the last partial batch dropped (data::BatchSampler); each training
// batch binarised afresh (pixel = 1 when a uniform draw is below its grey level); the test set
// binarised once. The Linear layers start as vaelib's dense layers do (Glorot-uniform weights,
// zero biases); the convolutions keep LibTorch's default initialisation, which vaelib's
// conv2d / conv_transpose2d copy. The test bound is vaelib's evaluate(): one draw of z for the
// reconstruction term, the KL divergence in closed form, in chunks of 500 images. Denormal
// floats are flushed to zero, as in vaelib's examples.
//
// Output (stdout): a "config" JSON line, one JSON line per epoch
//   {"epoch": 1, "seconds": 27.7, "train_lower_bound": -171.7}
// ("seconds": the epoch's training steps, batching and binarisation included, as vaelib's
// metrics.jsonl counts them) and a summary line with the median seconds per epoch and the test
// lower bound.
//
// Threads. Here LibTorch 1.13 runs Conv2d (forward and backward) on oneDNN 2.6's AVX2 JIT
// kernels on its intra-op OpenMP threads; ConvTranspose2d has no oneDNN path on the CPU and runs
// as OpenBLAS GEMMs plus col2im, and the Linear layers are OpenBLAS GEMMs. --threads sets the
// intra-op threads (it overrides OMP_NUM_THREADS); --blas-threads sets OpenBLAS's through
// openblas_set_num_threads (it overrides OPENBLAS_NUM_THREADS; 0 leaves OpenBLAS as the
// environment set it). The defaults, 2 intra-op threads and 1 OpenBLAS thread, are the fastest
// configuration measured on a 2-vCPU machine (AMD EPYC, family 25 model 1 = Zen 3, AVX2;
// Debian 12, LibTorch 1.13.1, oneDNN 2.6.3, OpenBLAS 0.3.21 pthreads on its Zen kernels), whole
// MNIST epochs (468 steps of 128), one epoch per run, configurations alternated:
//   intra-op 2, OpenBLAS 1:  27.7 s per epoch (median of 6 runs; fastest in each of the 6 rounds)
//   intra-op 1, OpenBLAS 2:  36.4 s (median of 6)
//   intra-op 2, OpenBLAS 2: 105.3 s (median of 3: four threads on two cores, OpenMP's spinning
//                           workers and OpenBLAS's threads take the cores from each other)
//   intra-op 1, OpenBLAS 1:  about 1.2x the default's time (50-step runs)
// OMP_WAIT_POLICY=passive made 2 + 1 1.7-1.9x slower (50-step runs), and GOMP_SPINCOUNT=10000
// changed nothing measurable. (The MLP peer, all GEMMs, is fastest the
// other way round, 1 intra-op thread and 2 OpenBLAS threads: the convolutions here run on the
// intra-op threads.) The shared machine's timings drift by up to 2x between runs; compare
// programs by alternating them (benchmarks/compare_conv_peer.sh).
//
// Built by benchmarks/CMakeLists.txt when CMake finds LibTorch (target peer_libtorch_vae_conv):
//   cmake --build build --target peer_libtorch_vae_conv
//   build/benchmarks/peer_libtorch_vae_conv --data ../shared/data/mnist --epochs 1

#include <dlfcn.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
constexpr const char* program = "peer_libtorch_vae_conv";
constexpr int default_threads = 2, default_blas_threads = 1;  // measured: see the top

/// A bad command line: reported with the usage hint, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string data;  // empty: $VAELIB_DATA/mnist, data/mnist, ../shared/data/mnist
  long epochs = 10;
  long batch_size = 128;
  long threads = default_threads;            // LibTorch intra-op threads
  long blas_threads = default_blas_threads;  // OpenBLAS threads (0: as the environment sets them)
  long train_n = 0;                          // 0: all
  long test_n = 0;
  long seed = 1234;
};

void print_help() {
  std::printf(
      "%s: vaelib's convolutional VAE (examples/vae_conv) on LibTorch's C++ frontend, for\n"
      "benchmark comparisons. Prints a JSON line per epoch and a summary line.\n\n"
      "Options:\n"
      "  --data DIR          folder with the MNIST IDX files, plain or .gz (DIR or DIR/mnist;\n"
      "                      default: the first of $VAELIB_DATA/mnist, data/mnist, ../shared/data/mnist)\n"
      "  --epochs N          training epochs (default 10)\n"
      "  --batch-size N      images per step (default 128; the last partial batch is dropped)\n"
      "  --threads N         LibTorch intra-op threads (default %d)\n"
      "  --blas-threads N    OpenBLAS threads (default %d; 0: as OPENBLAS_NUM_THREADS sets them)\n"
      "  --train-n N         use only the first N training images (default 0: all)\n"
      "  --test-n N          use only the first N test images (default 0: all)\n"
      "  --seed N            seed of initialisation, shuffling, binarisation and sampling (default 1234)\n"
      "  -h, --help          this text\n",
      program, default_threads, default_blas_threads);
}

/// A whole number in [least, most] for `option`, or a UsageError naming both.
long parse_count(const std::string& option, const std::string& text, long least, long most) {
  std::size_t used = 0;
  long value = 0;
  bool ok = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (ok) {
    try {
      value = std::stol(text, &used);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || used != text.size() || value < least || value > most) {
    throw UsageError(option + " takes a whole number from " + std::to_string(least) + " to " + std::to_string(most) +
                     ", not '" + text + "'");
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  const long hardware = std::max(1L, static_cast<long>(std::thread::hardware_concurrency()));
  o.threads = std::min<long>(o.threads, hardware);  // the defaults, on a machine with fewer threads
  o.blas_threads = std::min<long>(o.blas_threads, hardware);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "-h" || arg == "--help") {
      print_help();
      std::exit(0);
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--data") {
      o.data = next();
      if (o.data.empty()) throw UsageError("--data needs a folder, not ''");
    } else if (arg == "--epochs") {
      o.epochs = parse_count(arg, next(), 1, 100000);
    } else if (arg == "--batch-size") {
      o.batch_size = parse_count(arg, next(), 1, 60000);
    } else if (arg == "--threads") {
      o.threads = parse_count(arg, next(), 1, hardware);
    } else if (arg == "--blas-threads") {
      o.blas_threads = parse_count(arg, next(), 0, hardware);
    } else if (arg == "--train-n") {
      o.train_n = parse_count(arg, next(), 0, 100000000);
    } else if (arg == "--test-n") {
      o.test_n = parse_count(arg, next(), 0, 100000000);
    } else if (arg == "--seed") {
      o.seed = parse_count(arg, next(), 0, std::numeric_limits<long>::max());
    } else {
      throw UsageError("unknown argument '" + std::string(argv[i]) + "'");
    }
  }
  return o;
}

// ---- MNIST's IDX files ------------------------------------------------------------------------

/// `folder/name`, else `folder/name.gz`; nothing when neither is a file.
std::optional<fs::path> find_idx(const fs::path& folder, const std::string& name) {
  for (const fs::path& candidate : {folder / name, folder / (name + ".gz")}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

bool has_images(const fs::path& folder) {
  return find_idx(folder, "train-images-idx3-ubyte") && find_idx(folder, "t10k-images-idx3-ubyte");
}

/// The folder holding MNIST's image files: --data (itself or its mnist/), else the search path.
fs::path locate_data(const std::string& option) {
  std::vector<fs::path> tried;
  if (!option.empty()) {
    std::error_code ec;
    if (!fs::is_directory(option, ec)) throw std::runtime_error("--data " + option + ": no such folder");
    tried = {fs::path(option), fs::path(option) / "mnist"};
  } else {
    if (const char* env = std::getenv("VAELIB_DATA"); env != nullptr && *env != '\0')
      tried.push_back(fs::path(env) / "mnist");
    tried.push_back(fs::path("data") / "mnist");
    tried.push_back(fs::path("..") / "shared" / "data" / "mnist");
  }
  for (const fs::path& folder : tried)
    if (has_images(folder)) return folder;
  std::string message = "cannot find MNIST (train-images-idx3-ubyte and t10k-images-idx3-ubyte, plain or .gz) in";
  for (const fs::path& folder : tried) message += " " + folder.string();
  if (option.empty()) message += " (pass --data DIR)";
  throw std::runtime_error(message);
}

/// The whole file, decompressed when it is gzip (zlib reads a plain file as it is).
std::vector<unsigned char> read_file(const fs::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error("cannot open " + path.string());
  std::vector<unsigned char> bytes;
  std::array<unsigned char, 1 << 16> buffer{};
  int got = 0;
  while ((got = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0)
    bytes.insert(bytes.end(), buffer.data(), buffer.data() + got);
  int error = Z_OK;
  const std::string why = got < 0 ? gzerror(file, &error) : "";
  gzclose(file);
  if (got < 0) throw std::runtime_error("cannot read " + path.string() + ": " + why);
  return bytes;
}

/// Images [n, rows * cols] as floats in [0, 1] from an idx3-ubyte file: the first `limit` (0: all).
torch::Tensor load_images(const fs::path& folder, const std::string& name, long limit) {
  const auto path = find_idx(folder, name);
  if (!path) throw std::runtime_error("no " + (folder / name).string() + " (nor .gz)");
  const std::vector<unsigned char> bytes = read_file(*path);
  auto word = [&](std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
  };
  if (bytes.size() < 16 || word(0) != 0x00000803) {
    throw std::runtime_error(path->string() + ": not an IDX file of unsigned-byte images (magic 0x00000803)");
  }
  const std::int64_t n = word(4), rows = word(8), cols = word(12);
  if (rows != 28 || cols != 28) {
    throw std::runtime_error(path->string() + ": holds " + std::to_string(rows) + "x" + std::to_string(cols) +
                             " images; the model takes 28x28");
  }
  if (bytes.size() != 16 + static_cast<std::size_t>(n * rows * cols)) {
    throw std::runtime_error(path->string() + ": " + std::to_string(bytes.size()) + " bytes, expected 16 + " +
                             std::to_string(n) + " x " + std::to_string(rows * cols));
  }
  const std::int64_t kept = limit == 0 ? n : std::min<std::int64_t>(limit, n);
  const torch::Tensor raw =
      torch::from_blob(const_cast<unsigned char*>(bytes.data()) + 16, {kept, rows * cols}, torch::kUInt8);
  return raw.to(torch::kFloat32).div_(255.0);  // a copy: `bytes` goes away
}

/// Each pixel 1 with probability its grey level, else 0.
torch::Tensor binarize(const torch::Tensor& grey) { return (torch::rand_like(grey) < grey).to(torch::kFloat32); }

// ---- the model --------------------------------------------------------------------------------

constexpr std::int64_t z_dim = 40, features = 64 * 7 * 7;

struct ConvVaeImpl : torch::nn::Module {
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear z_mean{nullptr}, z_logstd{nullptr}, h{nullptr};
  torch::nn::ConvTranspose2d deconv1{nullptr}, deconv2{nullptr};

  ConvVaeImpl() {
    using namespace torch::nn;
    conv1 = register_module("conv1", Conv2d(Conv2dOptions(1, 32, 3).stride(2).padding(1)));
    conv2 = register_module("conv2", Conv2d(Conv2dOptions(32, 64, 3).stride(2).padding(1)));
    z_mean = register_module("z_mean", Linear(features, z_dim));
    z_logstd = register_module("z_logstd", Linear(features, z_dim));
    h = register_module("h", Linear(z_dim, features));
    deconv1 = register_module("deconv1", ConvTranspose2d(ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1)));
    deconv2 = register_module("deconv2", ConvTranspose2d(ConvTranspose2dOptions(32, 1, 4).stride(2).padding(1)));
    const torch::NoGradGuard no_grad;
    for (Linear* dense : {&z_mean, &z_logstd, &h}) {  // vaelib's dense(): Glorot uniform, zero bias
      init::xavier_uniform_((*dense)->weight);
      init::zeros_((*dense)->bias);
    }
  }

  /// q's mean and log-std for images x [n, 784].
  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x) {
    torch::Tensor a = torch::relu(conv1(x.view({-1, 1, 28, 28})));
    a = torch::relu(conv2(a)).flatten(1);
    return {z_mean(a), z_logstd(a)};
  }

  /// The pixels' logits [n, 784] for codes z [n, 40].
  torch::Tensor decode(const torch::Tensor& z) {
    torch::Tensor a = torch::relu(h(z)).view({-1, 64, 7, 7});
    a = torch::relu(deconv1(a));
    return deconv2(a).flatten(1);
  }
};
TORCH_MODULE(ConvVae);

/// log p(x | z) per image: Bernoulli with logits, summed over the pixels.
torch::Tensor bernoulli_log_prob(const torch::Tensor& logits, const torch::Tensor& x) {
  return -torch::binary_cross_entropy_with_logits(logits, x, {}, {}, torch::Reduction::None).sum(1);
}

/// The 1-particle ELBO per image [n]: z = mean + exp(logstd) eps, and
/// log p(x | z) + log p(z) - log q(z | x) at that z (the normal constants cancel).
torch::Tensor elbo(ConvVae& model, const torch::Tensor& x) {
  auto [mean, logstd] = model->encode(x);
  const torch::Tensor eps = torch::randn_like(mean);
  const torch::Tensor z = mean + torch::exp(logstd) * eps;
  const torch::Tensor log_pz_minus_log_qz = (0.5 * (eps * eps - z * z) + logstd).sum(1);
  return bernoulli_log_prob(model->decode(z), x) + log_pz_minus_log_qz;
}

struct TestBound {
  double lower_bound = 0, reconstruction = 0, kl = 0;
};

/// vaelib's evaluate(): one draw of z per image for E_q[log p(x | z)], KL(q || N(0, I)) in
/// closed form; means over the images, in chunks of 500.
TestBound evaluate(ConvVae& model, const torch::Tensor& x) {
  const torch::NoGradGuard no_grad;
  TestBound t;
  const std::int64_t n = x.size(0);
  for (std::int64_t begin = 0; begin < n; begin += 500) {
    const torch::Tensor chunk = x.slice(0, begin, std::min(n, begin + 500));
    auto [mean, logstd] = model->encode(chunk);
    const torch::Tensor z = mean + torch::exp(logstd) * torch::randn_like(mean);
    t.reconstruction += bernoulli_log_prob(model->decode(z), chunk).sum().item<double>();
    t.kl += (0.5 * (mean * mean + torch::exp(2 * logstd) - 1) - logstd).sum().item<double>();
  }
  t.reconstruction /= static_cast<double>(n);
  t.kl /= static_cast<double>(n);
  t.lower_bound = t.reconstruction - t.kl;
  return t;
}

/// OpenBLAS's thread count, set through the library LibTorch loaded (when it did).
bool set_blas_threads(long threads) {
  using Setter = void (*)(int);
  auto* set = reinterpret_cast<Setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set == nullptr) return false;
  set(static_cast<int>(threads));
  return true;
}

int run(const Options& o) {
  torch::set_num_threads(static_cast<int>(o.threads));
  const bool blas_set = o.blas_threads > 0 && set_blas_threads(o.blas_threads);
  at::globalContext().setFlushDenormal(true);

  const fs::path folder = locate_data(o.data);
  const torch::Tensor train = load_images(folder, "train-images-idx3-ubyte", o.train_n);
  const torch::Tensor test_grey = load_images(folder, "t10k-images-idx3-ubyte", o.test_n);
  const std::int64_t n = train.size(0), batch = o.batch_size, steps = n / batch;
  if (steps == 0) {
    throw UsageError(std::to_string(n) + " training images do not fill one batch of " + std::to_string(batch) +
                     " (--batch-size, --train-n)");
  }
  if (test_grey.size(0) == 0) throw std::runtime_error("no test images in " + folder.string());

  torch::manual_seed(static_cast<std::uint64_t>(o.seed) + 1);
  const torch::Tensor test = binarize(test_grey);  // one fixed draw
  torch::manual_seed(static_cast<std::uint64_t>(o.seed));
  ConvVae model;
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));

  std::printf(
      "{\"config\": \"%s\", \"torch\": \"%s\", \"data\": \"%s\", \"train_images\": %lld, \"test_images\": %lld, "
      "\"batch_size\": %ld, \"steps_per_epoch\": %lld, \"threads\": %d, \"blas_threads\": %ld}\n",
      program, TORCH_VERSION, folder.string().c_str(), static_cast<long long>(n), static_cast<long long>(test.size(0)),
      o.batch_size, static_cast<long long>(steps), torch::get_num_threads(), blas_set ? o.blas_threads : 0L);
  std::fflush(stdout);

  std::vector<double> seconds;
  for (long epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const torch::Tensor order = torch::randperm(n, torch::kLong);
    double bound_sum = 0;
    for (std::int64_t t = 0; t < steps; ++t) {
      const torch::Tensor x = binarize(train.index_select(0, order.slice(0, t * batch, (t + 1) * batch)));
      const torch::Tensor bound = elbo(model, x).mean();
      adam.zero_grad();
      (-bound).backward();
      adam.step();
      bound_sum += bound.item<double>();
    }
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    const double train_bound = bound_sum / static_cast<double>(steps);
    if (!std::isfinite(train_bound)) {
      throw std::runtime_error("the training bound of epoch " + std::to_string(epoch) + " is " +
                               std::to_string(train_bound) + ": training diverged");
    }
    std::printf("{\"epoch\": %ld, \"seconds\": %.4f, \"train_lower_bound\": %.4f}\n", epoch, seconds.back(),
                train_bound);
    std::fflush(stdout);
  }

  const TestBound t = evaluate(model, test);
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t m = sorted.size();
  const double median = m % 2 == 1 ? sorted[m / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
  std::printf(
      "{\"summary\": \"%s\", \"epochs\": %ld, \"batch_size\": %ld, \"threads\": %d, "
      "\"seconds_per_epoch_median\": %.4f, "
      "\"test_lower_bound\": %.4f, \"test_reconstruction\": %.4f, \"test_kl\": %.4f, \"test_images\": %lld}\n",
      program, o.epochs, o.batch_size, torch::get_num_threads(), median, t.lower_bound, t.reconstruction, t.kl,
      static_cast<long long>(test.size(0)));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}
