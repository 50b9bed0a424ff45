// PRIVATE header: the one place that owns OpenMP pragmas.
//
// parallel_for runs body(i) for i in [begin, end) on `threads` threads (static schedule, so
// the split of work and hence every floating-point result is a function of the thread count
// only). An exception thrown inside the loop is captured and rethrown on the calling thread.
// Without OpenMP it runs serially.
#pragma once

#include <algorithm>
#include <exception>
#include <mutex>

#include "neuncut/core/types.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace neuncut::detail {

/// Number of threads to use for `requested`: all available cores for <= 0, and never more
/// than the cores (thousands of OpenMP threads on a few cores spend their time switching;
/// neuncut::bounded_threads is the public face of this, thread_bound_warning its message).
inline int resolve_threads(int requested) {
#ifdef _OPENMP
  const int procs = omp_get_num_procs();
  return requested > 0 ? std::min(requested, procs) : procs;
#else
  (void)requested;
  return 1;
#endif
}

template <class Body>
void parallel_for(Index begin, Index end, int threads, Body&& body) {
  if (end <= begin) return;
  threads = resolve_threads(threads);
  if (threads <= 1 || end - begin == 1) {
    for (Index i = begin; i < end; ++i) body(i);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (Index i = begin; i < end; ++i) {
    try {
      body(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

/// The threads a product called from here runs on: the calling thread's OpenMP thread count
/// (ThreadCountScope), or 1 inside a parallel region.
inline int ambient_threads() {
#ifdef _OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

/// Runs body(block_begin, block_end) over [0, n) split into one contiguous block per thread.
template <class Body>
void parallel_blocks(Index n, int threads, Body&& body) {
  threads = resolve_threads(threads);
  const Index blocks = std::max<Index>(1, std::min<Index>(threads, n));
  parallel_for(0, blocks, threads, [&](Index b) {
    const Index lo = n * b / blocks, hi = n * (b + 1) / blocks;
    if (hi > lo) body(lo, hi);
  });
}

/// Sets the calling thread's OpenMP thread count (which Eigen's GEMM reads) for a scope and
/// restores it afterwards. OpenMP keeps this setting per thread, so callers on other threads
/// and the rest of the process are unaffected.
class ThreadCountScope {
 public:
  explicit ThreadCountScope(int threads) {
#ifdef _OPENMP
    saved_ = omp_get_max_threads();
    omp_set_num_threads(resolve_threads(threads));
#else
    (void)threads;
#endif
  }
  ~ThreadCountScope() {
#ifdef _OPENMP
    omp_set_num_threads(saved_);
#endif
  }
  ThreadCountScope(const ThreadCountScope&) = delete;
  ThreadCountScope& operator=(const ThreadCountScope&) = delete;

 private:
  int saved_ = 1;
};

}  // namespace neuncut::detail
