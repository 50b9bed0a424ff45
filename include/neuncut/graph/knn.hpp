// k-nearest-neighbour graphs of a point set (Euclidean), exact and approximate: the first
// step of classic Ncut's sparse affinity.
//
// Exact: blocked brute force. The points are cut into tiles of kKnnTileRows rows; for every
// pair of tiles (I, J) with I <= J one float GEMM gives all squared distances
// ||x||^2 - 2 x.y + ||y||^2 between them, and each distance updates the running top-m lists
// of both its endpoints (so every pair is computed once: half the work of a plain query loop).
// Threads take tile pairs and keep private top-m lists that are merged at the end; memory is
// O(threads * (tile^2 + N m)), never N^2. The m survivors of each point then get their
// distances recomputed directly (sqrt of sum of squared differences), which removes the
// cancellation error of the GEMM expansion, and are sorted by (distance, index). The result
// does not depend on the thread count. Cost: N^2 d flops (a Fashion-MNIST timing is in
// docs/measurements.md).
//
// Approximate: HNSW (Malkov and Yashunin) through hnswlib. Chosen over FAISS because it is
// header-only and packaged in Debian (no extra shared library or BLAS to link), builds its
// index incrementally with threads, and reaches recall > 0.95 at these settings on data like
// ours; FAISS's graph indexes are no better at this scale and its IVF indexes need training.
// With more than one thread the insertion order, and so the graph, varies between runs; use
// threads = 1 for a reproducible approximate graph.
//
// Both exclude the point itself (index i never appears in row i) but keep other points at
// distance 0 (duplicates).
#pragma once

#include <cstdint>
#include <string>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut {

/// Which kNN algorithm builds the graph.
enum class KnnMethod {
  Auto,  ///< Up to KnnParams::exact_max_points points: Projected when d > 2 projection_dims, else Exact; HNSW above (if
         ///< built with hnswlib).
  Exact,      ///< Blocked brute force (exact; O(N^2 d)).
  Hnsw,       ///< hnswlib's HNSW (approximate; O(N log N)); InvalidArgument if built without hnswlib.
  Projected,  ///< Candidates by brute force on a PCA projection, re-ranked by exact distances (approximate; O(N^2 r)).
};
NEUNCUT_ENUM_NAMES(KnnMethod, "kNN method", {KnnMethod::Auto, "auto"}, {KnnMethod::Exact, "exact"},
                   {KnnMethod::Projected, "projected"}, {KnnMethod::Hnsw, "hnsw"})
/// parse_enum<KnnMethod>, under its earlier name.
inline KnnMethod parse_knn_method(const std::string& name) { return parse_enum<KnnMethod>(name); }

/// Whether this build has the HNSW backend.
bool hnsw_available();

/// Parameters of knn_graph.
struct KnnParams {
  int n_neighbors = 10;                ///< Neighbours per point, excluding itself (1 <= m < N).
  KnnMethod method = KnnMethod::Auto;  ///< Algorithm.
  Index exact_max_points = 100000;     ///< Auto: largest N solved exactly.
  int hnsw_m = 16;                     ///< HNSW: links per node per layer (hnswlib's M); memory grows with it.
  int hnsw_ef_construction = 200;  ///< HNSW: candidate list size while building (higher: better graph, slower build).
  int hnsw_ef_search = 100;        ///< HNSW: candidate list size while querying (raised to m + 1 if smaller).
  int projection_dims =
      128;  ///< Projected: PCA dimensions searched (recall 0.999 on Fashion-MNIST with 60 candidates).
  int projection_candidates = 60;  ///< Projected: candidates per point re-ranked exactly (raised to n_neighbors).
  std::uint64_t seed = 0;          ///< HNSW: level-assignment seed; Projected: seed of the PCA sample.
  int threads = 0;                 ///< Worker threads; <= 0 means all cores.
};

/// A kNN graph: row i lists the m nearest other points of point i, nearest first.
struct KnnGraph {
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> indices;  ///< N x m neighbour indices.
  MatrixF distances;                    ///< N x m Euclidean (not squared) distances, non-decreasing along each row.
  KnnMethod method = KnnMethod::Exact;  ///< The algorithm actually used (Exact or Hnsw).
  double seconds = 0;                   ///< Wall time to build.
  Index num_points() const { return indices.rows(); }
  int n_neighbors() const { return int(indices.cols()); }
};

/// Builds the kNN graph of the rows of `data` (N x d, finite). InvalidArgument (naming the
/// value) for empty data, NaN/Inf, n_neighbors < 1 or n_neighbors >= N, bad HNSW settings.
KnnGraph knn_graph(const Eigen::Ref<const MatrixF>& data, const KnnParams& params);

/// Exact kNN by blocked brute force (knn_graph with KnnMethod::Exact).
KnnGraph knn_exact(const Eigen::Ref<const MatrixF>& data, int n_neighbors, int threads = 0);

/// Recall of an approximate graph against the exact one: the fraction of the exact
/// neighbour pairs (i, j) that the approximate graph also lists. Both must have the same
/// shape (InvalidArgument otherwise).
double knn_recall(const KnnGraph& approximate, const KnnGraph& exact);

}  // namespace neuncut
