// PRIVATE header (not installed): SpectralNet internals reached by the tests.
#pragma once

#include "neuncut/core/types.hpp"

namespace neuncut {

namespace detail {
/// The orthonormalization matrix M = L^-T of outputs (m x k): (outputs M)^T (outputs M) / m = I.
/// Falls back to a growing ridge when the Cholesky factorization fails; *fallback (if given)
/// is set to whether it did.
MatrixD orthonormalizer(const Eigen::Ref<const MatrixF>& outputs, double ridge, bool* fallback);
/// The SpectralNet loss of a batch embedding Y (m x k) under affinity W (m x m), and
/// dLoss/dY into *grad when non-null.
double spectralnet_loss(const MatrixF& y, const MatrixF& affinity, MatrixF* grad);
/// dLoss/dF for Y = F M (outputs F, m x k; M = orthonormalizer(F)) given G = dLoss/dY,
/// differentiating M through the Cholesky factorization as well (exact when M has no ridge).
MatrixF gradient_through_orthonormalizer(const MatrixF& outputs, const MatrixF& y, const MatrixF& grad_y,
                                         const MatrixF& ortho);
}  // namespace detail

}  // namespace neuncut
