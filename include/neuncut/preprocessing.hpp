// Input preprocessing fitted on the training data and stored in every model, so that
// predict() transforms new points exactly as the training points were.
//
// Order: optional centering/standardization (statistics of the training rows), then
// optional row L2 normalization (on by default, as in the NeuNcut paper: the Gaussian
// affinity then depends on cosine similarity only).
#pragma once

#include <string>

#include "neuncut/model_file.hpp"
#include "neuncut/types.hpp"

namespace neuncut {

/// Per-feature scaling applied before L2 normalization.
enum class FeatureScaling {
  None,         ///< Leave features as they are.
  Center,       ///< Subtract the training mean.
  Standardize,  ///< Subtract the training mean, divide by the training std (features with std 0 are only centred).
};
/// Parses "none", "center", "standardize".
FeatureScaling parse_feature_scaling(const std::string& name);
std::string to_string(FeatureScaling scaling);

class Preprocessor {
 public:
  Preprocessor() = default;
  Preprocessor(FeatureScaling scaling, bool l2_normalize) : scaling_(scaling), l2_normalize_(l2_normalize) {}

  /// Fits the feature statistics on `data` (N x d).
  void fit(const Eigen::Ref<const MatrixF>& data);
  /// Applies the fitted transform to rows of `data` in place. Throws InvalidArgument naming
  /// the first row whose norm is zero when L2 normalization is on (such a row has no direction).
  /// `row_offset` is added to row numbers in that message (for chunked callers).
  void transform_in_place(MatrixF& data, Index row_offset = 0) const;
  /// Copying variant.
  MatrixF transform(const Eigen::Ref<const MatrixF>& data, Index row_offset = 0) const;

  FeatureScaling scaling() const { return scaling_; }
  bool l2_normalize() const { return l2_normalize_; }
  Index dim() const { return dim_; }

  void save(ByteWriter& out) const;
  static Preprocessor load(ByteReader& in);

 private:
  FeatureScaling scaling_ = FeatureScaling::None;
  bool l2_normalize_ = true;
  Index dim_ = 0;
  VectorF mean_, inv_scale_;  // empty when unused
};

}  // namespace neuncut
