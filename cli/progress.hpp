// Per-epoch progress lines on stderr, shared by every trained method.
#pragma once

#include <cstdio>
#include <string>

#include "common.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"

namespace neuncut::cli {

/// Prints one NeuNcut epoch; returns true (continue): a signal ends the process from its
/// handler (signals.hpp), promptly whatever phase the command is in.
inline bool report_epoch(const NeuNcutEpochStats& s, bool quiet) {
  if (!quiet) {
    std::fprintf(stderr,
                 "epoch %d/%d  loss %.4f  trace %.4f  penalty %.4f  gamma %.4g  lr %.3g  clusters %d  "
                 "elapsed %s  eta %s%s%s%s\n",
                 s.epoch, s.epochs, s.loss, s.trace, s.penalty, s.gamma, s.learning_rate, s.clusters_used,
                 format_duration(s.elapsed_seconds).c_str(), format_duration(s.eta_seconds).c_str(),
                 s.collapse.collapsed() ? "  COLLAPSE: " : "", s.collapse.description().c_str(),
                 s.rolled_back_to
                     ? detail::concat(" -> back to epoch ", s.rolled_back_to, ", learning rate halved").c_str()
                     : "");
  }
  return true;
}

}  // namespace neuncut::cli
