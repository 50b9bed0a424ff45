// How the CLI ends on SIGINT (Ctrl-C), SIGTERM and SIGHUP: at once, from the handler, with
// every temporary output file removed and exit status 128 + signal (130, 143, 129). Nothing
// the command was going to write appears: outputs are written to temporary files and
// renamed together at the very end (OutputSet), and that short commit is the one step a
// signal does not cut in two: it is deferred until the commit is done, and the command then
// exits with the signal's status and a message saying the outputs were committed.
#pragma once

#include "neuncut/io/atomic_file.hpp"

namespace neuncut::cli {

/// Installs the handler for SIGINT, SIGTERM and SIGHUP (a signal the parent left ignored,
/// such as SIGHUP under nohup, stays ignored). Called once at start-up.
void install_signal_handlers();

/// set.commit_all() as one step that a signal cannot interrupt (see the file comment).
void commit_deferring_signals(AtomicFileSet& set);

}  // namespace neuncut::cli
