// Input preprocessing fitted on the training data and stored in every model, so that
// predict() transforms new points exactly as the training points were.
//
// Order: an optional fixed feature map (the scattering transform of images), then optional
// centering/standardization (statistics of the training rows' features), then optional row
// L2 normalization (on by default, as in the NeuNcut paper: the Gaussian affinity then
// depends on cosine similarity only; all-zero rows stay at zero). Every row is transformed
// on its own, so its result does not depend on the other rows or its position.
#pragma once

#include <cstdint>
#include <string>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/features/scattering.hpp"

namespace neuncut {

// The model file's field codec (include/neuncut/io/model_file.hpp); save() and load() are
// called by the estimators' own save() and load(), so this header need not pull it in.
class ByteReader;
class ByteWriter;

/// Per-feature scaling applied before L2 normalization.
enum class FeatureScaling {
  None,         ///< Leave features as they are.
  Center,       ///< Subtract the training mean.
  Standardize,  ///< Subtract the training mean, divide by the training std (features with std 0 are only centred).
};
NEUNCUT_ENUM_NAMES(FeatureScaling, "feature scaling", {FeatureScaling::None, "none"},
                   {FeatureScaling::Center, "center"}, {FeatureScaling::Standardize, "standardize"})
/// parse_enum<FeatureScaling>, under its earlier name.
inline FeatureScaling parse_feature_scaling(const std::string& name) { return parse_enum<FeatureScaling>(name); }

class Preprocessor {
 public:
  Preprocessor() = default;
  Preprocessor(FeatureScaling scaling, bool l2_normalize, ScatteringTransform features = {})
      : scaling_(scaling), l2_normalize_(l2_normalize), features_(std::move(features)) {}

  /// Fits the feature statistics on `data` (N x d raw rows) on `threads` threads.
  void fit(const Eigen::Ref<const MatrixF>& data, int threads = 1);
  /// fit(data) then transform_in_place(data), computing the feature map of the rows once.
  void fit_transform_in_place(MatrixF& data, int threads = 1);
  /// Applies the fitted transform to rows of `data` in place (their number of columns becomes
  /// output_dim()). With L2 normalization a row whose norm is zero stays all zeros (it has
  /// no direction; scikit-learn's normalize() does the same); a row whose norm overflows
  /// throws InvalidArgument naming it, `row_offset` added to the row number (for chunked
  /// callers).
  void transform_in_place(MatrixF& data, Index row_offset = 0, int threads = 1) const;
  /// Copying variant.
  MatrixF transform(const Eigen::Ref<const MatrixF>& data, Index row_offset = 0, int threads = 1) const;

  FeatureScaling scaling() const { return scaling_; }
  bool l2_normalize() const { return l2_normalize_; }
  /// The feature map (empty() when rows are used as they are).
  const ScatteringTransform& features() const { return features_; }
  /// Values per raw input row.
  Index dim() const { return dim_; }
  /// The fitted per-feature mean subtracted after the feature map (empty with scaling None)
  /// and the per-feature factor applied next (empty unless Standardize); read by exporters
  /// (the ONNX export, python/neuncut/onnx_export.py) that rebuild the transform elsewhere.
  const VectorF& mean() const { return mean_; }
  const VectorF& inv_scale() const { return inv_scale_; }
  /// Values per transformed row (dim() without a feature map).
  Index output_dim() const { return features_.empty() ? dim_ : features_.output_dim(); }

  void save(ByteWriter& out) const;
  /// Reads what save() wrote into a model file of format `version` (the feature map exists
  /// from version 2 on).
  static Preprocessor load(ByteReader& in, std::uint32_t version);

 private:
  void fit_statistics(const Eigen::Ref<const MatrixF>& features);  // mean_ and inv_scale_ as scaling_ asks
  void scale_and_normalize(MatrixF& features, Index row_offset) const;

  FeatureScaling scaling_ = FeatureScaling::None;
  bool l2_normalize_ = true;
  ScatteringTransform features_;
  Index dim_ = 0;
  VectorF mean_, inv_scale_;  // empty when unused
};

}  // namespace neuncut
