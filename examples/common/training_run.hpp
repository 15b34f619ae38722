#pragma once
// The bookkeeping around an example's training loop, so the loop itself shows only the model:
// the checkpoint (resumed exactly with --resume, saved atomically at the end of each epoch with
// what made it), metrics.jsonl (truncated to the checkpoint's epoch on resume), graceful
// SIGINT/SIGTERM, the check that a resumed model has the checkpoint's parameters, the progress
// bar, and the epoch's line ("Epoch 3 (4.2s): Lower bound = -101.2345") with a stop when
// training diverges.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>
#include <vector>

#include "experiment_parts.hpp"
#include "interruption.hpp"
#include "progress_bar.hpp"
#include "ranks.hpp"

namespace vaelib::examples {

class TrainingRun {
 public:
  /// Prepares a run writing `checkpoint` and <output>/metrics.jsonl (both checked writable up
  /// front), resuming from the checkpoint with --resume. `record` names the program, batch size
  /// and training-set size a resumed checkpoint must match. With `ranks` distributed, every
  /// rank resumes from the checkpoint but only rank 0 writes it and the metrics, and the
  /// epoch's bound is the mean over all ranks' shares.
  TrainingRun(const CommonOptions& o, std::filesystem::path checkpoint, io::TrainingState<float> state, RunRecord record,
              std::size_t steps_per_epoch, const Ranks* ranks = nullptr)
      : m_checkpoint(std::move(checkpoint)), m_state(state), m_record(std::move(record)),
        m_steps_per_epoch(steps_per_epoch), m_progress(o.progress), m_ranks(ranks) {
    const bool writer = m_ranks == nullptr || m_ranks->is_root();
    const std::filesystem::path metrics = writer ? std::filesystem::path(o.output) / "metrics.jsonl" : "/dev/null";
    if (writer) {
      // named by the option that chose it: --checkpoint where there is one, else --output
      require_writable(m_checkpoint.parent_path() == metrics.parent_path() ? "--output" : "--checkpoint", m_checkpoint);
      require_writable("--output", metrics);
    }
    m_first_epoch = resume_from_checkpoint(o.resume, m_checkpoint, m_state, *m_state.step, steps_per_epoch, m_record,
                                           writer ? metrics : std::filesystem::path{});
    if (o.resume) m_resumed_parameters = m_record.parameters;
    m_metrics.emplace(metrics, /*append=*/o.resume || !writer);
  }

  std::size_t first_epoch() const noexcept { return m_first_epoch; }
  io::MetricsLog& metrics() { return *m_metrics; }
  /// The run's record: early stopping keeps its best validation bound and patience here, so a
  /// resumed run restores them with the checkpoint.
  RunRecord& record() noexcept { return m_record; }
  const std::filesystem::path& checkpoint() const noexcept { return m_checkpoint; }

  /// Starts `epoch`: its clock and its progress bar.
  void begin_epoch(std::size_t epoch) {
    m_epoch = epoch;
    m_steps_done = 0;
    m_bound_sum = 0;
    m_start = std::chrono::steady_clock::now();
    m_bar.emplace(m_steps_per_epoch, "lower bound", m_progress);
  }

  /// After each optimisation step, with the batch's mean lower bound: the first step of a
  /// resumed run has built the model, whose parameters must be the checkpoint's; a signal
  /// ends the run here (the checkpoint holds the previous epoch). The epoch's training time
  /// ends with its last step (an evaluation after it is not counted).
  void after_step(double batch_lower_bound) {
    if (!m_resumed_parameters.empty()) {
      check_resumed_parameters(*m_state.parameters, m_resumed_parameters);
      m_resumed_parameters.clear();
    }
    if (m_reference_bound == -std::numeric_limits<double>::infinity() && std::isfinite(batch_lower_bound)) {
      m_reference_bound = batch_lower_bound;  // the model as the run found it
    }
    m_bound_sum += batch_lower_bound;
    ++m_steps_done;
    m_bar->update(m_steps_done, m_bound_sum / static_cast<double>(m_steps_done));
    if (m_steps_done == m_steps_per_epoch) {
      m_bar->finish();
      m_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    }
    stop_if_interrupted(m_checkpoint, m_epoch - 1);
  }

  /// Ends the epoch: prints its line (with `extra_text` before the newline), writes the epoch,
  /// its seconds, the mean training bound and `extra_fields` to metrics.jsonl, saves the
  /// checkpoint and ends the run on a signal. A diverged training bound (not finite, or far
  /// below the best epoch's) stops the run before anything of the epoch is written.
  void end_epoch(std::vector<io::MetricsLog::Field> extra_fields = {}, const std::string& extra_text = {}) {
    if (m_steps_done != m_steps_per_epoch) {
      throw ArgumentError("TrainingRun::end_epoch: " + std::to_string(m_steps_done) + " of the epoch's " +
                       std::to_string(m_steps_per_epoch) + " steps were taken");
    }
    const double train_lower_bound =
        m_ranks != nullptr ? m_ranks->sum(m_bound_sum) / static_cast<double>(m_steps_done * m_ranks->size())
                           : m_bound_sum / static_cast<double>(m_steps_done);
    refuse_divergence(train_lower_bound);
    std::printf("Epoch %zu (%.1fs): Lower bound = %.4f%s\n", m_epoch, m_seconds, train_lower_bound, extra_text.c_str());
    std::fflush(stdout);
    std::vector<io::MetricsLog::Field> fields{
        {"epoch", static_cast<double>(m_epoch)}, {"seconds", m_seconds}, {"train_lower_bound", train_lower_bound}};
    for (auto& f : extra_fields) fields.push_back(std::move(f));
    m_metrics->write(fields);
    if (m_ranks == nullptr || m_ranks->is_root()) save_run_checkpoint(m_checkpoint, m_state, m_record);
    stop_if_interrupted(m_checkpoint, m_epoch);
  }

  /// How far below the reference bound (the run's first step's, or its best epoch's when
  /// higher) an epoch's bound may fall before the run counts as diverged: ten times the
  /// reference's magnitude. A working run moves by a few percent per epoch; a diverging one
  /// (a score-function estimator at too high a learning rate) falls by orders of magnitude.
  static constexpr double divergence_factor = 10;

 private:
  void refuse_divergence(double bound) {
    const std::string where = "the training bound of epoch " + std::to_string(m_epoch) + " is " + std::to_string(bound);
    const std::string advice = ": training diverged; the checkpoint keeps the last finished epoch (try a smaller --lr, or "
                               "--detect-anomaly to find the op)";
    if (!std::isfinite(bound)) throw NumericalError(where + advice);
    const double reference = std::max(m_best_bound, m_reference_bound);
    if (std::isfinite(reference) && bound < reference - divergence_factor * std::abs(reference)) {
      char text[96];
      std::snprintf(text, sizeof text, ", far below %s %.4f", m_best_bound > m_reference_bound ? "the best epoch's" : "the first step's",
                    reference);
      throw NumericalError(where + text + advice);
    }
    m_best_bound = std::max(m_best_bound, bound);
  }

  std::filesystem::path m_checkpoint;
  io::TrainingState<float> m_state;
  RunRecord m_record;
  std::size_t m_steps_per_epoch;
  bool m_progress;
  const Ranks* m_ranks;  // null: one process
  std::size_t m_first_epoch = 1, m_epoch = 0, m_steps_done = 0;
  double m_bound_sum = 0, m_seconds = 0;
  std::optional<ProgressBar> m_bar;
  std::string m_resumed_parameters;  // until the first step has checked them
  std::optional<io::MetricsLog> m_metrics;
  std::chrono::steady_clock::time_point m_start{};
  double m_best_bound = -std::numeric_limits<double>::infinity();       // the best epoch's bound
  double m_reference_bound = -std::numeric_limits<double>::infinity();  // the first step's
  InterruptionGuard m_interruption;  // SIGINT/SIGTERM: finish the step, save, exit 130/143
};

}  // namespace vaelib::examples
