// PRIVATE header: a sum of floats whose rounding is fixed by the source, yet vectorizes.
//
// A plain running sum (s += x[j]) is one dependent addition per element, 4 cycles each: a
// sizeable share of the batch affinity went into its degrees that way (docs/measurements.md).
// Letting the compiler reassociate (-ffast-math, Eigen's sum()) would make the
// result depend on the vector width and the data's alignment. Here the order is written out:
// 16 running sums over the indices j = l (mod 16), then a fixed pairwise tree over the 16, so
// the result is the same on every machine and every build, vectorized or not.
#pragma once

#include "neuncut/core/types.hpp"

namespace neuncut::detail {

// The sum of term(x[j]) over j < n in the fixed order described above.
template <class Term>
inline float fixed_order_sum_of(const float* x, Index n, Term term) {
  constexpr Index kLanes = 16;
  float lane[kLanes] = {};
  Index j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (Index l = 0; l < kLanes; ++l) lane[l] += term(x[j + l]);
  for (Index l = 0; j + l < n; ++l) lane[l] += term(x[j + l]);
  for (Index width = kLanes / 2; width >= 1; width /= 2)
    for (Index l = 0; l < width; ++l) lane[l] += lane[l + width];
  return lane[0];
}

inline float fixed_order_sum(const float* x, Index n) {
  return fixed_order_sum_of(x, n, [](float v) { return v; });
}

/// Squared Euclidean norm in the same fixed order. Eigen's squaredNorm() peels scalar terms
/// until the data is aligned, so the same row summed in another order at another address:
/// a row's norm (L2 normalization, distances) depended on where it sat in its matrix.
inline float fixed_order_squared_norm(const float* x, Index n) {
  return fixed_order_sum_of(x, n, [](float v) { return v * v; });
}

}  // namespace neuncut::detail
