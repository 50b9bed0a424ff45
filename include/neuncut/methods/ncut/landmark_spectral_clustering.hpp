// Classic Ncut at millions of points: spectral clustering on a landmark (anchor) graph, in the
// manner of LSC (Chen and Cai, "Large scale spectral clustering with landmark-based
// representation", AAAI 2011) and U-SPEC (Huang et al., "Ultra-scalable spectral clustering
// and ensemble clustering", IEEE TKDE 2020).
//
// The exact solver (spectral_clustering.hpp) needs a kNN graph of all N points and a Lanczos run
// on it: superlinear time, and memory that ended it near half a million points. Here:
//   1. p landmarks: k-means centres (few Lloyd iterations) of a random sample of min(N, 10 p) rows;
//   2. Z (N x p, sparse): each point joined to its r nearest landmarks with Gaussian weights
//      exp(-||x - c||^2 / (2 sigma^2)), sigma the mean distance of all N r pairs (U-SPEC's rule),
//      each row scaled to sum 1;
//   3. the affinity between points is W = Z L^-1 Z^T, L = diag(Z^T 1) (two points are close when
//      they share landmarks). Its degrees are all 1, so its leading eigenvectors are the left
//      singular vectors of Zh = Z L^-1/2: from the p x p matrix Zh^T Zh = V S^2 V^T, U = Zh V S^-1.
//      W is never formed; the cost is O(N p d) for the distances and O(N r^2 + p^3) for the rest;
//   4. NJW as in the exact solver: rows of U scaled to unit length, then k-means.
// The landmark graph's connected components are counted (union-find over the landmarks each point
// joins); with more components than clusters it is rebuilt with twice the landmarks per point, as
// the exact solver rebuilds its kNN graph, so that the eigenvectors do not all go to components.
//
// With params.normalize the rows are L2-normalized on the fly (no normalized copy of the data is
// made: at a million 784-D points that copy alone is 3 GB).
//
// Data larger than memory: the overloads taking a RowAccess (a file: io/file_rows.hpp) gather the
// 10 p sampled rows, then read every row a block at a time (about 64 MB), once to find its nearest
// landmarks and once more per rebuild; each block's values are checked as it arrives. Memory is
// then about N (16 r + 4 nev + 12) bytes plus the block, the sample and p x p doubles, not N d
// floats: 10 million rows of 400 scattering features with r = 5 peaked at 1.3 GB, where the
// matrix alone is 16 GB (docs/baselines.md). The result is the matrix overload's on the same rows,
// bit for bit: every quantity the solver computes from a row depends on that row alone.
#pragma once

#include "neuncut/core/row_access.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"

namespace neuncut {

/// The landmark graph of steps 1-2.
struct LandmarkGraph {
  MatrixF landmarks;         ///< p x d landmark coordinates (in the normalized space when params.normalize).
  SparseMatrixF weights;     ///< N x p row-stochastic Z (row-major): r non-zeros per row, each row summing to 1.
  double sigma = 0;          ///< Gaussian bandwidth used.
  int neighbors = 0;         ///< Landmarks per point r (after rebuilds).
  int n_components = 0;      ///< Connected components of the bipartite graph (landmarks no point joins excluded).
  int first_components = 0;  ///< Components with params.landmark_neighbors landmarks per point.
  double landmark_seconds = 0, neighbor_seconds = 0;
};

/// Steps 1-2 (uses landmarks, landmark_neighbors, n_clusters, normalize, seed, threads). Throws
/// InvalidArgument for the data fit_spectral_clustering refuses (empty, NaN/Inf, k >= N), invalid
/// params, and landmarks (clamped to N) <= k.
LandmarkGraph landmark_graph(const Eigen::Ref<const MatrixF>& data, const SpectralClusteringParams& params);
/// The same on rows read through a RowAccess, a block at a time (see above): the shape, k and params
/// are checked before any row is read, each value as its row is read.
LandmarkGraph landmark_graph(const RowAccess& rows, const SpectralClusteringParams& params);

/// The whole landmark solver, with landmark_graph's checks (fit_spectral_clustering calls it for
/// NcutSolver::Landmark, and for Auto from kLandmarkSolverMinRows points). The result's
/// eigenvalues are those of W = Z L^-1 Z^T; `n_edges` counts the non-zeros of Z.
SpectralClusteringResult fit_landmark_spectral_clustering(const Eigen::Ref<const MatrixF>& data,
                                                          const SpectralClusteringParams& params);
/// The same on rows read through a RowAccess, a block at a time (see above); the result is the
/// matrix overload's on the same rows. `neuncut ncut` takes it for a streamed file (.npy, IDX,
/// HDF5) when the landmark solver is chosen.
SpectralClusteringResult fit_landmark_spectral_clustering(const RowAccess& rows,
                                                          const SpectralClusteringParams& params);

}  // namespace neuncut
