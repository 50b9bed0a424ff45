// PRIVATE header (not installed): NeuNcut's helpers shared by neuncut.cpp, neuncut_selection.cpp
// and spectral_init.cpp, and reached by the tests; not part of the public API.
#pragma once

#include <cstdint>
#include <string>

#include "neuncut/core/types.hpp"
#include "neuncut/eval/partition_quality.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/features/scattering.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"

namespace neuncut {

/// The epochs a fit runs: `epochs` when given, else the automatic count for
/// `steps_per_epoch` mini-batches per epoch. 50 epochs are 1000 steps on a 20,000-point
/// subset, but only 50 on data that fits one batch: too few for Adam at lr 1e-3 to leave the
/// initial, near-uniform memberships (sklearn's 50-point blobs split wrongly at 30 steps,
/// correctly from 500 on, for all ten seeds tried).
int resolve_epochs(int epochs, Index steps_per_epoch);

/// Classifies memberships: healthy; NearUniform when the mean max probability is within 10% of
/// uniform (the trivial solution); EmptyClusters when clusters won no point.
CollapseStatus collapse_status(int k, int clusters_used, double mean_max_probability);

/// The feature map `params` asks for on rows of `dim` values: an empty transform for raw
/// features, else the scattering transform of images of params.image_shape. Throws
/// InvalidArgument when scattering is asked for without an image shape or with one whose
/// pixel count is not `dim`.
ScatteringTransform resolve_features(const NeuNcutParams& params, Index dim);

/// `params` with its recipe applied: for recipe paper, every parameter the paper's recipe
/// sets and that still holds its default value takes the paper's value (see the recipe
/// parameter); recipe default returns `params` unchanged.
NeuNcutParams resolve_recipe(const NeuNcutParams& params);

/// Label-free quality check of a fitted model on `data` (raw rows, as given to fit): samples
/// up to `points` rows (seeded), builds the check graph on the model's preprocessing of them
/// and compares the model's labels with k-means and chance there (partition_quality.hpp).
PartitionQuality check_quality(const NeuNcut& model, const Eigen::Ref<const MatrixF>& data, Index points,
                               std::uint64_t seed);

/// Whether a plain fit is redone on standardized columns: raw L2 rows were chosen by the
/// eigengap alone (table_geometry.hpp), and the quality check, which judges on z-scored
/// columns, found the partition weak or at chance.
bool refit_standardized(const NeuNcutFitResult& result);

/// Resolves the scaling parameter (auto or a FeatureScaling) for rows that are images
/// (image_shape set) or not, L2-normalized afterwards or not.
FeatureScaling resolve_scaling(ScalingChoice scaling, bool images, bool l2);

/// Checks a data matrix: at least one row and column, all values finite. `what` names it in
/// messages, whose row numbers start at `first_row` (the matrix's place in a streamed data set).
void validate_data(const Eigen::Ref<const MatrixF>& data, const std::string& what, Index first_row = 0);

/// The NJW partition of any dense affinity `w` (m x m, symmetric, non-negative) with degrees
/// `degree` (all > 0): the step of spectral_batch_partition after the affinity, used for the
/// knn in-batch affinity. InvalidArgument for a shape mismatch, k outside [2, m] or a zero degree.
Labels njw_partition(const MatrixF& w, const VectorF& degree, int k, std::uint64_t seed, int threads);

}  // namespace neuncut
