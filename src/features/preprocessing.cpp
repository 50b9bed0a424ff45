#include "neuncut/features/preprocessing.hpp"

#include <cmath>

#include "core/fixed_order_sum.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/model_file.hpp"

namespace neuncut {

void Preprocessor::fit(const Eigen::Ref<const MatrixF>& raw, int threads) {
  dim_ = raw.cols();
  // Without scaling there are no statistics, so the feature map need not run.
  if (scaling_ == FeatureScaling::None || features_.empty()) fit_statistics(raw);
  else fit_statistics(features_.transform(raw, threads));
}

void Preprocessor::fit_transform_in_place(MatrixF& data, int threads) {
  dim_ = data.cols();
  if (!features_.empty()) data = features_.transform(data, threads);  // once, for the statistics and the rows
  fit_statistics(data);
  scale_and_normalize(data, 0);
}

void Preprocessor::fit_statistics(const Eigen::Ref<const MatrixF>& data) {
  mean_.resize(0);
  inv_scale_.resize(0);
  if (scaling_ == FeatureScaling::None) return;
  const double n = double(data.rows());
  const VectorD mean = data.cast<double>().colwise().sum().transpose() / n;
  mean_ = mean.cast<float>();
  if (scaling_ == FeatureScaling::Standardize) {
    VectorD var = VectorD::Zero(data.cols());
    for (Index i = 0; i < data.rows(); ++i)
      var += (data.row(i).cast<double>().transpose() - mean).array().square().matrix();
    var /= n;
    inv_scale_ = var.unaryExpr([](double v) { return v > 0 ? 1.0 / std::sqrt(v) : 1.0; }).cast<float>();
  }
}

void Preprocessor::transform_in_place(MatrixF& data, Index row_offset, int threads) const {
  NEUNCUT_REQUIRE(data.cols() == dim_, InvalidArgument, "data has ", data.cols(), " features, the model was fitted on ",
                  dim_);
  if (!features_.empty()) data = features_.transform(data, threads);
  scale_and_normalize(data, row_offset);
}

void Preprocessor::scale_and_normalize(MatrixF& data, Index row_offset) const {
  if (mean_.size()) data.rowwise() -= mean_.transpose();
  if (inv_scale_.size()) data = data * inv_scale_.asDiagonal();
  if (!l2_normalize_) return;
  for (Index i = 0; i < data.rows(); ++i) {
    const float norm = std::sqrt(detail::fixed_order_squared_norm(data.row(i).data(), data.cols()));
    NEUNCUT_REQUIRE(std::isfinite(norm), InvalidArgument, "row ", i + row_offset,
                    " has a non-finite norm and cannot be L2-normalized (scale the data down, or disable "
                    "normalization)");
    // An all-zero row (empty counts, sparse features) has no direction and stays at zero,
    // as scikit-learn's normalize() leaves it.
    if (norm > 0.0f) data.row(i) /= norm;
  }
}

MatrixF Preprocessor::transform(const Eigen::Ref<const MatrixF>& data, Index row_offset, int threads) const {
  MatrixF out = data;
  transform_in_place(out, row_offset, threads);
  return out;
}

void Preprocessor::save(ByteWriter& out) const {
  out.u32(static_cast<std::uint32_t>(scaling_));
  out.u32(l2_normalize_ ? 1 : 0);
  out.i64(dim_);
  out.vector(mean_);
  out.vector(inv_scale_);
  // Format version 2: the feature map (0: none, 1: scattering with its shape and filter bank).
  out.u32(features_.empty() ? 0 : 1);
  if (!features_.empty()) {
    const ScatteringParams& p = features_.params();
    out.i64(p.height);
    out.i64(p.width);
    out.u32(static_cast<std::uint32_t>(p.scales));
    out.u32(static_cast<std::uint32_t>(p.angles));
    out.u32(static_cast<std::uint32_t>(p.order));
  }
}

Preprocessor Preprocessor::load(ByteReader& in, std::uint32_t version) {
  Preprocessor p;
  const std::uint32_t scaling = in.u32();
  NEUNCUT_REQUIRE(scaling <= 2, FormatError, "model file: unknown feature scaling code ", scaling);
  p.scaling_ = static_cast<FeatureScaling>(scaling);
  p.l2_normalize_ = in.u32() != 0;
  p.dim_ = in.i64();
  p.mean_ = in.vector("feature means");
  p.inv_scale_ = in.vector("feature scales");
  if (version >= 2) {
    const std::uint32_t kind = in.u32();
    NEUNCUT_REQUIRE(kind <= 1, FormatError, "model file: unknown feature map code ", kind);
    if (kind == 1) {
      ScatteringParams sp;
      sp.height = in.i64();
      sp.width = in.i64();
      sp.scales = int(in.u32());
      sp.angles = int(in.u32());
      sp.order = int(in.u32());
      NEUNCUT_REQUIRE(
          sp.height >= 1 && sp.width >= 1 && sp.height <= 1024 && sp.width <= 1024 && sp.height * sp.width == p.dim_,
          FormatError, "model file: scattering image shape does not match the input dimension");
      try {
        p.features_ = ScatteringTransform(sp);
      } catch (const InvalidArgument& e) {
        throw FormatError(std::string("model file: invalid scattering parameters: ") + e.what());
      }
    }
  }
  const Index out_dim = p.output_dim();
  NEUNCUT_REQUIRE(p.dim_ >= 1 && (p.mean_.size() == 0 || p.mean_.size() == out_dim) &&
                      (p.inv_scale_.size() == 0 || p.inv_scale_.size() == out_dim),
                  FormatError, "model file: inconsistent preprocessing dimensions");
  return p;
}

}  // namespace neuncut
