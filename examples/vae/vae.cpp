// The VAE of ZhuSuan's tutorial (examples/variational_autoencoders/vae.py), in vaelib:
// binarised MNIST, z ~ N(0, I) of 40 dimensions, a 784-500-500 ReLU decoder to Bernoulli
// logits, a 500-500 ReLU encoder to the mean and log-std of q(z | x), trained with
// elbo(...).sgvb() and Adam (1e-3, batch 128). Walkthrough: docs/tutorial-vae.md.
//
//   vae --epochs 10 --output results/vae

#include <cblas.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>
#include <vector>

#include "../common/cli_checks.hpp"
#include "../common/dataset_folder.hpp"
#include "../common/progress_bar.hpp"

namespace {

using vaelib::Activation;
using vaelib::BayesianNet;
using vaelib::Var;

struct Options {
  std::size_t epochs = 3;
  std::size_t batch_size = 128;
  std::size_t z_dim = 40;
  std::size_t hidden = 500;
  double learning_rate = 1e-3;
  std::uint64_t seed = 1234;
  std::string dataset = "mnist";
  std::string data_folder;
  std::string output = "results/vae";
  int threads = 0;
  std::string checkpoint;
  bool resume = false;
  std::size_t save_freq = 1;
  std::size_t train_n = 0;
  std::size_t test_n = 0;
  std::size_t ll_particles = 1000;
  std::size_t ll_test_n = 1000;
  bool progress = true;
  bool detect_anomaly = false;
};

/// What the model-building function needs to know about the current run: the batch size of
/// z's prior and the number of particles drawn when z is not observed.
struct ModelShape {
  std::size_t n = 1;
  std::size_t n_particles = 1;
};

/// The encoder of the tutorial's build_q_net: q(z | x) = N(mean(x), exp(logstd(x))^2).
struct Encoder {
  Var<float> mean, logstd;
};
Encoder encode(const vaelib::ParameterScope<float>& q, const Var<float>& x, std::size_t hidden, std::size_t z_dim) {
  auto h = vaelib::dense(q, "h1", x, hidden, {.activation = Activation::relu});
  h = vaelib::dense(q, "h2", h, hidden, {.activation = Activation::relu});
  return {vaelib::dense(q, "z_mean", h, z_dim), vaelib::dense(q, "z_logstd", h, z_dim)};
}

BayesianNet<float> q_net(vaelib::Tape<float>& tape, vaelib::Rng& rng, const Encoder& e, std::size_t n_particles) {
  BayesianNet<float> q(tape, rng);
  q.normal_logstd("z", e.mean, e.logstd, {.group_ndims = 1, .n_samples = n_particles});
  return q;
}

/// A split as bytes: the training set stays in this form (a quarter of the memory of floats;
/// each batch is gathered into floats, then binarised dynamically). The test set is binarised
/// once, with a fixed seed, as floats.
vaelib::data::ByteImageSet load_split(const Options& o, vaelib::data::Split split, std::size_t n) {
  const auto folder = vaelib::examples::dataset_folder(o.dataset, o.data_folder);
  return vaelib::data::head(vaelib::data::load_mnist_bytes(folder, split), n);
}

std::vector<double> column_of(const std::filesystem::path& metrics, const std::string& key) {
  std::vector<double> out;
  std::ifstream in(metrics);
  std::string line;
  const std::string needle = "\"" + key + "\": ";
  while (std::getline(in, line)) {
    const auto at = line.find(needle);
    if (at != std::string::npos) out.push_back(std::strtod(line.c_str() + at + needle.size(), nullptr));
  }
  return out;
}

int run(const Options& o) {
  namespace fs = std::filesystem;
  if (o.threads > 0) openblas_set_num_threads(o.threads);
  // Denormal floats (IWAE weights, saturated sigmoids) slow the GEMMs several times over.
  const vaelib::FlushDenormals flush_denormals;
  const fs::path out_dir = o.output;
  fs::create_directories(out_dir);
  const fs::path checkpoint = o.checkpoint.empty() ? out_dir / "checkpoint.npz" : fs::path(o.checkpoint);

  const vaelib::data::ByteImageSet train = load_split(o, vaelib::data::Split::train, o.train_n);
  const vaelib::data::ImageSet test = vaelib::data::binarize_static(
      vaelib::data::to_image_set(load_split(o, vaelib::data::Split::test, o.test_n)), o.seed + 1);
  const std::size_t x_dim = train.pixels();
  std::printf("%s: %zu training images, %zu test images (binarised once, seed %llu)\n", o.dataset.c_str(), train.size(),
              test.size(), static_cast<unsigned long long>(o.seed + 1));

  vaelib::Tape<float> tape;
  tape.detect_anomaly(o.detect_anomaly);
  vaelib::Rng rng(o.seed);
  vaelib::ParameterStore<float> params(o.seed);
  vaelib::optim::Adam<float> adam(params, {.learning_rate = o.learning_rate});
  std::uint64_t step = 0;

  // ---- the model: p(z) p(x | z), as the tutorial's build_gen ------------------------------
  ModelShape shape;
  std::vector<float> zeros;
  auto model = vaelib::meta_bayesian_net(tape, rng, params.scope("gen"), [&](BayesianNet<float>& bn) {
    zeros.resize(shape.n * o.z_dim, 0.0f);
    const auto z_mean = tape.external(zeros.data(), nullptr, {shape.n, o.z_dim});
    const auto z = bn.normal("z", z_mean, 1.0f, {.group_ndims = 1, .n_samples = shape.n_particles});
    auto h = vaelib::dense(bn.scope(), "h1", z, o.hidden, {.activation = Activation::relu});
    h = vaelib::dense(bn.scope(), "h2", h, o.hidden, {.activation = Activation::relu});
    const auto x_logits = vaelib::dense(bn.scope(), "x_logits", h, x_dim);
    bn.bernoulli("x", x_logits, {.group_ndims = 1});
    // the mean image, computed only when read (pictures): training never reads it
    bn.deterministic("x_mean", [x_logits] { return vaelib::sigmoid(x_logits); });
  });
  const vaelib::ParameterScope<float> q_scope = params.scope("q");

  // Decodes latent codes [n, z_dim] to mean images [n, x_dim] (the tutorial's x_mean node).
  auto decode_means = [&](const xt::xarray<float>& z) {
    const auto guard = tape.no_grad();
    shape.n = z.shape()[0];
    const auto bn = model.observe({{"z", tape.constant(z)}});
    return xt::xarray<float>(bn["x_mean"].value().value());
  };
  auto encode_means = [&](const xt::xarray<float>& x) {
    const auto guard = tape.no_grad();
    return xt::xarray<float>(encode(q_scope, tape.constant(x), o.hidden, o.z_dim).mean.value());
  };

  // ---- resume -------------------------------------------------------------------------------
  vaelib::data::BatchSampler sampler(train.size(), o.batch_size);
  const std::size_t steps_per_epoch = sampler.batches();
  std::size_t first_epoch = 1;
  const vaelib::io::TrainingState<float> state{&params, &adam, &rng, &step};
  if (o.resume) {
    if (!fs::exists(checkpoint)) throw vaelib::io::IoError("--resume: no checkpoint at " + checkpoint.string());
    vaelib::io::load_checkpoint(checkpoint, state);
    if (step % steps_per_epoch != 0) {
      throw vaelib::ArgumentError("--resume: the checkpoint is at step " + std::to_string(step) +
                                  ", not at the end of an epoch of " + std::to_string(steps_per_epoch) +
                                  " steps (was it made with another --batch-size or --train-n?)");
    }
    first_epoch = step / steps_per_epoch + 1;
    std::printf("Resumed from %s at epoch %zu (step %llu)\n", checkpoint.string().c_str(), first_epoch - 1,
                static_cast<unsigned long long>(step));
  }
  vaelib::io::MetricsLog metrics(out_dir / "metrics.jsonl", /*append=*/o.resume);

  // ---- training: the tutorial's loop ---------------------------------------------------------
  std::vector<float> batch(o.batch_size * x_dim), binary(o.batch_size * x_dim);
  for (std::size_t epoch = first_epoch; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    sampler.shuffle(rng);
    vaelib::examples::ProgressBar bar(steps_per_epoch, "lower bound", o.progress);
    double sum_lb = 0;
    for (std::size_t t = 0; t < steps_per_epoch; ++t) {
      tape.clear();
      vaelib::data::gather(train, sampler.batch(t), batch);
      vaelib::data::binarize(batch, binary, rng);  // dynamic binarisation
      const auto x = tape.external(binary.data(), nullptr, {o.batch_size, x_dim});
      shape = {o.batch_size, 1};
      const auto q = q_net(tape, rng, encode(q_scope, x, o.hidden, o.z_dim), 1);
      auto lower_bound = vaelib::elbo(model, {{"x", x}}, q, 0);
      const auto cost = vaelib::mean(lower_bound.sgvb());
      const auto lb = vaelib::mean(lower_bound.value());
      adam.minimize(tape, cost);  // backward, each parameter updated once its gradient is final
      ++step;
      sum_lb += lb.item();
      bar.update(t + 1, sum_lb / static_cast<double>(t + 1));
    }
    bar.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double epoch_lb = sum_lb / static_cast<double>(steps_per_epoch);
    std::printf("Epoch %zu (%.1fs): Lower bound = %.4f\n", epoch, seconds, epoch_lb);
    std::fflush(stdout);
    metrics.write({{"epoch", static_cast<double>(epoch)}, {"seconds", seconds}, {"train_lower_bound", epoch_lb}});
    vaelib::io::save_checkpoint(checkpoint, state);
    if (o.save_freq > 0 && epoch % o.save_freq == 0) {
      const auto guard = tape.no_grad();
      shape = {100, 1};
      const auto generated = model.observe();  // z ~ p(z), x ~ p(x | z): nothing observed
      const xt::xarray<float> images = generated["x_mean"].value().value();
      vaelib::io::save_image_grid(out_dir / ("vae.epoch." + std::to_string(epoch) + ".png"),
                                  std::span<const float>(images.data(), images.size()), train.rows, train.cols,
                                  {.grid_rows = 10, .grid_cols = 10, .zoom = 2});
    }
  }

  // ---- evaluation ----------------------------------------------------------------------------
  // Test lower bound: 1 particle per image, on the statically binarised test set.
  double test_lb = 0;
  {
    const auto guard = tape.no_grad();
    const std::size_t chunk = 500;
    for (std::size_t begin = 0; begin < test.size(); begin += chunk) {
      tape.clear();
      const std::size_t n = std::min(chunk, test.size() - begin);
      const auto x = tape.external(test.images.data() + begin * x_dim, nullptr, {n, x_dim});
      shape = {n, 1};
      const auto q = q_net(tape, rng, encode(q_scope, x, o.hidden, o.z_dim), 1);
      test_lb += vaelib::sum(vaelib::elbo(model, {{"x", x}}, q, 0).value()).item();
    }
    test_lb /= static_cast<double>(test.size());
  }
  // Importance-sampled log-likelihood: the encoder once per image, the decoder over chunks of
  // particles (is_loglikelihood streams them).
  const std::size_t ll_n = std::min(o.ll_test_n == 0 ? test.size() : o.ll_test_n, test.size());
  double test_ll = 0;
  if (o.ll_particles > 0 && ll_n > 0) {
    const std::size_t chunk = 50;
    for (std::size_t begin = 0; begin < ll_n; begin += chunk) {
      tape.clear();
      const std::size_t n = std::min(chunk, ll_n - begin);
      const auto x = tape.external(test.images.data() + begin * x_dim, nullptr, {n, x_dim});
      shape = {n, 1};
      Encoder e;
      {
        const auto guard = tape.no_grad();
        e = encode(q_scope, x, o.hidden, o.z_dim);
      }
      auto proposal = [&](std::size_t k) { return q_net(tape, rng, e, k); };
      const auto ll = vaelib::is_loglikelihood(model, {{"x", x}}, proposal, 0,
                                               {.n_particles = o.ll_particles, .chunk_size = 100});
      for (double v : ll.log_likelihood) test_ll += v;
    }
    test_ll /= static_cast<double>(ll_n);
  }
  std::printf("Test lower bound = %.4f (1 particle, %zu images)\n", test_lb, test.size());
  if (o.ll_particles > 0) {
    std::printf("Test log-likelihood = %.4f (importance sampling, %zu particles, first %zu test images)\n", test_ll,
                o.ll_particles, ll_n);
  }
  metrics.write({{"summary", std::string("vae")},
                 {"epochs", static_cast<double>(o.epochs)},
                 {"test_lower_bound", test_lb},
                 {"test_log_likelihood", test_ll},
                 {"ll_particles", static_cast<double>(o.ll_particles)},
                 {"ll_test_images", static_cast<double>(ll_n)}});

  // ---- pictures ---------------------------------------------------------------------------------
  const std::size_t rows = train.rows, cols = train.cols;
  // Reconstructions: 5 rows of 10 test digits, each above its reconstruction from q's mean.
  const std::size_t n_recon = std::min<std::size_t>(50, test.size());
  if (n_recon > 0) {
    const xt::xarray<float> originals = xt::view(test.images, xt::range(0, n_recon), xt::all());
    const xt::xarray<float> recon = decode_means(encode_means(originals));
    std::vector<float> grid;
    for (std::size_t r = 0; r < n_recon; r += 10) {
      const std::size_t m = std::min<std::size_t>(10, n_recon - r);
      grid.insert(grid.end(), originals.data() + r * x_dim, originals.data() + (r + m) * x_dim);
      grid.resize(grid.size() + (10 - m) * x_dim, 0.5f);
      grid.insert(grid.end(), recon.data() + r * x_dim, recon.data() + (r + m) * x_dim);
      grid.resize(grid.size() + (10 - m) * x_dim, 0.5f);
    }
    vaelib::io::save_image_grid(out_dir / "reconstructions.png", grid, rows, cols, {.grid_cols = 10, .zoom = 2});
  }
  // The figures of the autograd practice (seed 003): 25 samples from the prior, and the first
  // 10 test images above their reconstructions.
  {
    const auto guard = tape.no_grad();
    shape = {25, 1};
    const auto generated = model.observe();
    const xt::xarray<float> images = generated["x_mean"].value().value();
    vaelib::io::save_image_grid(out_dir / "samples_25.png", std::span<const float>(images.data(), images.size()), rows,
                                cols, {.grid_rows = 5, .grid_cols = 5, .zoom = 2});
  }
  if (test.size() >= 10) {
    const xt::xarray<float> firsts = xt::view(test.images, xt::range(0, 10), xt::all());
    const xt::xarray<float> recon = decode_means(encode_means(firsts));
    std::vector<float> grid(firsts.begin(), firsts.end());
    grid.insert(grid.end(), recon.begin(), recon.end());
    vaelib::io::save_image_grid(out_dir / "reconstructions_10.png", grid, rows, cols, {.grid_rows = 2, .grid_cols = 10, .zoom = 2});
  }
  // Interpolations (seed 003): 5 pairs of consecutive test images, 25 steps between the means
  // of their codes.
  if (test.size() >= 10) {
    const std::size_t steps = 25;
    const xt::xarray<float> firsts = xt::view(test.images, xt::range(0, 10), xt::all());
    const xt::xarray<float> codes = encode_means(firsts);
    xt::xarray<float> path = xt::zeros<float>({5 * steps, o.z_dim});
    for (std::size_t p = 0; p < 5; ++p)
      for (std::size_t s = 0; s < steps; ++s) {
        const float w = static_cast<float>(s) / static_cast<float>(steps - 1);
        for (std::size_t d = 0; d < o.z_dim; ++d)
          path(p * steps + s, d) = (1 - w) * codes(2 * p, d) + w * codes(2 * p + 1, d);
      }
    const xt::xarray<float> images = decode_means(path);
    vaelib::io::save_image_grid(out_dir / "interpolations.png", std::span<const float>(images.data(), images.size()),
                                rows, cols, {.grid_rows = 5, .grid_cols = steps});
  }
  // The training curve, from the metrics log (so a resumed run plots every epoch).
  const std::vector<double> epochs = column_of(out_dir / "metrics.jsonl", "epoch");
  const std::vector<double> lbs = column_of(out_dir / "metrics.jsonl", "train_lower_bound");
  if (!lbs.empty()) {
    std::vector<double> xs(epochs.begin(), epochs.begin() + static_cast<std::ptrdiff_t>(lbs.size()));
    vaelib::io::plot_lines(out_dir / "training_curve.png", {{"train lower bound", xs, lbs}},
                           {.title = "VAE on " + o.dataset, .x_label = "epoch", .y_label = "nats per image"});
  }
  std::printf("Images, metrics and checkpoint are in %s\n", fs::absolute(out_dir).string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"The VAE of ZhuSuan's tutorial on binarised MNIST (or Fashion-MNIST), trained with elbo().sgvb()."};
  app.add_option("--epochs", o.epochs, "Training epochs")->capture_default_str()->check(vaelib::examples::at_least_one);
  app.add_option("--batch-size", o.batch_size, "Images per training step")->capture_default_str()->check(vaelib::examples::at_least_one);
  app.add_option("--latent", o.z_dim, "Latent dimensions (z_dim)")->capture_default_str()->check(vaelib::examples::at_least_one);
  app.add_option("--hidden", o.hidden, "Units of each hidden layer")->capture_default_str()->check(vaelib::examples::at_least_one);
  app.add_option("--lr", o.learning_rate, "Adam learning rate")->capture_default_str()->check(vaelib::examples::above_zero);
  app.add_option("--seed", o.seed, "Seed of parameters, sampling, shuffling and binarisation")->capture_default_str();
  app.add_option("--dataset", o.dataset, "mnist or fashion-mnist")
      ->capture_default_str()
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}));
  app.add_option("--data", o.data_folder,
                 "Folder with the four IDX files (default: search $VAELIB_DATA, ./data, ../shared/data)");
  app.add_option("--output", o.output, "Folder for images, metrics and the checkpoint")->capture_default_str();
  app.add_option("--threads", o.threads, "OpenBLAS threads (0: OpenBLAS's default)")->capture_default_str();
  app.add_option("--checkpoint", o.checkpoint, "Checkpoint file (default: <output>/checkpoint.npz), written each epoch");
  app.add_flag("--resume", o.resume, "Continue from the checkpoint (exactly: parameters, Adam, RNG, step)");
  app.add_option("--save-freq", o.save_freq, "Save 100 generated images every this many epochs (0: never)")
      ->capture_default_str();
  app.add_option("--train-n", o.train_n, "Use only the first N training images (0: all)")->capture_default_str();
  app.add_option("--test-n", o.test_n, "Use only the first N test images (0: all)")->capture_default_str();
  app.add_option("--ll-particles", o.ll_particles, "Particles for the test log-likelihood (0: skip it)")
      ->capture_default_str();
  app.add_option("--ll-test-n", o.ll_test_n, "Test images for the log-likelihood (0: all)")->capture_default_str();
  app.add_flag("--detect-anomaly", o.detect_anomaly,
               "Stop at the first NaN or infinity in a value or gradient, naming the op (slower)");
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "No progress bar (it is also off when stderr is not a terminal)");
  CLI11_PARSE(app, argc, argv);
  o.progress = !no_progress;
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vae: %s\n", e.what());
    return 1;
  }
}
