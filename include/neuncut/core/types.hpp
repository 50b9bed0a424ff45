// Core value types shared by every neuncut module.
//
// Data matrices are row-major float32 (one point per row), the layout of a C-ordered
// numpy array, so Python callers pass their arrays without copies. Cluster labels are
// int32, -1 never used: every point gets a label in [0, k).
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <cstdint>
#include <vector>

namespace neuncut {

/// Signed index type for sizes and loops (Eigen's, 64-bit).
using Index = Eigen::Index;

/// Dense row-major float matrix: N points x d features, or N points x k memberships.
using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Dense row-major double matrix (small k x k computations that need the precision).
using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Column vector of floats (per-point or per-feature quantities).
using VectorF = Eigen::VectorXf;
/// Column vector of doubles.
using VectorD = Eigen::VectorXd;

/// Read-only view of caller-owned row-major float data (zero-copy input path).
using MatrixViewF = Eigen::Map<const MatrixF>;

/// Sparse row-major float matrix (kNN affinities, graphs).
using SparseMatrixF = Eigen::SparseMatrix<float, Eigen::RowMajor>;

/// Flat float storage aligned like Eigen's own matrices (parameters, gradients, optimizer
/// moments). Eigen views over it then take the same vectorized code path on every run; with
/// malloc's weaker alignment the split between peeled and vectorized iterations, and so the
/// rounding, would depend on where the heap placed the buffer.
using AlignedFloats = std::vector<float, Eigen::aligned_allocator<float>>;

/// Hard cluster assignment of N points, values in [0, k).
using Labels = std::vector<std::int32_t>;

}  // namespace neuncut
