// Seeded test data shared by the test files.
#pragma once

#include <cstdint>

#include "core/random.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/data/synthetic.hpp"

namespace neuncut::testing {

/// rows x cols standard normal entries, filled in storage order from detail::Rng(seed).
inline MatrixF gaussian_matrix(Index rows, Index cols, std::uint64_t seed) {
  detail::Rng rng(seed);
  MatrixF m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = float(rng.normal());
  return m;
}

/// make_synthetic with the fields the tests vary (dim: blob kinds only).
inline Dataset synthetic(SyntheticKind kind, Index n, int clusters, double noise, std::uint64_t seed, int dim = 2) {
  SyntheticParams p;
  p.kind = kind;
  p.n_samples = n;
  p.n_clusters = clusters;
  p.noise = noise;
  p.seed = seed;
  p.dim = dim;
  return make_synthetic(p);
}

}  // namespace neuncut::testing
