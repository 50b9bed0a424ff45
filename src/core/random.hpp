// PRIVATE header: the random number generator behind every seeded operation.
//
// std::uniform_real_distribution and std::normal_distribution are not specified bit-exactly,
// so their streams differ between standard libraries. neuncut draws from std::mt19937_64
// (which is specified exactly) through its own transforms, so a seed gives the same model
// everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "neuncut/core/types.hpp"

namespace neuncut::detail {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n), unbiased (rejection sampling).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit =
        std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t r;
    do r = engine_();
    while (r >= limit);
    return r % n;
  }
  /// Standard normal (Box-Muller; one value per call, the partner is cached).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do u1 = uniform();
    while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }
  /// Fisher-Yates shuffle.
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }
  /// A uniformly random permutation of 0..n-1.
  std::vector<Index> permutation(Index n) {
    std::vector<Index> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), Index{0});
    shuffle(p);
    return p;
  }
  /// m distinct indices from [0, n), in random order (m <= n).
  std::vector<Index> sample_without_replacement(Index n, Index m) {
    std::vector<Index> p = permutation(n);
    p.resize(static_cast<std::size_t>(m));
    return p;
  }
  /// Derives an independent seed for a sub-task (restarts, sub-samples).
  std::uint64_t split() { return engine_(); }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace neuncut::detail
