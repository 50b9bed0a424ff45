// External clustering metrics against ground truth, and the Ncut value of a partition.
//
// Label values may be any int32 (they are remapped internally); the numbers of distinct
// predicted and true labels may differ. All metrics are invariant to permutations of the
// label values of either argument.
#pragma once

#include <cstdint>
#include <span>

#include "neuncut/core/types.hpp"

namespace neuncut {

/// How NMI normalizes the mutual information.
enum class NmiAverage {
  Geometric,   ///< I / sqrt(H(U) H(V)) (the NeuNcut paper's choice; scikit-learn "geometric").
  Arithmetic,  ///< I / ((H(U) + H(V)) / 2) (scikit-learn's default).
};

/// Clustering accuracy: the fraction of points correctly labelled under the best one-to-one
/// matching of predicted to true clusters (Hungarian algorithm on the contingency table;
/// with unequal numbers of clusters the surplus clusters stay unmatched and count as errors).
double clustering_accuracy(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted);

/// Normalized mutual information in [0, 1]. Two single-cluster labelings give 1.
double normalized_mutual_info(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted,
                              NmiAverage average = NmiAverage::Geometric);

/// Adjusted Rand index (Hubert and Arabie): 1 for identical partitions, ~0 for random ones.
double adjusted_rand_index(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted);

/// ACC, NMI (geometric) and ARI together.
struct ClusteringScores {
  double acc = 0;  ///< clustering_accuracy
  double nmi = 0;  ///< normalized_mutual_info, geometric mean
  double ari = 0;  ///< adjusted_rand_index
};
/// Computes all three; InvalidArgument when the lengths differ or are zero.
ClusteringScores score_clustering(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted);

/// Discrete normalized cut of a hard partition on a symmetric affinity W:
/// sum over clusters c of cut(c, rest) / vol(c), with vol(c) = sum of degrees in c. Empty
/// clusters contribute 0. Dense W (N x N) or sparse W.
double ncut_value(const MatrixF& affinity, std::span<const std::int32_t> labels);
double ncut_value(const SparseMatrixF& affinity, std::span<const std::int32_t> labels);

/// Number of distinct values in labels.
int count_clusters(std::span<const std::int32_t> labels);

}  // namespace neuncut
