// PRIVATE header: the steps the exact and the landmark Ncut solvers share.
#pragma once

#include "core/data_check.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"

namespace neuncut::detail {

/// The check both solvers make of their data: finite, at least 2 rows, k < N, named "ncut".
DataCheck ncut_data_check(const SpectralClusteringParams& params);

/// Scales every row of `embedding` to unit Euclidean length (zero rows stay zero): NJW.
void normalize_embedding_rows(MatrixF& embedding);

/// The last step of both solvers: k-means (params' k, kmeans_n_init, kmeans_max_iter, a seed split
/// from params.seed, threads) on r.embedding, filling r's labels, kmeans_inertia, kmeans_converged,
/// kmeans_seconds and k-means' warnings.
void cluster_embedding(const SpectralClusteringParams& params, SpectralClusteringResult& r);

/// fit_landmark_spectral_clustering without its data and parameter checks, for
/// fit_spectral_clustering, which has made them (one pass over the data saved).
SpectralClusteringResult landmark_spectral_clustering_of_checked(const Eigen::Ref<const MatrixF>& data,
                                                                 const SpectralClusteringParams& params);
/// fit_landmark_spectral_clustering on a RowAccess read `block_rows` rows at a time (a multiple of
/// kDistanceBlockRows; the public overload takes about 64 MB a block): tests pass small blocks.
SpectralClusteringResult landmark_spectral_clustering_of_rows(const RowAccess& rows,
                                                              const SpectralClusteringParams& params, Index block_rows);

}  // namespace neuncut::detail
