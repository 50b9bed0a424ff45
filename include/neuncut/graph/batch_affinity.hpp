// NeuNcut's in-batch affinity: the full Gaussian kernel of the paper on each mini-batch,
// and the rule that picks its bandwidth sigma from the data when none is given.
#pragma once

#include <cstdint>

#include "neuncut/core/precision.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut {

/// W_ij = exp(-||x_i - x_j||^2 / (2 sigma^2)) over the rows of `batch` (m x d), with the
/// diagonal included (W_ii = 1) as in the paper, and degrees d = W 1. W and degree are
/// resized only when the batch size changes. Uses `threads` threads (<= 0: all cores).
///
/// Distances come from the Gram matrix, ||x_i - x_j||^2 = |x_i|^2 + |x_j|^2 - 2 x_i.x_j. With
/// `precision` Bf16 the Gram matrix is a bf16 product (operands rounded to 8 significant
/// bits, fp32 sums): its absolute error is at most about 2^-7 |x_i| |x_j| (far less on
/// average), so the kernel is only accurate when that is small against 2 sigma^2: for
/// L2-normalized rows (|x| = 1) and a sigma that is not tiny, where NeuNcut uses it (see
/// docs/mixed-precision.md for the measured errors). Throws InvalidArgument for Bf16 where
/// bf16 is unavailable.
void gaussian_batch_affinity(const Eigen::Ref<const MatrixF>& batch, float sigma, MatrixF& affinity, VectorF& degree,
                             int threads, Precision precision = Precision::Fp32);

/// How sigma is chosen when the caller does not give one.
struct SigmaRule {
  Index sample_size = 1000;      ///< Points sampled (a typical batch: sigma should fit what one batch sees).
  int neighbor = 10;             ///< Rank m of the neighbour whose distance measures the local scale.
  bool pairwise_median = false;  ///< Instead: twice the median distance between two sample points.
  double scale = 1.0;            ///< Multiplier on the estimate.
  std::uint64_t seed = 0;        ///< Seed of the sample.
};

/// sigma = scale * median over sampled points of the distance to their m-th nearest
/// neighbour within the sample. A local scale: it ignores the spread between clusters, so
/// the kernel connects each point to about m batch neighbours whatever the data's size and
/// units. With pairwise_median instead, sigma = scale * 2 * the median distance between two
/// sampled points: a wide kernel (the typical pair has affinity exp(-1/8)). Rows are taken as given (pass preprocessed
/// data). Throws InvalidArgument when the sample has fewer than neighbor + 1 points, or when every distance is 0.
double estimate_sigma(const Eigen::Ref<const MatrixF>& data, const SigmaRule& rule, int threads);

}  // namespace neuncut
