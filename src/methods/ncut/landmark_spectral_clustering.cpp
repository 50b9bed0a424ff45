#include "neuncut/methods/ncut/landmark_spectral_clustering.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/blocked_rows.hpp"
#include "core/data_check.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/timing.hpp"
#include "kernels/gemm.hpp"
#include "kernels/pairwise_distance.hpp"
#include "methods/ncut/ncut_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/row_access.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"

namespace neuncut {
namespace {

using detail::Clock;
using detail::seconds_since;

// Lloyd iterations of the landmark k-means: landmarks only need to cover the data, and LSC and
// U-SPEC both stop their k-means early (U-SPEC uses 10 iterations).
constexpr int kLandmarkKMeansIterations = 10;
// Rows of the sample the landmarks are chosen from, per landmark (U-SPEC's 10 p).
constexpr Index kSampleRowsPerLandmark = 10;
// A rebuild doubles the landmarks per point up to this factor of params.landmark_neighbors.
constexpr int kMaxNeighborGrowth = 16;
// Eigenvalues of W this close to 1 belong to connected components (one each).
constexpr double kComponentEigenvalue = 1.0 - 1e-8;

// 1 / ||row|| for every row when normalizing (0 for a zero row, which stays at the origin), else 1.
VectorF row_scales(const Eigen::Ref<const MatrixF>& data, bool normalize, int threads) {
  if (!normalize) return VectorF::Ones(data.rows());
  VectorF scale = detail::squared_row_norms(data, threads);
  for (Index i = 0; i < scale.size(); ++i) scale[i] = scale[i] > 0 ? 1.0f / std::sqrt(scale[i]) : 0.0f;
  return scale;
}

MatrixF choose_landmarks(const detail::BlockedRows& data, Index p, const SpectralClusteringParams& params) {
  const Index n = data.rows();
  detail::Rng rng(params.seed);
  const std::vector<Index> rows = detail::sorted_sample(n, std::min(n, kSampleRowsPerLandmark * p), rng.split());
  MatrixF sample = data.gather(rows);
  sample = row_scales(sample, params.normalize, params.threads).asDiagonal() * sample;
  if (sample.rows() == p) return sample;  // every row is a landmark
  KMeansParams kp;
  kp.n_clusters = int(p);
  kp.n_init = 1;
  kp.max_iter = kLandmarkKMeansIterations;
  kp.normalize = false;  // the sample is normalized already when asked
  kp.seed = rng.split();
  kp.threads = params.threads;
  kp.sample = sample.rows();
  return fit_kmeans(sample, kp).model.centroids();
}

// The r nearest landmarks of every row, nearest first (ties to the lower index): N x r indices and
// squared distances, row-major.
struct NearestLandmarks {
  std::vector<std::int32_t> index;
  std::vector<float> sq_dist;
};

// The r nearest landmarks of the rows of `data`, written from index[0] and sq_dist[0] on. One GEMM
// per block of rows, as k-means' nearest_centres.
void nearest_landmarks(const Eigen::Ref<const MatrixF>& data, const MatrixF& landmarks, int r, bool normalize,
                       int threads, std::int32_t* index, float* sq_dist) {
  const Index n = data.rows(), p = landmarks.rows();
  const VectorF scale = row_scales(data, normalize, threads);
  const VectorF l_norms = landmarks.rowwise().squaredNorm();
  const VectorF x_norms = normalize ? VectorF() : detail::squared_row_norms(data, threads);
  const Index blocks = (n + detail::kDistanceBlockRows - 1) / detail::kDistanceBlockRows;
  detail::parallel_for(0, blocks, threads, [&](Index b) {
    const Index lo = b * detail::kDistanceBlockRows, rows = std::min(detail::kDistanceBlockRows, n - lo);
    MatrixF dots(rows, p);
    detail::gemm_rowwise(detail::gemm_operand(data.middleRows(lo, rows)), detail::gemm_operand(landmarks, true),
                         dots.data(), p, Precision::Fp32);
    for (Index i = 0; i < rows; ++i) {
      const Index row = lo + i;
      // ||s x - c||^2 with s the row's scale: |s x|^2 is 1 (or 0 for a zero row) when normalizing.
      const float xx = normalize ? (scale[row] > 0 ? 1.0f : 0.0f) : x_norms[row];
      std::int32_t* idx = index + std::size_t(row) * std::size_t(r);
      float* dist = sq_dist + std::size_t(row) * std::size_t(r);
      int found = 0;
      for (Index c = 0; c < p; ++c) {
        const float d = std::max(0.0f, xx - 2.0f * scale[row] * dots(i, c) + l_norms[c]);
        if (found == r && !(d < dist[r - 1])) continue;
        int at = found < r ? found++ : r - 1;  // insertion into the sorted list, dropping its last
        while (at > 0 && d < dist[at - 1]) {
          dist[at] = dist[at - 1];
          idx[at] = idx[at - 1];
          --at;
        }
        dist[at] = d;
        idx[at] = std::int32_t(c);
      }
    }
  });
}

NearestLandmarks nearest_landmarks(const detail::BlockedRows& data, const MatrixF& landmarks, int r, bool normalize,
                                   int threads) {
  NearestLandmarks out;
  out.index.resize(std::size_t(data.rows()) * std::size_t(r));
  out.sq_dist.resize(out.index.size());
  data.for_each_block([&](Index first, const Eigen::Ref<const MatrixF>& block) {
    const std::size_t at = std::size_t(first) * std::size_t(r);
    nearest_landmarks(block, landmarks, r, normalize, threads, out.index.data() + at, out.sq_dist.data() + at);
  });
  return out;
}

int find_root(std::vector<int>& parent, int x) {
  while (parent[std::size_t(x)] != x) x = parent[std::size_t(x)] = parent[std::size_t(parent[std::size_t(x)])];
  return x;
}

// Z from the nearest landmarks: Gaussian weights with U-SPEC's bandwidth (the mean distance over
// all N r pairs), each row scaled to sum 1. Weights are taken relative to the row's nearest
// landmark, exp(-(d^2 - d_min^2) / (2 sigma^2)), which the row scaling makes the same Z but which
// cannot underflow to an all-zero row. Also counts the bipartite graph's components.
void build_weights(const NearestLandmarks& nl, Index n, Index p, int r, LandmarkGraph& g) {
  double sum = 0;
  for (float d : nl.sq_dist) sum += std::sqrt(double(d));
  g.sigma = sum / double(nl.sq_dist.size());
  const double two_sigma_sq = g.sigma > 0 ? 2.0 * g.sigma * g.sigma : 1.0;
  g.weights = SparseMatrixF(n, p);
  g.weights.reserve(Eigen::VectorXi::Constant(n, r));
  std::vector<int> parent(static_cast<std::size_t>(p));
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<double> w(static_cast<std::size_t>(r));
  for (Index i = 0; i < n; ++i) {
    const std::int32_t* idx = nl.index.data() + std::size_t(i) * std::size_t(r);
    const float* dist = nl.sq_dist.data() + std::size_t(i) * std::size_t(r);
    double total = 0;
    for (int j = 0; j < r; ++j)
      total += w[std::size_t(j)] = std::exp(-(double(dist[j]) - double(dist[0])) / two_sigma_sq);
    for (int j = 0; j < r; ++j) {
      if (!(w[std::size_t(j)] > 0)) continue;  // underflowed: no edge
      g.weights.insert(i, idx[j]) = float(w[std::size_t(j)] / total);
      if (j > 0) parent[std::size_t(find_root(parent, idx[j]))] = find_root(parent, idx[0]);
    }
  }
  g.weights.makeCompressed();
  std::vector<char> used(static_cast<std::size_t>(p), 0);
  for (Index k = 0; k < g.weights.nonZeros(); ++k) used[std::size_t(g.weights.innerIndexPtr()[k])] = 1;
  g.n_components = 0;
  for (Index c = 0; c < p; ++c)
    if (used[std::size_t(c)] && find_root(parent, int(c)) == int(c)) ++g.n_components;
}

// The checks fit_spectral_clustering makes, for callers of the public functions here.
void check_input(const Eigen::Ref<const MatrixF>& data, const SpectralClusteringParams& params) {
  detail::check_data(data, detail::ncut_data_check(params));
  validate(params);
}

// The checks of a RowAccess before any row is read: its shape, k and params (the values are
// checked as the rows are read).
detail::DataCheck check_rows(const RowAccess& rows, const SpectralClusteringParams& params) {
  const detail::DataCheck check = detail::ncut_data_check(params);
  detail::check_data_shape(rows.rows(), rows.cols(), check);
  validate(params);
  return check;
}

// landmark_graph on data and params already checked.
LandmarkGraph landmark_graph_of_checked(const detail::BlockedRows& data, const SpectralClusteringParams& params) {
  const Index n = data.rows();
  const Index p = std::min<Index>(params.landmarks, n);
  NEUNCUT_REQUIRE(params.n_clusters < p, InvalidArgument, "ncut: the landmark solver needs more landmarks than ",
                  "clusters: landmarks = ", p, p < params.landmarks ? " (clamped to N)" : "",
                  " for k = ", params.n_clusters, "; raise landmarks or use solver = exact");
  detail::ThreadCountScope scope(params.threads);
  LandmarkGraph g;
  auto t = Clock::now();
  g.landmarks = choose_landmarks(data, p, params);
  g.landmark_seconds = seconds_since(t);
  const int first = int(std::min<Index>(params.landmark_neighbors, p));
  const int most = int(std::min<Index>(p, Index(first) * kMaxNeighborGrowth));
  for (int r = first;; r = std::min(2 * r, most)) {
    t = Clock::now();
    const NearestLandmarks nl = nearest_landmarks(data, g.landmarks, r, params.normalize, params.threads);
    g.neighbor_seconds += seconds_since(t);
    build_weights(nl, n, p, r, g);
    g.neighbors = r;
    if (r == first) g.first_components = g.n_components;
    if (g.n_components <= params.n_clusters || r >= most) return g;
  }
}

// The solver on data and params already checked.
SpectralClusteringResult landmark_spectral_clustering(const detail::BlockedRows& data,
                                                      const SpectralClusteringParams& params);

}  // namespace

LandmarkGraph landmark_graph(const Eigen::Ref<const MatrixF>& data, const SpectralClusteringParams& params) {
  check_input(data, params);
  return landmark_graph_of_checked(detail::BlockedRows(data), params);
}

LandmarkGraph landmark_graph(const RowAccess& rows, const SpectralClusteringParams& params) {
  const detail::DataCheck check = check_rows(rows, params);
  return landmark_graph_of_checked(detail::BlockedRows(rows, check, detail::pass_block_rows(rows.cols())), params);
}

SpectralClusteringResult fit_landmark_spectral_clustering(const Eigen::Ref<const MatrixF>& data,
                                                          const SpectralClusteringParams& params) {
  check_input(data, params);
  return detail::landmark_spectral_clustering_of_checked(data, params);
}

SpectralClusteringResult fit_landmark_spectral_clustering(const RowAccess& rows,
                                                          const SpectralClusteringParams& params) {
  return detail::landmark_spectral_clustering_of_rows(rows, params, detail::pass_block_rows(rows.cols()));
}

namespace detail {
SpectralClusteringResult landmark_spectral_clustering_of_checked(const Eigen::Ref<const MatrixF>& data,
                                                                 const SpectralClusteringParams& params) {
  return landmark_spectral_clustering(detail::BlockedRows(data), params);
}

SpectralClusteringResult landmark_spectral_clustering_of_rows(const RowAccess& rows,
                                                              const SpectralClusteringParams& params,
                                                              Index block_rows) {
  const DataCheck check = check_rows(rows, params);
  return landmark_spectral_clustering(detail::BlockedRows(rows, check, block_rows), params);
}
}  // namespace detail

namespace {
SpectralClusteringResult landmark_spectral_clustering(const detail::BlockedRows& data,
                                                      const SpectralClusteringParams& params) {
  const auto start = Clock::now();
  const LandmarkGraph g = landmark_graph_of_checked(data, params);
  SpectralClusteringResult r;
  r.solver = NcutSolver::Landmark;
  r.n_landmarks = int(g.landmarks.rows());
  r.landmark_neighbors_used = g.neighbors;
  r.n_edges = g.weights.nonZeros();
  r.n_components = g.n_components;
  r.knn_seconds = g.landmark_seconds + g.neighbor_seconds;

  // Zh = Z L^-1/2 and the p x p Gram matrix Zh^T Zh, accumulated row by row in row order
  // (deterministic for any thread count; N r^2 multiply-adds).
  auto t = Clock::now();
  const Index n = data.rows(), p = g.landmarks.rows();
  VectorD column_sum = VectorD::Zero(p);
  for (Index k = 0; k < g.weights.nonZeros(); ++k)
    column_sum[g.weights.innerIndexPtr()[k]] += double(g.weights.valuePtr()[k]);
  VectorD inv_sqrt(p);
  for (Index c = 0; c < p; ++c) inv_sqrt[c] = column_sum[c] > 0 ? 1.0 / std::sqrt(column_sum[c]) : 0.0;
  MatrixD gram = MatrixD::Zero(p, p);
  for (Index i = 0; i < n; ++i)
    for (SparseMatrixF::InnerIterator a(g.weights, i); a; ++a) {
      const double za = double(a.value()) * inv_sqrt[a.col()];
      for (SparseMatrixF::InnerIterator b(g.weights, i); b; ++b)
        gram(a.col(), b.col()) += za * double(b.value()) * inv_sqrt[b.col()];
    }
  r.affinity_seconds = seconds_since(t);

  t = Clock::now();
  const Eigen::SelfAdjointEigenSolver<MatrixD> eig(gram);
  NEUNCUT_REQUIRE(eig.info() == Eigen::Success, Error, "ncut: the landmark solver's ", p, " x ", p,
                  " eigenproblem failed");
  const VectorD& values = eig.eigenvalues();  // ascending
  // One eigenvalue 1 per component: with more components than clusters all of them are kept,
  // as the exact solver does, and k-means groups whole components.
  Index nev = params.n_clusters;
  while (nev < p && values[p - 1 - nev] >= kComponentEigenvalue) ++nev;
  r.eigenvalues.resize(nev);
  MatrixD projection(p, nev);  // column j: L^-1/2 v_j / s_j, so that U = Z projection
  for (Index j = 0; j < nev; ++j) {
    const double value = std::max(0.0, values[p - 1 - j]);
    r.eigenvalues[j] = value;
    const double s = std::sqrt(value);
    projection.col(j) =
        s > 1e-12 ? (eig.eigenvectors().col(p - 1 - j).cwiseProduct(inv_sqrt) / s).eval() : VectorD::Zero(p).eval();
  }
  r.embedding.resize(n, nev);
  detail::parallel_blocks(n, params.threads, [&](Index lo, Index hi) {
    for (Index i = lo; i < hi; ++i) {
      Eigen::RowVectorXd u = Eigen::RowVectorXd::Zero(nev);
      for (SparseMatrixF::InnerIterator a(g.weights, i); a; ++a) u += double(a.value()) * projection.row(a.col());
      r.embedding.row(i) = u.cast<float>();
    }
  });
  r.converged = true;
  r.solver_status = SolverStatus::Successful;
  r.eigen_seconds = seconds_since(t);

  if (p < params.landmarks) r.warnings.push_back(detail::concat("landmarks ", params.landmarks, " lowered to N = ", p));
  if (g.neighbors != std::min<Index>(params.landmark_neighbors, p))
    r.warnings.push_back(detail::concat("the landmark graph with ", params.landmark_neighbors,
                                        " landmarks per point had ", g.first_components,
                                        " connected components for k = ", params.n_clusters, "; rebuilt with ",
                                        g.neighbors, " (", g.n_components, " components)"));
  if (r.n_components > 1)
    r.warnings.push_back(detail::concat("the landmark graph has ", r.n_components,
                                        " connected components: NJW splits along them first; raise "
                                        "landmark_neighbors to connect it"));
  // W's degrees are all 1, so the degree-scaled embedding is U itself.
  if (params.normalization == EmbeddingNormalization::Rows) detail::normalize_embedding_rows(r.embedding);
  detail::cluster_embedding(params, r);
  r.total_seconds = seconds_since(start);
  return r;
}
}  // namespace

}  // namespace neuncut
