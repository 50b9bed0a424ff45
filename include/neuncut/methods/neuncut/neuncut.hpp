// NeuNcut: Neural Normalized Cut (He et al., Pattern Recognition 2025).
//
// An MLP f maps a point to k logits; P = softmax(f(x)) is its soft cluster membership. f is
// trained by mini-batch Adam on the relaxed Ncut loss of each batch's own affinity (by default a kNN
// graph of the batch; the paper's Gaussian kernel on request)
// (see ncut_loss.hpp), on a random training subset. Labels are argmax f(x), so a model
// trained on 20,000 points labels any number of points, seen or not.
//
//   neuncut::NeuNcutParams p;  p.n_clusters = 10;
//   neuncut::NeuNcut model(p);
//   neuncut::NeuNcutFitResult r = model.fit(X);   // X: N x d row-major float
//   neuncut::Labels y = model.predict(X);
//   model.save("model.nnc");
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/param_table.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/core/result_fields.hpp"
#include "neuncut/core/row_access.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/eval/partition_quality.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/nn/data_parallel.hpp"
#include "neuncut/nn/mlp.hpp"
#include "neuncut/nn/optimizer.hpp"

namespace neuncut {

// NeuNcut's enumerated options (each one's meaning is in the parameter table below); the
// names are the CLI's and Python's values and the model file's text.

/// bias_init: hidden-layer bias initialization.
enum class BiasInit { Auto, Zero, Uniform };
NEUNCUT_ENUM_NAMES(BiasInit, "bias_init", {BiasInit::Auto, "auto"}, {BiasInit::Zero, "zero"},
                   {BiasInit::Uniform, "uniform"})
/// init: the network's starting point.
enum class InitMethod { Spectral, Random };
NEUNCUT_ENUM_NAMES(InitMethod, "init", {InitMethod::Spectral, "spectral"}, {InitMethod::Random, "random"})
/// lr_schedule: the learning rate over the epochs.
enum class LrSchedule { Cosine, Constant };
NEUNCUT_ENUM_NAMES(LrSchedule, "lr schedule", {LrSchedule::Cosine, "cosine"}, {LrSchedule::Constant, "constant"})
/// sigma_rule: how an automatic sigma is estimated.
enum class SigmaRuleChoice { Auto, Neighbor, Median };
NEUNCUT_ENUM_NAMES(SigmaRuleChoice, "sigma_rule", {SigmaRuleChoice::Auto, "auto"},
                   {SigmaRuleChoice::Neighbor, "neighbor"}, {SigmaRuleChoice::Median, "median"})
/// features: what the network and the affinity see (Auto only as a parameter; a fit resolves it).
enum class FeatureMap { Auto, Raw, Scattering };
NEUNCUT_ENUM_NAMES(FeatureMap, "features", {FeatureMap::Auto, "auto"}, {FeatureMap::Raw, "raw"},
                   {FeatureMap::Scattering, "scattering"})
/// affinity: NeuNcut's in-batch affinity.
enum class BatchAffinityKind { Knn, Gaussian };
NEUNCUT_ENUM_NAMES(BatchAffinityKind, "affinity", {BatchAffinityKind::Knn, "knn"},
                   {BatchAffinityKind::Gaussian, "gaussian"})
/// normalize: row L2 normalization after scaling.
enum class RowNormalization { Auto, L2, None };
NEUNCUT_ENUM_NAMES(RowNormalization, "normalize", {RowNormalization::Auto, "auto"}, {RowNormalization::L2, "l2"},
                   {RowNormalization::None, "none"})
/// scaling: per-feature scaling, or Auto (resolved by the data; FeatureScaling is the resolved choice).
enum class ScalingChoice { Auto, None, Center, Standardize };
NEUNCUT_ENUM_NAMES(ScalingChoice, "scaling", {ScalingChoice::Auto, "auto"}, {ScalingChoice::None, "none"},
                   {ScalingChoice::Center, "center"}, {ScalingChoice::Standardize, "standardize"})
/// recipe: neuncut's defaults or the paper's reference recipe.
enum class Recipe { Default, Paper };
NEUNCUT_ENUM_NAMES(Recipe, "recipe", {Recipe::Default, "default"}, {Recipe::Paper, "paper"})
/// select: label-free model selection.
enum class Selection { None, Auto };
NEUNCUT_ENUM_NAMES(Selection, "select", {Selection::None, "none"}, {Selection::Auto, "auto"})

}  // namespace neuncut

// The one table of NeuNcut's parameters: X(type, name, CLI flag, default, doc).
// Defaults differ from the paper's reference recipe where that recipe collapses; see
// docs/defaults.md for the measurements behind each choice.
#define NEUNCUT_NEUNCUT_PARAMS(X)                                                                                      \
  X(int, n_clusters, "k", 10, "number of clusters k (>= 1)")                                                           \
  X(::neuncut::LayerWidths, hidden, "hidden", (::neuncut::LayerWidths{512, 512}),                                      \
    "hidden layer widths, comma-separated (ReLU layers; 'none' for a linear model)")                                   \
  X(::neuncut::BiasInit, bias_init, "bias-init", ::neuncut::BiasInit::Auto,                                            \
    "hidden-layer bias initialization: zero (the paper's reference), uniform (+-1/sqrt(fan_in), torch's default), "    \
    "or auto = zero for data with more than 10 features, uniform otherwise")                                           \
  X(::neuncut::InitMethod, init, "init", ::neuncut::InitMethod::Spectral,                                              \
    "starting point: spectral (first fit the network to the spectral partition of init-sample training points "        \
    "under the loss's affinity; see docs/defaults.md) or random (the paper's: train from the random initialization)")  \
  X(int, init_steps, "init-steps", 100,                                                                                \
    "spectral init: full-batch Adam steps of cross-entropy fitting the network to the sample's spectral labels")       \
  X(int, init_sample, "init-sample", 5000,                                                                             \
    "spectral init with the knn affinity: training points in the warm start's sample, partitioned by classic Ncut "    \
    "(sparse self-tuning kNN graph of affinity-neighbors neighbours, Lanczos: neuncut ncut's method); the gaussian "   \
    "affinity's warm start stays the dense NJW partition of at most one batch of 1000 points (docs/defaults.md)")      \
  X(double, init_anchor, "init-anchor", 10.0,                                                                          \
    "spectral init: weight of a cross-entropy term that, during training, keeps the warm start's sample on its "       \
    "spectral partition, scaled by k / 10 above 10 clusters (0: off, the partition is only the starting point; "       \
    "docs/defaults.md)")                                                                                               \
  X(int, epochs, "epochs", 0,                                                                                          \
    "training epochs (passes over the training subset); 0: auto = 50, raised on small data so that training "          \
    "takes at least 500 mini-batch steps")                                                                             \
  X(int, batch_size, "batch-size", 0, "mini-batch size m (0: min(1000, training points)); the affinity is m x m")      \
  X(std::int64_t, train_size, "train-size", 20000, "points sampled (without replacement) to train on; 0: all")         \
  X(double, learning_rate, "lr", 1e-3,                                                                                 \
    "initial Adam learning rate (the paper's 5e-3 kills clusters, see docs/defaults.md)")                              \
  X(::neuncut::LrSchedule, lr_schedule, "lr-schedule", ::neuncut::LrSchedule::Cosine,                                  \
    "learning-rate schedule over the epochs: cosine (annealed to 0, as torch CosineAnnealingLR) or constant")          \
  X(double, weight_decay, "weight-decay", 1e-4, "weight decay coefficient")                                            \
  X(::neuncut::WeightDecayMode, optimizer, "optimizer", ::neuncut::WeightDecayMode::L2,                                \
    "adam (weight decay added to the gradient, as torch.optim.Adam) or adamw (decoupled)")                             \
  X(double, gamma, "gamma", 80.0, "weight of the orthogonality penalty at the start of training")                      \
  X(double, gamma_factor, "gamma-factor", 1.0,                                                                         \
    "continuous-gamma schedule: multiply gamma by this every gamma-step epochs")                                       \
  X(int, gamma_step, "gamma-step", 0, "epochs between gamma multiplications (0: gamma stays constant)")                \
  X(double, gamma_max, "gamma-max", 1e9, "cap of the gamma schedule")                                                  \
  X(double, sigma, "sigma", 0.0, "Gaussian affinity bandwidth on the preprocessed data (0: chosen from the data)")     \
  X(::neuncut::SigmaRuleChoice, sigma_rule, "sigma-rule", ::neuncut::SigmaRuleChoice::Auto,                            \
    "automatic sigma: neighbor (median distance to the sigma-neighbors-th nearest neighbour within a batch-sized "     \
    "sample: a local scale), median (twice the median distance between the sample's points: a wide kernel), or "       \
    "auto = median on scattering features and neighbor otherwise (see docs/defaults.md)")                              \
  X(int, sigma_neighbors, "sigma-neighbors", 10,                                                                       \
    "automatic sigma, neighbor rule: rank of the neighbour whose median distance is sigma")                            \
  X(double, sigma_scale, "sigma-scale", 1.0, "automatic sigma: multiplier on the estimate")                            \
  X(::neuncut::FeatureMap, features, "features", ::neuncut::FeatureMap::Auto,                                          \
    "what the network and the affinity see: raw (the rows as given), scattering (the wavelet scattering "              \
    "transform of each row as an image of image-shape; see docs/defaults.md), or auto = scattering when the "          \
    "image shape is known and raw otherwise")                                                                          \
  X(std::string, image_shape, "image-shape", std::string(""),                                                          \
    "HEIGHTxWIDTH of the image each row holds (row-major pixels); empty: rows are not images. The CLI sets it for "    \
    "IDX image files, 3-D .npy arrays and fashion-mnist, Python for 3-D arrays")                                       \
  X(int, scattering_order, "scattering-order", 1,                                                                      \
    "scattering features: highest order kept, 1 (25 channels at J 3, L 8) or 2 (217 channels, 8.7x the features)")     \
  X(int, scattering_scales, "scattering-scales", 0,                                                                    \
    "scattering features: wavelet scales J (outputs every 2^J pixels); 0: auto = the largest J <= 3 with 2^J at most " \
    "half the shorter image side (3 from 16 pixels on, 2 for 8 x 8 images)")                                           \
  X(int, scattering_angles, "scattering-angles", 8, "scattering features: wavelet orientations L")                     \
  X(::neuncut::BatchAffinityKind, affinity, "affinity", ::neuncut::BatchAffinityKind::Knn,                             \
    "in-batch affinity, also the warm start's: knn (self-tuning kNN graph of the batch; far better than "              \
    "gaussian on the tables measured so far, mixed on iris and Fashion-MNIST: docs/defaults.md) or gaussian "          \
    "(full kernel with sigma, the paper's)")                                                                           \
  X(int, affinity_neighbors, "affinity-neighbors", 10, "knn affinity: neighbours per point within a batch")            \
  X(double, eps, "eps", 1e-6, "added to each cluster volume before the inverse square root")                           \
  X(int, collapse_rollbacks, "collapse-rollbacks", 3,                                                                  \
    "collapse recovery: when an epoch ends collapsed (a cluster emptied, or near-uniform memberships) after a "        \
    "healthy one, restore the network and optimizer of the healthy epoch with the lowest loss, halve the learning "    \
    "rate and go on; at most this many times, and a fit that still ends collapsed returns that healthy network "       \
    "(0: off, the paper's plain training; see docs/defaults.md)")                                                      \
  X(::neuncut::RowNormalization, normalize, "normalize", ::neuncut::RowNormalization::Auto,                            \
    "row L2 normalization after scaling: l2 (the paper's choice), none, or auto = l2 when the data has more than "     \
    "10 features (images, embeddings) and none otherwise (low-dimensional data keeps its geometry)")                   \
  X(::neuncut::ScalingChoice, scaling, "scaling", ::neuncut::ScalingChoice::Auto,                                      \
    "per-feature scaling fitted on the training subset: none, center, standardize, or auto = standardize unless "      \
    "rows are images (image-shape set), and for images standardize only when rows are not L2-normalized "              \
    "(columns in different units otherwise reduce a table to its largest columns); with normalize auto too, a table "  \
    "whose columns vary on one scale (spreads within 10x) and whose raw L2-normalized rows hold k clusters far more "  \
    "clearly (kNN-graph eigengap ratio under half) is clustered as raw L2 rows instead (result geometry_eigengaps; "   \
    "docs/defaults.md)")                                                                                               \
  X(std::uint64_t, seed, "seed", std::uint64_t{0}, "random seed (subset, initialization, batches)")                    \
  X(::neuncut::Precision, precision, "precision", ::neuncut::Precision::Fp32,                                          \
    "arithmetic of the network's matrix products in training and inference: fp32, or bf16 (operands rounded to "       \
    "bfloat16, fp32 sums and fp32 master weights, via oneDNN; also the batch affinity when rows are L2-normalized "    \
    "and sigma >= 0.2; needs a CPU with AVX512_BF16; see docs/mixed-precision.md)")                                    \
  X(int, threads, "threads", 0, "threads for training and inference (0: all cores)")                                   \
  X(::neuncut::Recipe, recipe, "recipe", ::neuncut::Recipe::Default,                                                   \
    "default (neuncut's tuned settings) or paper (the reference recipe of He et al.: Gaussian affinity on "            \
    "L2-normalized rows, sigma 3, random init, zero biases, lr 5e-3, 300 epochs, gamma 80, no "                        \
    "collapse recovery); the recipe sets every parameter left at its default value, so any "                           \
    "other value given wins (docs/defaults.md)")                                                                       \
  X(::neuncut::Selection, select, "select", ::neuncut::Selection::None,                                                \
    "label-free model selection: none, or auto = train select-candidates networks (seeds seed, seed+1, ...) and "      \
    "keep the one whose labels have the lowest discrete Ncut on one fixed kNN graph of a sample (the quality "         \
    "check's graph; see docs/defaults.md)")                                                                            \
  X(int, select_candidates, "select-candidates", 3, "select auto: number of networks trained (>= 2)")                  \
  X(int, quality_points, "quality-points", 3000,                                                                       \
    "label-free quality check after fit: points sampled for its kNN graph, on which the partition's discrete "         \
    "Ncut is compared with a k-means partition's and a random one's (include/neuncut/eval/partition_quality.hpp); "    \
    "0: no check")

namespace neuncut {

/// Parameters of NeuNcut (see NEUNCUT_NEUNCUT_PARAMS for each field's meaning and default).
struct NeuNcutParams {
  NEUNCUT_NEUNCUT_PARAMS(NEUNCUT_PARAM_MEMBER)
};

/// The parameter table as data, for the CLI, Python bindings and docs.
const std::vector<ParamInfo<NeuNcutParams>>& neuncut_param_table();

/// Throws InvalidArgument naming the first invalid field (ranges, choices).
void validate(const NeuNcutParams& params);

/// What the collapse check of a set of memberships found.
enum class CollapseKind {
  None,           ///< Healthy.
  NearUniform,    ///< The mean max probability is within 10% of uniform (1/k): the trivial solution.
  EmptyClusters,  ///< Some clusters won no point.
};
NEUNCUT_ENUM_NAMES(CollapseKind, "collapse kind", {CollapseKind::None, "none"},
                   {CollapseKind::NearUniform, "near_uniform"}, {CollapseKind::EmptyClusters, "empty_clusters"})

/// A typed collapse outcome; description() is the sentence the CLI and Python show.
struct CollapseStatus {
  CollapseKind kind = CollapseKind::None;
  int clusters = 0;                 ///< k.
  int empty_clusters = 0;           ///< EmptyClusters: how many won no point.
  double mean_max_probability = 0;  ///< NearUniform: the mean max probability found.
  bool collapsed() const { return kind != CollapseKind::None; }
  /// "" when healthy; "near-uniform memberships (mean max probability P, uniform is 1/k): the
  /// trivial solution" or "N of k clusters empty".
  std::string description() const;
  /// Code written when this was a string ("" when healthy) keeps compiling: empty() is
  /// !collapsed(), and comparisons and printing use description().
  bool empty() const { return !collapsed(); }
  bool operator==(std::string_view text) const { return description() == text; }
  friend std::ostream& operator<<(std::ostream& os, const CollapseStatus& c) { return os << c.description(); }
};

// What one epoch did (averages over its mini-batches): X(type, name, default, doc).
#define NEUNCUT_NEUNCUT_EPOCH_FIELDS(X)                                                                     \
  X(int, epoch, 0, "1-based")                                                                               \
  X(int, epochs, 0, "total planned")                                                                        \
  X(double, loss, 0.0, "mean batch loss")                                                                   \
  X(double, trace, 0.0, "mean soft Ncut term")                                                              \
  X(double, penalty, 0.0, "mean gamma/2 * R / k")                                                           \
  X(double, orthogonality, 0.0, "mean R = ||H^T D H - I||_F")                                               \
  X(double, gamma, 0.0, "gamma used in this epoch")                                                         \
  X(double, learning_rate, 0.0, "learning rate used in this epoch")                                         \
  X(double, elapsed_seconds, 0.0, "since the start of training")                                            \
  X(double, eta_seconds, 0.0, "estimated time to the last epoch")                                           \
  X(int, clusters_used, 0, "clusters that won the argmax of at least one training point this epoch")        \
  X(double, mean_max_probability, 0.0, "mean of max_j P_ij: 1/k for the uniform P, 1 for hard memberships") \
  X(double, largest_cluster_fraction, 0.0, "share of the epoch's points in the biggest cluster")            \
  X(::neuncut::CollapseStatus, collapse, {},                                                                \
    "empty when healthy; otherwise what collapsed (near-uniform memberships, or N of k clusters empty)")    \
  X(int, rolled_back_to, 0,                                                                                 \
    "collapse recovery: the epoch whose network and optimizer were restored after this one; 0 if none")

/// What one epoch did (see NEUNCUT_NEUNCUT_EPOCH_FIELDS).
struct NeuNcutEpochStats {
  NEUNCUT_NEUNCUT_EPOCH_FIELDS(NEUNCUT_RESULT_MEMBER)
};
NEUNCUT_RESULT_FIELDS(NeuNcutEpochStats, NEUNCUT_NEUNCUT_EPOCH_FIELDS)

/// Called after every epoch; return false to stop training (fit then throws Interrupted).
using NeuNcutProgress = std::function<bool(const NeuNcutEpochStats&)>;

// Outcome of NeuNcut::fit: X(type, name, default, doc).
#define NEUNCUT_NEUNCUT_FIT_FIELDS(X)                                                                            \
  X(std::vector<::neuncut::NeuNcutEpochStats>, history, {}, "one entry per epoch run")                           \
  X(double, sigma, 0.0, "the bandwidth used (given or estimated)")                                               \
  X(bool, sigma_estimated, false, "whether sigma came from the data")                                            \
  X(::neuncut::Index, train_points, 0, "size of the training subset")                                            \
  X(::neuncut::Index, batch_size, 0, "mini-batch size used")                                                     \
  X(double, train_seconds, 0.0, "wall time of the epochs")                                                       \
  X(double, init_seconds, 0.0, "wall time of the spectral warm start (0 with init = random)")                    \
  X(double, init_agreement, 0.0,                                                                                 \
    "spectral init: share of the warm-start batch the network labels as the spectral partition does")            \
  X(int, threads, 1, "threads the fit ran on (params.threads resolved)")                                         \
  X(int, clusters_used, 0, "non-empty clusters among the training subset's final labels")                        \
  X(double, mean_max_probability, 0.0, "of the final memberships on the training subset")                        \
  X(bool, l2_normalized, false, "whether rows were L2-normalized (normalize resolved)")                          \
  X(::neuncut::FeatureScaling, scaling, ::neuncut::FeatureScaling::None, "per-feature scaling used (resolved)")  \
  X(std::vector<double>, geometry_eigengaps, {},                                                                 \
    "tables with scaling and normalize auto whose columns' spreads differ at most 10-fold: lambda_k / "          \
    "lambda_(k+1) of the normalized Laplacian of a kNN graph of up to 3000 training rows, standardized and as "  \
    "raw L2 rows (NaN: undefined); raw L2 rows are used when the second is under half the first; empty "         \
    "otherwise (docs/defaults.md)")                                                                              \
  X(bool, geometry_fallback, false,                                                                              \
    "raw L2 rows were chosen by the eigengap, the quality check found the partition not good, and the fit was "  \
    "redone on standardized columns")                                                                            \
  X(::neuncut::FeatureMap, features, ::neuncut::FeatureMap::Raw, "the feature map used (features resolved)")     \
  X(::neuncut::Index, feature_dim, 0, "values per row the network and the affinity saw")                         \
  X(double, features_seconds, 0.0,                                                                               \
    "wall time of the training subset's preprocessing (feature map and table geometry included)")                \
  X(::neuncut::Precision, precision, ::neuncut::Precision::Fp32, "of the network's products (params.precision)") \
  X(::neuncut::Precision, affinity_precision, ::neuncut::Precision::Fp32,                                        \
    "of the batch affinity's Gram matrix: bf16 only with the gaussian affinity, precision bf16, L2-normalized "  \
    "rows and sigma >= NeuNcut::kBf16AffinityMinSigma")                                                          \
  X(::neuncut::CollapseStatus, collapse, {}, "empty when healthy; otherwise what collapsed at the end")          \
  X(int, collapse_rollbacks, 0, "collapse recovery: how many times training went back to a healthy epoch")       \
  X(int, restored_epoch, 0,                                                                                      \
    "collapse recovery: the healthy epoch whose network was returned because training ended collapsed; 0 "       \
    "when the network is the last epoch's")                                                                      \
  X(::neuncut::PartitionQuality, quality, {},                                                                    \
    "label-free quality check of the final labels (verdict not_checked with quality_points 0)")                  \
  X(int, selected_candidate, -1, "select auto: which candidate (0-based; seed + index) was kept; -1 otherwise")  \
  X(std::vector<double>, candidate_ncuts, {}, "select auto: each candidate's discrete Ncut on the check graph")

/// Outcome of NeuNcut::fit (see NEUNCUT_NEUNCUT_FIT_FIELDS).
struct NeuNcutFitResult {
  NEUNCUT_NEUNCUT_FIT_FIELDS(NEUNCUT_RESULT_MEMBER)
};
NEUNCUT_RESULT_FIELDS(NeuNcutFitResult, NEUNCUT_NEUNCUT_FIT_FIELDS)

/// Earlier names of NeuNcut's result types (README "Upgrading").
using EpochStats = NeuNcutEpochStats;
using FitResult = NeuNcutFitResult;
using ProgressCallback = NeuNcutProgress;

class NeuNcut {
 public:
  explicit NeuNcut(NeuNcutParams params = {});

  /// Trains on `data` (N x d): validates the data and parameters, samples the training
  /// subset, fits the preprocessing, chooses sigma, and runs the epochs. Throws
  /// InvalidArgument for bad input (empty, NaN/Inf, k < 1,
  /// k > N, batch_size > training points) before any work, Interrupted when the callback
  /// returns false. The recipe is applied first (params() then holds the resolved values);
  /// with select auto several networks are trained and the best kept; the result carries the
  /// label-free quality check of the final labels unless quality_points is 0.
  NeuNcutFitResult fit(const Eigen::Ref<const MatrixF>& data, const NeuNcutProgress& progress = {});
  /// The same fit reading only the rows it uses (the training subset of each restart, the
  /// quality check's sample) from `data`: the same model and result, bit for bit, as fit() on
  /// the whole matrix, with memory for those rows only. Values are checked on the rows read
  /// (messages name their index in `data`); the rows never read are not checked, so a caller
  /// that labels them afterwards (predict) meets a bad value there.
  NeuNcutFitResult fit(const RowAccess& data, const NeuNcutProgress& progress = {});

  /// Rows per inference chunk unless the caller says otherwise: small enough that a chunk's
  /// activations stay in cache, large enough for full-speed GEMMs.
  static constexpr Index kDefaultChunkRows = 2048;
  /// Rows per unit of inference work handed to a thread (at most chunk_rows).
  static constexpr Index kInferenceBlockRows = 1024;

  /// Soft memberships P (N x k) of any number of rows, computed in blocks of
  /// min(chunk_rows, kInferenceBlockRows) rows spread over the threads (working memory at most
  /// threads x chunk_rows rows; each row's label is the same for any chunking, order and
  /// thread count). Throws
  /// InvalidArgument when not fitted, on a feature-count mismatch, NaN/Inf, or rows that
  /// cannot be normalized. `first_row`: the index of data's first row when the caller labels a
  /// larger data set part by part (neuncut predict streams files so); messages then name the
  /// row of the whole set (default 0: data is the whole set).
  MatrixF predict_proba(const Eigen::Ref<const MatrixF>& data, Index chunk_rows = kDefaultChunkRows,
                        Index first_row = 0) const;
  /// Hard labels argmax_j P_ij (ties go to the lower index), chunked likewise.
  Labels predict(const Eigen::Ref<const MatrixF>& data, Index chunk_rows = kDefaultChunkRows,
                 Index first_row = 0) const;
  /// The labels predict() derives from soft memberships P (N x k): argmax per row, ties to the
  /// lower index; for callers that need both without computing P twice.
  static Labels labels_from_proba(const MatrixF& proba);

  /// Saves the model (parameters, preprocessing, sigma, weights) atomically.
  void save(const std::string& path) const;
  /// Loads a model saved by save() (FormatError if the file holds another method).
  static NeuNcut load(const std::string& path);

  bool fitted() const { return mlp_.num_parameters() > 0; }
  const NeuNcutParams& params() const { return params_; }
  /// Threads for predict (0: all cores); training uses params().threads.
  void set_threads(int threads) { params_.threads = threads; }
  /// Trains data-parallel with the other ranks of `dp` (data_parallel.hpp): each rank calls
  /// fit() on the same data with the same parameters, and gets the same model. InvalidArgument
  /// for a rank outside [0, ranks), no `sum` with several ranks, or (at fit) fewer mini-batches
  /// per epoch than ranks.
  void set_data_parallel(DataParallel dp);
  const DataParallel& data_parallel() const { return data_parallel_; }
  /// Precision for predict ("fp32" or "bf16"); a loaded model predicts in the precision it
  /// was trained with unless this changes it. InvalidArgument for an unknown value, or bf16
  /// where it is unavailable (bf16_unavailable_reason()).
  void set_precision(Precision precision);
  void set_precision(const std::string& precision) { set_precision(parse_enum<Precision>(precision)); }

  /// The smallest sigma at which the batch affinity of L2-normalized rows is computed in bf16
  /// with precision bf16 (below it, in fp32): the bf16 Gram matrix's error in a squared
  /// distance (on Fashion-MNIST batches 3.5e-4 on average, 6e-3 at most; at most 2^-6 for any
  /// unit rows) must stay small against 2 sigma^2 (0.08 here). docs/mixed-precision.md.
  static constexpr double kBf16AffinityMinSigma = 0.2;
  double sigma() const { return sigma_; }
  const Preprocessor& preprocessor() const { return preprocessor_; }
  const Mlp& network() const { return mlp_; }
  Index input_dim() const { return preprocessor_.dim(); }
  /// Values per row after the feature map: what the network and the affinity see.
  Index feature_dim() const { return preprocessor_.output_dim(); }

 private:
  // One training run with params_ as they are (recipe resolved, no selection, no quality check).
  // values_checked: every value of data was checked already (a matrix); otherwise the rows read
  // are checked as they are gathered.
  NeuNcutFitResult fit_single(const RowAccess& data, const NeuNcutProgress& progress, bool values_checked);
  // select auto: trains the candidates and keeps the best by the check graph's discrete Ncut.
  NeuNcutFitResult fit_selected(const RowAccess& data, const NeuNcutProgress& progress, bool values_checked);
  // fit() after the data's values are (or are not) checked.
  NeuNcutFitResult fit_rows(const RowAccess& data, const NeuNcutProgress& progress, bool values_checked);

  NeuNcutParams params_;
  DataParallel data_parallel_;
  Preprocessor preprocessor_;
  Mlp mlp_;
  double sigma_ = 0;
};

/// Resolves the normalize parameter (auto, l2, none) for data with `dim` features.
bool resolve_normalize(RowNormalization normalize, Index dim);

}  // namespace neuncut
