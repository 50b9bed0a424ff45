// PRIVATE header: flush-to-zero / denormals-are-zero for the hot loops.
//
// Once the softmax saturates, memberships and gradients underflow into subnormal floats, on
// which x86 arithmetic is many times slower (docs/measurements.md). Subnormals
// carry no information for clustering, so training and inference set FTZ/DAZ on every thread
// that runs them and restore the previous mode afterwards.
#pragma once

#include <vector>

#include "core/parallel.hpp"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define NEUNCUT_HAVE_MXCSR 1
#endif

namespace neuncut::detail {

class FlushDenormalsScope {
 public:
  explicit FlushDenormalsScope(int threads) : threads_(resolve_threads(threads)) {
#ifdef NEUNCUT_HAVE_MXCSR
    saved_.assign(static_cast<std::size_t>(threads_) + 1, 0u);
    saved_.back() = _mm_getcsr();
    _mm_setcsr(saved_.back() | kFtzDaz);
    // One index per thread with a static schedule: each pool thread sets its own register.
    parallel_for(0, threads_, threads_, [&](Index t) {
      saved_[t] = _mm_getcsr();
      _mm_setcsr(saved_[t] | kFtzDaz);
    });
#endif
  }
  ~FlushDenormalsScope() {
#ifdef NEUNCUT_HAVE_MXCSR
    parallel_for(0, threads_, threads_, [&](Index t) { _mm_setcsr(saved_[t]); });
    _mm_setcsr(saved_.back());
#endif
  }
  FlushDenormalsScope(const FlushDenormalsScope&) = delete;
  FlushDenormalsScope& operator=(const FlushDenormalsScope&) = delete;

 private:
#ifdef NEUNCUT_HAVE_MXCSR
  static constexpr unsigned kFtzDaz = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)
  std::vector<unsigned> saved_;
#endif
  int threads_;
};

}  // namespace neuncut::detail
