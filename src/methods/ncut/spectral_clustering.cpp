#include "neuncut/methods/ncut/spectral_clustering.hpp"

#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/data_check.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/timing.hpp"
#include "kernels/pairwise_distance.hpp"
#include "methods/ncut/ncut_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/ncut/landmark_spectral_clustering.hpp"

namespace neuncut {
namespace {

using detail::Clock;
using detail::seconds_since;

// y = D^-1/2 W D^-1/2 x in double, one parallel pass over a CSR copy whose values are
// already scaled: Lanczos needs the extra precision (the top eigenvalues sit close to 1), and
// the copy costs one pass over W.
//
// Deflation: each connected component C with positive volume has the exact eigenvector
// v_C = D^1/2 1_C / sqrt(vol C) with eigenvalue 1. Lanczos from one start vector cannot
// resolve a repeated eigenvalue (it finds one vector of the eigenspace), so on a graph with c
// components it would return one indicator and then split a component. The operator therefore
// maps those known vectors to -2, below the spectrum [-1, 1]: y = A x - 3 sum_C v_C (v_C . x),
// and Lanczos looks only for the k - c remaining eigenpairs. The v_C have disjoint supports,
// so the projection costs O(N) whatever c is.
class NormalizedAffinityOp {
 public:
  using Scalar = double;

  // `comp`: the connected components of w (connected_components), found once by the caller.
  NormalizedAffinityOp(const SparseMatrixF& w, const Labels& comp, int threads) : n_(w.rows()), threads_(threads) {
    VectorD degree = VectorD::Zero(n_);
    for (Index i = 0; i < n_; ++i)
      for (SparseMatrixF::InnerIterator it(w, i); it; ++it) degree[i] += it.value();
    inv_sqrt_degree_.resize(n_);
    for (Index i = 0; i < n_; ++i) {
      inv_sqrt_degree_[i] = degree[i] > 0 ? 1.0 / std::sqrt(degree[i]) : 0.0;
      if (!(degree[i] > 0)) ++isolated_;
    }
    row_start_.assign(std::size_t(n_) + 1, 0);
    for (Index i = 0; i < n_; ++i) {
      for (SparseMatrixF::InnerIterator it(w, i); it; ++it) {
        col_.push_back(it.col());
        value_.push_back(inv_sqrt_degree_[i] * double(it.value()) * inv_sqrt_degree_[it.col()]);
      }
      row_start_[std::size_t(i) + 1] = Index(col_.size());
    }
    // Components with positive volume, renumbered 0..c-1 in order of their smallest node.
    std::vector<int> renumber;
    std::vector<double> volume;
    component_.assign(std::size_t(n_), -1);
    for (Index i = 0; i < n_; ++i) {
      if (!(degree[i] > 0)) continue;
      const std::size_t c = std::size_t(comp[std::size_t(i)]);
      if (c >= renumber.size()) renumber.resize(c + 1, -1);
      if (renumber[c] < 0) {
        renumber[c] = int(volume.size());
        volume.push_back(0);
      }
      component_[std::size_t(i)] = renumber[c];
      volume[std::size_t(renumber[c])] += degree[i];
    }
    num_components_ = int(volume.size());
    known_.resize(n_);
    for (Index i = 0; i < n_; ++i)
      known_[i] = component_[std::size_t(i)] >= 0
                      ? std::sqrt(degree[i] / volume[std::size_t(component_[std::size_t(i)])])
                      : 0.0;
  }

  Index rows() const { return n_; }
  Index cols() const { return n_; }
  void perform_op(const double* x, double* y) const {
    std::vector<double> proj(std::size_t(num_components_), 0.0);
    for (Index i = 0; i < n_; ++i)
      if (component_[std::size_t(i)] >= 0) proj[std::size_t(component_[std::size_t(i)])] += known_[i] * x[i];
    detail::parallel_blocks(n_, threads_, [&](Index lo, Index hi) {
      for (Index i = lo; i < hi; ++i) {
        double s = 0;
        for (Index p = row_start_[std::size_t(i)]; p < row_start_[std::size_t(i) + 1]; ++p)
          s += value_[std::size_t(p)] * x[col_[std::size_t(p)]];
        const int c = component_[std::size_t(i)];
        y[i] = c >= 0 ? s - 3.0 * known_[i] * proj[std::size_t(c)] : s;
      }
    });
  }
  int isolated() const { return isolated_; }
  /// Components with positive volume (each contributes one known eigenvector, eigenvalue 1).
  int num_components() const { return num_components_; }
  /// The known eigenvector of component c (N entries).
  VectorD known_vector(int c) const {
    VectorD v = VectorD::Zero(n_);
    for (Index i = 0; i < n_; ++i)
      if (component_[std::size_t(i)] == c) v[i] = known_[i];
    return v;
  }
  const VectorD& inv_sqrt_degree() const { return inv_sqrt_degree_; }

 private:
  Index n_;
  int threads_;
  int isolated_ = 0;
  int num_components_ = 0;
  VectorD inv_sqrt_degree_;
  std::vector<Index> row_start_;
  std::vector<Index> col_;
  std::vector<double> value_;
  std::vector<int> component_;  // -1 for isolated nodes
  VectorD known_;
};

SolverStatus solver_status_of(Spectra::CompInfo info) {
  switch (info) {
    case Spectra::CompInfo::Successful:
      return SolverStatus::Successful;
    case Spectra::CompInfo::NotComputed:
      return SolverStatus::NotComputed;
    case Spectra::CompInfo::NotConverging:
      return SolverStatus::NotConverging;
    case Spectra::CompInfo::NumericalIssue:
      return SolverStatus::NumericalIssue;
  }
  return SolverStatus::NumericalIssue;
}

int resolved_ncv(const SpectralClusteringParams& p, Index n) {
  if (p.ncv > 0) return p.ncv;
  return int(std::min<Index>(n, std::max(2 * p.n_clusters + 1, 20)));
}

// After the data check (which holds k < N): the Lanczos basis against N.
void validate_solver_params(const SpectralClusteringParams& p, Index n) {
  const int ncv = resolved_ncv(p, n);
  NEUNCUT_REQUIRE(ncv > p.n_clusters && Index(ncv) <= n, InvalidArgument, "ncut: ncv (", ncv,
                  ") must be in (k = ", p.n_clusters, ", N = ", n, "]");
}

// The check of a precomputed affinity, with k against its rows when k is given.
detail::DataCheck affinity_check(const SpectralClusteringParams& p) {
  detail::DataCheck check;
  check.who = "ncut";
  check.what = "affinity";
  check.k = p.n_clusters;
  check.k_below_points = true;  // the eigensolver needs ncv > k and ncv <= N
  return check;
}

// Parameters, then the affinity, then the solver against its size: each once.
void validate_affinity_input(const SparseMatrixF& w, const SpectralClusteringParams& p) {
  validate(p);
  detail::check_affinity(w, affinity_check(p));
  validate_solver_params(p, w.rows());
}

SpectralEigenResult eigenvectors_of_checked(const SparseMatrixF& affinity, const SpectralClusteringParams& params,
                                            const Labels& components);

void append(std::vector<std::string>& warnings, const std::string& part) { warnings.push_back(part); }

// `components`: the connected components of w, `n_components` of them.
SpectralClusteringResult cluster_affinity(const SparseMatrixF& w, const SpectralClusteringParams& p,
                                          const Labels& components, int n_components) {
  SpectralClusteringResult r;
  r.n_edges = w.nonZeros();
  r.n_components = n_components;
  const SpectralEigenResult eig = eigenvectors_of_checked(w, p, components);
  r.eigenvalues = eig.eigenvalues;
  r.converged = eig.converged;
  r.solver_status = eig.solver_status;
  r.restarts = eig.restarts;
  r.matvecs = eig.matvecs;
  r.isolated_points = eig.isolated_points;
  r.eigen_seconds = eig.seconds;
  if (r.n_components > 1)
    append(r.warnings, detail::concat("the affinity graph has ", r.n_components,
                                      " connected components: NJW splits along them first; raise n_neighbors to "
                                      "connect the graph"));
  if (r.isolated_points > 0)
    append(r.warnings, detail::concat(r.isolated_points,
                                      " points have no edge (their weights underflow); "
                                      "raise sigma or use self-tuning weights"));
  if (!eig.converged) {
    append(r.warnings, detail::concat("Lanczos did not converge (", eig.solver_status, ", ", eig.eigenvalues.size(),
                                      " of ", p.n_clusters, " eigenpairs after ", eig.restarts,
                                      " restarts): no labels; raise eigen_max_restarts, ncv or eigen_tol"));
    return r;
  }

  // Embedding: NJW row normalization or degree scaling.
  const Index n = w.rows();
  r.embedding = eig.eigenvectors;
  if (p.normalization == EmbeddingNormalization::Rows) {
    detail::normalize_embedding_rows(r.embedding);
  } else {
    VectorD deg(n);
    for (Index i = 0; i < n; ++i) {
      double d = 0;
      for (SparseMatrixF::InnerIterator it(w, i); it; ++it) d += it.value();
      deg[i] = d > 0 ? 1.0 / std::sqrt(d) : 0.0;
    }
    for (Index i = 0; i < n; ++i) r.embedding.row(i) *= float(deg[i]);
  }
  detail::cluster_embedding(p, r);
  return r;
}

// The kNN affinity of the data, rebuilt with twice the neighbours while it has more connected
// components than clusters. Every component takes one of the k leading eigenvectors (eigenvalue
// 1), so with c > k components the embedding holds nothing but component indicators and k-means
// can only group whole components: on LetterRecognition (k = 26) the kNN-10 graph has 31
// components, one of them 90% of the points, and Ncut's ACC fell to 0.10 (docs/quality.md).
// More neighbours join the small components to the rest through real, data-given edges (there
// 20 neighbours leave 9 components), so the eigenvectors go to the structure inside. Graphs with
// c <= k keep their components: then each can be a cluster (far apart blobs), and the deflation
// in NormalizedAffinityOp handles them exactly.
struct ConnectedKnnAffinity {
  SparseMatrixF w;
  Labels components;  // connected components of w
  int n_components = 0;
  int n_neighbors = 0;       // neighbours of the graph returned
  int first_components = 0;  // components of the graph with the first neighbour count tried
  KnnMethod knn_method = KnnMethod::Exact;
  double knn_seconds = 0, affinity_seconds = 0;
};

ConnectedKnnAffinity knn_affinity_with_at_most_k_components(const Eigen::Ref<const MatrixF>& data, int n_neighbors,
                                                            const SpectralClusteringParams& params) {
  // A bound on the rebuilds: 16 x the neighbours multiplies the kNN graph's memory by 16.
  constexpr int kMaxGrowth = 16;
  const int most = int(std::min<Index>(data.rows() - 1, Index(n_neighbors) * kMaxGrowth));
  AffinityParams ap;
  ap.kind = params.affinity;
  ap.sigma = params.sigma;
  ap.scale_neighbor = params.scale_neighbor;
  ap.symmetrize = params.symmetrize;
  KnnParams kp;
  kp.method = params.knn_method;
  kp.seed = params.seed;
  kp.threads = params.threads;
  ConnectedKnnAffinity out;
  for (int m = n_neighbors;; m = std::min(2 * m, most)) {
    kp.n_neighbors = m;
    const KnnGraph graph = knn_graph(data, kp);
    const auto t = Clock::now();
    out.w = knn_affinity(graph, ap);
    out.affinity_seconds += seconds_since(t);
    out.knn_seconds += graph.seconds;
    out.knn_method = graph.method;
    out.n_neighbors = m;
    out.n_components = connected_components(out.w, &out.components);
    if (m == n_neighbors) out.first_components = out.n_components;
    if (out.n_components <= params.n_clusters || m >= most) return out;
  }
}

}  // namespace

namespace detail {
DataCheck ncut_data_check(const SpectralClusteringParams& params) {
  DataCheck check = affinity_check(params);
  check.what = "data";
  check.min_points = 2;
  check.min_points_reason = "a graph";
  check.threads = params.threads;
  return check;
}

void normalize_embedding_rows(MatrixF& embedding) {
  for (Index i = 0; i < embedding.rows(); ++i) {
    const float norm = embedding.row(i).norm();
    if (norm > 0) embedding.row(i) /= norm;
  }
}

void cluster_embedding(const SpectralClusteringParams& p, SpectralClusteringResult& r) {
  const auto t = Clock::now();
  KMeansParams kp;
  kp.n_clusters = p.n_clusters;
  kp.normalize = false;
  kp.n_init = p.kmeans_n_init;
  kp.max_iter = p.kmeans_max_iter;
  kp.seed = Rng(p.seed).split();
  kp.threads = p.threads;
  kp.sample = r.embedding.rows();  // restarts on every row of the embedding, at any size
  KMeansResult km = fit_kmeans(r.embedding, kp);
  r.labels = std::move(km.labels);
  r.kmeans_inertia = km.inertia;
  r.kmeans_converged = km.converged;
  for (const std::string& w : km.warnings) r.warnings.push_back("k-means: " + w);
  r.kmeans_seconds = seconds_since(t);
}
}  // namespace detail

const std::vector<ParamInfo<SpectralClusteringParams>>& ncut_param_table() {
  using ParamsType = SpectralClusteringParams;
  static const std::vector<ParamInfo<SpectralClusteringParams>> table = {NEUNCUT_NCUT_PARAMS(NEUNCUT_PARAM_INFO)};
  return table;
}

void validate(const SpectralClusteringParams& p) {
  NEUNCUT_REQUIRE(p.n_clusters >= 1, InvalidArgument, "ncut: k must be >= 1, got ", p.n_clusters);
  NEUNCUT_REQUIRE(p.ncv >= 0, InvalidArgument, "ncut: ncv must be >= 0, got ", p.ncv);
  NEUNCUT_REQUIRE(p.eigen_tol > 0 && std::isfinite(p.eigen_tol), InvalidArgument,
                  "ncut: eigen_tol must be finite and > 0, got ", p.eigen_tol);
  NEUNCUT_REQUIRE(p.eigen_max_restarts >= 1, InvalidArgument, "ncut: eigen_max_restarts must be >= 1, got ",
                  p.eigen_max_restarts);
  NEUNCUT_REQUIRE(p.kmeans_n_init >= 1, InvalidArgument, "ncut: kmeans_n_init must be >= 1, got ", p.kmeans_n_init);
  NEUNCUT_REQUIRE(p.kmeans_max_iter >= 1, InvalidArgument, "ncut: kmeans_max_iter must be >= 1, got ",
                  p.kmeans_max_iter);
  NEUNCUT_REQUIRE(p.landmarks >= 2, InvalidArgument, "ncut: landmarks must be >= 2, got ", p.landmarks);
  NEUNCUT_REQUIRE(p.landmark_neighbors >= 1, InvalidArgument, "ncut: landmark_neighbors must be >= 1, got ",
                  p.landmark_neighbors);
}

SparseMatrixF normalized_affinity(const SparseMatrixF& affinity) {
  detail::DataCheck check;
  check.who = "ncut";
  check.what = "affinity";
  detail::check_affinity(affinity, check);
  Labels components;
  connected_components(affinity, &components);
  const NormalizedAffinityOp op(affinity, components, 1);
  SparseMatrixF a = affinity;
  for (Index i = 0; i < a.outerSize(); ++i)
    for (SparseMatrixF::InnerIterator it(a, i); it; ++it)
      it.valueRef() = float(op.inv_sqrt_degree()[i] * double(it.value()) * op.inv_sqrt_degree()[it.col()]);
  return a;
}

SpectralEigenResult normalized_affinity_eigenvectors(const SparseMatrixF& affinity,
                                                     const SpectralClusteringParams& params) {
  validate_affinity_input(affinity, params);
  Labels components;
  connected_components(affinity, &components);
  return eigenvectors_of_checked(affinity, params, components);
}

namespace {
SpectralEigenResult eigenvectors_of_checked(const SparseMatrixF& affinity, const SpectralClusteringParams& params,
                                            const Labels& components) {
  const auto start = Clock::now();
  detail::ThreadCountScope scope(params.threads);
  const Index n = affinity.rows();
  NormalizedAffinityOp op(affinity, components, params.threads);
  SpectralEigenResult r;
  r.ncv = resolved_ncv(params, n);
  r.isolated_points = op.isolated();

  const int known = op.num_components();
  r.known_eigenvectors = known;
  if (known >= params.n_clusters) {
    // Eigenvalue 1 has multiplicity >= k: the top-k eigenspace is not unique, so return every
    // component's vector and let k-means group the components. That embedding is N x
    // components: refuse it when it would not fit in memory (data with many exact or near
    // duplicates breaks a kNN graph into thousands of small components).
    constexpr double kMaxEmbeddingEntries = double(1 << 28);  // 1 GiB of floats
    NEUNCUT_REQUIRE(double(n) * double(known) <= kMaxEmbeddingEntries, InvalidArgument, "ncut: the affinity graph has ",
                    known, " connected components for ", n,
                    " points; an embedding of one vector per component would take ",
                    double(n) * double(known) * 4.0 / double(1 << 30),
                    " GiB. Raise n_neighbors (near-duplicate points can disconnect a kNN graph)");
    r.eigenvalues = VectorD::Ones(known);
    r.eigenvectors.resize(n, known);
    for (int c = 0; c < known; ++c) r.eigenvectors.col(c) = op.known_vector(c).cast<float>();
    r.converged = true;
    r.solver_status = SolverStatus::Successful;
    r.seconds = seconds_since(start);
    return r;
  }
  const int nev = params.n_clusters - known;
  Spectra::SymEigsSolver<NormalizedAffinityOp> eigs(op, nev, r.ncv);
  detail::Rng rng(params.seed);
  VectorD init(n);
  for (Index i = 0; i < n; ++i) init[i] = rng.uniform(-0.5, 0.5);
  eigs.init(init.data());
  eigs.compute(Spectra::SortRule::LargestAlge, params.eigen_max_restarts, params.eigen_tol,
               Spectra::SortRule::LargestAlge);
  r.converged = eigs.info() == Spectra::CompInfo::Successful;
  r.solver_status = solver_status_of(eigs.info());
  r.restarts = int(eigs.num_iterations());
  r.matvecs = int(eigs.num_operations());
  const VectorD found = eigs.eigenvalues();
  const MatrixD vectors = eigs.eigenvectors();
  r.eigenvalues.resize(known + found.size());
  r.eigenvectors.resize(n, known + found.size());
  for (int c = 0; c < known; ++c) {
    r.eigenvalues[c] = 1.0;
    r.eigenvectors.col(c) = op.known_vector(c).cast<float>();
  }
  r.eigenvalues.tail(found.size()) = found;
  r.eigenvectors.rightCols(found.size()) = vectors.cast<float>();
  r.seconds = seconds_since(start);
  return r;
}
}  // namespace

SpectralClusteringResult fit_spectral_clustering(const SparseMatrixF& affinity,
                                                 const SpectralClusteringParams& params) {
  const auto start = Clock::now();
  validate_affinity_input(affinity, params);
  Labels components;
  const int n_components = connected_components(affinity, &components);
  SpectralClusteringResult r = cluster_affinity(affinity, params, components, n_components);
  r.total_seconds = seconds_since(start);
  return r;
}

namespace {
// The parameter checks of fit_spectral_clustering on n rows, after validate().
void validate_fit_params(const SpectralClusteringParams& params, Index n) {
  validate_solver_params(params, n);
  NEUNCUT_REQUIRE(params.n_neighbors >= 1, InvalidArgument, "ncut: n_neighbors must be >= 1, got ", params.n_neighbors);
  NEUNCUT_REQUIRE(params.scale_neighbor >= 1, InvalidArgument, "ncut: scale_neighbor must be >= 1, got ",
                  params.scale_neighbor);
  NEUNCUT_REQUIRE(std::isfinite(params.sigma), InvalidArgument, "ncut: sigma must be finite, got ", params.sigma);
}
}  // namespace

bool uses_landmark_solver(const SpectralClusteringParams& params, Index rows) {
  return params.solver == NcutSolver::Landmark || (params.solver == NcutSolver::Auto && rows >= kLandmarkSolverMinRows);
}

SpectralClusteringResult fit_spectral_clustering(const RowAccess& rows, const SpectralClusteringParams& params) {
  const auto start = Clock::now();
  if (!uses_landmark_solver(params, rows.rows())) {
    std::vector<Index> all(static_cast<std::size_t>(rows.rows()));
    std::iota(all.begin(), all.end(), Index(0));
    return fit_spectral_clustering(rows.gather(all), params);
  }
  detail::check_data_shape(rows.rows(), rows.cols(), detail::ncut_data_check(params));
  validate(params);
  validate_fit_params(params, rows.rows());
  SpectralClusteringResult r = fit_landmark_spectral_clustering(rows, params);
  r.total_seconds = seconds_since(start);
  return r;
}

SpectralClusteringResult fit_spectral_clustering(const Eigen::Ref<const MatrixF>& input,
                                                 const SpectralClusteringParams& params) {
  const auto start = Clock::now();
  detail::check_data(input, detail::ncut_data_check(params));  // NaN or Inf is named first, whatever else is wrong
  validate(params);
  validate_fit_params(params, input.rows());
  // A point has at most N - 1 neighbours: with fewer points than the default degree the graph
  // connects every pair (a 10-point data set with the defaults was refused).
  const Index n_neighbors = std::min<Index>(params.n_neighbors, input.rows() - 1);
  if (uses_landmark_solver(params, input.rows())) {
    SpectralClusteringResult r = detail::landmark_spectral_clustering_of_checked(input, params);
    r.total_seconds = seconds_since(start);
    return r;
  }
  MatrixF normalized;
  if (params.normalize) {
    Preprocessor pre(FeatureScaling::None, true);
    pre.fit(input);
    normalized = pre.transform(input);
  }
  const Eigen::Ref<const MatrixF> data = params.normalize ? Eigen::Ref<const MatrixF>(normalized) : input;

  const ConnectedKnnAffinity g = knn_affinity_with_at_most_k_components(data, int(n_neighbors), params);
  // The graph built here is checked as a given one is (weights that underflow or overflow).
  detail::DataCheck graph_check;
  graph_check.who = "ncut";
  graph_check.what = "affinity";
  detail::check_affinity(g.w, graph_check);
  SpectralClusteringResult r = cluster_affinity(g.w, params, g.components, g.n_components);
  r.knn_method = g.knn_method;
  r.knn_seconds = g.knn_seconds;
  r.affinity_seconds = g.affinity_seconds;
  r.n_neighbors_used = g.n_neighbors;
  if (n_neighbors < params.n_neighbors)
    append(r.warnings, detail::concat("n_neighbors ", params.n_neighbors, " lowered to N - 1 = ", n_neighbors));
  if (g.n_neighbors != n_neighbors)
    append(r.warnings, detail::concat("the kNN graph with ", n_neighbors, " neighbours had ", g.first_components,
                                      " connected components for k = ", params.n_clusters, "; rebuilt with ",
                                      g.n_neighbors, " neighbours (", r.n_components, " components)"));
  r.total_seconds = seconds_since(start);
  return r;
}

SpectralClusteringResult SpectralClustering::fit_predict(const Eigen::Ref<const MatrixF>& data) const {
  return fit_spectral_clustering(data, params_);
}

}  // namespace neuncut
