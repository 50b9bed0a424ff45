// Classic normalized-cut spectral clustering (Ng, Jordan and Weiss 2001): the baseline
// NeuNcut is judged against.
//
// Pipeline of fit_spectral_clustering:
//   1. kNN graph of the data (knn.hpp: exact blocked brute force, or HNSW for large N);
//   2. sparse symmetric affinity W on it (affinity_graph.hpp: self-tuning, Gaussian or
//      connectivity weights), and its connected components;
//   3. the k leading eigenvectors U (N x k) of A = D^-1/2 W D^-1/2, D = diag(W 1), by
//      implicitly restarted Lanczos (Spectra::SymEigsSolver, largest algebraic eigenvalues)
//      on a matrix-free operator: A is never formed densely, each product is one parallel
//      pass over the sparse W in double precision;
//   4. NJW: every row of U scaled to unit length (or, with EmbeddingNormalization::Degree,
//      U scaled by D^-1/2 as scikit-learn's spectral_embedding does), then k-means.
// Eigenvalues of A lie in [-1, 1]; the largest is 1 with multiplicity equal to the number of
// connected components c of the graph. Those c eigenvectors (D^1/2 times each component's
// indicator) are known exactly; Lanczos runs on A with them deflated and finds the other
// k - c (a single-vector Lanczos cannot resolve a repeated eigenvalue by itself). With
// c >= k the top eigenspace is not unique: all c component vectors form the embedding and
// k-means groups the components.
//
// Outcomes rather than exceptions: a Lanczos run that does not converge leaves `converged`
// false, `solver_status` naming Spectra's CompInfo, `labels` EMPTY (an unconverged embedding
// is never silently clustered) and a message saying what to change. A graph with more than
// one connected component is clustered but reported (`n_components`, `message`): NJW then
// tends to split along the components first, whatever k says. A kNN graph of the data with MORE
// components than clusters is rebuilt with twice the neighbours (up to 16 x n_neighbors) until
// it has at most k: otherwise every eigenvector would be a component indicator and k-means could
// only group whole components (`n_neighbors_used`, `message` say so). Points with no edge at all
// (possible only with Gaussian weights that underflow) are counted in `isolated_points`.
#pragma once

#include <cstdint>
#include <string>

#include "neuncut/core/param_table.hpp"
#include "neuncut/core/result_fields.hpp"
#include "neuncut/core/row_access.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/graph/knn.hpp"

namespace neuncut {

/// How the eigenvectors are turned into the k-means input.
enum class EmbeddingNormalization {
  Rows,    ///< NJW: each row of U scaled to unit Euclidean norm (zero rows stay zero).
  Degree,  ///< Shi-Malik random-walk eigenvectors D^-1/2 U (scikit-learn SpectralClustering).
};
NEUNCUT_ENUM_NAMES(EmbeddingNormalization, "embedding normalization", {EmbeddingNormalization::Rows, "rows"},
                   {EmbeddingNormalization::Degree, "degree"})
/// parse_enum<EmbeddingNormalization>, under its earlier name.
inline EmbeddingNormalization parse_embedding_normalization(const std::string& name) {
  return parse_enum<EmbeddingNormalization>(name);
}

/// How the spectral embedding is computed (landmark_spectral_clustering.hpp describes the landmark solver).
enum class NcutSolver {
  Auto,      ///< Exact up to kLandmarkSolverMinRows points, landmark above.
  Exact,     ///< kNN graph of all points and Lanczos: O(N k) memory per Lanczos vector, superlinear time.
  Landmark,  ///< Landmark (anchor) graph: linear in N (Chen and Cai's LSC, as scaled up by U-SPEC).
};
NEUNCUT_ENUM_NAMES(NcutSolver, "ncut solver", {NcutSolver::Auto, "auto"}, {NcutSolver::Exact, "exact"},
                   {NcutSolver::Landmark, "landmark"})

/// The size from which NcutSolver::Auto picks the landmark solver. The exact solver took 365 s and
/// 5.2 GB at 560,000 Fashion-MNIST points (docs/benchmarks.md); the landmark solver's cost grows
/// linearly, and its accuracy is measured against the exact one in docs/benchmarks.md.
inline constexpr long kLandmarkSolverMinRows = 200000;

}  // namespace neuncut

// The one table of classic Ncut's parameters: X(type, name, CLI flag, default, doc). The
// defaults are the settings measured on Fashion-MNIST.
#define NEUNCUT_NCUT_PARAMS(X)                                                                                     \
  X(int, n_clusters, "k", 10, "number of clusters k (1 <= k < N)")                                                 \
  X(int, n_neighbors, "n-neighbors", 10, "kNN graph degree (>= 1; N - 1 when larger)")                             \
  X(::neuncut::KnnMethod, knn_method, "knn", ::neuncut::KnnMethod::Auto,                                           \
    "kNN algorithm: auto (up to 100,000 points: projected when d > 256, else exact; HNSW above), exact, "          \
    "projected (candidates from a 128-D PCA, re-ranked by exact distance) or hnsw")                                \
  X(::neuncut::AffinityKind, affinity, "affinity", ::neuncut::AffinityKind::SelfTuning,                            \
    "edge weights: self-tuning, gaussian or connectivity")                                                         \
  X(double, sigma, "sigma", 0.0,                                                                                   \
    "gaussian affinity bandwidth (0: median distance to the scale-neighbor-th neighbour)")                         \
  X(int, scale_neighbor, "scale-neighbor", 7,                                                                      \
    "neighbour whose distance sets the local (self-tuning) or median global scale")                                \
  X(::neuncut::Symmetrization, symmetrize, "symmetrize", ::neuncut::Symmetrization::Average,                       \
    "symmetrization of the kNN weights: average ((W + W^T)/2) or max")                                             \
  X(::neuncut::EmbeddingNormalization, normalization, "embedding-norm", ::neuncut::EmbeddingNormalization::Rows,   \
    "k-means input: rows (NJW unit rows) or degree (D^-1/2 U, as scikit-learn)")                                   \
  X(bool, normalize, "normalize", true, "L2-normalize every data row before the kNN graph")                        \
  X(::neuncut::NcutSolver, solver, "solver", ::neuncut::NcutSolver::Auto,                                          \
    "auto (exact up to 200,000 points, landmark above), exact (kNN graph + Lanczos) or landmark (anchor graph, "   \
    "linear in N)")                                                                                                \
  X(int, landmarks, "landmarks", 1000,                                                                             \
    "landmark solver: number of landmarks p (k-means centres of a sample of 10 p rows; k < p, clamped to N)")      \
  X(int, landmark_neighbors, "landmark-neighbors", 5,                                                              \
    "landmark solver: nearest landmarks per point (doubled up to 16x while the graph has more than k components)") \
  X(double, eigen_tol, "eigen-tol", 1e-7, "Lanczos relative residual tolerance")                                   \
  X(int, eigen_max_restarts, "eigen-max-restarts", 1000, "Lanczos restarts before giving up")                      \
  X(int, ncv, "ncv", 0, "Lanczos subspace size (0: max(2k + 1, 20), clamped to N)")                                \
  X(int, kmeans_n_init, "kmeans-n-init", 10, "k-means restarts on the embedding")                                  \
  X(int, kmeans_max_iter, "kmeans-max-iter", 300, "k-means iterations per restart")                                \
  X(std::uint64_t, seed, "seed", std::uint64_t{0}, "seed of the Lanczos start vector, HNSW and k-means")           \
  X(int, threads, "threads", 0, "worker threads (0: all cores)")

namespace neuncut {

/// Parameters of fit_spectral_clustering (see NEUNCUT_NCUT_PARAMS for each field's meaning and default).
struct SpectralClusteringParams {
  NEUNCUT_NCUT_PARAMS(NEUNCUT_PARAM_MEMBER)
};

/// The parameter table as data, for the CLI, Python bindings and docs.
const std::vector<ParamInfo<SpectralClusteringParams>>& ncut_param_table();

/// Throws InvalidArgument naming the first invalid solver field (k >= 1, ncv, tolerances, k-means).
void validate(const SpectralClusteringParams& params);

/// Spectra's CompInfo: how the Lanczos solver ended.
enum class SolverStatus { Successful, NotComputed, NotConverging, NumericalIssue };
NEUNCUT_ENUM_NAMES(SolverStatus, "solver status", {SolverStatus::Successful, "Successful"},
                   {SolverStatus::NotComputed, "NotComputed"}, {SolverStatus::NotConverging, "NotConverging"},
                   {SolverStatus::NumericalIssue, "NumericalIssue"})

/// The k leading eigenpairs of D^-1/2 W D^-1/2.
struct SpectralEigenResult {
  VectorD
      eigenvalues;  ///< k eigenvalues, largest first (fewer if not converged; c if the graph has c >= k components).
  MatrixF eigenvectors;  ///< N x k orthonormal eigenvectors, column j for eigenvalues[j] (N x c when c >= k).
  int known_eigenvectors =
      0;  ///< Leading eigenvectors known exactly: one per connected component with edges (eigenvalue 1).
  bool converged = false;                                  ///< Spectra reported CompInfo::Successful.
  SolverStatus solver_status = SolverStatus::NotComputed;  ///< Spectra's CompInfo.
  int restarts = 0;                                        ///< Lanczos restarts used.
  int matvecs = 0;                                         ///< Operator applications.
  int ncv = 0;                                             ///< Subspace size used.
  int isolated_points = 0;                                 ///< Rows of W with zero degree (they get a zero row in A).
  double seconds = 0;                                      ///< Wall time.
};

// Outcome of fit_spectral_clustering: X(type, name, default, doc).
#define NEUNCUT_NCUT_RESULT_FIELDS(X)                                                                              \
  X(::neuncut::Labels, labels, {}, "cluster of each point; EMPTY when the eigensolver did not converge")           \
  X(::neuncut::VectorD, eigenvalues, {}, "leading eigenvalues of D^-1/2 W D^-1/2, largest first")                  \
  X(::neuncut::MatrixF, embedding, {}, "N x k k-means input (normalized eigenvectors)")                            \
  X(bool, converged, false, "the eigensolver converged (k-means' own status is kmeans_converged)")                 \
  X(::neuncut::SolverStatus, solver_status, ::neuncut::SolverStatus::NotComputed, "Spectra's CompInfo")            \
  X(int, restarts, 0, "Lanczos restarts")                                                                          \
  X(int, matvecs, 0, "operator applications")                                                                      \
  X(int, n_components, 0, "connected components of the affinity graph clustered (1 is the normal case)")           \
  X(int, n_neighbors_used, 0,                                                                                      \
    "kNN degree of that graph: params.n_neighbors, or more when that graph had more than k components (0 for "     \
    "a precomputed affinity)")                                                                                     \
  X(int, isolated_points, 0, "points without any edge")                                                            \
  X(::neuncut::Index, n_edges, 0, "non-zeros of W (each undirected edge counted twice)")                           \
  X(::neuncut::KnnMethod, knn_method, ::neuncut::KnnMethod::Exact, "kNN algorithm actually used")                  \
  X(::neuncut::NcutSolver, solver, ::neuncut::NcutSolver::Exact, "solver actually used (exact or landmark)")       \
  X(int, n_landmarks, 0, "landmarks of the landmark solver (0 for the exact solver)")                              \
  X(int, landmark_neighbors_used, 0,                                                                               \
    "nearest landmarks per point in the landmark graph (more than params.landmark_neighbors when it was rebuilt)") \
  X(double, kmeans_inertia, 0.0, "inertia of the final k-means on the embedding")                                  \
  X(bool, kmeans_converged, false, "the k-means run converged")                                                    \
  X(std::vector<std::string>, warnings, {},                                                                        \
    "what the caller should know, one sentence each: not converged, disconnected graph, isolated points, "         \
    "rebuilt kNN graph, k-means not converged")                                                                    \
  X(double, knn_seconds, 0.0,                                                                                      \
    "wall time of the kNN graph (landmark solver: the landmarks and each point's nearest ones)")                   \
  X(double, affinity_seconds, 0.0, "wall time of the affinity (landmark solver: the p x p Gram matrix)")           \
  X(double, eigen_seconds, 0.0, "wall time of the eigensolver")                                                    \
  X(double, kmeans_seconds, 0.0, "wall time of k-means")                                                           \
  X(double, total_seconds, 0.0, "wall time in total")

/// Outcome of fit_spectral_clustering (see NEUNCUT_NCUT_RESULT_FIELDS).
struct SpectralClusteringResult {
  NEUNCUT_NCUT_RESULT_FIELDS(NEUNCUT_RESULT_MEMBER)
  /// The warnings joined by "; " (empty when there are none), as the CLI and Python show them.
  std::string message() const { return join_warnings(warnings); }
};
NEUNCUT_RESULT_FIELDS(SpectralClusteringResult, NEUNCUT_NCUT_RESULT_FIELDS)

/// Classic Ncut in the estimators' shape. It is transductive: it labels the rows it is given
/// and has no predict for new rows, so its one call is fit_predict.
class SpectralClustering {
 public:
  explicit SpectralClustering(SpectralClusteringParams params = {}) : params_(std::move(params)) {}
  /// fit_spectral_clustering(data, params()).
  SpectralClusteringResult fit_predict(const Eigen::Ref<const MatrixF>& data) const;
  const SpectralClusteringParams& params() const { return params_; }

 private:
  SpectralClusteringParams params_;
};

/// Clusters the rows of `data` (N x d, finite; L2-normalized first when params.normalize). Throws InvalidArgument
/// (naming the value) for empty data, NaN/Inf, k < 1, k >= N, n_neighbors < 1, an ncv outside (k, N], eigen_tol <= 0,
/// eigen_max_restarts < 1, kmeans_n_init < 1.
SpectralClusteringResult fit_spectral_clustering(const Eigen::Ref<const MatrixF>& data,
                                                 const SpectralClusteringParams& params);

/// The same on rows read through a RowAccess (a file: io/file_rows.hpp), with the same checks.
/// When the landmark solver is chosen (solver = landmark, or auto from kLandmarkSolverMinRows
/// rows) the rows are read a block at a time and never held whole (fit_landmark_spectral_clustering's
/// RowAccess overload: memory grows by about 130 bytes a row, not 4 d); the exact solver needs
/// every row in memory and gathers them first. Either way the result is the matrix overload's.
SpectralClusteringResult fit_spectral_clustering(const RowAccess& rows, const SpectralClusteringParams& params);

/// Whether fit_spectral_clustering uses the landmark solver for `rows` points.
bool uses_landmark_solver(const SpectralClusteringParams& params, Index rows);

/// Same from steps 3-4 on a precomputed affinity (N x N, symmetric, non-negative, finite;
/// the kNN, affinity and normalize fields of params are ignored).
SpectralClusteringResult fit_spectral_clustering(const SparseMatrixF& affinity, const SpectralClusteringParams& params);

/// Step 3 alone: the k leading eigenpairs of D^-1/2 W D^-1/2 (uses k, eigen_tol,
/// eigen_max_restarts, ncv, seed, threads of params).
SpectralEigenResult normalized_affinity_eigenvectors(const SparseMatrixF& affinity,
                                                     const SpectralClusteringParams& params);

/// D^-1/2 W D^-1/2 as an explicit sparse matrix (zero-degree rows stay zero); for tests and
/// inspection, the solver itself never builds it.
SparseMatrixF normalized_affinity(const SparseMatrixF& affinity);

}  // namespace neuncut
