// Sparse kNN affinity graphs (classic Ncut's W) and the dense in-batch kNN affinity
// (an option for NeuNcut's and SpectralNet's per-batch W).
//
// Weights on the kNN edges (i -> j, j among i's m nearest neighbours, d_ij Euclidean):
//   Connectivity: w_ij = 1 (scikit-learn SpectralClustering's "nearest_neighbors" affinity).
//   Gaussian:     w_ij = exp(-d_ij^2 / (2 sigma^2)) with one global sigma; sigma <= 0 means
//                 automatic: the median over all points of the distance to the
//                 `scale_neighbor`-th neighbour.
//   SelfTuning:   w_ij = exp(-d_ij^2 / (sigma_i sigma_j)), sigma_i = the distance from i to
//                 its `scale_neighbor`-th nearest neighbour (Zelnik-Manor and Perona 2004,
//                 who use the 7th). A zero sigma_i (duplicates) is replaced by the smallest
//                 positive sigma, so no weight is 0/0.
// The directed kNN relation is not symmetric; the graph is symmetrized by
//   Average: W = (A + A^T) / 2 (scikit-learn's choice; an edge known to one side only gets
//            half weight, which damps hubs), or
//   Max:     W = max(A, A^T) (the "or" graph; every kNN edge at full weight).
// The diagonal is zero (no self-loops).
#pragma once

#include <string>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut {

struct KnnGraph;

/// Edge weighting of a kNN graph.
enum class AffinityKind { Connectivity, Gaussian, SelfTuning };
NEUNCUT_ENUM_NAMES(AffinityKind, "affinity", {AffinityKind::SelfTuning, "self-tuning"},
                   {AffinityKind::Gaussian, "gaussian"}, {AffinityKind::Connectivity, "connectivity"})
/// parse_enum<AffinityKind>, under its earlier name.
inline AffinityKind parse_affinity_kind(const std::string& name) { return parse_enum<AffinityKind>(name); }

/// How the directed kNN weights become a symmetric W.
enum class Symmetrization { Average, Max };
NEUNCUT_ENUM_NAMES(Symmetrization, "symmetrization", {Symmetrization::Average, "average"}, {Symmetrization::Max, "max"})
/// parse_enum<Symmetrization>, under its earlier name.
inline Symmetrization parse_symmetrization(const std::string& name) { return parse_enum<Symmetrization>(name); }

/// Parameters of the kNN affinity (sparse and in-batch).
struct AffinityParams {
  AffinityKind kind = AffinityKind::SelfTuning;  ///< Edge weighting.
  double sigma = 0;        ///< Gaussian: global bandwidth; <= 0 means automatic (median scale_neighbor-th distance).
  int scale_neighbor = 7;  ///< Gaussian (auto sigma) and SelfTuning: which neighbour's distance sets the scale
                           ///< (1-based; clamped to the neighbours available).
  Symmetrization symmetrize = Symmetrization::Average;  ///< Symmetrization of the directed kNN weights.
};

/// Sparse symmetric N x N affinity from a kNN graph (see the top of this file). Throws
/// InvalidArgument for an empty graph, scale_neighbor < 1 or a non-finite sigma.
SparseMatrixF knn_affinity(const KnnGraph& graph, const AffinityParams& params = {});

/// The global sigma knn_affinity uses for AffinityKind::Gaussian (params.sigma if > 0).
double gaussian_sigma(const KnnGraph& graph, const AffinityParams& params);

/// Number of connected components of the undirected graph with an edge wherever W_ij != 0
/// (W square and symmetric in pattern). When `component` is non-null it receives each
/// node's component id in [0, count), numbered in order of the smallest node.
int connected_components(const SparseMatrixF& affinity, Labels* component = nullptr);

/// Dense kNN affinity within one batch (m x d rows, finite): exact kNN among the batch rows
/// (n_neighbors per row, self excluded), weighted and symmetrized as in knn_affinity; the
/// result is m x m, symmetric, zero off the kNN graph and on the diagonal. This is the
/// "knn" in-batch affinity offered to the NeuNcut trainer beside the full Gaussian, and
/// SpectralNet's per-batch W. InvalidArgument for m < 2, n_neighbors < 1 or >= m, NaN/Inf.
MatrixF knn_batch_affinity(const Eigen::Ref<const MatrixF>& batch, int n_neighbors, const AffinityParams& params = {});

}  // namespace neuncut
