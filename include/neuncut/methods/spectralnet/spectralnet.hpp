// SpectralNet (Shaham, Stanton, Li, Nadler, Basri and Kluger, ICLR 2018): a network that
// learns the spectral embedding, then k-means on it. A baseline NeuNcut is compared with.
//
// Input: NeuNcut's preprocessing rules (features, scaling, normalize: the scattering
// transform of images, standardized tables, L2 rows only above 10 features), so that both
// methods see the same rows; the affinity is as unit-dependent as NeuNcut's.
//
// Network: an MLP trunk f (neuncut::Mlp, ReLU hidden layers, linear output of k units)
// followed by an orthonormalization layer Y = f(X) M, with M (k x k) chosen so that
// Y^T Y / m = I on the batch: M = L^-T where L L^T = f(X)^T f(X) / m (Cholesky).
//
// Training, per mini-batch of m points (the orthogonalization and gradient steps of the
// paper, both on the same batch here, so M is exact on the batch the loss sees):
//   1. orthogonalization step: forward the batch, compute M from its outputs;
//   2. gradient step: loss = sum_ij W_ij ||y_i - y_j||^2 / m (= 2 tr(Y^T (D - W) Y) / m, the
//      unnormalized Laplacian), with W the in-batch kNN affinity (knn_batch_affinity:
//      n_neighbors per point, self-tuning or Gaussian weights); dLoss/dY = 4 (D - W) Y / m,
//      back-propagated through M (ortho_gradient, as the published code's graph does: its
//      Orthonorm layer is a differentiable function of the network's outputs) and the MLP;
//      one Adam step. With M held fixed instead (the paper's text) every step also shrinks
//      f towards a constant, which the next M blows up again: the network never settles on
//      the Laplacian's eigenvectors (two moons and wine stayed at k-means' level or below;
//      docs/baselines.md).
// Rank-deficient batches (dead units, collapsed outputs: the original's "Cholesky
// decomposition was not successful") fall back to Cholesky of f^T f / m + eps I, with eps
// starting at ridge * (trace / k) and growing tenfold until the factorization succeeds; each
// fallback is counted in the epoch statistics and the fit result.
//
// Steps: the published code runs 100 steps per "epoch" whatever the data size; here epochs
// auto runs at least min_steps steps, so a set that fits one batch is not trained for 30
// steps only. Defaults (affinity, lr, steps) were chosen on the quality suite:
// docs/baselines.md has the measurements and where SpectralNet still trails k-means.
//
// After training: M is recomputed once on the whole training subset (so inference does not
// depend on the last batch), every training point is embedded, and k-means (n_init restarts)
// is fitted on the embeddings. The model stores the preprocessing, the MLP, M and the
// k-means centroids: predict() is nearest-centroid on f(x) M, so labels are the same on every
// call and after save/load (the maintained PyTorch implementation re-runs k-means at every
// predict call and its labels permute).
//
// Not implemented: the siamese affinity and the autoencoder code space of the paper's MNIST
// and Reuters runs (the kNN affinity is the paper's other choice), and its tanh output layer.
//
// Determinism: the same data, parameters, seed and thread count give the same model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "neuncut/core/param_table.hpp"
#include "neuncut/core/result_fields.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/nn/mlp.hpp"

// The one table of SpectralNet's parameters: X(type, name, CLI flag, default, doc).
#define NEUNCUT_SPECTRALNET_PARAMS(X)                                                                               \
  X(int, n_clusters, "k", 10, "number of clusters k (>= 1); also the embedding dimension")                          \
  X(::neuncut::LayerWidths, hidden, "hidden", (::neuncut::LayerWidths{512, 512}),                                   \
    "hidden layer widths of the MLP trunk, e.g. 1024,1024,512 (the paper's)")                                       \
  X(int, epochs, "epochs", 0,                                                                                       \
    "training epochs (passes over the training subset); 0: auto = 30, raised on small data so that training "       \
    "takes at least min-steps mini-batch steps")                                                                    \
  X(int, min_steps, "min-steps", 1500, "epochs auto: the fewest mini-batch steps training takes")                   \
  X(int, batch_size, "batch-size", 0,                                                                               \
    "mini-batch size m (0: min(1024, training points)); affinity and orthonormalization are per batch")             \
  X(std::int64_t, train_size, "train-size", 0, "points sampled (without replacement) to train on; 0: all")          \
  X(double, learning_rate, "lr", 1e-2, "Adam learning rate")                                                        \
  X(double, lr_final_fraction, "lr-final-fraction", 0.1,                                                            \
    "cosine decay of the learning rate to this fraction of lr by the last epoch (1: constant)")                     \
  X(int, n_neighbors, "n-neighbors", 10, "in-batch kNN affinity: neighbours per point (at most batch size - 1)")    \
  X(::neuncut::AffinityKind, affinity, "affinity", ::neuncut::AffinityKind::SelfTuning,                             \
    "in-batch edge weights: self-tuning, gaussian or connectivity")                                                 \
  X(int, scale_neighbor, "scale-neighbor", 7, "neighbour whose distance sets the (local or median global) scale")   \
  X(bool, ortho_gradient, "ortho-gradient", true,                                                                   \
    "gradient step through the orthonormalization (as the published code's graph does) rather than with M fixed")   \
  X(double, ridge, "ridge", 1e-6, "relative ridge of the Cholesky fallback on rank-deficient batches")              \
  X(::neuncut::FeatureMap, features, "features", ::neuncut::FeatureMap::Auto,                                       \
    "what the network and the affinity see: raw, scattering (the wavelet scattering transform of each row as an "   \
    "image of image-shape, as NeuNcut's), or auto = scattering when the image shape is known and raw otherwise")    \
  X(std::string, image_shape, "image-shape", std::string(""),                                                       \
    "HEIGHTxWIDTH of the image each row holds (row-major pixels); empty: rows are not images. The CLI sets it for " \
    "IDX image files, 3-D .npy arrays and fashion-mnist, Python for 3-D arrays")                                    \
  X(::neuncut::RowNormalization, normalize, "normalize", ::neuncut::RowNormalization::Auto,                         \
    "row L2 normalization after scaling: l2, none, or auto = l2 when the network sees more than 10 features and "   \
    "none otherwise (NeuNcut's rule: 2-D shapes keep their geometry)")                                              \
  X(::neuncut::ScalingChoice, scaling, "scaling", ::neuncut::ScalingChoice::Auto,                                   \
    "per-feature scaling fitted on the training subset: none, center, standardize, or auto = NeuNcut's rule "       \
    "(standardize tables, except where their raw L2 rows win NeuNcut's eigengap comparison; images only when "      \
    "they are not L2-normalized)")                                                                                  \
  X(int, kmeans_n_init, "kmeans-n-init", 10, "k-means restarts on the final embedding")                             \
  X(std::uint64_t, seed, "seed", std::uint64_t{0}, "random seed (subset, initialization, batches, k-means)")        \
  X(int, threads, "threads", 0, "threads for training and inference (0: all cores)")

namespace neuncut {

/// Parameters of SpectralNet (see NEUNCUT_SPECTRALNET_PARAMS for each field's meaning and default).
struct SpectralNetParams {
  NEUNCUT_SPECTRALNET_PARAMS(NEUNCUT_PARAM_MEMBER)
};

/// The parameter table as data, for the CLI, Python bindings and docs.
const std::vector<ParamInfo<SpectralNetParams>>& spectralnet_param_table();

/// Throws InvalidArgument naming the first invalid field.
void validate(const SpectralNetParams& params);

// What one epoch did (averages over its mini-batches): X(type, name, default, doc).
#define NEUNCUT_SPECTRALNET_EPOCH_FIELDS(X)                                             \
  X(int, epoch, 0, "1-based")                                                           \
  X(int, epochs, 0, "total planned")                                                    \
  X(double, loss, 0.0, "mean batch loss sum_ij W_ij ||y_i - y_j||^2 / m")               \
  X(double, learning_rate, 0.0, "learning rate used in this epoch")                     \
  X(int, cholesky_fallbacks, 0, "batches that needed the ridge fallback in this epoch") \
  X(double, elapsed_seconds, 0.0, "since the start of training")                        \
  X(double, eta_seconds, 0.0, "estimated time to the last epoch")

/// What one epoch did (see NEUNCUT_SPECTRALNET_EPOCH_FIELDS).
struct SpectralNetEpochStats {
  NEUNCUT_SPECTRALNET_EPOCH_FIELDS(NEUNCUT_RESULT_MEMBER)
};
NEUNCUT_RESULT_FIELDS(SpectralNetEpochStats, NEUNCUT_SPECTRALNET_EPOCH_FIELDS)

/// Called after every epoch; return false to stop training (fit then throws Interrupted).
using SpectralNetProgress = std::function<bool(const SpectralNetEpochStats&)>;

// Outcome of SpectralNet::fit: X(type, name, default, doc).
#define NEUNCUT_SPECTRALNET_FIT_FIELDS(X)                                                                       \
  X(std::vector<::neuncut::SpectralNetEpochStats>, history, {}, "one entry per epoch")                          \
  X(::neuncut::Labels, labels, {}, "predict() of every row passed to fit")                                      \
  X(::neuncut::Index, train_points, 0, "size of the training subset")                                           \
  X(::neuncut::Index, batch_size, 0, "mini-batch size used")                                                    \
  X(::neuncut::FeatureScaling, scaling, ::neuncut::FeatureScaling::None, "per-feature scaling used (resolved)") \
  X(bool, l2_normalized, false, "whether rows were L2-normalized (normalize resolved)")                         \
  X(std::vector<double>, geometry_eigengaps, {},                                                                \
    "tables with scaling and normalize auto: NeuNcut's eigengap ratios of the standardized "                    \
    "and the raw L2 rows (see NeuNcutFitResult); empty otherwise")                                              \
  X(int, cholesky_fallbacks, 0, "ridge fallbacks over all of training (and the final M)")                       \
  X(double, kmeans_inertia, 0.0, "inertia of k-means on the training embeddings")                               \
  X(bool, kmeans_converged, false, "the k-means run converged")                                                 \
  X(std::vector<std::string>, warnings, {},                                                                     \
    "what the caller should know, one sentence each: ridge fallbacks, k-means not converged")                   \
  X(double, train_seconds, 0.0, "wall time of the epochs")                                                      \
  X(double, total_seconds, 0.0, "wall time of fit()")

/// Outcome of SpectralNet::fit (see NEUNCUT_SPECTRALNET_FIT_FIELDS).
struct SpectralNetFitResult {
  NEUNCUT_SPECTRALNET_FIT_FIELDS(NEUNCUT_RESULT_MEMBER)
  /// The warnings joined by "; " (empty when there are none), as the CLI and Python show them.
  std::string message() const { return join_warnings(warnings); }
};
NEUNCUT_RESULT_FIELDS(SpectralNetFitResult, NEUNCUT_SPECTRALNET_FIT_FIELDS)

class SpectralNet {
 public:
  explicit SpectralNet(SpectralNetParams params = {});

  /// Trains on `data` (N x d) and labels it. Throws InvalidArgument for bad input (empty,
  /// NaN/Inf, k < 1, k > N) before any
  /// work, Interrupted when the callback returns false.
  SpectralNetFitResult fit(const Eigen::Ref<const MatrixF>& data, const SpectralNetProgress& progress = {});

  /// Orthonormalized embedding Y = f(x) M (N x k), in chunks of chunk_rows. `first_row`: the
  /// index of data's first row when a caller labels a larger data set part by part, so that
  /// messages name the row of the whole set (as NeuNcut::predict_proba).
  MatrixF embed(const Eigen::Ref<const MatrixF>& data, Index chunk_rows = 8192, Index first_row = 0) const;
  /// Nearest stored centroid of each row's embedding (stable across calls and save/load).
  Labels predict(const Eigen::Ref<const MatrixF>& data, Index chunk_rows = 8192, Index first_row = 0) const;

  /// Saves the model atomically (model_file.hpp container, ModelMethod::SpectralNet).
  /// Payload: u32 payload version (1); u64 count + (name, value) strings of the parameter
  /// table; Preprocessor; u64 layer count + i64 widths; MLP parameters (floats); matrix M
  /// (k x k); matrix centroids (k x k).
  void save(const std::string& path) const;
  /// Loads a model saved by save() (FormatError if the file holds another method or is malformed).
  static SpectralNet load(const std::string& path);

  bool fitted() const { return mlp_.num_parameters() > 0; }
  const SpectralNetParams& params() const { return params_; }
  /// Threads for embed/predict (0: all cores).
  void set_threads(int threads) { params_.threads = threads; }
  const Mlp& network() const { return mlp_; }
  const Preprocessor& preprocessor() const { return preprocessor_; }
  /// The orthonormalization matrix M (k x k) applied to the network output.
  const MatrixF& ortho_matrix() const { return ortho_; }
  /// k-means centroids in the embedding (k x k).
  const MatrixF& centroids() const { return centroids_; }

 private:
  SpectralNetParams params_;
  Preprocessor preprocessor_;
  Mlp mlp_;
  MatrixF ortho_;
  MatrixF centroids_;
};

}  // namespace neuncut
