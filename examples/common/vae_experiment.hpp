#pragma once
// What the VAE-family examples share: the common command-line options, loading and slicing
// the data, a training loop over models::VAE with a choice of objective, early stopping on
// the validation bound, checkpoints with exact resume, evaluation (lower bound with its
// reconstruction and KL terms, importance-sampled log-likelihood) and the pictures.
// Each example program is a model choice plus its own figures on top of this.

#include <cblas.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>
#include <vector>

#include "cli_checks.hpp"
#include "dataset_folder.hpp"
#include "progress_bar.hpp"

namespace vaelib::examples {

struct ExperimentOptions {
  std::size_t epochs = 10;
  std::size_t batch_size = 128;
  std::size_t particles = 1;  // training particles per image (k of the IW objective)
  double learning_rate = 1e-3;
  std::uint64_t seed = 1234;
  std::string dataset = "mnist";
  std::string data_folder;
  std::string output;
  int threads = 0;
  bool resume = false;
  std::size_t train_n = 0;
  std::size_t validation_n = 0;
  std::size_t patience = 0;
  std::size_t test_n = 0;
  std::size_t ll_particles = 1000;
  std::size_t ll_test_n = 1000;
  bool progress = true;
  bool detect_anomaly = false;
};

/// The options every VAE-family example takes (defaults as set in `o`).
inline void add_experiment_options(CLI::App& app, ExperimentOptions& o) {
  app.add_option("--epochs", o.epochs, "Training epochs (the most, with --patience)")->capture_default_str()->check(vaelib::examples::at_least_one);
  app.add_option("--batch-size", o.batch_size, "Images per training step")->capture_default_str()->check(vaelib::examples::at_least_one);
  app.add_option("--lr", o.learning_rate, "Adam learning rate")->capture_default_str()->check(vaelib::examples::above_zero);
  app.add_option("--seed", o.seed, "Seed of parameters, sampling, shuffling and binarisation")->capture_default_str();
  app.add_option("--dataset", o.dataset, "mnist or fashion-mnist")
      ->capture_default_str()
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}));
  app.add_option("--data", o.data_folder, "Folder with the four IDX files (default: search $VAELIB_DATA, ./data, ../shared/data)");
  app.add_option("--output", o.output, "Folder for images, metrics and checkpoints")->capture_default_str();
  app.add_option("--threads", o.threads, "OpenBLAS threads (0: OpenBLAS's default)")->capture_default_str();
  app.add_flag("--resume", o.resume, "Continue from <output>/checkpoint.npz (parameters, Adam, RNG, step)");
  app.add_option("--train-n", o.train_n, "Use only the first N training images (0: all)")->capture_default_str();
  app.add_option("--validation-n", o.validation_n, "Hold out the last N training images for validation (0: none)")
      ->capture_default_str();
  app.add_option("--patience", o.patience,
                 "Early stopping: stop after this many epochs without a better validation bound, keep the best (0: off)")
      ->capture_default_str();
  app.add_option("--test-n", o.test_n, "Use only the first N test images (0: all)")->capture_default_str();
  app.add_option("--ll-particles", o.ll_particles, "Particles for the test log-likelihood (0: skip it)")->capture_default_str();
  app.add_option("--ll-test-n", o.ll_test_n, "Test images for the log-likelihood (0: all)")->capture_default_str();
  app.add_flag("--detect-anomaly", o.detect_anomaly,
               "Stop at the first NaN or infinity in a value or gradient, naming the op (slower)");
  app.add_flag_callback("--no-progress", [&o] { o.progress = false; }, "No progress bar");
}

struct Datasets {
  data::ImageSet train, validation, test;
};

/// Train (and validation) and test images; binary pixels (dynamic binarisation at training
/// time, a fixed draw of validation and test) unless `grey`.
inline Datasets load_datasets(const ExperimentOptions& o, bool grey) {
  const auto folder = dataset_folder(o.dataset, o.data_folder);
  Datasets d;
  data::ImageSet train = data::head(data::load_mnist(folder, data::Split::train), o.train_n);
  if (o.validation_n > 0) {
    auto [fit, validation] = data::split_train_validation(train, o.validation_n);
    d.train = std::move(fit);
    d.validation = grey ? std::move(validation) : data::binarize_static(validation, o.seed + 2);
  } else {
    d.train = std::move(train);
  }
  const data::ImageSet test = data::head(data::load_mnist(folder, data::Split::test), o.test_n);
  d.test = grey ? test : data::binarize_static(test, o.seed + 1);
  std::printf("%s: %zu training, %zu validation, %zu test images (%s)\n", o.dataset.c_str(), d.train.size(),
              d.validation.size(), d.test.size(), grey ? "grey levels" : "binarised");
  return d;
}

enum class Objective {
  elbo_sgvb,       // the ELBO, reparameterised, sampled KL
  elbo_analytic,   // the ELBO, reparameterised, closed-form KL (seed 001, eq. 6)
  elbo_reinforce,  // the ELBO, score function with a moving average and a learned baseline (seed 004)
  iwae,            // the importance-weighted bound, reparameterised
  iwae_dreg,       // the same, doubly reparameterised
  vimco            // the importance-weighted bound, score function (discrete latents)
};

/// The terms of the test bound, per image: E_q[log p(x | z)] and KL(q || p), and their sum.
struct BoundTerms {
  double lower_bound = 0, reconstruction = 0, kl = 0;
};

/// Trains a models::VAE and evaluates it; owns the tape, RNG, parameters and optimiser.
class VaeExperiment {
 public:
  VaeExperiment(ExperimentOptions options, models::VaeConfig config, models::Likelihood<float> likelihood,
                Objective objective, bool grey)
      : m_o(std::move(options)), m_grey(grey), m_objective(objective), m_rng(m_o.seed), m_params(m_o.seed),
        m_adam(m_params, {.learning_rate = m_o.learning_rate}),
        m_vae(m_tape, m_rng, m_params.scope("vae"), std::move(config), std::move(likelihood)) {
    if (m_o.threads > 0) openblas_set_num_threads(m_o.threads);
    m_tape.detect_anomaly(m_o.detect_anomaly);
    std::filesystem::create_directories(m_o.output);
    m_data = load_datasets(m_o, grey);
    if (m_data.train.pixels() != m_vae.config().x_dim) {
      throw ArgumentError("the images have " + std::to_string(m_data.train.pixels()) + " pixels, the model expects " +
                          std::to_string(m_vae.config().x_dim));
    }
    if ((objective == Objective::vimco) && m_o.particles < 2) {
      throw ArgumentError("--particles must be at least 2 for VIMCO (got " + std::to_string(m_o.particles) + ")");
    }
  }

  models::VAE<float>& vae() noexcept { return m_vae; }
  Tape<float>& tape() noexcept { return m_tape; }
  Rng& rng() noexcept { return m_rng; }
  const Datasets& data() const noexcept { return m_data; }
  const ExperimentOptions& options() const noexcept { return m_o; }
  std::filesystem::path output() const { return m_o.output; }

  /// Runs the epochs (from the checkpoint with --resume), with early stopping when there is
  /// a validation set and --patience; leaves the best parameters in place.
  void train() {
    namespace fs = std::filesystem;
    const fs::path checkpoint = output() / "checkpoint.npz", best = output() / "best.npz";
    data::BatchSampler sampler(m_data.train.size(), m_o.batch_size);
    const std::size_t steps_per_epoch = sampler.batches();
    const io::TrainingState<float> state{&m_params, &m_adam, &m_rng, &m_step};
    std::size_t first_epoch = 1;
    double best_validation = -std::numeric_limits<double>::infinity();
    std::size_t since_best = 0;
    if (m_o.resume) {
      if (!fs::exists(checkpoint)) throw io::IoError("--resume: no checkpoint at " + checkpoint.string());
      io::load_checkpoint(checkpoint, state);
      first_epoch = m_step / steps_per_epoch + 1;
      std::printf("Resumed from %s at epoch %zu\n", checkpoint.string().c_str(), first_epoch - 1);
    }
    io::MetricsLog metrics(output() / "metrics.jsonl", m_o.resume);
    const std::size_t d = m_data.train.pixels();
    std::vector<float> batch(m_o.batch_size * d), binary(m_o.batch_size * d);
    std::size_t epoch = first_epoch;
    for (; epoch <= m_o.epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      sampler.shuffle(m_rng);
      ProgressBar bar(steps_per_epoch, "lower bound", m_o.progress);
      double sum = 0;
      for (std::size_t t = 0; t < steps_per_epoch; ++t) {
        m_tape.clear();
        data::gather(m_data.train, sampler.batch(t), batch);
        if (!m_grey) data::binarize(batch, binary, m_rng);
        const auto x = m_tape.external(m_grey ? batch.data() : binary.data(), nullptr, {m_o.batch_size, d});
        sum += step(x);
        bar.update(t + 1, sum / static_cast<double>(t + 1));
      }
      bar.finish();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double train_bound = sum / static_cast<double>(steps_per_epoch);
      std::vector<io::MetricsLog::Field> fields{{"epoch", static_cast<double>(epoch)},
                                                {"seconds", seconds},
                                                {"train_lower_bound", train_bound}};
      std::printf("Epoch %zu (%.1fs): Lower bound = %.4f", epoch, seconds, train_bound);
      bool stop = false;
      if (m_data.validation.size() > 0) {
        const double validation = evaluate(m_data.validation).lower_bound;
        fields.emplace_back("validation_lower_bound", validation);
        std::printf(", validation = %.4f", validation);
        if (validation > best_validation) {
          best_validation = validation;
          since_best = 0;
          io::save_checkpoint(best, io::TrainingState<float>{&m_params});
        } else if (m_o.patience > 0 && ++since_best >= m_o.patience) {
          stop = true;
        }
      }
      std::printf("\n");
      std::fflush(stdout);
      metrics.write(fields);
      io::save_checkpoint(checkpoint, state);
      if (stop) {
        std::printf("Early stop: no better validation bound for %zu epochs\n", m_o.patience);
        break;
      }
    }
    if (m_data.validation.size() > 0 && fs::exists(best)) {
      io::load_checkpoint(best, io::TrainingState<float>{&m_params});
      std::printf("Kept the parameters of the best validation bound (%.4f)\n", best_validation);
    }
  }

  /// One optimisation step on the batch x; returns the batch's mean lower bound.
  double step(const Var<float>& x) {
    const std::size_t n = x.shape()[0];
    m_vae.prepare(n);
    const auto encoding = m_vae.encode(x);
    const auto q = m_vae.variational(encoding, m_o.particles);
    Var<float> cost, bound;
    switch (m_objective) {
      case Objective::elbo_sgvb:
      case Objective::elbo_analytic: {
        auto lb = elbo(m_vae.model(), {{"x", x}}, q, 0, {.analytic_kl = m_objective == Objective::elbo_analytic});
        cost = mean(lb.sgvb());
        bound = mean(lb.value());
        break;
      }
      case Objective::elbo_reinforce: {
        auto lb = elbo(m_vae.model(), {{"x", x}}, q, 0);
        // c(x): a small network on the image, trained towards E[f | x] (seed 004's c(x))
        const ParameterScope<float> b = m_params.scope("baseline");
        const auto h = dense(b, "h", x, 100, {.activation = Activation::tanh});
        const auto c = reshape(dense(b, "out", h, 1), {static_cast<std::ptrdiff_t>(n)});
        auto [surrogate, baseline_cost] = lb.reinforce(c, {.moving_average = &m_moving_average});
        cost = mean(surrogate + baseline_cost);
        bound = mean(lb.value());
        break;
      }
      case Objective::iwae:
      case Objective::iwae_dreg:
      case Objective::vimco: {
        auto iw = iw_objective(m_vae.model(), {{"x", x}}, q, 0);
        cost = mean(m_objective == Objective::iwae ? iw.sgvb() : m_objective == Objective::iwae_dreg ? iw.dreg() : iw.vimco());
        bound = mean(iw.value());
        break;
      }
    }
    m_adam.minimize(m_tape, cost);  // backward, each parameter updated once its gradient is final
    ++m_step;
    return bound.item();
  }

  /// The 1-particle lower bound on `set` with its reconstruction term E_q[log p(x | z)] and
  /// KL(q || p(z)) in closed form (kl_divergence: Normal and Bernoulli latents alike; the
  /// 1-sample log q - log p only for a pair with no analytic KL registered), per image.
  BoundTerms evaluate(const data::ImageSet& set) {
    const auto guard = m_tape.no_grad();
    BoundTerms t;
    const std::size_t d = set.pixels(), chunk = 500;
    for (std::size_t begin = 0; begin < set.size(); begin += chunk) {
      m_tape.clear();
      const std::size_t n = std::min(chunk, set.size() - begin);
      const auto x = m_tape.external(set.images.data() + begin * d, nullptr, {n, d});
      m_vae.prepare(n);
      const auto q = m_vae.variational(x, 1);
      const auto bn = m_vae.model().observe({{"x", x}, {"z", q["z"].value()}});
      const double reconstruction = sum(bn.cond_log_prob("x")).item();
      const auto& prior = bn["z"].distribution();
      const double kl = has_analytic_kl(q["z"].distribution(), prior)
                            ? sum(kl_divergence(q["z"].distribution(), prior)).item()
                            : sum(q["z"].log_prob() - bn.cond_log_prob("z")).item();
      t.reconstruction += reconstruction;
      t.kl += kl;
    }
    t.reconstruction /= static_cast<double>(set.size());
    t.kl /= static_cast<double>(set.size());
    t.lower_bound = t.reconstruction - t.kl;
    return t;
  }

  /// Importance-sampled log p(x) on the first n images of `set` (mean per image).
  double log_likelihood(const data::ImageSet& set, std::size_t particles, std::size_t n_images) {
    const std::size_t n_total = std::min(n_images == 0 ? set.size() : n_images, set.size());
    const std::size_t d = set.pixels(), chunk = 50;
    double total = 0;
    for (std::size_t begin = 0; begin < n_total; begin += chunk) {
      m_tape.clear();
      const std::size_t n = std::min(chunk, n_total - begin);
      const auto x = m_tape.external(set.images.data() + begin * d, nullptr, {n, d});
      m_vae.prepare(n);
      models::VAE<float>::Encoding e;
      {
        const auto guard = m_tape.no_grad();
        e = m_vae.encode(x);
      }
      auto proposal = [&](std::size_t k) { return m_vae.variational(e, k); };
      const auto ll = is_loglikelihood(m_vae.model(), {{"x", x}}, proposal, 0, {.n_particles = particles, .chunk_size = 100});
      for (double v : ll.log_likelihood) total += v;
    }
    return total / static_cast<double>(n_total);
  }

  /// Test bound (with its terms) and log-likelihood: printed and written to metrics.jsonl.
  BoundTerms report_test(const std::string& name) {
    const BoundTerms t = evaluate(m_data.test);
    std::printf("Test lower bound = %.4f (reconstruction %.4f, KL %.4f; 1 particle, %zu images)\n", t.lower_bound,
                t.reconstruction, t.kl, m_data.test.size());
    double ll = std::nan("");
    const std::size_t ll_n = std::min(m_o.ll_test_n == 0 ? m_data.test.size() : m_o.ll_test_n, m_data.test.size());
    if (m_o.ll_particles > 0) {
      ll = log_likelihood(m_data.test, m_o.ll_particles, ll_n);
      std::printf("Test log-likelihood = %.4f (importance sampling, %zu particles, first %zu test images)\n", ll,
                  m_o.ll_particles, ll_n);
    }
    io::MetricsLog(output() / "metrics.jsonl").write({{"summary", name},
                                                      {"test_lower_bound", t.lower_bound},
                                                      {"test_reconstruction", t.reconstruction},
                                                      {"test_kl", t.kl},
                                                      {"test_log_likelihood", ll},
                                                      {"ll_particles", static_cast<double>(m_o.ll_particles)},
                                                      {"ll_test_images", static_cast<double>(ll_n)}});
    std::fflush(stdout);
    return t;
  }

  /// Mean images decoded from latent codes z [n, z_dim].
  xt::xarray<float> decode(const xt::xarray<float>& z) {
    const auto guard = m_tape.no_grad();
    m_tape.clear();
    return m_vae.decode_mean(m_tape.constant(z)).value();
  }
  /// q's means (Normal latents) or probabilities (Bernoulli) for images x [n, x_dim].
  xt::xarray<float> encode(const xt::xarray<float>& x) {
    const auto guard = m_tape.no_grad();
    m_tape.clear();
    const auto e = m_vae.encode(m_tape.constant(x));
    return m_vae.config().latent == models::LatentKind::bernoulli ? xt::xarray<float>(sigmoid(e.logits).value())
                                                                   : xt::xarray<float>(e.mean.value());
  }
  /// n draws of the model: z from the prior, then the likelihood's mean image [n, x_dim].
  xt::xarray<float> sample_means(std::size_t n) {
    const auto guard = m_tape.no_grad();
    m_tape.clear();
    m_vae.prepare(n);
    const auto bn = m_vae.model().observe();
    const Var<float> means = bn["x_mean"].value();  // [1, n, x_dim]: one particle
    xt::xarray<float> out = xt::xarray<float>::from_shape({n, m_vae.config().x_dim});
    std::copy_n(means.data(), out.size(), out.data());
    return out;
  }

  void save_grid(const std::string& file, const xt::xarray<float>& images, std::size_t grid_rows, std::size_t grid_cols) {
    io::save_image_grid(output() / file, std::span<const float>(images.data(), images.size()), m_data.train.rows,
                        m_data.train.cols, {.grid_rows = grid_rows, .grid_cols = grid_cols, .zoom = 2});
  }
  /// The first n test images (rows of 10) each above its reconstruction from q's mean.
  void save_reconstructions(const std::string& file, std::size_t n) {
    n = std::min(n, m_data.test.size());
    const std::size_t d = m_data.test.pixels();
    const xt::xarray<float> originals = xt::view(m_data.test.images, xt::range(0, n), xt::all());
    const xt::xarray<float> recon = decode(encode(originals));
    std::vector<float> grid;
    for (std::size_t r = 0; r < n; r += 10) {
      const std::size_t m = std::min<std::size_t>(10, n - r);
      grid.insert(grid.end(), originals.data() + r * d, originals.data() + (r + m) * d);
      grid.resize(grid.size() + (10 - m) * d, 0.5f);
      grid.insert(grid.end(), recon.data() + r * d, recon.data() + (r + m) * d);
      grid.resize(grid.size() + (10 - m) * d, 0.5f);
    }
    io::save_image_grid(output() / file, grid, m_data.test.rows, m_data.test.cols, {.grid_cols = 10, .zoom = 2});
  }
  /// The training curve (train and, if any, validation bound per epoch) from metrics.jsonl.
  void save_training_curve(const std::string& title) {
    const auto epochs = column("epoch"), train = column("train_lower_bound"), validation = column("validation_lower_bound");
    std::vector<io::Series> series{{"train", std::vector<double>(epochs.begin(), epochs.begin() + train.size()), train}};
    if (!validation.empty()) {
      series.push_back({"validation", std::vector<double>(epochs.begin(), epochs.begin() + validation.size()), validation});
    }
    if (!train.empty()) {
      io::plot_lines(output() / "training_curve.png", series,
                     {.title = title, .x_label = "epoch", .y_label = "lower bound (nats per image)"});
    }
  }

 private:
  std::vector<double> column(const std::string& key) const {
    std::vector<double> out;
    std::ifstream in(output() / "metrics.jsonl");
    std::string line;
    const std::string needle = "\"" + key + "\": ";
    while (std::getline(in, line)) {
      if (line.find("\"summary\"") != std::string::npos) continue;
      const auto at = line.find(needle);
      if (at != std::string::npos) out.push_back(std::strtod(line.c_str() + at + needle.size(), nullptr));
    }
    return out;
  }

  FlushDenormals m_flush_denormals;  // the experiment's float arithmetic flushes denormals (speed)
  ExperimentOptions m_o;
  bool m_grey;
  Objective m_objective;
  Tape<float> m_tape;
  Rng m_rng;
  ParameterStore<float> m_params;
  optim::Adam<float> m_adam;
  models::VAE<float> m_vae;
  Datasets m_data;
  MovingAverageBaseline m_moving_average{0.8};
  std::uint64_t m_step = 0;
};

}  // namespace vaelib::examples
