// Seeded synthetic data sets with known clusters, for tests, examples and benchmarks.
#pragma once

#include <cstdint>
#include <string>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/io/dataset.hpp"

namespace neuncut {

/// The shapes on offer.
enum class SyntheticKind {
  Moons,            ///< Two interleaving half circles (2-D, 2 clusters).
  Circles,          ///< Two concentric circles (2-D, 2 clusters; inner radius = factor).
  Blobs,            ///< Isotropic Gaussian blobs with centres spread in a box.
  ImbalancedBlobs,  ///< Gaussian blobs whose sizes fall geometrically from largest to smallest by `imbalance`.
};

/// Parameters of make_synthetic; defaults give a small, well-separated problem.
struct SyntheticParams {
  SyntheticKind kind = SyntheticKind::Blobs;  ///< Which shape.
  Index n_samples = 1000;                     ///< Total number of points (>= number of clusters).
  int n_clusters = 3;                         ///< Clusters for the blob kinds (moons/circles always have 2).
  int dim = 2;                                ///< Dimension for the blob kinds (moons/circles are 2-D).
  double noise = 0.05;                        ///< Gaussian noise std (moons/circles) or blob std.
  double factor = 0.5;                        ///< Inner/outer radius ratio for circles, in (0, 1).
  double imbalance = 10.0;                    ///< Largest/smallest cluster size ratio for ImbalancedBlobs (>= 1).
  double center_box = 10.0;                   ///< Blob centres are uniform in [-center_box, center_box]^dim.
  std::uint64_t seed = 0;                     ///< Random seed; the same seed gives the same data.
};

NEUNCUT_ENUM_NAMES(SyntheticKind, "synthetic data set", {SyntheticKind::Moons, "moons"},
                   {SyntheticKind::Circles, "circles"}, {SyntheticKind::Blobs, "blobs"},
                   {SyntheticKind::ImbalancedBlobs, "imbalanced-blobs"})
/// parse_enum<SyntheticKind>, under its earlier name.
inline SyntheticKind parse_synthetic_kind(const std::string& name) { return parse_enum<SyntheticKind>(name); }

/// Generates the data set; labels are the generating cluster of each point, rows shuffled.
Dataset make_synthetic(const SyntheticParams& params);

}  // namespace neuncut
