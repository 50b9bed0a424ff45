// PRIVATE header (not installed): the one wall-clock helper behind every *_seconds field the
// estimators and the CLI report.
#pragma once

#include <chrono>

namespace neuncut::detail {

using Clock = std::chrono::steady_clock;

/// Seconds elapsed since `start` on the steady clock.
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace neuncut::detail
