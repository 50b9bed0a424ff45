#include "neuncut/methods/neuncut/spectral_init.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>

#include "core/parallel.hpp"
#include "methods/neuncut/neuncut_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/neuncut/ncut_loss.hpp"

namespace neuncut {

Labels spectral_batch_partition(const Eigen::Ref<const MatrixF>& batch, float sigma, int k, std::uint64_t seed,
                                int threads) {
  const Index m = batch.rows();
  NEUNCUT_REQUIRE(k >= 2 && m >= k, InvalidArgument, "spectral warm start needs 2 <= k <= batch rows, got k ", k,
                  " and ", m, " rows");
  NEUNCUT_REQUIRE(sigma > 0, InvalidArgument, "spectral warm start: sigma must be > 0, got ", sigma);
  MatrixF w;
  VectorF degree;
  gaussian_batch_affinity(batch, sigma, w, degree, threads);
  return njw_partition(w, degree, k, seed, threads);
}

Labels njw_partition(const MatrixF& w, const VectorF& degree, int k, std::uint64_t seed, int threads) {
  const Index m = w.rows();
  NEUNCUT_REQUIRE(k >= 2 && m >= k && w.cols() == m && degree.size() == m, InvalidArgument,
                  "spectral partition needs a square affinity with 2 <= k <= rows, got k ", k, " and ", m, " x ",
                  w.cols());
  NEUNCUT_REQUIRE(degree.minCoeff() > 0, InvalidArgument, "spectral partition: a point has degree 0");
  // Double precision: when clusters are nearly disconnected the top eigenvalues agree to
  // ~1e-11, far below float resolution, and the eigenvectors must still span the clusters.
  const VectorD inv_sqrt_degree = degree.cast<double>().cwiseSqrt().cwiseInverse();
  Eigen::MatrixXd a = inv_sqrt_degree.asDiagonal() * w.cast<double>() * inv_sqrt_degree.asDiagonal();
  // The dense solver, not Lanczos: a Krylov method finds one vector per distinct eigenvalue,
  // so it would miss clusters whose eigenvalues coincide (disconnected components).
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(a);
  NEUNCUT_REQUIRE(solver.info() == Eigen::Success, Error, "spectral warm start: the eigen-decomposition failed");
  MatrixF embedding = solver.eigenvectors().rightCols(k).cast<float>();  // eigenvalues ascend
  for (Index i = 0; i < m; ++i) {
    const float norm = embedding.row(i).norm();
    if (norm > 0) embedding.row(i) /= norm;
  }
  KMeansParams kp;
  kp.n_clusters = k;
  kp.normalize = false;
  kp.seed = seed;
  kp.threads = threads;
  kp.sample = embedding.rows();  // restarts on every row of the (sample's) embedding, at any size
  return fit_kmeans(embedding, kp).labels;
}

double fit_network_to_labels(Mlp& network, const Eigen::Ref<const MatrixF>& batch, const Labels& labels, int steps,
                             double lr, const AdamParams& adam_params, int threads) {
  const Index m = batch.rows(), k = network.output_dim();
  NEUNCUT_REQUIRE(Index(labels.size()) == m, InvalidArgument, "fit_network_to_labels: ", labels.size(), " labels for ",
                  m, " rows");
  for (std::int32_t label : labels)
    NEUNCUT_REQUIRE(label >= 0 && label < k, InvalidArgument, "fit_network_to_labels: label ", label, " outside [0, ",
                    k, ")");
  Adam adam(network.num_parameters(), adam_params);
  MlpWorkspace ws;
  MatrixF grad_logits;
  AlignedFloats gradient(static_cast<std::size_t>(network.num_parameters()));
  const float inv_m = 1.0f / float(m);
  for (int step = 0; step < steps; ++step) {
    network.forward(batch, ws);
    grad_logits = ws.activations.back();
    softmax_rows(grad_logits);
    // d(mean cross-entropy)/dlogits = (softmax - onehot) / m.
    for (Index i = 0; i < m; ++i) grad_logits(i, labels[i]) -= 1.0f;
    grad_logits *= inv_m;
    network.backward(batch, ws, grad_logits, gradient);
    adam.step(network.parameters(), gradient, lr, threads);
  }
  const MatrixF logits = network.predict_logits(batch);
  Index agree = 0;
  for (Index i = 0; i < m; ++i) {
    Index j;
    logits.row(i).maxCoeff(&j);
    agree += j == labels[i];
  }
  return double(agree) / double(m);
}

}  // namespace neuncut
