// PRIVATE header (not installed): k-means internals reached by the tests.
#pragma once

#include <cstdint>
#include <vector>

#include "neuncut/core/row_access.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"

namespace neuncut::detail {

/// Greedy k-means++ seeding: k distinct row indices of `data`.
std::vector<Index> kmeans_plus_plus(const Eigen::Ref<const MatrixF>& data, int k, std::uint64_t seed, int threads);

/// fit_kmeans on a RowAccess read `block_rows` rows at a time (a multiple of kDistanceBlockRows;
/// the public overload takes about 64 MB a block): tests pass small blocks.
KMeansResult kmeans_of_rows(const RowAccess& rows, const KMeansParams& params, Index block_rows,
                            const KMeansProgress& progress = {});

}  // namespace neuncut::detail
