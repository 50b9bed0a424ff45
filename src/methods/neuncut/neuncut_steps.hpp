// PRIVATE header: the steps of one NeuNcut training run (NeuNcut::fit_single reads as their
// list). Each step records what it resolved in the NeuNcutFitResult it is given.
//
// The steps draw from the fit's one seeded generator in a fixed order: the training subset
// (or one split when all rows train), sigma's sample seed, the network's initialization, the
// warm start's seed, then one permutation per epoch. Reordering them changes every model.
#pragma once

#include <cstdint>

#include "core/data_check.hpp"
#include "core/random.hpp"
#include "neuncut/core/row_access.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/nn/optimizer.hpp"

namespace neuncut::detail {

/// The sizes of one training run, resolved from the parameters and the data.
struct FitShape {
  Index n = 0;      ///< training rows (train_size, or all)
  Index k = 0;      ///< clusters
  Index m = 0;      ///< rows of a mini-batch
  int threads = 1;  ///< resolved thread count
};

/// Checks the parameters against the data's shape (empty, k, batch size), and that the fit fits
/// in memory, before anything is allocated.
FitShape check_fit_shape(const NeuNcutParams& p, Index rows, Index cols);

/// The check of training data: its messages say "training data".
DataCheck training_data_check(const NeuNcutParams& p);

/// Checks every value of data trained on whole (a matrix): finite, and not all subnormal.
void check_training_values(const NeuNcutParams& p, const Eigen::Ref<const MatrixF>& data);

/// The training rows: a seeded subset of n rows, or all of them, gathered from `data` (so only
/// those rows are read). With check_values_of, their values are checked as
/// check_training_values does, messages naming the rows of `data`.
MatrixF draw_training_set(const RowAccess& data, Index n, Rng& rng, const NeuNcutParams* check_values_of);

/// Builds the preprocessing (feature map, scaling, L2 normalization), fits it on `train` and
/// applies it there in place.
Preprocessor fit_features(const NeuNcutParams& p, MatrixF& train, int threads, NeuNcutFitResult& result);

/// The kernel width: the given one, or estimated from the preprocessed training rows.
double choose_sigma(const NeuNcutParams& p, const MatrixF& train, const Preprocessor& pre, Index m, Rng& rng,
                    int threads, NeuNcutFitResult& result);

/// The network and its optimizer.
struct Network {
  Mlp mlp;
  AdamParams adam_params;
  Adam adam;
};

/// The network for the preprocessed features, initialized from rng, with its precision.
Network build_network(const NeuNcutParams& p, const Preprocessor& pre, double sigma, Rng& rng,
                      NeuNcutFitResult& result);

/// Spectral warm start (init = spectral, k > 1): fits the network to the spectral partition of
/// a sample of the training rows, drawn from init_seed. Returns the anchor of training: one
/// label per training row, the partition's on the sample and -1 elsewhere; empty when
/// init_anchor is 0 or there was no warm start.
Labels warm_start(const NeuNcutParams& p, const MatrixF& train, Index m, double sigma, std::uint64_t init_seed,
                  Network& net, int threads, NeuNcutFitResult& result);

/// The epochs of mini-batch training under the Ncut loss, with the collapse guard; with several
/// ranks, this rank's share of the batches, gradients and epoch statistics summed over the ranks.
void train_network(const NeuNcutParams& p, const MatrixF& train, const Labels& anchor, Index m, double sigma, Rng& rng,
                   Network& net, int threads, const DataParallel& parallel, const NeuNcutProgress& progress,
                   NeuNcutFitResult& result);

/// Final health check of the trained network on the whole training subset.
void check_health(const Mlp& mlp, const MatrixF& train, int k, NeuNcutFitResult& result);

}  // namespace neuncut::detail
