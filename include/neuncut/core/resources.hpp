// What the machine offers a run: hardware threads and physical memory, and the checks that
// keep a configuration within them. Thread counts above the hardware threads are bounded
// (10,000 OpenMP threads on a few cores made a 3-epoch fit on 500 points take minutes), and a
// configuration whose estimated memory exceeds physical memory is refused before it allocates
// anything (a 10^8-unit hidden layer trained for a minute, then died of std::bad_alloc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "neuncut/core/types.hpp"

namespace neuncut {

/// Processors this process may run on (OpenMP's count; 1 in a build without OpenMP).
int hardware_threads();

/// The thread count `requested` runs on: all hardware threads for requested <= 0, otherwise
/// min(requested, hardware_threads()). Every estimator resolves its `threads` through this.
int bounded_threads(int requested);

/// "" when `requested` is within the hardware threads, else a one-line warning naming both
/// numbers, for front ends to show (the CLI on stderr).
std::string thread_bound_warning(int requested);

/// Physical memory in bytes: the smaller of the machine's RAM and the process's cgroup limit
/// (memory.max, cgroup v2) when one is set.
std::uint64_t physical_memory_bytes();

}  // namespace neuncut
