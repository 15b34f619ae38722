#pragma once
// The pieces every VAE example's run is made of, whatever its model: the command-line
// options they share, resuming from a checkpoint, a metric averaged over chunks of a data
// set, and the pictures (image grids, test images above their reconstructions, the training
// curve from metrics.jsonl: figures.hpp). examples/vae uses them beside its own model and training loop;
// VaeExperiment (vae_experiment.hpp) builds the family's whole run from them.

#include <cblas.h>
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <span>
#include <utility>
#include <string>
#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>
#include <vector>

#include "cli_checks.hpp"
#include "figures.hpp"
#include "ranks.hpp"

namespace vaelib::examples {

/// The options every VAE example takes.
struct CommonOptions {
  std::size_t epochs = 10;
  std::size_t batch_size = 128;
  double learning_rate = 1e-3;
  std::uint64_t seed = 1234;
  std::string dataset = "mnist";
  std::string data_folder;
  std::string output;
  int threads = 0;
  bool resume = false;
  std::size_t train_n = 0;
  std::size_t test_n = 0;
  std::size_t ll_particles = 1000;
  std::size_t ll_test_n = 1000;
  std::string ll_method = "is";       // "is": importance sampling from q; "ais": annealed importance sampling
  std::size_t ais_chains = 16;        // AIS: chains per image (--ll-particles is IS's count)
  std::size_t ais_temperatures = 1000;
  bool progress = true;
  bool detect_anomaly = false;
};

/// Adds the options of CommonOptions to `app` (defaults as set in `o`); `cifar10`: --dataset
/// also takes cifar10 (an example whose model reads colour images).
inline void add_common_options(CLI::App& app, CommonOptions& o, bool cifar10 = false) {
  app.add_option("--epochs", o.epochs, "Training epochs")->capture_default_str()->check(at_least_one_up_to(max_epochs));
  app.add_option("--batch-size", o.batch_size, "Images per training step")->capture_default_str()->check(at_least_one_up_to(max_width));
  app.add_option("--lr", o.learning_rate, "Adam learning rate")->capture_default_str()->check(above_zero);
  app.add_option("--seed", o.seed, "Seed of parameters, sampling, shuffling and binarisation")->capture_default_str()->check(any_whole_number);
  if (cifar10) {
    app.add_option("--dataset", o.dataset, "mnist, fashion-mnist or cifar10")
        ->capture_default_str()
        ->check(CLI::IsMember({"mnist", "fashion-mnist", "cifar10"}));
    app.add_option("--data", o.data_folder,
                   "Folder with the four IDX files, or for cifar10 the six .bin files of cifar-10-batches-bin "
                   "(default: search $VAELIB_DATA, ./data, ../shared/data)");
  } else {
    app.add_option("--dataset", o.dataset, "mnist or fashion-mnist")
        ->capture_default_str()
        ->check(CLI::IsMember({"mnist", "fashion-mnist"}));
    app.add_option("--data", o.data_folder, "Folder with the four IDX files (default: search $VAELIB_DATA, ./data, ../shared/data)");
  }
  app.add_option("--output", o.output, "Folder for images, metrics and checkpoints")->capture_default_str();
  app.add_option("--threads", o.threads, "OpenBLAS threads (0: OpenBLAS's default; at most the hardware threads)")
      ->capture_default_str()
      ->check(threads_count());
  app.add_flag("--resume", o.resume, "Continue from the checkpoint, exactly (parameters, Adam, RNG, step)");
  app.add_option("--train-n", o.train_n, "Use only the first N training images (0: all)")->capture_default_str()->check(zero_or_more_up_to(max_images));
  app.add_option("--test-n", o.test_n, "Use only the first N test images (0: all)")->capture_default_str()->check(zero_or_more_up_to(max_images));
  app.add_option("--ll-particles", o.ll_particles, "Particles for the test log-likelihood (0: skip it)")
      ->capture_default_str()
      ->check(zero_or_more_up_to(max_ll_particles));
  app.add_option("--ll-test-n", o.ll_test_n, "Test images for the log-likelihood (0: all)")->capture_default_str()->check(zero_or_more_up_to(max_images));
  app.add_option("--ll-method", o.ll_method, "Test log-likelihood by importance sampling from q (is) or AIS from the prior (ais)")
      ->capture_default_str()
      ->check(CLI::IsMember({"is", "ais"}));
  app.add_option("--ais-chains", o.ais_chains, "AIS: chains per test image")->capture_default_str()->check(at_least_one_up_to(max_width));
  app.add_option("--ais-temperatures", o.ais_temperatures, "AIS: intermediate distributions (sigmoid schedule)")
      ->capture_default_str()
      ->check(at_least_one_up_to(max_ll_particles));
  app.add_flag("--detect-anomaly", o.detect_anomaly,
               "Stop at the first NaN or infinity in a value or gradient, naming the op (slower)");
  app.add_flag_callback("--no-progress", [&o] { o.progress = false; },
                        "No progress bar (it is also off when stderr is not a terminal)");
}

/// What every example sets before computing: OpenBLAS's thread count (--threads; 0 keeps
/// OpenBLAS's default) and denormal floats flushed to zero while alive (they slow the GEMMs
/// several times over).
class ComputeSettings {
 public:
  explicit ComputeSettings(const CommonOptions& o) {
    if (o.threads > 0) openblas_set_num_threads(o.threads);
  }

 private:
  FlushDenormals m_flush_denormals;
};

/// Training and test images must have one size (the model's x_dim is the training images'):
/// refused before anything is trained or written, naming both files and their sizes.
inline void require_same_image_size(const std::filesystem::path& folder, std::size_t train_rows, std::size_t train_cols,
                                    std::size_t test_rows, std::size_t test_cols) {
  if (train_rows == test_rows && train_cols == test_cols) return;
  auto file = [&](const char* name) {
    const auto found = data::find_idx_file(folder, name);
    return (found ? *found : folder / name).string();
  };
  throw ArgumentError("the test images are not the size of the training images: " + file("t10k-images-idx3-ubyte") +
                      " holds " + std::to_string(test_rows) + "x" + std::to_string(test_cols) + " images, " +
                      file("train-images-idx3-ubyte") + " holds " + std::to_string(train_rows) + "x" +
                      std::to_string(train_cols));
}

/// The first n test images of `folder` (0: all), refused when their size is not the
/// training images' or when there are none (a bound over no images is no result).
inline data::ImageSet load_test_images(const std::filesystem::path& folder, std::size_t n, std::size_t train_rows,
                                       std::size_t train_cols) {
  data::ImageSet test = data::head(data::load_mnist(folder, data::Split::test), n);
  require_same_image_size(folder, train_rows, train_cols, test.rows, test.cols);
  if (test.size() == 0) throw ArgumentError("no test images (" + folder.string() + " has an empty test set)");
  return test;
}

/// Checks up front (not after a whole epoch) that `file` can be written: its folder exists and
/// takes a new file. Throws ArgumentError naming `what` (e.g. "--checkpoint"), the file and why.
inline void require_writable(const std::string& what, const std::filesystem::path& file) {
  const std::filesystem::path folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  const std::filesystem::path probe = folder / ("." + file.filename().string() + ".write-test-" + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw ArgumentError(what + ": cannot write " + file.string() + " (" + std::strerror(errno) + " in " + folder.string() + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

/// What made a checkpoint, saved in it (TrainingState::metadata, as "key=value" lines):
/// the program, the batch size, the training-set size, the model's parameters (name and
/// shape) and, for early stopping, the best validation bound and the epochs since it.
struct RunRecord {
  std::string program;
  std::size_t batch_size = 0, train_size = 0;
  double best_validation = -std::numeric_limits<double>::infinity();
  std::size_t since_best = 0;
  std::string parameters{};  // "name [shape]" per line, as in the checkpoint's store

  static std::string signature(const ParameterStore<float>& store) {
    std::string s;
    for (const auto& p : store) s += p->name + " " + to_string(p->shape) + ";";
    return s;
  }
  std::string to_text() const {
    char best[40];
    std::snprintf(best, sizeof best, "%.17g", best_validation);
    return "program=" + program + "\nbatch_size=" + std::to_string(batch_size) + "\ntrain_size=" +
           std::to_string(train_size) + "\nbest_validation=" + best + "\nsince_best=" + std::to_string(since_best) +
           "\nparameters=" + parameters + "\n";
  }
  static RunRecord parse(const std::string& text) {
    RunRecord r;
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t end = std::min(text.find('\n', at), text.size());
      const std::string line = text.substr(at, end - at);
      at = end + 1;
      const std::size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "program") r.program = value;
      else if (key == "batch_size") r.batch_size = std::stoull(value);
      else if (key == "train_size") r.train_size = std::stoull(value);
      else if (key == "best_validation") r.best_validation = std::strtod(value.c_str(), nullptr);
      else if (key == "since_best") r.since_best = std::stoull(value);
      else if (key == "parameters") r.parameters = value;
    }
    return r;
  }
};

/// The parameters named in one signature and not in the other, for messages.
inline std::string signature_difference(const std::string& model, const std::string& file) {
  auto entries = [](const std::string& s) {
    std::vector<std::string> v;
    for (std::size_t at = 0, end; (end = s.find(';', at)) != std::string::npos; at = end + 1) v.push_back(s.substr(at, end - at));
    return v;
  };
  const auto m = entries(model), f = entries(file);
  std::string lacks, extra;
  for (const auto& e : f)
    if (std::find(m.begin(), m.end(), e) == m.end()) lacks += (lacks.empty() ? "" : ", ") + e;
  for (const auto& e : m)
    if (std::find(f.begin(), f.end(), e) == f.end()) extra += (extra.empty() ? "" : ", ") + e;
  std::string out;
  if (!lacks.empty()) out += "the checkpoint has parameters the model lacks: " + lacks;
  if (!extra.empty()) out += std::string(out.empty() ? "" : "; ") + "the model has parameters the checkpoint lacks: " + extra;
  return out;
}

/// Saves `state` with `record` (its parameter signature taken from the store) atomically.
inline void save_run_checkpoint(const std::filesystem::path& file, io::TrainingState<float> state, RunRecord record) {
  record.parameters = RunRecord::signature(*state.parameters);
  std::string text = record.to_text();
  state.metadata = &text;
  io::save_checkpoint(file, state);
}

/// Keeps the lines of metrics.jsonl up to epoch `done` (training lines; a summary after them
/// belongs to a finished run and is written again), rewritten atomically: after a kill
/// between a metrics line and the checkpoint, the log and the checkpoint agree again.
inline void truncate_metrics(const std::filesystem::path& file, std::size_t done) {
  if (!std::filesystem::exists(file)) return;
  std::ifstream in(file);
  std::string kept, line;
  bool changed = false;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto record = io::detail::MetricsLineParser(line, file.string() + " line " + std::to_string(number)).parse();
    const auto epoch = record.number("epoch");
    if (record.find("summary") == nullptr && epoch && *epoch <= static_cast<double>(done)) {
      kept += line + "\n";
    } else {
      changed = true;
    }
  }
  if (!changed) return;
  io::write_file_atomically(file, std::as_bytes(std::span<const char>(kept.data(), kept.size())));
  std::printf("metrics.jsonl: dropped the lines past epoch %zu (the checkpoint's)\n", done);
}

/// With `resume`, loads the checkpoint into `state` and returns the epoch to continue from;
/// otherwise 1. `expected` holds the run's program, batch size and training-set size; a
/// checkpoint made by another program, batch size or training set is refused (nothing
/// loaded), as is one whose step count is not a whole number of epochs. On success
/// `expected` gets the checkpoint's early-stopping state and parameter signature, and
/// metrics.jsonl (`metrics`; empty: not this process's to touch) keeps only the lines up to the
/// checkpoint's epoch.
inline std::size_t resume_from_checkpoint(bool resume, const std::filesystem::path& checkpoint,
                                          const io::TrainingState<float>& state, const std::uint64_t& step,
                                          std::size_t steps_per_epoch, RunRecord& expected,
                                          const std::filesystem::path& metrics) {
  if (!resume) return 1;
  if (!std::filesystem::exists(checkpoint)) throw io::IoError("--resume: no checkpoint at " + checkpoint.string());
  {  // read what made it first: nothing is loaded into the run when it differs
    ParameterStore<float> scratch(0);
    std::string text;
    io::TrainingState<float> header;
    header.parameters = &scratch;
    header.metadata = &text;
    io::load_checkpoint(checkpoint, header);
    const std::string where = "--resume: " + checkpoint.string() + " ";
    if (text.empty()) {
      throw ArgumentError(where + "records no program, batch size or training-set size (a checkpoint of an older "
                          "vaelib); start afresh without --resume");
    }
    const RunRecord found = RunRecord::parse(text);
    if (found.program != expected.program) {
      const std::string diff = signature_difference("", found.parameters);
      throw ArgumentError(where + "was made by '" + found.program + "', not '" + expected.program + "' (" +
                          (diff.empty() ? "no parameters" : diff) + ")");
    }
    if (found.batch_size != expected.batch_size) {
      throw ArgumentError(where + "was made with --batch-size " + std::to_string(found.batch_size) + ", this run has " +
                          std::to_string(expected.batch_size) + " (resume with the same batch size)");
    }
    if (found.train_size != expected.train_size) {
      throw ArgumentError(where + "was made with " + std::to_string(found.train_size) + " training images, this run has " +
                          std::to_string(expected.train_size) + " (resume with the same --train-n and --validation-n)");
    }
    expected.best_validation = found.best_validation;
    expected.since_best = found.since_best;
    expected.parameters = found.parameters;
  }
  io::load_checkpoint(checkpoint, state);
  if (step % steps_per_epoch != 0) {
    throw ArgumentError("--resume: the checkpoint is at step " + std::to_string(step) + ", not at the end of an epoch of " +
                        std::to_string(steps_per_epoch) + " steps (was it made with another --batch-size or --train-n?)");
  }
  const std::size_t done = step / steps_per_epoch;
  if (!metrics.empty()) truncate_metrics(metrics, done);
  std::printf("Resumed from %s at epoch %zu (step %llu)\n", checkpoint.string().c_str(), done,
              static_cast<unsigned long long>(step));
  return done + 1;
}

/// After the first step of a resumed run has built the model: its parameters must be the
/// checkpoint's (`recorded`, RunRecord::parameters), or the run stops naming the difference.
inline void check_resumed_parameters(const ParameterStore<float>& store, const std::string& recorded) {
  const std::string diff = signature_difference(RunRecord::signature(store), recorded);
  if (!diff.empty()) throw ArgumentError("--resume: the checkpoint does not fit this model: " + diff);
}

/// sum over chunks of the first `n_images` of `set` of `chunk_sum(x, n)`, divided by
/// n_images: x is a chunk of n images [n, pixels] on the cleared tape, and chunk_sum returns
/// the sum of a per-image metric over it (a lower bound, a log-likelihood).
template <class ChunkSum>
double mean_over_chunks(Tape<float>& tape, const data::ImageSet& set, std::size_t n_images, std::size_t chunk,
                        ChunkSum&& chunk_sum, const Ranks& ranks = {}) {
  n_images = std::min(n_images, set.size());
  const std::size_t d = set.pixels();
  const auto [first, last] = ranks.share(n_images);  // with --distributed, this rank's images
  double total = 0;
  for (std::size_t begin = first; begin < last; begin += chunk) {
    tape.clear();
    const std::size_t n = std::min(chunk, last - begin);
    total += chunk_sum(tape.external(set.images.data() + begin * d, nullptr, {n, d}), n);
  }
  return ranks.sum(total) / static_cast<double>(n_images);
}

/// --distributed: data-parallel training and evaluation on the ranks of mpirun (ranks.hpp).
inline void add_distributed_option(CLI::App& app, bool& distributed) {
  app.add_flag("--distributed", distributed,
               "Data-parallel training and evaluation on the MPI ranks of mpirun -np N (each rank takes its share of "
               "every batch; rank 0 writes the results; docs/distributed.md)");
}

/// The test log-likelihood line, naming the estimator and its settings.
inline void print_test_log_likelihood(const CommonOptions& o, double ll, std::size_t n_images) {
  if (o.ll_method == "ais") {
    std::printf("Test log-likelihood = %.4f (AIS, %zu chains, %zu temperatures, first %zu test images)\n", ll,
                o.ais_chains, o.ais_temperatures, n_images);
  } else {
    std::printf("Test log-likelihood = %.4f (importance sampling, %zu particles, first %zu test images)\n", ll,
                o.ll_particles, n_images);
  }
}

/// What the tutorial example reports of the test set: the lower bound over every test image
/// (`bound_sum(x, n)`: its sum over a chunk, as for mean_over_chunks) and, unless
/// --ll-particles is 0, the log-likelihood (importance sampling, or AIS with --ll-method ais) over the first --ll-test-n
/// images (`ll_sum(x, n)`); printed, and written to `metrics` as the run's summary line
/// (a skipped log-likelihood is NaN there: null in the file, never a made-up 0). With
/// --distributed the images are split over the ranks, which meet in one sum per metric.
template <class BoundSum, class LogLikelihoodSum>
void report_test_bounds(io::MetricsLog& metrics, const std::string& program, const CommonOptions& o, Tape<float>& tape,
                        const data::ImageSet& test, BoundSum&& bound_sum, LogLikelihoodSum&& ll_sum,
                        const Ranks& ranks = {}) {
  const auto guard = tape.no_grad();
  const double lower_bound = mean_over_chunks(tape, test, test.size(), 500, bound_sum, ranks);
  const std::size_t ll_n = std::min(o.ll_test_n == 0 ? test.size() : o.ll_test_n, test.size());
  const double ll =
      o.ll_particles == 0 || ll_n == 0 ? std::nan("") : mean_over_chunks(tape, test, ll_n, 50, ll_sum, ranks);
  std::printf("Test lower bound = %.4f (1 particle, %zu images)\n", lower_bound, test.size());
  if (o.ll_particles > 0) print_test_log_likelihood(o, ll, ll_n);
  metrics.write({{"summary", program}, {"epochs", static_cast<double>(o.epochs)}, {"test_lower_bound", lower_bound},
                 {"test_log_likelihood", ll}, {"ll_particles", static_cast<double>(o.ll_particles)},
                 {"ll_ais", o.ll_method == "ais" ? 1.0 : 0.0}, {"ais_chains", static_cast<double>(o.ais_chains)},
                 {"ais_temperatures", static_cast<double>(o.ais_temperatures)},
                 {"ll_test_images", static_cast<double>(ll_n)}});
  std::fflush(stdout);
}

}  // namespace vaelib::examples
