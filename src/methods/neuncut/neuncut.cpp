#include "neuncut/methods/neuncut/neuncut.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/data_check.hpp"
#include "core/float_env.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/resources_internal.hpp"
#include "kernels/pairwise_distance.hpp"
#include "methods/neuncut/neuncut_internal.hpp"
#include "methods/neuncut/neuncut_steps.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/resources.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/methods/neuncut/ncut_loss.hpp"
#include "neuncut/methods/neuncut/spectral_init.hpp"
#include "neuncut/nn/optimizer.hpp"

namespace neuncut {

const std::vector<ParamInfo<NeuNcutParams>>& neuncut_param_table() {
  using ParamsType = NeuNcutParams;
  static const std::vector<ParamInfo<NeuNcutParams>> table = {NEUNCUT_NEUNCUT_PARAMS(NEUNCUT_PARAM_INFO)};
  return table;
}

void validate(const NeuNcutParams& p) {
  NEUNCUT_REQUIRE(p.n_clusters >= 1, InvalidArgument, "k (n_clusters) must be >= 1, got ", p.n_clusters);
  NEUNCUT_REQUIRE(p.epochs >= 0, InvalidArgument, "epochs must be >= 1, or 0 for automatic; got ", p.epochs);
  NEUNCUT_REQUIRE(p.batch_size >= 0, InvalidArgument, "batch_size must be >= 0 (0: automatic), got ", p.batch_size);
  NEUNCUT_REQUIRE(p.batch_size != 1, InvalidArgument, "batch_size 1 has no pairs to cut; use >= 2");
  NEUNCUT_REQUIRE(p.train_size >= 0, InvalidArgument, "train_size must be >= 0 (0: all points), got ", p.train_size);
  NEUNCUT_REQUIRE(p.learning_rate > 0, InvalidArgument, "learning rate must be > 0, got ", p.learning_rate);
  NEUNCUT_REQUIRE(p.weight_decay >= 0, InvalidArgument, "weight decay must be >= 0, got ", p.weight_decay);
  NEUNCUT_REQUIRE(p.gamma >= 0, InvalidArgument, "gamma must be >= 0, got ", p.gamma);
  NEUNCUT_REQUIRE(p.gamma_factor > 0, InvalidArgument, "gamma_factor must be > 0, got ", p.gamma_factor);
  NEUNCUT_REQUIRE(p.gamma_step >= 0, InvalidArgument, "gamma_step must be >= 0, got ", p.gamma_step);
  NEUNCUT_REQUIRE(p.gamma_max >= p.gamma, InvalidArgument, "gamma_max (", p.gamma_max, ") must be >= gamma (", p.gamma,
                  ")");
  NEUNCUT_REQUIRE(p.sigma >= 0, InvalidArgument, "sigma must be > 0, or 0 to choose it from the data; got ", p.sigma);
  NEUNCUT_REQUIRE(p.sigma_neighbors >= 1, InvalidArgument, "sigma_neighbors must be >= 1, got ", p.sigma_neighbors);
  NEUNCUT_REQUIRE(p.sigma_scale > 0, InvalidArgument, "sigma_scale must be > 0, got ", p.sigma_scale);
  if (!p.image_shape.empty()) parse_image_shape(p.image_shape);
  NEUNCUT_REQUIRE(p.features != FeatureMap::Scattering || !p.image_shape.empty(), InvalidArgument,
                  "features 'scattering' needs the image shape (image_shape, e.g. 28x28)");
  NEUNCUT_REQUIRE(p.scattering_order == 1 || p.scattering_order == 2, InvalidArgument,
                  "scattering_order must be 1 or 2, got ", p.scattering_order);
  NEUNCUT_REQUIRE(p.scattering_scales >= 0 && p.scattering_scales <= 8, InvalidArgument,
                  "scattering_scales must be in [1, 8], or 0 for auto, got ", p.scattering_scales);
  NEUNCUT_REQUIRE(p.scattering_angles >= 1 && p.scattering_angles <= 32, InvalidArgument,
                  "scattering_angles must be in [1, 32], got ", p.scattering_angles);
  NEUNCUT_REQUIRE(p.eps > 0, InvalidArgument, "eps must be > 0, got ", p.eps);
  NEUNCUT_REQUIRE(p.threads >= 0, InvalidArgument, "threads must be >= 0 (0: all cores), got ", p.threads);
  NEUNCUT_REQUIRE(p.affinity_neighbors >= 1, InvalidArgument, "affinity_neighbors must be >= 1, got ",
                  p.affinity_neighbors);
  NEUNCUT_REQUIRE(p.init_steps >= 1, InvalidArgument, "init_steps must be >= 1, got ", p.init_steps);
  NEUNCUT_REQUIRE(p.init_sample >= 2, InvalidArgument, "init_sample must be >= 2, got ", p.init_sample);
  NEUNCUT_REQUIRE(std::isfinite(p.init_anchor) && p.init_anchor >= 0, InvalidArgument,
                  "init_anchor must be a finite number >= 0, got ", p.init_anchor);
  NEUNCUT_REQUIRE(p.collapse_rollbacks >= 0, InvalidArgument, "collapse_rollbacks must be >= 0, got ",
                  p.collapse_rollbacks);
  NEUNCUT_REQUIRE(p.select_candidates >= 2, InvalidArgument, "select_candidates must be >= 2, got ",
                  p.select_candidates);
  NEUNCUT_REQUIRE(p.quality_points >= 0, InvalidArgument, "quality_points must be >= 0 (0: no check), got ",
                  p.quality_points);
  // The enumerated options hold valid values by construction (their parse refuses others).
  require_precision_available(p.precision, "precision bf16");
}

void validate_data(const Eigen::Ref<const MatrixF>& data, const std::string& what, Index first_row) {
  detail::DataCheck check;  // serial: callers hold no thread count here
  check.what = what;
  check.row_offset = first_row;
  detail::check_data(data, check);
}

ScatteringTransform resolve_features(const NeuNcutParams& params, Index dim) {
  if (params.features == FeatureMap::Raw || (params.features == FeatureMap::Auto && params.image_shape.empty()))
    return {};
  return ScatteringTransform(scattering_params(params.image_shape, dim, params.scattering_scales,
                                               params.scattering_angles, params.scattering_order));
}

bool resolve_normalize(RowNormalization normalize, Index dim) {
  if (normalize == RowNormalization::L2) return true;
  if (normalize == RowNormalization::None) return false;
  // Projecting onto the unit sphere removes one of d degrees of freedom: harmless for images
  // and embeddings (direction is content), destructive for 2-D shapes such as two moons.
  return dim > 10;
}

FeatureScaling resolve_scaling(ScalingChoice scaling, bool images, bool l2) {
  switch (scaling) {
    case ScalingChoice::None:
      return FeatureScaling::None;
    case ScalingChoice::Center:
      return FeatureScaling::Center;
    case ScalingChoice::Standardize:
      return FeatureScaling::Standardize;
    case ScalingChoice::Auto:
      break;
  }
  // Columns of a table come in their own units: unscaled, the largest few decide every
  // distance (a 19-feature table gave chance-level partitions; docs/defaults.md). Pixels
  // share one unit and standardizing them weighs the near-empty border as much as the
  // centre, so images are only standardized when they are not projected onto the sphere (a
  // ReLU net then sees features centred on the origin with unit spread).
  if (!images) return FeatureScaling::Standardize;
  return l2 ? FeatureScaling::None : FeatureScaling::Standardize;
}

int resolve_epochs(int epochs, Index steps_per_epoch) {
  if (epochs > 0) return epochs;
  constexpr Index kMinEpochs = 50, kMinSteps = 500;
  const Index steps = std::max<Index>(1, steps_per_epoch);
  return int(std::max(kMinEpochs, (kMinSteps + steps - 1) / steps));
}

CollapseStatus collapse_status(int k, int clusters_used, double mean_max_probability) {
  CollapseStatus c;
  c.clusters = k;
  c.mean_max_probability = mean_max_probability;
  const double uniform = 1.0 / k;
  if (mean_max_probability < uniform + 0.1 * (1.0 - uniform)) c.kind = CollapseKind::NearUniform;
  else if (clusters_used < k) {
    c.kind = CollapseKind::EmptyClusters;
    c.empty_clusters = k - clusters_used;
  }
  return c;
}

std::string CollapseStatus::description() const {
  switch (kind) {
    case CollapseKind::NearUniform:
      return detail::concat("near-uniform memberships (mean max probability ", mean_max_probability, ", uniform is ",
                            1.0 / clusters, "): the trivial solution");
    case CollapseKind::EmptyClusters:
      return detail::concat(empty_clusters, " of ", clusters, " clusters empty");
    case CollapseKind::None:
      break;
  }
  return "";
}

NeuNcut::NeuNcut(NeuNcutParams params) : params_(std::move(params)) {}

void NeuNcut::set_data_parallel(DataParallel dp) {
  NEUNCUT_REQUIRE(dp.ranks >= 1 && dp.rank >= 0 && dp.rank < dp.ranks, InvalidArgument, "data parallel: rank ", dp.rank,
                  " of ", dp.ranks, " ranks is out of range");
  NEUNCUT_REQUIRE(dp.ranks == 1 || dp.sum, InvalidArgument, "data parallel: ", dp.ranks,
                  " ranks need a sum (allreduce) function");
  data_parallel_ = std::move(dp);
}

NeuNcutFitResult NeuNcut::fit_single(const RowAccess& data, const NeuNcutProgress& progress, bool values_checked) {
  const detail::FitShape shape = detail::check_fit_shape(params_, data.rows(), data.cols());
  NEUNCUT_REQUIRE(shape.n / shape.m >= data_parallel_.ranks, InvalidArgument, "data-parallel training on ",
                  data_parallel_.ranks, " ranks needs at least as many mini-batches per epoch; there are ",
                  shape.n / shape.m, " (", shape.n, " training points / batch size ", shape.m,
                  "): use fewer ranks or a smaller batch_size");
  // Every Eigen product in the step (affinity, MLP, loss) runs on exactly `threads` threads:
  // GEMM blocking depends on the thread count, so this is what makes runs reproducible.
  detail::ThreadCountScope thread_scope(shape.threads);
  detail::FlushDenormalsScope flush(shape.threads);
  detail::Rng rng(params_.seed);  // its draws, in order: neuncut_steps.hpp
  NeuNcutFitResult result;
  result.train_points = shape.n;
  result.batch_size = shape.m;
  result.threads = shape.threads;

  MatrixF train = detail::draw_training_set(data, shape.n, rng, values_checked ? nullptr : &params_);
  Preprocessor pre = detail::fit_features(params_, train, shape.threads, result);
  const double sigma = detail::choose_sigma(params_, train, pre, shape.m, rng, shape.threads, result);
  detail::Network net = detail::build_network(params_, pre, sigma, rng, result);
  // The warm start draws from its own stream, split off whichever init is chosen, so that
  // the training batches are the same for both.
  const std::uint64_t init_seed = rng.split();
  const Labels anchor = detail::warm_start(params_, train, shape.m, sigma, init_seed, net, shape.threads, result);
  detail::train_network(params_, train, anchor, shape.m, sigma, rng, net, shape.threads, data_parallel_, progress,
                        result);

  preprocessor_ = std::move(pre);
  mlp_ = std::move(net.mlp);
  sigma_ = sigma;
  detail::check_health(mlp_, train, params_.n_clusters, result);
  return result;
}

MatrixF NeuNcut::predict_proba(const Eigen::Ref<const MatrixF>& data, Index chunk_rows, Index first_row) const {
  NEUNCUT_REQUIRE(fitted(), InvalidArgument, "the model is not fitted; call fit() or load a model first");
  NEUNCUT_REQUIRE(chunk_rows >= 1, InvalidArgument, "chunk_rows must be >= 1, got ", chunk_rows);
  NEUNCUT_REQUIRE(data.cols() == input_dim(), InvalidArgument, "data has ", data.cols(),
                  " features, the model was trained on ", input_dim());
  validate_data(data, "input data", first_row);
  require_precision_available(mlp_.precision(),
                              "this model's precision bf16 (predict --precision fp32, or "
                              "set_precision(\"fp32\"), switches it)");
  const int threads = detail::resolve_threads(params_.threads);
  detail::FlushDenormalsScope flush(threads);
  // Blocks of rows are spread over the threads, each computed by one thread with
  // single-threaded GEMMs: no synchronization inside a block, so throughput scales with the
  // threads (a threaded GEMM per block reached about 60% of 2x on 2 cores), every row's result
  // is the same at any thread count, and memory stays at threads x block rows. A block is
  // chunk_rows rows, or kInferenceBlockRows when that is smaller: large chunks split unevenly
  // over the threads (7 chunks of 10,000 rows on 2 threads: 4 against 3) and their activations
  // fall out of cache.
  detail::ThreadCountScope single(1);
  MatrixF out(data.rows(), mlp_.output_dim());
  const Index block = std::min(chunk_rows, kInferenceBlockRows);
  const Index blocks = (data.rows() + block - 1) / block;
  detail::parallel_for(0, blocks, threads, [&](Index c) {
    const Index lo = c * block, rows = std::min(block, data.rows() - lo);
    MatrixF chunk = data.middleRows(lo, rows);
    preprocessor_.transform_in_place(chunk, first_row + lo);
    MatrixF P = mlp_.predict_logits(chunk);
    softmax_rows(P);
    out.middleRows(lo, rows) = P;
  });
  return out;
}

void NeuNcut::set_precision(Precision precision) {
  require_precision_available(precision, "precision bf16");
  params_.precision = precision;
  mlp_.set_precision(precision);
}

Labels NeuNcut::predict(const Eigen::Ref<const MatrixF>& data, Index chunk_rows, Index first_row) const {
  return labels_from_proba(predict_proba(data, chunk_rows, first_row));  // N x k: small next to the data itself
}

Labels NeuNcut::labels_from_proba(const MatrixF& P) {
  Labels labels(static_cast<std::size_t>(P.rows()));
  for (Index i = 0; i < P.rows(); ++i) {
    Index j;
    P.row(i).maxCoeff(&j);
    labels[i] = static_cast<std::int32_t>(j);
  }
  return labels;
}

void NeuNcut::save(const std::string& path) const {
  NEUNCUT_REQUIRE(fitted(), InvalidArgument, "cannot save a model that is not fitted");
  ByteWriter out;
  const auto& table = neuncut_param_table();
  out.u64(table.size());
  for (const auto& info : table) {
    out.str(info.name);
    out.str(info.get(params_));
  }
  preprocessor_.save(out);
  out.f64(sigma_);
  out.u64(mlp_.widths().size());
  for (Index w : mlp_.widths()) out.i64(w);
  out.floats(mlp_.parameters().data(), mlp_.parameters().size());
  write_model_file(path, ModelMethod::NeuNcut, out.bytes());
}

NeuNcut NeuNcut::load(const std::string& path) {
  const ModelFileContents file = read_model_file(path);
  NEUNCUT_REQUIRE(file.method == ModelMethod::NeuNcut, FormatError, "'", path, "' holds a ", to_string(file.method),
                  " model, not a NeuNcut model");
  ByteReader in(file.payload, "model file '" + path + "'");
  NeuNcutParams params;
  const auto& table = neuncut_param_table();
  const std::uint64_t count = in.u64();
  NEUNCUT_REQUIRE(count <= 1000, FormatError, "model file '", path, "': corrupted parameter count");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string name = in.str(), value = in.str();
    // Unknown names come from a newer minor version; they cannot change inference, so skip them.
    for (const auto& info : table)
      if (info.name == name) {
        try {
          info.set(params, value);
        } catch (const InvalidArgument& e) {
          throw FormatError(detail::concat("model file '", path, "': parameter ", name, ": ", e.what()));
        }
      }
  }
  NeuNcut model(params);
  model.preprocessor_ = Preprocessor::load(in, file.version);
  model.sigma_ = in.f64();
  NEUNCUT_REQUIRE(std::isfinite(model.sigma_) && model.sigma_ > 0, FormatError, "model file '", path,
                  "': invalid kernel width sigma ", model.sigma_);
  const std::uint64_t layers = in.u64();
  NEUNCUT_REQUIRE(layers >= 2 && layers <= 64, FormatError, "model file '", path, "': corrupted layer count");
  std::vector<Index> widths;
  for (std::uint64_t i = 0; i < layers; ++i) {
    widths.push_back(in.i64());
    NEUNCUT_REQUIRE(widths.back() >= 1 && widths.back() <= (Index(1) << 24), FormatError, "model file '", path,
                    "': corrupted layer width");
  }
  NEUNCUT_REQUIRE(widths.front() == model.preprocessor_.output_dim() && widths.back() == params.n_clusters, FormatError,
                  "model file '", path, "': network shape does not match its preprocessing or k");
  const std::vector<float> weights = in.floats("network weights");
  in.expect_end();
  // Before building the network: corrupted widths must not allocate what they claim.
  NEUNCUT_REQUIRE(Index(weights.size()) == Mlp::parameter_count(widths), FormatError, "model file '", path,
                  "': weight count does not match the network shape");
  model.mlp_ = Mlp(widths);
  model.mlp_.set_parameters(weights);
  // The stored precision (checked when predicting, so that a bf16 model still loads where
  // bf16 is unavailable and can be switched to fp32). Files older than the parameter: fp32.
  model.mlp_.set_precision(params.precision);
  return model;
}

}  // namespace neuncut
