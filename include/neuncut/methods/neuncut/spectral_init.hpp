// Spectral warm start for NeuNcut.
//
// Why: NeuNcut's loss is non-convex, and gradient descent from a random network keeps the
// partition the network happens to draw first when no small move of its boundary lowers the
// cut. On two moons the first boundary is a straight line through both moons; sliding it
// along an arm does not change the cut, so training stays there (Ncut 0.025) although the
// two moons themselves have Ncut ~1e-11 on the same affinity. On Fashion-MNIST the same
// effect shows as seed-dependent merges of classes.
//
// What: the relaxation of Ncut that NeuNcut's loss tightens has a closed-form optimum, the
// leading eigenvectors of D^-1/2 W D^-1/2. The warm start takes one batch-sized sample of the
// (preprocessed) training points, builds the very Gaussian affinity the loss uses on a batch,
// computes those eigenvectors exactly (dense, so repeated eigenvalues of disconnected
// clusters are resolved), clusters the row-normalized embedding with k-means (NJW), and
// fits the network to these labels with a few Adam steps of softmax cross-entropy. NeuNcut
// training then starts from there; the loss, not the warm start, decides the final labels.
#pragma once
#include <cstdint>

#include "neuncut/core/types.hpp"
#include "neuncut/nn/mlp.hpp"
#include "neuncut/nn/optimizer.hpp"

namespace neuncut {

/// The NJW partition of one batch under the Gaussian affinity W_ij = exp(-||x_i-x_j||^2 /
/// (2 sigma^2)) (diagonal included, as in the loss): the k eigenvectors of D^-1/2 W D^-1/2
/// with the largest eigenvalues, rows scaled to unit length, then k-means (k-means++, 10
/// restarts, seeded by `seed`). `batch` is m x d with m >= k, rows as the loss sees them.
/// Deterministic for a given input, seed and thread count.
Labels spectral_batch_partition(const Eigen::Ref<const MatrixF>& batch, float sigma, int k, std::uint64_t seed,
                                int threads);

/// Fits `network` (output width k) to `labels` on `batch` by `steps` full-batch Adam steps of
/// the mean softmax cross-entropy at learning rate `lr` (a fresh Adam state). Returns the
/// fraction of rows whose argmax then equals their label.
double fit_network_to_labels(Mlp& network, const Eigen::Ref<const MatrixF>& batch, const Labels& labels, int steps,
                             double lr, const AdamParams& adam_params, int threads);

}  // namespace neuncut
