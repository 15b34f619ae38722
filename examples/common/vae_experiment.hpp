#pragma once
// What the VAE-family examples share: the common command-line options, loading and slicing
// the data, a training loop over models::VAE with a choice of objective, early stopping on
// the validation bound, checkpoints with exact resume, evaluation (lower bound with its
// reconstruction and KL terms, importance-sampled log-likelihood) and the pictures.
// Each example program is a model choice plus its own figures on top of this.

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>
#include <vector>

#include <errno.h>  // program_invocation_short_name (glibc): the program named in checkpoints

#include "dataset_folder.hpp"
#include "experiment_parts.hpp"
#include "training_run.hpp"

namespace vaelib::examples {

/// The family's options: the common ones, training particles, and early stopping; a preset
/// (iwae --protocol burda) also sets Adam's epsilon, a learning rate per epoch and a line
/// printed as each epoch starts (the schedule's stage).
struct ExperimentOptions : CommonOptions {
  std::size_t particles = 1;  // training particles per image (k of the IW objective)
  std::size_t validation_n = 0;
  std::size_t patience = 0;
  double adam_epsilon = 1e-8;
  std::function<double(std::size_t epoch)> epoch_learning_rate;  // if set (epochs from 1), overrides learning_rate
  std::function<std::string(std::size_t epoch)> epoch_note;  // if set, printed as each epoch starts
  bool distributed = false;   // --distributed: data-parallel on MPI ranks (ranks.hpp)
};

/// The options every VAE-family example takes (defaults as set in `o`); `cifar10`: --dataset
/// also takes cifar10; `distributed`: --distributed (for an example that writes its files
/// through VaeExperiment only, so that rank 0 alone writes them).
inline void add_experiment_options(CLI::App& app, ExperimentOptions& o, bool cifar10 = false, bool distributed = true) {
  add_common_options(app, o, cifar10);
  if (distributed) add_distributed_option(app, o.distributed);
  app.add_option("--validation-n", o.validation_n, "Hold out the last N training images for validation (0: none)")
      ->capture_default_str()
      ->check(zero_or_more_up_to(max_images));
  app.add_option("--patience", o.patience,
                 "Early stopping: stop after this many epochs without a better validation bound, keep the best (0: off)")
      ->capture_default_str()
      ->check(zero_or_more_up_to(max_epochs));
}

/// The images as the model sees them: values in [0, 1], or in [-1, 1] (2 v - 1) for a model
/// of 8-bit values on that grid (the discretised logistic; VaeExperiment centres them).
struct Datasets {
  data::ImageSet train, validation, test;
};

/// MNIST or Fashion-MNIST (IDX files), or CIFAR-10 (its binary version): train, test.
inline std::pair<data::ImageSet, data::ImageSet> load_train_test(const ExperimentOptions& o) {
  if (o.dataset == "cifar10") {
    const auto folder = cifar10_folder(o.data_folder);
    data::ImageSet train = data::head(data::load_cifar10(folder, data::Split::train), o.train_n);
    data::ImageSet test = data::head(data::load_cifar10(folder, data::Split::test), o.test_n);
    if (test.size() == 0) throw ArgumentError("no test images (" + folder.string() + " has an empty test batch)");
    return {std::move(train), std::move(test)};
  }
  const auto folder = dataset_folder(o.dataset, o.data_folder);
  data::ImageSet train = data::head(data::load_mnist(folder, data::Split::train), o.train_n);
  data::ImageSet test = load_test_images(folder, o.test_n, train.rows, train.cols);
  return {std::move(train), std::move(test)};
}

/// Train (and validation) and test images; binary pixels (dynamic binarisation at training
/// time, a fixed draw of validation and test) unless `grey`.
inline Datasets load_datasets(const ExperimentOptions& o, bool grey) {
  Datasets d;
  auto [train, test] = load_train_test(o);
  if (o.validation_n > 0) {
    auto [fit, validation] = data::split_train_validation(train, o.validation_n);
    d.train = std::move(fit);
    d.validation = grey ? std::move(validation) : data::binarize_static(validation, o.seed + 2);
  } else {
    d.train = std::move(train);
  }
  d.test = grey ? test : data::binarize_static(test, o.seed + 1);
  std::printf("%s: %zu training, %zu validation, %zu test images (%s)\n", o.dataset.c_str(), d.train.size(),
              d.validation.size(), d.test.size(), !grey ? "binarised" : d.train.channels == 3 ? "colour values" : "grey levels");
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
  /// `networks`: an encoder and decoder of the example's own (vae_conv's convolutions).
  VaeExperiment(ExperimentOptions options, models::VaeConfig config, models::Likelihood<float> likelihood,
                Objective objective, bool grey, models::VaeNetworks<float> networks = {})
      : m_o(std::move(options)), m_grey(grey), m_centred(likelihood.name == "DiscretizedLogistic"), m_objective(objective), m_rng(m_o.seed), m_params(m_o.seed),
        m_adam(m_params, {.learning_rate = m_o.learning_rate, .schedule = epoch_schedule(), .epsilon = m_o.adam_epsilon}),
        m_ranks(m_o.distributed),
        m_vae(m_tape, m_ranks.noise(m_rng), m_params.scope("vae"), std::move(config), std::move(likelihood), std::move(networks)) {
    m_tape.detect_anomaly(m_o.detect_anomaly);
    m_ranks.check_batch_size(m_o.batch_size);
    if (m_ranks.is_root()) std::filesystem::create_directories(m_o.output);
    m_data = load_datasets(m_o, grey);
    m_steps_per_epoch = std::max<std::size_t>(1, data::BatchSampler(m_data.train.size(), m_o.batch_size).batches());
    if (m_centred) {
      for (data::ImageSet* set : {&m_data.train, &m_data.validation, &m_data.test}) set->images = 2.0f * set->images - 1.0f;
    }
    if (m_data.train.pixels() != m_vae.config().x_dim) {
      throw ArgumentError("the images have " + std::to_string(m_data.train.pixels()) + " pixels, the model expects " +
                          std::to_string(m_vae.config().x_dim));
    }
    if ((objective == Objective::vimco) && m_o.particles < 2) {
      throw ArgumentError("--particles must be at least 2 for VIMCO (got " + std::to_string(m_o.particles) + ")");
    }
    if (m_o.ll_method == "ais" && m_o.ll_particles > 0 && m_vae.has_top_layer()) {
      throw ArgumentError("--ll-method ais moves one latent, z; this model has two stochastic layers: use --ll-method is");
    }
    if (m_o.ll_method == "ais" && m_o.ll_particles > 0 && m_vae.config().latent != models::LatentKind::normal) {
      throw ArgumentError("--ll-method ais needs real-valued latents (AIS moves them by HMC); these are binary: use --ll-method is");
    }
  }

  models::VAE<float>& vae() noexcept { return m_vae; }
  Tape<float>& tape() noexcept { return m_tape; }
  Rng& rng() noexcept { return m_rng; }
  const Datasets& data() const noexcept { return m_data; }
  const ExperimentOptions& options() const noexcept { return m_o; }
  /// Whether this process writes the run's files: always, except on ranks other than 0 of --distributed.
  bool writes_files() const noexcept { return m_ranks.is_root(); }
  std::filesystem::path output() const { return m_o.output; }

  /// Runs the epochs (from the checkpoint with --resume), with early stopping when there is
  /// a validation set and --patience; leaves the best parameters in place.
  void train() {
    namespace fs = std::filesystem;
    const fs::path best = output() / "best.npz";
    data::BatchSampler sampler(m_data.train.size(), m_o.batch_size);
    TrainingRun run(m_o, output() / "checkpoint.npz", {&m_params, &m_adam, &m_rng, &m_step},
                    {.program = program_invocation_short_name, .batch_size = m_o.batch_size, .train_size = m_data.train.size()},
                    sampler.batches(), &m_ranks);
    // restored on resume: best.npz is replaced only by better weights, patience continues
    double& best_validation = run.record().best_validation;
    std::size_t& since_best = run.record().since_best;
    bool stop = m_o.patience > 0 && m_data.validation.size() > 0 && since_best >= m_o.patience;
    if (stop) std::printf("Early stop (before the checkpoint): no better validation bound for %zu epochs\n", since_best);
    const std::size_t d = m_data.train.pixels();
    const auto [share_begin, share_end] = m_ranks.share(m_o.batch_size);  // this rank's rows of each batch
    const std::size_t share = share_end - share_begin;
    m_global_batch = m_o.batch_size;
    std::vector<float> batch(share * d), binary(share * d);
    for (std::size_t epoch = run.first_epoch(); epoch <= m_o.epochs && !stop; ++epoch) {
      if (m_o.epoch_note) std::printf("%s\n", m_o.epoch_note(epoch).c_str());
      run.begin_epoch(epoch);
      sampler.shuffle(m_rng);
      m_ranks.begin_epoch(m_rng, epoch);
      for (std::size_t t = 0; t < sampler.batches(); ++t) {
        m_tape.clear();
        data::gather(m_data.train, sampler.batch(t).subspan(share_begin, share), batch);
        if (!m_grey) data::binarize(batch, binary, m_ranks.noise(m_rng));
        const auto x = m_tape.external(m_grey ? batch.data() : binary.data(), nullptr, {share, d});
        run.after_step(step(x));
      }
      m_global_batch = 0;
      std::vector<io::MetricsLog::Field> validation_fields;
      std::string validation_text;
      if (m_data.validation.size() > 0) {
        const double validation = evaluate(m_data.validation).lower_bound;
        validation_fields.emplace_back("validation_lower_bound", validation);
        char text[64];
        std::snprintf(text, sizeof text, ", validation = %.4f", validation);
        validation_text = text;
        if (validation > best_validation) {
          best_validation = validation;
          since_best = 0;
          if (writes_files()) save_run_checkpoint(best, io::TrainingState<float>{&m_params}, run.record());
        } else if (m_o.patience > 0 && ++since_best >= m_o.patience) {
          stop = true;
        }
      }
      run.end_epoch(std::move(validation_fields), validation_text);
      if (stop) std::printf("Early stop: no better validation bound for %zu epochs\n", m_o.patience);
    }
    m_ranks.begin_epoch(m_rng, m_o.epochs + 1);  // the evaluation's noise
    if (m_data.validation.size() > 0 && fs::exists(best)) {
      io::load_checkpoint(best, io::TrainingState<float>{&m_params});
      std::printf("Kept the parameters of the best validation bound (%.4f)\n", best_validation);
    }
  }

  /// One optimisation step on the batch x; returns the batch's mean lower bound.
  double step(const Var<float>& x) {
    const std::size_t n = x.shape()[0];
    const auto encoding = m_vae.encode(x);
    const auto q = m_vae.variational(encoding, m_o.particles);
    Var<float> cost, bound;
    switch (m_objective) {
      case Objective::elbo_sgvb:
      case Objective::elbo_analytic: {
        auto lb = elbo(m_vae.model(n), {{"x", x}}, q, 0, {.analytic_kl = m_objective == Objective::elbo_analytic});
        cost = mean(lb.sgvb());
        bound = mean(lb.value());
        break;
      }
      case Objective::elbo_reinforce: {
        auto lb = elbo(m_vae.model(n), {{"x", x}}, q, 0);
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
        auto iw = iw_objective(m_vae.model(n), {{"x", x}}, q, 0);
        cost = mean(m_objective == Objective::iwae ? iw.sgvb() : m_objective == Objective::iwae_dreg ? iw.dreg() : iw.vimco());
        bound = mean(iw.value());
        break;
      }
    }
    // backward, each parameter updated once its gradient is final (with --distributed, once its
    // bucket's sum over the ranks has arrived: this rank's n images are a share of the batch)
    m_ranks.minimize(m_adam, m_tape, cost, n, m_global_batch > 0 ? m_global_batch : n);
    ++m_step;
    return bound.item();
  }

  /// The 1-particle lower bound on `set` with its reconstruction term E_q[log p(x | z)] and
  /// KL(q || p(z)) in closed form (kl_divergence: Normal and Bernoulli latents alike; the
  /// 1-sample log q - log p for a pair with no analytic KL registered, and for two stochastic
  /// layers), per image.
  BoundTerms evaluate(const data::ImageSet& set) {
    const auto guard = m_tape.no_grad();
    BoundTerms t;
    t.reconstruction = mean_over_chunks(m_tape, set, set.size(), 500, [&](const Var<float>& x, std::size_t n) {
      const auto q = m_vae.variational(x, 1);
      if (m_vae.has_top_layer()) {  // two stochastic layers: log q - log p of the draws of z and z2
        const auto bn = m_vae.model(n).observe({{"x", x}, {"z", q["z"].value()}, {"z2", q["z2"].value()}});
        t.kl += sum(q["z"].log_prob() + q["z2"].log_prob() - bn.cond_log_prob("z") - bn.cond_log_prob("z2")).item();
        return sum(bn.cond_log_prob("x")).item();
      }
      const auto bn = m_vae.model(n).observe({{"x", x}, {"z", q["z"].value()}});
      const auto& prior = bn["z"].distribution();
      t.kl += has_analytic_kl(q["z"].distribution(), prior) ? sum(kl_divergence(q["z"].distribution(), prior)).item()
                                                           : sum(q["z"].log_prob() - bn.cond_log_prob("z")).item();
      return sum(bn.cond_log_prob("x")).item();
    }, m_ranks);
    t.kl = m_ranks.sum(t.kl) / static_cast<double>(set.size());
    t.lower_bound = t.reconstruction - t.kl;
    return t;
  }

  /// Importance-sampled (or, with --ll-method ais, annealed) log p(x) on the first n images of `set` (mean per image).
  /// Each image's estimate and its standard error are kept: per_image_log_likelihood().
  double log_likelihood(const data::ImageSet& set, std::size_t particles, std::size_t n_images) {
    m_per_image_ll.clear();
    m_per_image_error.clear();
    const double ll_mean = mean_over_chunks(m_tape, set, n_images == 0 ? set.size() : n_images, 50, [&](const Var<float>& x, std::size_t n) {
      if (m_o.ll_method == "ais") {  // from the prior: AIS needs no encoder (and does not trust it)
        const auto ll = ais_loglikelihood(m_vae.model(), {{"x", x}}, "z",
                                          {.n_chains = m_o.ais_chains, .n_temperatures = m_o.ais_temperatures,
                                           .image_chunk = n, .seed = m_o.seed + 3});
        keep_per_image(ll.log_likelihood, ll.standard_error);
        return xt::sum(ll.log_likelihood)();
      }
      models::VAE<float>::Encoding e;
      {
        const auto guard = m_tape.no_grad();
        e = m_vae.encode(x);
      }
      auto proposal = [&](std::size_t k) { return m_vae.variational(e, k); };
      const auto ll = is_loglikelihood(m_vae.model(n), {{"x", x}}, proposal, 0, {.n_particles = particles, .chunk_size = 100});
      keep_per_image(ll.log_likelihood, ll.standard_error);
      return xt::sum(ll.log_likelihood)();
    }, m_ranks);
    // with --distributed each rank holds its share's: rank 0 gathers them, in image order
    m_per_image_ll = m_ranks.gather_to_root(m_per_image_ll);
    m_per_image_error = m_ranks.gather_to_root(m_per_image_error);
    return ll_mean;
  }

  /// Burda et al.'s active units: latent dimensions u whose posterior mean E_q[u | x] varies
  /// over `set` with a variance above `threshold` (0.01); Gaussian q without a flow (the
  /// mean is q's mean head), else none is counted (returns nothing).
  std::optional<std::size_t> active_units(const data::ImageSet& set, double threshold = 1e-2) {
    if (m_vae.config().latent != models::LatentKind::normal || m_vae.config().flow.kind != models::FlowKind::none) {
      return std::nullopt;
    }
    const std::size_t z = m_vae.config().z_dim;
    std::vector<double> sum(z, 0.0), sum_sq(z, 0.0);
    for (std::size_t first = 0; first < set.size(); first += 500) {
      const std::size_t last = std::min(set.size(), first + 500);
      const xt::xarray<float> means = encode(xt::view(set.images, xt::range(first, last), xt::all()));
      for (std::size_t i = 0; i < last - first; ++i)
        for (std::size_t u = 0; u < z; ++u) {
          const double m = means(i, u);
          sum[u] += m;
          sum_sq[u] += m * m;
        }
    }
    std::size_t active = 0;
    const auto n = static_cast<double>(set.size());
    for (std::size_t u = 0; u < z; ++u) active += sum_sq[u] / n - (sum[u] / n) * (sum[u] / n) > threshold ? 1 : 0;
    return active;
  }

  /// Test bound (with its terms) and log-likelihood: printed and written to metrics.jsonl.
  BoundTerms report_test(const std::string& name) {
    const BoundTerms t = evaluate(m_data.test);
    std::printf("Test lower bound = %.4f (reconstruction %.4f, KL %.4f; 1 particle, %zu images)\n", t.lower_bound,
                t.reconstruction, t.kl, m_data.test.size());
    double ll = std::nan("");
    LogLikelihoodError ll_error;
    const std::size_t ll_n = std::min(m_o.ll_test_n == 0 ? m_data.test.size() : m_o.ll_test_n, m_data.test.size());
    if (m_o.ll_particles > 0) {
      ll = log_likelihood(m_data.test, m_o.ll_particles, ll_n);
      print_test_log_likelihood(m_o, ll, ll_n);
      if (writes_files()) {
        save_per_image_log_likelihood(output() / "test_log_likelihood.csv");
        ll_error = test_log_likelihood_error();
        std::printf("Standard error of the test log-likelihood: %.4f over the images (their spread / sqrt(n)), %.4f from "
                    "the estimator (the images' own standard errors combined)\n",
                    ll_error.over_images, ll_error.of_estimator);
      }
    }
    // bits per dimension, -log2 p(x) / D: a probability of discrete values (binarised
    // pixels, or 8-bit ones under the discretised logistic), not a density of grey levels
    const bool discrete = !m_grey || m_centred;
    const double bits = std::log(2.0) * static_cast<double>(m_vae.config().x_dim);
    const double bound_bits = discrete ? -t.lower_bound / bits : std::nan("");
    const double ll_bits = discrete ? -ll / bits : std::nan("");
    if (discrete && std::isnan(ll_bits)) std::printf("Test bits per dimension: %.4f from the lower bound\n", bound_bits);
    if (discrete && !std::isnan(ll_bits)) {
      std::printf("Test bits per dimension: %.4f from the lower bound, %.4f from the log-likelihood\n", bound_bits, ll_bits);
    }
    const std::optional<std::size_t> active = active_units(m_data.test);
    if (active) std::printf("Active units: %zu of %zu (variance of q's mean over the test set > 0.01)\n", *active, m_vae.config().z_dim);
    if (writes_files()) io::MetricsLog(output() / "metrics.jsonl").write({{"summary", name},
                                                      {"active_units", active ? static_cast<double>(*active) : std::nan("")},
                                                      {"test_lower_bound", t.lower_bound},
                                                      {"test_reconstruction", t.reconstruction},
                                                      {"test_kl", t.kl},
                                                      {"test_log_likelihood", ll},
                                                      {"test_log_likelihood_se_images", ll_error.over_images},
                                                      {"test_log_likelihood_se_estimator", ll_error.of_estimator},
                                                      {"test_bound_bits_per_dim", bound_bits},
                                                      {"test_bits_per_dim", ll_bits},
                                                      {"ll_particles", static_cast<double>(m_o.ll_particles)},
                                                      {"ll_test_images", static_cast<double>(ll_n)}});
    std::fflush(stdout);
    return t;
  }

  /// The standard error of the last log_likelihood()'s mean (rank 0 holds every image's):
  /// over the images, their spread / sqrt(n), what another test set would move it by; of the
  /// estimator, sqrt(sum of the images' squared standard errors) / n, what another draw of the
  /// particles would. NaN for fewer than two images.
  struct LogLikelihoodError {
    double over_images = std::nan(""), of_estimator = std::nan("");
  };
  LogLikelihoodError test_log_likelihood_error() const {
    const auto n = static_cast<double>(m_per_image_ll.size());
    if (m_per_image_ll.size() < 2) return {};
    double sum = 0, sum_sq = 0, error_sq = 0;
    for (std::size_t i = 0; i < m_per_image_ll.size(); ++i) {
      sum += m_per_image_ll[i];
      sum_sq += m_per_image_ll[i] * m_per_image_ll[i];
      error_sq += m_per_image_error[i] * m_per_image_error[i];
    }
    const double variance = std::max(0.0, (sum_sq - sum * sum / n) / (n - 1));
    return {std::sqrt(variance / n), std::sqrt(error_sq) / n};
  }

  /// The last log_likelihood()'s estimate per image, in the set's order.
  const std::vector<double>& per_image_log_likelihood() const noexcept { return m_per_image_ll; }

  /// Writes "image,log_likelihood,standard_error" lines, one per image of the last
  /// log_likelihood() (so that two runs can be compared image by image: a paired difference).
  void save_per_image_log_likelihood(const std::filesystem::path& file) const {
    std::ofstream out(file);
    out << "image,log_likelihood,standard_error\n";
    char line[96];
    for (std::size_t i = 0; i < m_per_image_ll.size(); ++i) {
      std::snprintf(line, sizeof line, "%zu,%.6f,%.6f\n", i, m_per_image_ll[i], m_per_image_error[i]);
      out << line;
    }
    if (!out) throw io::IoError("cannot write " + file.string());
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
    const auto bn = m_vae.model(n).observe();
    const Var<float> means = bn["x_mean"].value();  // [1, n, x_dim]: one particle
    xt::xarray<float> out = xt::xarray<float>::from_shape({n, m_vae.config().x_dim});
    std::copy_n(means.data(), out.size(), out.data());
    return out;
  }

  /// Images as the model sees them [n, x_dim], drawn as a grid (in colour for 3 channels).
  void save_grid(const std::string& file, const xt::xarray<float>& images, std::size_t grid_rows, std::size_t grid_cols) {
    if (!writes_files()) return;
    examples::save_grid(output() / file, picture(images), m_data.train.rows, m_data.train.cols, grid_rows, grid_cols, 2,
                        m_data.train.channels);
  }
  /// The first n test images (rows of 10) each above its reconstruction from q's mean.
  void save_reconstructions(const std::string& file, std::size_t n) {
    if (!writes_files()) return;
    const xt::xarray<float> originals = xt::view(m_data.test.images, xt::range(0, std::min(n, m_data.test.size())), xt::all());
    save_reconstruction_grid(output() / file, picture(originals), picture(decode(encode(originals))), m_data.test.rows,
                             m_data.test.cols, m_data.test.channels);
  }
  /// The training curve (train and, if any, validation bound per epoch) from metrics.jsonl.
  void save_training_curve(const std::string& title) {
    if (writes_files()) examples::save_training_curve(output(), title);
  }

 private:
  /// --lr, or the preset's rate per epoch as a schedule over Adam's step count (restored with
  /// the checkpoint, so a resumed run goes on at the right rate; the data, and with it the
  /// steps per epoch, is loaded after Adam is made, and before its first step).
  optim::Schedule epoch_schedule() {
    if (!m_o.epoch_learning_rate) return {};
    return [this](std::uint64_t step) { return m_o.epoch_learning_rate(static_cast<std::size_t>(step / m_steps_per_epoch) + 1); };
  }

  /// Values as the model sees them, mapped to [0, 1] for a picture.
  xt::xarray<float> picture(const xt::xarray<float>& images) const {
    return m_centred ? xt::xarray<float>((images + 1.0f) / 2.0f) : images;
  }

  void keep_per_image(const xt::xarray<double>& ll, const xt::xarray<double>& error) {
    m_per_image_ll.insert(m_per_image_ll.end(), ll.begin(), ll.end());
    m_per_image_error.insert(m_per_image_error.end(), error.begin(), error.end());
  }

  ExperimentOptions m_o;
  ComputeSettings m_compute{m_o};  // --threads, denormals flushed while the experiment lives
  bool m_grey;
  bool m_centred;  // the sets hold 2 v - 1 (discretised logistic); pictures map back to [0, 1]
  Objective m_objective;
  Tape<float> m_tape;
  Rng m_rng;
  ParameterStore<float> m_params;
  optim::Adam<float> m_adam;
  Ranks m_ranks;  // before m_vae, which draws from its noise
  models::VAE<float> m_vae;
  Datasets m_data;
  MovingAverageBaseline m_moving_average{0.8};
  std::vector<double> m_per_image_ll, m_per_image_error;
  std::uint64_t m_step = 0;
  std::size_t m_steps_per_epoch = 1;
  std::size_t m_global_batch = 0;  // while train() runs: the batch of which step()'s images are a share
};

}  // namespace vaelib::examples
