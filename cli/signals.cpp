#include "signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>

namespace neuncut::cli {

namespace {
// Who ends the process: a handler and the committing thread race through one atomic, so that
// a handler never removes temporary files while they are being renamed, and a signal that
// arrives during the commit is acted on once it is done.
enum State : int { kRunning, kCommitting, kExiting };
std::atomic<int> state{kRunning};
std::atomic<int> deferred_signal{0};
std::atomic<bool> outputs_committed{false};

void write_stderr(const char* text) {
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

const char* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

// Async-signal-safe: unlink, write and _exit only.
[[noreturn]] void exit_for_signal(int sig) {
  remove_temporary_files();
  write_stderr("neuncut: interrupted by ");
  write_stderr(signal_name(sig));
  write_stderr(outputs_committed.load() ? "; the outputs had been written completely\n" : "; no output written\n");
  ::_exit(128 + sig);
}

[[noreturn]] void wait_for_exit() {
  for (;;) ::pause();  // another thread is ending the process
}

void on_signal(int sig) {
  int expected = kRunning;
  if (state.compare_exchange_strong(expected, kExiting)) exit_for_signal(sig);
  if (expected == kExiting) wait_for_exit();
  // Committing: leave it to finish, then end (re-checked: the commit may just have ended).
  deferred_signal.store(sig);
  expected = kRunning;
  if (state.load() != kCommitting && state.compare_exchange_strong(expected, kExiting)) exit_for_signal(sig);
}

void end_commit() {
  state.store(kRunning);
  if (const int sig = deferred_signal.exchange(0)) {
    int expected = kRunning;
    if (state.compare_exchange_strong(expected, kExiting)) exit_for_signal(sig);
    wait_for_exit();
  }
}
}  // namespace

void install_signal_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction previous {};
    if (::sigaction(sig, nullptr, &previous) == 0 && previous.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(sig, &action, nullptr);
  }
}

void commit_deferring_signals(AtomicFileSet& set) {
  int expected = kRunning;
  if (!state.compare_exchange_strong(expected, kCommitting)) wait_for_exit();
  try {
    set.commit_all();
  } catch (...) {
    end_commit();
    throw;
  }
  outputs_committed.store(true);
  end_commit();
}

}  // namespace neuncut::cli
