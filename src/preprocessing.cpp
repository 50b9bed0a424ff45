#include "neuncut/preprocessing.hpp"

#include <cmath>

#include "neuncut/error.hpp"

namespace neuncut {

FeatureScaling parse_feature_scaling(const std::string& name) {
  if (name == "none") return FeatureScaling::None;
  if (name == "center") return FeatureScaling::Center;
  if (name == "standardize") return FeatureScaling::Standardize;
  throw InvalidArgument("unknown feature scaling '" + name + "' (expected none, center or standardize)");
}

std::string to_string(FeatureScaling scaling) {
  switch (scaling) {
    case FeatureScaling::None: return "none";
    case FeatureScaling::Center: return "center";
    case FeatureScaling::Standardize: return "standardize";
  }
  return "none";
}

void Preprocessor::fit(const Eigen::Ref<const MatrixF>& data) {
  dim_ = data.cols();
  mean_.resize(0);
  inv_scale_.resize(0);
  if (scaling_ == FeatureScaling::None) return;
  const double n = double(data.rows());
  const VectorD mean = data.cast<double>().colwise().sum().transpose() / n;
  mean_ = mean.cast<float>();
  if (scaling_ == FeatureScaling::Standardize) {
    VectorD var = VectorD::Zero(dim_);
    for (Index i = 0; i < data.rows(); ++i) var += (data.row(i).cast<double>().transpose() - mean).array().square().matrix();
    var /= n;
    inv_scale_ = var.unaryExpr([](double v) { return v > 0 ? 1.0 / std::sqrt(v) : 1.0; }).cast<float>();
  }
}

void Preprocessor::transform_in_place(MatrixF& data, Index row_offset) const {
  NEUNCUT_REQUIRE(data.cols() == dim_, InvalidArgument, "data has ", data.cols(), " features, the model was fitted on ",
                  dim_);
  if (mean_.size()) data.rowwise() -= mean_.transpose();
  if (inv_scale_.size()) data = data * inv_scale_.asDiagonal();
  if (!l2_normalize_) return;
  for (Index i = 0; i < data.rows(); ++i) {
    const float norm = data.row(i).norm();
    NEUNCUT_REQUIRE(norm > 0.0f && std::isfinite(norm), InvalidArgument, "row ", i + row_offset,
                    norm > 0.0f ? " has a non-finite norm" : " is all zeros after preprocessing",
                    " and cannot be L2-normalized (drop it, or disable normalization)");
    data.row(i) /= norm;
  }
}

MatrixF Preprocessor::transform(const Eigen::Ref<const MatrixF>& data, Index row_offset) const {
  MatrixF out = data;
  transform_in_place(out, row_offset);
  return out;
}

void Preprocessor::save(ByteWriter& out) const {
  out.u32(static_cast<std::uint32_t>(scaling_));
  out.u32(l2_normalize_ ? 1 : 0);
  out.i64(dim_);
  out.vector(mean_);
  out.vector(inv_scale_);
}

Preprocessor Preprocessor::load(ByteReader& in) {
  Preprocessor p;
  const std::uint32_t scaling = in.u32();
  NEUNCUT_REQUIRE(scaling <= 2, FormatError, "model file: unknown feature scaling code ", scaling);
  p.scaling_ = static_cast<FeatureScaling>(scaling);
  p.l2_normalize_ = in.u32() != 0;
  p.dim_ = in.i64();
  p.mean_ = in.vector();
  p.inv_scale_ = in.vector();
  NEUNCUT_REQUIRE(p.dim_ >= 1 && (p.mean_.size() == 0 || p.mean_.size() == p.dim_) &&
                      (p.inv_scale_.size() == 0 || p.inv_scale_.size() == p.dim_),
                  FormatError, "model file: inconsistent preprocessing dimensions");
  return p;
}

}  // namespace neuncut
