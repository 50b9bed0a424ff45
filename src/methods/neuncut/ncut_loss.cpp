#include "neuncut/methods/neuncut/ncut_loss.hpp"

#include <algorithm>
#include <cmath>

namespace neuncut {

template <class Scalar>
NcutLossTerms ncut_loss(const Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& W, const Eigen::Matrix<Scalar, -1, 1>& d,
                        const Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& P, double gamma, double eps,
                        Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>* grad_p) {
  using Mat = Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>;
  const Index k = P.cols();
  // The only O(m^2) work: W P (a thin GEMM). Everything else is O(m k + m k^2), done in
  // double because the k x k quantities (vol, Q) accumulate over the whole batch.
  const Mat WP = W * P;
  const MatrixD Pd = P.template cast<double>();
  const VectorD dd = d.template cast<double>();
  const MatrixD DP = dd.asDiagonal() * Pd;
  const MatrixD Q = Pd.transpose() * DP;               // P^T D P
  const VectorD vol = DP.colwise().sum().transpose();  // d^T P
  const VectorD pwp = (Pd.array() * WP.template cast<double>().array()).colwise().sum().transpose();
  const VectorD v = vol.array() + eps;
  const VectorD s = v.array().rsqrt();
  const VectorD a = Q.diagonal() - pwp;  // P_j^T L P_j

  NcutLossTerms t;
  t.trace = (a.array() / v.array()).sum();
  const MatrixD G = s.asDiagonal() * Q * s.asDiagonal();
  const MatrixD GmI = G - MatrixD::Identity(k, k);
  t.orthogonality = GmI.norm();
  t.penalty = gamma / 2.0 * t.orthogonality / double(k);
  t.loss = t.trace + t.penalty;
  if (!grad_p) return t;

  // dtrace/dP = 2 (D P - W P) diag(1/v) - d (a / v^2)^T
  MatrixD grad = 2.0 * (DP - WP.template cast<double>()) * v.cwiseInverse().asDiagonal();
  grad -= dd * (a.array() / v.array().square()).matrix().transpose();
  if (t.orthogonality > 0) {  // R is not differentiable at 0; there the penalty is at its minimum
    const double scale = gamma / (2.0 * double(k));
    const MatrixD E = GmI / t.orthogonality;
    const MatrixD F = s.asDiagonal() * E * s.asDiagonal();
    const VectorD c = (E.array() * Q.array()).matrix() * s;
    grad += scale * (2.0 * DP * F - dd * (c.array() * s.array().cube()).matrix().transpose());
  }
  *grad_p = grad.template cast<Scalar>();
  return t;
}

template <class Scalar>
void softmax_rows(Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& Z) {
  // Plain loops per row: Eigen's vectorized exp and sum peel scalar elements until the row
  // is aligned, so a row's memberships depended on its address (where it sat in the batch).
  for (Index i = 0; i < Z.rows(); ++i) {
    Scalar* row = Z.row(i).data();
    const Index k = Z.cols();
    Scalar top = row[0], sum = 0;
    for (Index j = 1; j < k; ++j) top = std::max(top, row[j]);
    for (Index j = 0; j < k; ++j) sum += row[j] = std::exp(row[j] - top);
    for (Index j = 0; j < k; ++j) row[j] /= sum;
  }
}

template <class Scalar>
void softmax_backward(const Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& P,
                      Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& G) {
  const Eigen::Matrix<Scalar, -1, 1> inner = (P.array() * G.array()).rowwise().sum();
  G = (P.array() * (G.colwise() - inner).array()).matrix();
}

double anchor_weight(double init_anchor, int k) { return init_anchor * std::max(1.0, double(k) / 10.0); }

template <class Scalar>
double add_anchor_cross_entropy(const Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& P,
                                const std::vector<std::int32_t>& labels, double weight,
                                Eigen::Matrix<Scalar, -1, -1, Eigen::RowMajor>& grad) {
  Index taking_part = 0;
  for (std::int32_t label : labels) taking_part += label >= 0;
  if (taking_part == 0) return 0;
  const double w = weight / double(taking_part);
  double value = 0;
  for (Index i = 0; i < P.rows(); ++i) {
    const std::int32_t label = labels[std::size_t(i)];
    if (label < 0) continue;
    // A probability the softmax rounded to 0 gives an infinite term but a bounded gradient.
    value -= std::log(std::max<double>(double(P(i, label)), 1e-30));
    grad.row(i) += Scalar(w) * P.row(i);
    grad(i, label) -= Scalar(w);
  }
  return w * value;
}

#define NEUNCUT_INSTANTIATE(S)                                                                                       \
  template NcutLossTerms ncut_loss<S>(                                                                               \
      const Eigen::Matrix<S, -1, -1, Eigen::RowMajor>&, const Eigen::Matrix<S, -1, 1>&,                              \
      const Eigen::Matrix<S, -1, -1, Eigen::RowMajor>&, double, double, Eigen::Matrix<S, -1, -1, Eigen::RowMajor>*); \
  template void softmax_rows<S>(Eigen::Matrix<S, -1, -1, Eigen::RowMajor>&);                                         \
  template void softmax_backward<S>(const Eigen::Matrix<S, -1, -1, Eigen::RowMajor>&,                                \
                                    Eigen::Matrix<S, -1, -1, Eigen::RowMajor>&);                                 \
  template double add_anchor_cross_entropy<S>(const Eigen::Matrix<S, -1, -1, Eigen::RowMajor>&,                      \
                                              const std::vector<std::int32_t>&, double,                              \
                                              Eigen::Matrix<S, -1, -1, Eigen::RowMajor>&);
NEUNCUT_INSTANTIATE(float)
NEUNCUT_INSTANTIATE(double)
#undef NEUNCUT_INSTANTIATE

}  // namespace neuncut
