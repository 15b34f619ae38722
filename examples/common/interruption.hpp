#pragma once
// Graceful interruption of a training run: SIGINT (Ctrl-C) and SIGTERM only set a flag; the
// loop finishes the step (or the checkpoint save) it is in, then calls stop_if_interrupted,
// which prints where the run stands and how to resume, and exits with 128 + the signal's
// number (130, 143). Checkpoints are written at the end of each epoch only (an exact resume
// needs the epoch's shuffle), so the one on disk is the last finished epoch's.

#include <signal.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace vaelib::examples {

namespace detail {
inline volatile std::sig_atomic_t interrupt_signal = 0;
inline void on_interrupt(int signal) { interrupt_signal = signal; }
}  // namespace detail

/// While alive, SIGINT and SIGTERM set a flag instead of killing the process.
class InterruptionGuard {
 public:
  InterruptionGuard() {
    struct sigaction action {};
    action.sa_handler = detail::on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &m_old_int);
    sigaction(SIGTERM, &action, &m_old_term);
  }
  ~InterruptionGuard() {
    sigaction(SIGINT, &m_old_int, nullptr);
    sigaction(SIGTERM, &m_old_term, nullptr);
  }
  InterruptionGuard(const InterruptionGuard&) = delete;
  InterruptionGuard& operator=(const InterruptionGuard&) = delete;

 private:
  struct sigaction m_old_int {}, m_old_term {};
};

/// The signal received (SIGINT, SIGTERM), or 0.
inline int interrupt_signal() noexcept { return detail::interrupt_signal; }

/// After a signal: says what the checkpoint holds (`epochs_saved` finished epochs, 0: none
/// yet) and how to continue, then exits with 128 + the signal's number.
inline void stop_if_interrupted(const std::filesystem::path& checkpoint, std::size_t epochs_saved) {
  const int signal = interrupt_signal();
  if (signal == 0) return;
  std::fflush(stdout);
  if (epochs_saved > 0 && std::filesystem::exists(checkpoint)) {
    std::fprintf(stderr,
                 "Interrupted (%s): %s holds the %zu finished epoch(s); run the same command with --resume to continue\n",
                 signal == SIGINT ? "SIGINT" : "SIGTERM", checkpoint.string().c_str(), epochs_saved);
  } else {
    std::fprintf(stderr, "Interrupted (%s) before the first epoch ended: no checkpoint yet; run the command again\n",
                 signal == SIGINT ? "SIGINT" : "SIGTERM");
  }
  std::exit(128 + signal);
}

}  // namespace vaelib::examples
