// The relaxed normalized-cut objective NeuNcut minimizes on each mini-batch, with its
// analytic gradient, and the row softmax that turns logits into soft memberships.
//
// For a batch of m points with symmetric affinity W (m x m), degrees d = W 1, D = diag(d),
// Laplacian L = D - W and soft memberships P (m x k, rows on the simplex):
//   vol_j = sum_i d_i P_ij,   s_j = (vol_j + eps)^(-1/2),   H = P diag(s)
//   trace   = tr(H^T L H) = sum_j P_j^T L P_j / (vol_j + eps)           (soft Ncut)
//   R       = || H^T D H - I ||_F                                          (orthogonality)
//   penalty = gamma / 2 * R / k
//   loss    = trace + penalty
// Gradient (P_j = column j, Q = P^T D P, G = S Q S, E = (G - I)/R, F = S E S, c_j = sum_l E_jl Q_jl s_l):
//   dtrace/dP_ij = 2 (L P)_ij / v_j - d_i a_j / v_j^2,   a_j = P_j^T L P_j, v_j = vol_j + eps
//   dR/dP        = 2 D P F - d (c o s^3)^T
// The uniform P has trace 0 but R = sqrt(k - 1); a hard balanced partition has R = 0 and
// trace = its Ncut value. gamma trades the two.
#pragma once

#include <cstdint>
#include <vector>

#include "neuncut/core/types.hpp"

namespace neuncut {

/// The terms of the batch loss.
struct NcutLossTerms {
  double trace = 0;          ///< tr(H^T L H): the soft normalized cut.
  double orthogonality = 0;  ///< R = ||H^T D H - I||_F.
  double penalty = 0;        ///< gamma / 2 * R / k.
  double loss = 0;           ///< trace + penalty.
};

/// Evaluates the loss; when grad_p is non-null also writes dloss/dP (m x k) into it.
/// W must be symmetric with degrees d = W 1 (passed in, as the caller computes them with W).
/// Instantiated for float (training) and double (tests).
template <class Scalar>
NcutLossTerms ncut_loss(const Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& affinity,
                        const Eigen::Matrix<Scalar, -1, 1>& degree,
                        const Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& memberships, double gamma, double eps,
                        Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>* grad_p);

/// Row-wise softmax, numerically stable (max subtracted), in place; each row's result depends
/// on that row only (not its position).
template <class Scalar>
void softmax_rows(Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& logits);

/// Given P = softmax(Z) and G = dloss/dP, overwrites G with dloss/dZ = P o (G - rowsum(P o G)).
template <class Scalar>
void softmax_backward(const Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& probabilities,
                      Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& grad);

/// The weight training gives the anchor term for `init_anchor` and k clusters:
/// init_anchor * max(1, k / 10). The Ncut loss sums one trace term per cluster, so its pull on
/// a batch grows with k while the anchor's mean cross-entropy does not; without the scaling a
/// warm start of 50 clusters on a 150-row set lost 1 to 5 of them during training
/// (docs/defaults.md, "Number of clusters"). Up to 10 clusters the weight is init_anchor.
double anchor_weight(double init_anchor, int k);

/// The anchor term of training (init_anchor): weight times the mean cross-entropy
/// -log P_i,label_i over the rows with label_i >= 0 (rows with -1 do not take part). Adds its
/// gradient with respect to the logits, weight * (P_i - e_label_i) / (rows taking part), to
/// grad_logits (m x k) and returns the term's value (0 when no row takes part).
template <class Scalar>
double add_anchor_cross_entropy(const Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& probabilities,
                                const std::vector<std::int32_t>& labels, double weight,
                                Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& grad_logits);

}  // namespace neuncut
