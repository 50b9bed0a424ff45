#include "neuncut/graph/knn.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include <Eigen/Eigenvalues>
#include "core/data_check.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "kernels/pairwise_distance.hpp"
#include "neuncut/core/error.hpp"

#ifdef NEUNCUT_HAVE_HNSWLIB
// hnswlib's SSE code path (0.6.2, and upstream to date: nmslib/hnswlib issues 107 and 578)
// prefetches the neighbour after the last one in searchBaseLayer by reading the id one past a
// full upper-layer link list, a 4-byte heap over-read that AddressSanitizer reports during
// parallel insertion. Without it there is no over-read; the distance it also vectorized is
// supplied by EigenL2Space below, so only the prefetch hints are lost.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>
#endif

namespace neuncut {
namespace {

constexpr Index kKnnTileRows = 1024;
constexpr std::int32_t kNoIndex = std::numeric_limits<std::int32_t>::max();

using IndexMatrix = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Running top-m lists of every point, sorted by (distance, index); the index breaks ties so
// that merging lists gives the same result for any split of the work.
struct TopLists {
  Index m;
  std::vector<float> dist;
  std::vector<std::int32_t> idx;
  TopLists(Index n, Index m_)
      : m(m_), dist(std::size_t(n * m_), std::numeric_limits<float>::infinity()), idx(std::size_t(n * m_), kNoIndex) {}
  float worst(Index i) const { return dist[std::size_t(i * m + m - 1)]; }
  void offer(Index i, float d, std::int32_t j) {
    float* dd = dist.data() + i * m;
    std::int32_t* ii = idx.data() + i * m;
    if (d > dd[m - 1] || (d == dd[m - 1] && j >= ii[m - 1])) return;
    Index p = m - 1;
    while (p > 0 && (d < dd[p - 1] || (d == dd[p - 1] && j < ii[p - 1]))) {
      dd[p] = dd[p - 1];
      ii[p] = ii[p - 1];
      --p;
    }
    dd[p] = d;
    ii[p] = j;
  }
};

void validate(const Eigen::Ref<const MatrixF>& data, int n_neighbors, int threads) {
  detail::DataCheck check;
  check.who = "knn";
  check.threads = threads;
  detail::check_data(data, check);
  NEUNCUT_REQUIRE(data.rows() <= Index(std::numeric_limits<std::int32_t>::max()), InvalidArgument,
                  "knn: too many points (", data.rows(), "); at most 2^31 - 1");
  NEUNCUT_REQUIRE(n_neighbors >= 1, InvalidArgument, "knn: n_neighbors must be >= 1, got ", n_neighbors);
  NEUNCUT_REQUIRE(Index(n_neighbors) < data.rows(), InvalidArgument, "knn: n_neighbors (", n_neighbors,
                  ") must be smaller than the number of points (", data.rows(), ")");
}

// Exact distances for the chosen neighbours, then sorted by (distance, index).
void refine_and_sort(const Eigen::Ref<const MatrixF>& data, KnnGraph& g, int threads) {
  const Index m = g.indices.cols();
  detail::parallel_blocks(g.indices.rows(), threads, [&](Index lo, Index hi) {
    std::vector<std::pair<float, std::int32_t>> row(static_cast<std::size_t>(m));
    for (Index i = lo; i < hi; ++i) {
      for (Index c = 0; c < m; ++c) {
        const std::int32_t j = g.indices(i, c);
        row[std::size_t(c)] = {(data.row(i) - data.row(j)).norm(), j};
      }
      std::sort(row.begin(), row.end());
      for (Index c = 0; c < m; ++c) {
        g.distances(i, c) = row[std::size_t(c)].first;
        g.indices(i, c) = row[std::size_t(c)].second;
      }
    }
  });
}

// Brute-force top-m lists over the rows of `data`; the distances of the result are then
// recomputed (and the lists re-sorted) on `refine_data`, the same matrix for an exact graph,
// the full-dimensional rows when `data` is their projection.
KnnGraph exact_impl(const Eigen::Ref<const MatrixF>& data, const Eigen::Ref<const MatrixF>& refine_data, int m,
                    int threads) {
  const Index n = data.rows();
  threads = detail::resolve_threads(threads);
  const VectorF norms = detail::squared_row_norms(data, threads);
  const Index tiles = (n + kKnnTileRows - 1) / kKnnTileRows;
  std::vector<std::pair<Index, Index>> pairs;
  for (Index a = 0; a < tiles; ++a)
    for (Index b = a; b < tiles; ++b) pairs.emplace_back(a, b);
  const Index workers = std::max<Index>(1, std::min<Index>(threads, Index(pairs.size())));
  std::vector<TopLists> lists(static_cast<std::size_t>(workers), TopLists(n, m));

  detail::parallel_for(0, workers, threads, [&](Index w) {
    TopLists& top = lists[std::size_t(w)];
    MatrixF dots;
    for (std::size_t p = std::size_t(w); p < pairs.size(); p += std::size_t(workers)) {
      const auto [a, b] = pairs[p];
      const Index a0 = a * kKnnTileRows, na = std::min(kKnnTileRows, n - a0);
      const Index b0 = b * kKnnTileRows, nb = std::min(kKnnTileRows, n - b0);
      dots.resize(na, nb);
      dots.noalias() = data.middleRows(a0, na) * data.middleRows(b0, nb).transpose();
      for (Index r = 0; r < na; ++r) {
        const Index i = a0 + r;
        const float ni = norms[i];
        const Index c_begin = a == b ? r + 1 : 0;  // diagonal tile: each pair once, never (i, i)
        for (Index c = c_begin; c < nb; ++c) {
          const Index j = b0 + c;
          const float d = std::max(0.0f, ni + norms[j] - 2.0f * dots(r, c));
          if (d <= top.worst(i)) top.offer(i, d, std::int32_t(j));
          if (d <= top.worst(j)) top.offer(j, d, std::int32_t(i));
        }
      }
    }
  });

  KnnGraph g;
  g.indices.resize(n, m);
  g.distances.resize(n, m);
  detail::parallel_blocks(n, threads, [&](Index lo, Index hi) {
    TopLists merged(1, m);
    for (Index i = lo; i < hi; ++i) {
      std::fill(merged.dist.begin(), merged.dist.end(), std::numeric_limits<float>::infinity());
      std::fill(merged.idx.begin(), merged.idx.end(), kNoIndex);
      for (const TopLists& t : lists)
        for (Index c = 0; c < m; ++c) merged.offer(0, t.dist[std::size_t(i * m + c)], t.idx[std::size_t(i * m + c)]);
      for (Index c = 0; c < m; ++c) g.indices(i, c) = merged.idx[std::size_t(c)];
    }
  });
  refine_and_sort(refine_data, g, threads);
  g.method = KnnMethod::Exact;
  return g;
}

// Candidates from a PCA projection, exact distances among them. The principal axes come
// from a seeded sample of at most 20,000 rows (covariance in double); every row is
// projected onto the leading `projection_dims` axes, the `projection_candidates` nearest
// points in that space are found by brute force (a GEMM of width projection_dims instead of
// d), and they are re-ranked by their exact distances in the full space. A true neighbour is
// missed only when the dropped dimensions push it out of the candidate list.
KnnGraph projected_impl(const Eigen::Ref<const MatrixF>& data, const KnnParams& p, int threads) {
  const Index n = data.rows(), d = data.cols(), r = std::min<Index>(p.projection_dims, d);
  const Index sample_size = std::min<Index>(n, 20000);
  detail::Rng rng(p.seed);
  const auto rows = rng.sample_without_replacement(n, sample_size);
  MatrixF sample(sample_size, d);
  for (Index i = 0; i < sample_size; ++i) sample.row(i) = data.row(rows[std::size_t(i)]);
  const Eigen::RowVectorXf mean = sample.colwise().mean();
  sample.rowwise() -= mean;
  MatrixF covariance;
  {
    detail::ThreadCountScope scope(threads);
    covariance.noalias() = sample.transpose() * sample;
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(covariance.cast<double>());
  NEUNCUT_REQUIRE(eig.info() == Eigen::Success, Error, "knn: PCA of the projection sample failed");
  const MatrixF axes = eig.eigenvectors().rightCols(r).cast<float>();  // d x r, eigenvalues ascend
  MatrixF projected(n, r);
  detail::parallel_blocks(n, threads, [&](Index lo, Index hi) {
    projected.middleRows(lo, hi - lo).noalias() = (data.middleRows(lo, hi - lo).rowwise() - mean) * axes;
  });
  const int candidates = int(std::min<Index>(n - 1, std::max(p.projection_candidates, p.n_neighbors)));
  KnnGraph g = exact_impl(projected, data, candidates, threads);
  g.indices = g.indices.leftCols(p.n_neighbors).eval();
  g.distances = g.distances.leftCols(p.n_neighbors).eval();
  g.method = KnnMethod::Projected;
  return g;
}

#ifdef NEUNCUT_HAVE_HNSWLIB
// Squared Euclidean distance for hnswlib, vectorized by Eigen for every dimension (hnswlib's
// own SIMD kernels are compiled out with its prefetches, see the include above).
class EigenL2Space : public hnswlib::SpaceInterface<float> {
 public:
  explicit EigenL2Space(std::size_t dim) : dim_(dim) {}
  std::size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  static float distance(const void* a, const void* b, const void* dim) {
    const Index d = static_cast<Index>(*static_cast<const std::size_t*>(dim));
    const Eigen::Map<const VectorF> x(static_cast<const float*>(a), d), y(static_cast<const float*>(b), d);
    return (x - y).squaredNorm();
  }
  std::size_t dim_;
};

KnnGraph hnsw_impl(const Eigen::Ref<const MatrixF>& data, const KnnParams& p) {
  const Index n = data.rows(), m = p.n_neighbors;
  EigenL2Space space(static_cast<std::size_t>(data.cols()));
  hnswlib::HierarchicalNSW<float> index(&space, static_cast<std::size_t>(n), static_cast<std::size_t>(p.hnsw_m),
                                        static_cast<std::size_t>(p.hnsw_ef_construction),
                                        static_cast<std::size_t>(p.seed));
  // The first point sets the entry point; inserting it alone avoids hnswlib's race on it.
  index.addPoint(data.row(0).data(), 0);
  detail::parallel_for(1, n, p.threads,
                       [&](Index i) { index.addPoint(data.row(i).data(), static_cast<std::size_t>(i)); });
  index.setEf(static_cast<std::size_t>(std::max<Index>(p.hnsw_ef_search, m + 1)));

  KnnGraph g;
  g.indices.resize(n, m);
  g.distances.resize(n, m);
  detail::parallel_for(0, n, p.threads, [&](Index i) {
    auto heap = index.searchKnn(data.row(i).data(), static_cast<std::size_t>(m + 1));
    std::vector<std::pair<float, std::int32_t>> found;
    while (!heap.empty()) {
      if (Index(heap.top().second) != i) found.emplace_back(heap.top().first, std::int32_t(heap.top().second));
      heap.pop();
    }
    NEUNCUT_REQUIRE(Index(found.size()) >= m, Error, "knn: HNSW returned ", found.size(), " neighbours of point ", i,
                    ", expected ", m, "; raise hnsw_ef_search");
    std::sort(found.begin(), found.end());
    for (Index c = 0; c < m; ++c) g.indices(i, c) = found[std::size_t(c)].second;
  });
  refine_and_sort(data, g, p.threads);
  g.method = KnnMethod::Hnsw;
  return g;
}
#endif

}  // namespace

bool hnsw_available() {
#ifdef NEUNCUT_HAVE_HNSWLIB
  return true;
#else
  return false;
#endif
}

KnnGraph knn_graph(const Eigen::Ref<const MatrixF>& data, const KnnParams& params) {
  const auto start = std::chrono::steady_clock::now();
  validate(data, params.n_neighbors, params.threads);
  KnnMethod method = params.method;
  if (method == KnnMethod::Auto) {
    if (data.rows() > params.exact_max_points && hnsw_available()) method = KnnMethod::Hnsw;
    else if (data.cols() > 2 * params.projection_dims) method = KnnMethod::Projected;
    else method = KnnMethod::Exact;
  }
  KnnGraph g;
  if (method == KnnMethod::Hnsw) {
    NEUNCUT_REQUIRE(hnsw_available(), InvalidArgument, "knn: this build has no HNSW backend (hnswlib not found)");
    NEUNCUT_REQUIRE(params.hnsw_m >= 2, InvalidArgument, "knn: hnsw_m must be >= 2, got ", params.hnsw_m);
    NEUNCUT_REQUIRE(params.hnsw_ef_construction >= 1, InvalidArgument, "knn: hnsw_ef_construction must be >= 1, got ",
                    params.hnsw_ef_construction);
    NEUNCUT_REQUIRE(params.hnsw_ef_search >= 1, InvalidArgument, "knn: hnsw_ef_search must be >= 1, got ",
                    params.hnsw_ef_search);
#ifdef NEUNCUT_HAVE_HNSWLIB
    detail::ThreadCountScope scope(params.threads);
    g = hnsw_impl(data, params);
#endif
  } else if (method == KnnMethod::Projected) {
    NEUNCUT_REQUIRE(params.projection_dims >= 1, InvalidArgument, "knn: projection_dims must be >= 1, got ",
                    params.projection_dims);
    NEUNCUT_REQUIRE(params.projection_candidates >= 1, InvalidArgument, "knn: projection_candidates must be >= 1, got ",
                    params.projection_candidates);
    const int threads = detail::resolve_threads(params.threads);
    detail::ThreadCountScope scope(1);  // GEMMs run inside our own parallel loops
    g = projected_impl(data, params, threads);
  } else {
    detail::ThreadCountScope scope(1);  // GEMMs run inside our own parallel loop
    g = exact_impl(data, data, params.n_neighbors, params.threads);
  }
  g.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return g;
}

KnnGraph knn_exact(const Eigen::Ref<const MatrixF>& data, int n_neighbors, int threads) {
  KnnParams p;
  p.n_neighbors = n_neighbors;
  p.method = KnnMethod::Exact;
  p.threads = threads;
  return knn_graph(data, p);
}

double knn_recall(const KnnGraph& approximate, const KnnGraph& exact) {
  NEUNCUT_REQUIRE(approximate.indices.rows() == exact.indices.rows() &&
                      approximate.indices.cols() == exact.indices.cols() && exact.indices.size() > 0,
                  InvalidArgument, "knn_recall: graphs differ in shape (", approximate.indices.rows(), " x ",
                  approximate.indices.cols(), " vs ", exact.indices.rows(), " x ", exact.indices.cols(), ")");
  Index hits = 0;
  const Index m = exact.indices.cols();
  for (Index i = 0; i < exact.indices.rows(); ++i)
    for (Index c = 0; c < m; ++c)
      for (Index a = 0; a < m; ++a)
        if (approximate.indices(i, a) == exact.indices(i, c)) {
          ++hits;
          break;
        }
  return double(hits) / double(exact.indices.size());
}

}  // namespace neuncut
