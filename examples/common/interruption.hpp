#pragma once
// Graceful interruption of a training run: SIGINT (Ctrl-C) and SIGTERM only set a flag; the
// loop finishes the step (or the checkpoint save) it is in, then calls stop_if_interrupted,
// which prints where the run stands and how to resume, and exits with 128 + the signal's
// number (130, 143). Checkpoints are written at the end of each epoch only (an exact resume
// needs the epoch's shuffle), so the one on disk is the last finished epoch's.

#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>

namespace vaelib::examples {

namespace detail {
inline volatile std::sig_atomic_t interrupt_signal = 0;
inline void on_interrupt(int signal) { interrupt_signal = signal; }
inline bool signal_ends_rank = false;  // end_rank_on_signal was called
inline char signal_message[160];  // end_rank_on_signal's line, written by the handler
inline std::size_t signal_message_length = 0;
inline void on_signal_end_rank(int signal) {
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, signal_message, signal_message_length);
  ::_exit(128 + signal);
}
}  // namespace detail

/// With --distributed (ranks.hpp): SIGINT and SIGTERM end this rank at once, saying so on
/// stderr. mpirun sends SIGTERM to every rank when one fails, and a rank waiting in a
/// collective for a dead one would never reach the end of its step, where InterruptionGuard
/// acts. The checkpoint is written atomically by rank 0, so none is left half written.
/// InterruptionGuard does nothing afterwards.
inline void end_rank_on_signal(const char* program, int rank, int size) {
  std::snprintf(detail::signal_message, sizeof detail::signal_message,
                "%s: rank %d of %d ended by a signal (mpirun ends every rank when one fails or the job is stopped); "
                "the checkpoint holds the last finished epoch\n",
                program, rank, size);
  detail::signal_message_length = std::strlen(detail::signal_message);
  struct sigaction action {};
  action.sa_handler = detail::on_signal_end_rank;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  detail::signal_ends_rank = true;
}

/// While alive, SIGINT and SIGTERM set a flag instead of killing the process.
class InterruptionGuard {
 public:
  InterruptionGuard() {
    m_active = !detail::signal_ends_rank;
    if (!m_active) return;
    struct sigaction action {};
    action.sa_handler = detail::on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &m_old_int);
    sigaction(SIGTERM, &action, &m_old_term);
  }
  ~InterruptionGuard() {
    if (!m_active) return;
    sigaction(SIGINT, &m_old_int, nullptr);
    sigaction(SIGTERM, &m_old_term, nullptr);
  }
  InterruptionGuard(const InterruptionGuard&) = delete;
  InterruptionGuard& operator=(const InterruptionGuard&) = delete;

 private:
  bool m_active = true;
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
