// PRIVATE header: blocked squared Euclidean distances through GEMM, shared by k-means,
// the exact kNN graph and the in-batch kNN affinity.
//
// ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2: the cross term is one float GEMM per block of rows,
// so the work runs at matrix-multiply speed; results are clamped at zero because the
// expansion can go slightly negative for (near-)identical rows.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/fixed_order_sum.hpp"
#include "core/parallel.hpp"
#include "kernels/gemm.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// Rows per GEMM block: large enough for GEMM efficiency, small enough that a block of
/// distances to a few thousand centres stays in cache-sized memory.
inline constexpr Index kDistanceBlockRows = 1024;

/// Squared Euclidean norm of every row (each row's sum in a fixed order, whatever its address).
inline VectorF squared_row_norms(const Eigen::Ref<const MatrixF>& x, int threads) {
  VectorF norms(x.rows());
  parallel_blocks(x.rows(), threads, [&](Index lo, Index hi) {
    for (Index i = lo; i < hi; ++i) norms[i] = fixed_order_squared_norm(x.row(i).data(), x.cols());
  });
  return norms;
}

/// For every row i of x: the index of the nearest row of `centres` (ties to the lower index)
/// and the squared distance to it. Parallel over fixed blocks of rows; each row's result
/// depends on that row only (gemm_rowwise, fixed-order norms), not on the thread count, the
/// other rows or the row's position.
template <class LabelT>
void nearest_centres(const Eigen::Ref<const MatrixF>& x, const VectorF& x_norms, const MatrixF& centres, LabelT* labels,
                     float* sq_dist, int threads) {
  const Index n = x.rows(), k = centres.rows();
  const VectorF c_norms = centres.rowwise().squaredNorm();
  const Index blocks = (n + kDistanceBlockRows - 1) / kDistanceBlockRows;
  parallel_for(0, blocks, threads, [&](Index b) {
    const Index lo = b * kDistanceBlockRows, rows = std::min(kDistanceBlockRows, n - lo);
    MatrixF dots(rows, k);
    gemm_rowwise(gemm_operand(x.middleRows(lo, rows)), gemm_operand(centres, true), dots.data(), k, Precision::Fp32);
    for (Index r = 0; r < rows; ++r) {
      float best = std::numeric_limits<float>::infinity();
      Index arg = 0;
      for (Index c = 0; c < k; ++c) {
        const float d = c_norms[c] - 2.0f * dots(r, c);
        if (d < best) {
          best = d;
          arg = c;
        }
      }
      labels[lo + r] = static_cast<LabelT>(arg);
      sq_dist[lo + r] = std::max(0.0f, best + x_norms[lo + r]);
    }
  });
}

}  // namespace neuncut::detail
