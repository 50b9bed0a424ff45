// PRIVATE header: the steps the exact and the landmark Ncut solvers share.
#pragma once

#include "neuncut/methods/ncut/spectral_clustering.hpp"

namespace neuncut::detail {

/// Scales every row of `embedding` to unit Euclidean length (zero rows stay zero): NJW.
void normalize_embedding_rows(MatrixF& embedding);

/// The last step of both solvers: k-means (params' k, kmeans_n_init, kmeans_max_iter, a seed split
/// from params.seed, threads) on r.embedding, filling r's labels, kmeans_inertia, kmeans_converged,
/// kmeans_seconds and k-means' warnings.
void cluster_embedding(const SpectralClusteringParams& params, SpectralClusteringResult& r);

}  // namespace neuncut::detail
