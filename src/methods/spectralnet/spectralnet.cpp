#include "neuncut/methods/spectralnet/spectralnet.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/data_check.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/resources_internal.hpp"
#include "core/timing.hpp"
#include "kernels/gemm.hpp"
#include "kernels/pairwise_distance.hpp"
#include "methods/neuncut/neuncut_internal.hpp"
#include "methods/neuncut/table_geometry.hpp"
#include "methods/spectralnet/spectralnet_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/resources.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/nn/optimizer.hpp"
#include "nn/epoch_trainer.hpp"

namespace neuncut {
namespace {

using detail::Clock;
using detail::seconds_since;

constexpr std::uint32_t kSpectralNetPayloadVersion = 1;

Index resolved_batch(const SpectralNetParams& p, Index train_points) {
  return p.batch_size > 0 ? Index(p.batch_size) : std::min<Index>(1024, train_points);
}

// 30 epochs are hundreds of steps on large data but 30 on a set that fits one batch: far too
// few for the network to leave its random start (the published code runs 100 steps per
// "epoch" whatever the data size). Measurements: docs/baselines.md.
int resolved_epochs(const SpectralNetParams& p, Index batches) {
  if (p.epochs > 0) return p.epochs;
  constexpr Index kEpochs = 30;
  const Index steps = std::max<Index>(1, batches);
  return int(std::max(kEpochs, (Index(p.min_steps) + steps - 1) / steps));
}

// NeuNcut's preprocessing rules (features, scaling, row normalization, and for tables the
// eigengap's choice of geometry: docs/defaults.md), so both methods see the same rows:
// SpectralNet's affinity is as unit-dependent as NeuNcut's. `train`: the raw training rows.
Preprocessor make_preprocessor(const SpectralNetParams& p, const MatrixF& train, SpectralNetFitResult& result) {
  ScatteringTransform features;
  if (p.features == FeatureMap::Scattering || (p.features == FeatureMap::Auto && !p.image_shape.empty()))
    features = ScatteringTransform(scattering_params(p.image_shape, train.cols(), 0, 8, 1));
  const Index seen = features.empty() ? train.cols() : features.output_dim();
  bool l2 = resolve_normalize(p.normalize, seen);
  FeatureScaling scaling = resolve_scaling(p.scaling, !p.image_shape.empty(), l2);
  result.geometry_eigengaps = detail::apply_table_geometry(train, p.n_clusters, p.scaling, p.normalize,
                                                           p.image_shape.empty() && features.empty(), p.seed,
                                                           detail::resolve_threads(p.threads), scaling, l2);
  result.scaling = scaling;
  result.l2_normalized = l2;
  return Preprocessor(scaling, l2, std::move(features));
}

// Y = logits M, each row a function of its own logits only (as predict_logits is): the
// embedding of a point does not depend on the batch it is embedded in.
MatrixF embedding_of(const MatrixF& logits, const MatrixF& ortho) {
  MatrixF y(logits.rows(), ortho.cols());
  detail::gemm_rowwise(detail::gemm_operand(logits), detail::gemm_operand(ortho), y.data(), y.cols(), Precision::Fp32);
  return y;
}

}  // namespace

const std::vector<ParamInfo<SpectralNetParams>>& spectralnet_param_table() {
  using ParamsType = SpectralNetParams;
  static const std::vector<ParamInfo<SpectralNetParams>> table = {NEUNCUT_SPECTRALNET_PARAMS(NEUNCUT_PARAM_INFO)};
  return table;
}

void validate(const SpectralNetParams& p) {
  NEUNCUT_REQUIRE(p.n_clusters >= 1, InvalidArgument, "spectralnet: k must be >= 1, got ", p.n_clusters);
  for (int w : p.hidden) NEUNCUT_REQUIRE(w >= 1, InvalidArgument, "spectralnet: hidden widths must be >= 1, got ", w);
  NEUNCUT_REQUIRE(p.epochs >= 0, InvalidArgument, "spectralnet: epochs must be >= 1, or 0 for auto, got ", p.epochs);
  NEUNCUT_REQUIRE(p.min_steps >= 1, InvalidArgument, "spectralnet: min_steps must be >= 1, got ", p.min_steps);
  if (!p.image_shape.empty()) parse_image_shape(p.image_shape);
  NEUNCUT_REQUIRE(p.features != FeatureMap::Scattering || !p.image_shape.empty(), InvalidArgument,
                  "spectralnet: features 'scattering' needs the image shape (image_shape, e.g. 28x28)");
  NEUNCUT_REQUIRE(p.batch_size >= 0, InvalidArgument, "spectralnet: batch_size must be >= 0, got ", p.batch_size);
  NEUNCUT_REQUIRE(p.train_size >= 0, InvalidArgument, "spectralnet: train_size must be >= 0, got ", p.train_size);
  NEUNCUT_REQUIRE(p.learning_rate > 0 && std::isfinite(p.learning_rate), InvalidArgument,
                  "spectralnet: lr must be finite and > 0, got ", p.learning_rate);
  NEUNCUT_REQUIRE(p.lr_final_fraction > 0 && p.lr_final_fraction <= 1, InvalidArgument,
                  "spectralnet: lr_final_fraction must be in (0, 1], got ", p.lr_final_fraction);
  NEUNCUT_REQUIRE(p.n_neighbors >= 1, InvalidArgument, "spectralnet: n_neighbors must be >= 1, got ", p.n_neighbors);
  NEUNCUT_REQUIRE(p.scale_neighbor >= 1, InvalidArgument, "spectralnet: scale_neighbor must be >= 1, got ",
                  p.scale_neighbor);
  NEUNCUT_REQUIRE(p.ridge > 0 && std::isfinite(p.ridge), InvalidArgument,
                  "spectralnet: ridge must be finite and > 0, got ", p.ridge);
  NEUNCUT_REQUIRE(p.kmeans_n_init >= 1, InvalidArgument, "spectralnet: kmeans_n_init must be >= 1, got ",
                  p.kmeans_n_init);
}

namespace detail {

MatrixD orthonormalizer(const Eigen::Ref<const MatrixF>& outputs, double ridge, bool* fallback) {
  const Index m = outputs.rows(), k = outputs.cols();
  const MatrixD y = outputs.cast<double>();
  MatrixD gram = y.transpose() * y / double(m);
  if (fallback) *fallback = false;
  Eigen::LLT<MatrixD> llt(gram);
  // LLT succeeds on some numerically singular matrices; a pivot far below the largest
  // diagonal entry is treated as a failure too, since L^-T would then blow the batch up.
  auto usable = [&](const Eigen::LLT<MatrixD>& f) {
    if (f.info() != Eigen::Success) return false;
    const VectorD d = f.matrixL().toDenseMatrix().diagonal();
    return d.minCoeff() > 1e-7 * std::max(1e-300, d.maxCoeff());
  };
  if (!usable(llt)) {
    if (fallback) *fallback = true;
    const double scale = std::max(gram.trace() / double(k), 1e-12);
    for (double eps = ridge * scale;; eps *= 10) {
      llt.compute(gram + eps * MatrixD::Identity(k, k));
      if (usable(llt) || eps > 1e6 * scale) break;
    }
  }
  // M = L^-T: solve L^T M = I.
  MatrixD m_inv = llt.matrixU().solve(MatrixD::Identity(k, k));
  return m_inv;
}

MatrixF gradient_through_orthonormalizer(const MatrixF& outputs, const MatrixF& y, const MatrixF& grad_y,
                                         const MatrixF& ortho) {
  // Y = F M with M = L^-T, L L^T = F^T F / m. Differentiating the Cholesky factor
  // (dL = L Phi(L^-1 dA L^-T), Phi = lower triangle with half the diagonal) gives
  // dJ/dF = G M^T - (2/m) F sym(M Phi(B^T) M^T), B = Y^T G. The first term alone is the
  // gradient with M held fixed; the second removes what merely rescales or rotates Y, which
  // the next orthonormalization would undo anyway.
  const Index m = outputs.rows();
  const MatrixD md = ortho.cast<double>();
  const MatrixD b = y.cast<double>().transpose() * grad_y.cast<double>();
  MatrixD phi = b.transpose().triangularView<Eigen::Lower>();
  phi.diagonal() *= 0.5;
  const MatrixD c = md * phi * md.transpose();
  const MatrixF sym = ((c + c.transpose()) * (1.0 / double(m))).cast<float>();  // (2/m) sym(C)
  MatrixF grad = grad_y * ortho.transpose();
  grad.noalias() -= outputs * sym;
  return grad;
}

double spectralnet_loss(const MatrixF& y, const MatrixF& affinity, MatrixF* grad) {
  const Index m = y.rows();
  const VectorF degree = affinity.rowwise().sum();
  // (D - W) Y, then loss = 2 tr(Y^T (D - W) Y) / m and dLoss/dY = 4 (D - W) Y / m.
  MatrixF ly = degree.asDiagonal() * y;
  ly.noalias() -= affinity * y;
  const double loss = 2.0 * double(y.cwiseProduct(ly).sum()) / double(m);
  if (grad) *grad = ly * float(4.0 / double(m));
  return loss;
}

}  // namespace detail

SpectralNet::SpectralNet(SpectralNetParams params) : params_(std::move(params)) {}

namespace {
// Refuses, before anything is allocated, a configuration that cannot fit in memory: the
// training copy, the network with its gradient and Adam's two moments, a batch's activations
// and their gradients, and the batch affinity.
void require_fit_memory(const SpectralNetParams& p, Index train_points, Index dim, Index batch) {
  std::vector<Index> widths = {dim};
  for (int w : p.hidden) widths.push_back(w);
  widths.push_back(p.n_clusters);
  double units = 0;
  for (Index w : widths) units += double(w);
  require_memory("SpectralNet fit",
                 {{"training copy of the data", 4.0 * double(train_points) * double(dim)},
                  {"network weights, gradient and Adam state", 4.0 * network_parameter_bytes(widths)},
                  {"activations of a batch of " + std::to_string(batch) + " rows", 3.0 * 4.0 * double(batch) * units},
                  {"batch affinity", 2.0 * 4.0 * double(batch) * double(batch)}},
                 "use narrower hidden layers (hidden), a smaller batch_size or train_size");
}
}  // namespace

namespace {
// SpectralNet's part of the epoch loop (epoch_trainer.hpp): the cosine learning rate down to
// lr_final_fraction, and the step on one batch under the orthonormalized spectral loss.
class SpectralNetEpochs {
 public:
  using Stats = SpectralNetEpochStats;

  SpectralNetEpochs(const SpectralNetParams& p, Mlp& mlp, Adam& adam, Index batches, int epochs,
                    SpectralNetFitResult& result)
      : p_(p),
        epochs_(epochs),
        mlp_(mlp),
        adam_(adam),
        batches_(batches),
        result_(result),
        gradient_(std::size_t(mlp.num_parameters())) {
    ap_.kind = p.affinity;
    ap_.scale_neighbor = p.scale_neighbor;
  }

  Stats begin_epoch(int epoch) {
    const double progress_fraction = epochs_ > 1 ? double(epoch) / double(epochs_ - 1) : 1.0;
    Stats st;
    st.learning_rate = p_.learning_rate * (p_.lr_final_fraction +
                                           (1 - p_.lr_final_fraction) * 0.5 * (1 + std::cos(M_PI * progress_fraction)));
    return st;
  }

  // `rows` (which training rows the batch holds) is not needed: SpectralNet has no per-row state.
  void step(const MatrixF& xb, const Index* /*rows*/, Stats& st) {
    // As NeuNcut's knn affinity: a batch of m points has at most m - 1 neighbours per point.
    const MatrixF w = knn_batch_affinity(xb, std::min<int>(p_.n_neighbors, int(xb.rows()) - 1), ap_);
    mlp_.forward(xb, ws_);
    const MatrixF& out = ws_.activations.back();
    bool fallback = false;
    const MatrixF ortho = detail::orthonormalizer(out, p_.ridge, &fallback).cast<float>();
    st.cholesky_fallbacks += fallback ? 1 : 0;
    y_.noalias() = out * ortho;
    st.loss += detail::spectralnet_loss(y_, w, &grad_y_);
    const MatrixF grad_out = p_.ortho_gradient ? detail::gradient_through_orthonormalizer(out, y_, grad_y_, ortho)
                                               : MatrixF(grad_y_ * ortho.transpose());
    mlp_.backward(xb, ws_, grad_out, gradient_);
    adam_.step(mlp_.parameters(), gradient_, st.learning_rate);
  }

  void end_epoch(Stats& st) {
    st.loss /= double(batches_);
    result_.cholesky_fallbacks += st.cholesky_fallbacks;
    NEUNCUT_REQUIRE(std::isfinite(st.loss), Error, "spectralnet: the loss became ", st.loss, " at epoch ", st.epoch,
                    "; lower the learning rate");
  }

 private:
  const SpectralNetParams& p_;
  int epochs_;
  Mlp& mlp_;
  Adam& adam_;
  Index batches_;
  SpectralNetFitResult& result_;
  AffinityParams ap_;
  MlpWorkspace ws_;
  AlignedFloats gradient_;
  MatrixF y_, grad_y_;
};
}  // namespace

SpectralNetFitResult SpectralNet::fit(const Eigen::Ref<const MatrixF>& data, const SpectralNetProgress& progress) {
  const auto start = Clock::now();
  validate(params_);
  const SpectralNetParams& p = params_;
  detail::DataCheck check;
  check.who = "spectralnet";
  check.k = p.n_clusters;
  check.threads = p.threads;
  detail::check_data(data, check);
  const Index n = data.rows();
  const Index train_points = p.train_size > 0 ? std::min<Index>(p.train_size, n) : n;
  NEUNCUT_REQUIRE(train_points >= 2, InvalidArgument,
                  "spectralnet: training needs at least 2 points (an affinity between them), got 1 sample");
  const Index batch = resolved_batch(p, train_points);
  NEUNCUT_REQUIRE(batch <= train_points, InvalidArgument, "spectralnet: batch_size (", batch,
                  ") exceeds the training points (", train_points, ")");
  NEUNCUT_REQUIRE(Index(p.n_clusters) <= batch, InvalidArgument, "spectralnet: k (", p.n_clusters,
                  ") must not exceed the batch size (", batch, "): the orthonormalization needs rank k");

  require_fit_memory(p, train_points, data.cols(), batch);
  detail::ThreadCountScope scope(p.threads);
  detail::Rng rng(p.seed);
  std::vector<Index> subset = rng.permutation(n);
  subset.resize(std::size_t(train_points));
  std::sort(subset.begin(), subset.end());
  MatrixF train(train_points, data.cols());
  for (Index i = 0; i < train_points; ++i) train.row(i) = data.row(subset[std::size_t(i)]);
  SpectralNetFitResult result;
  preprocessor_ = make_preprocessor(p, train, result);
  preprocessor_.fit_transform_in_place(train, detail::resolve_threads(p.threads));

  std::vector<Index> widths{train.cols()};
  for (int w : p.hidden) widths.push_back(w);
  widths.push_back(p.n_clusters);
  mlp_ = Mlp(widths);
  mlp_.initialize(rng.split());
  Adam adam(mlp_.num_parameters(), AdamParams{});

  result.train_points = train_points;
  result.batch_size = batch;
  detail::EpochPlan plan;
  plan.batch_rows = batch;
  plan.batches = std::max<Index>(1, train_points / batch);  // the incomplete last batch is dropped
  plan.epochs = resolved_epochs(p, plan.batches);
  plan.threads = p.threads;
  SpectralNetEpochs method(p, mlp_, adam, plan.batches, plan.epochs, result);
  result.train_seconds = detail::run_epochs(method, train, plan, rng, result.history, progress);

  // Final orthonormalization on the whole training subset, then k-means on its embedding.
  const MatrixF outputs = mlp_.predict_logits(train);
  bool fallback = false;
  ortho_ = detail::orthonormalizer(outputs, p.ridge, &fallback).cast<float>();
  result.cholesky_fallbacks += fallback ? 1 : 0;
  const MatrixF embedding = embedding_of(outputs, ortho_);
  KMeansParams kp;
  kp.n_clusters = p.n_clusters;
  kp.normalize = false;
  kp.n_init = p.kmeans_n_init;
  kp.seed = rng.split();
  kp.threads = p.threads;
  kp.sample = embedding.rows();  // restarts on every row of the embedding, at any size
  KMeansResult km = fit_kmeans(embedding, kp);
  centroids_ = km.model.centroids();
  result.kmeans_inertia = km.inertia;
  result.kmeans_converged = km.converged;
  if (result.cholesky_fallbacks > 0)
    result.warnings.push_back(detail::concat(
        result.cholesky_fallbacks, " rank-deficient batches used the ridge fallback of the orthonormalization"));
  for (const std::string& w : km.warnings) result.warnings.push_back("k-means: " + w);
  result.labels = predict(data);
  result.total_seconds = seconds_since(start);
  return result;
}

MatrixF SpectralNet::embed(const Eigen::Ref<const MatrixF>& data, Index chunk_rows, Index first_row) const {
  NEUNCUT_REQUIRE(fitted(), InvalidArgument, "spectralnet: the model is not fitted");
  NEUNCUT_REQUIRE(data.cols() == preprocessor_.dim(), InvalidArgument, "spectralnet: data has ", data.cols(),
                  " features, the model expects ", preprocessor_.dim());
  NEUNCUT_REQUIRE(chunk_rows >= 1, InvalidArgument, "spectralnet: chunk_rows must be >= 1, got ", chunk_rows);
  detail::DataCheck check;
  check.who = "spectralnet";
  check.min_points = 0;  // no rows, no embedding
  check.threads = params_.threads;
  check.row_offset = first_row;
  detail::check_data(data, check);
  detail::ThreadCountScope scope(params_.threads);
  MatrixF y(data.rows(), ortho_.cols());
  for (Index lo = 0; lo < data.rows(); lo += chunk_rows) {
    const Index rows = std::min(chunk_rows, data.rows() - lo);
    const MatrixF x = preprocessor_.transform(data.middleRows(lo, rows), first_row + lo);
    y.middleRows(lo, rows) = embedding_of(mlp_.predict_logits(x), ortho_);
  }
  return y;
}

Labels SpectralNet::predict(const Eigen::Ref<const MatrixF>& data, Index chunk_rows, Index first_row) const {
  const MatrixF y = embed(data, chunk_rows, first_row);
  return KMeansModel(centroids_).predict(y, params_.threads, first_row);
}

void SpectralNet::save(const std::string& path) const {
  NEUNCUT_REQUIRE(fitted(), InvalidArgument, "cannot save a SpectralNet model that is not fitted");
  ByteWriter out;
  out.u32(kSpectralNetPayloadVersion);
  const auto& table = spectralnet_param_table();
  out.u64(table.size());
  for (const auto& info : table) {
    out.str(info.name);
    out.str(info.get(params_));
  }
  preprocessor_.save(out);
  out.u64(mlp_.widths().size());
  for (Index w : mlp_.widths()) out.i64(w);
  out.floats(mlp_.parameters().data(), mlp_.parameters().size());
  out.matrix(ortho_);
  out.matrix(centroids_);
  write_model_file(path, ModelMethod::SpectralNet, out.bytes());
}

SpectralNet SpectralNet::load(const std::string& path) {
  const ModelFileContents file = read_model_file(path);
  NEUNCUT_REQUIRE(file.method == ModelMethod::SpectralNet, FormatError, "'", path, "' holds a ", to_string(file.method),
                  " model, not a SpectralNet model");
  const std::string what = "model file '" + path + "'";
  ByteReader in(file.payload, what);
  const std::uint32_t version = in.u32();
  NEUNCUT_REQUIRE(version == kSpectralNetPayloadVersion, FormatError, what,
                  ": unsupported SpectralNet payload version ", version, " (this build reads ",
                  kSpectralNetPayloadVersion, ")");
  SpectralNetParams params;
  const auto& table = spectralnet_param_table();
  const std::uint64_t count = in.u64();
  NEUNCUT_REQUIRE(count <= 1000, FormatError, what, ": corrupted parameter count");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string name = in.str();
    std::string value = in.str();
    // Files of neuncut 0.1 hold normalize as a bool, and had no scaling or feature map.
    if (name == "normalize" && (value == "true" || value == "false")) {
      value = value == "true" ? "l2" : "none";
      params.scaling = ScalingChoice::None;
      params.features = FeatureMap::Raw;
    }
    // Unknown names come from a newer minor version; they cannot change inference, so skip them.
    for (const auto& info : table)
      if (info.name == name) info.set(params, value);
  }
  SpectralNet model(params);
  model.preprocessor_ = Preprocessor::load(in, file.version);
  const std::uint64_t layers = in.u64();
  NEUNCUT_REQUIRE(layers >= 2 && layers <= 64, FormatError, what, ": corrupted layer count");
  std::vector<Index> widths;
  for (std::uint64_t i = 0; i < layers; ++i) {
    widths.push_back(in.i64());
    NEUNCUT_REQUIRE(widths.back() >= 1 && widths.back() <= (Index(1) << 24), FormatError, what,
                    ": corrupted layer width");
  }
  const Index k = params.n_clusters;
  NEUNCUT_REQUIRE(widths.front() == model.preprocessor_.output_dim() && widths.back() == k, FormatError, what,
                  ": network shape does not match its preprocessing or k");
  const std::vector<float> weights = in.floats("network weights");
  // Before building the network: corrupted widths must not allocate what they claim.
  NEUNCUT_REQUIRE(Index(weights.size()) == Mlp::parameter_count(widths), FormatError, what,
                  ": weight count does not match the network shape");
  model.mlp_ = Mlp(widths);
  model.mlp_.set_parameters(weights);
  model.ortho_ = in.matrix("orthonormalization matrix");
  model.centroids_ = in.matrix("centroids");
  in.expect_end();
  NEUNCUT_REQUIRE(model.ortho_.rows() == k && model.ortho_.cols() == k && model.centroids_.rows() == k &&
                      model.centroids_.cols() == k && model.ortho_.allFinite() && model.centroids_.allFinite(),
                  FormatError, what, ": corrupted orthonormalization or centroid matrix");
  return model;
}

}  // namespace neuncut
