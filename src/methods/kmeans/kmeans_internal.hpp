// PRIVATE header (not installed): k-means internals reached by the tests.
#pragma once

#include <cstdint>
#include <vector>

#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// Greedy k-means++ seeding: k distinct row indices of `data`.
std::vector<Index> kmeans_plus_plus(const Eigen::Ref<const MatrixF>& data, int k, std::uint64_t seed, int threads);

}  // namespace neuncut::detail
