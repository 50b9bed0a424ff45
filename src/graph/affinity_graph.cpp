#include "neuncut/graph/affinity_graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/parallel.hpp"
#include "kernels/pairwise_distance.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/graph/knn.hpp"

namespace neuncut {
namespace {

Index scale_column(const KnnGraph& graph, const AffinityParams& params) {
  return std::min<Index>(params.scale_neighbor, graph.indices.cols()) - 1;
}

void validate(const KnnGraph& graph, const AffinityParams& params) {
  NEUNCUT_REQUIRE(graph.indices.rows() > 0 && graph.indices.cols() > 0 &&
                      graph.distances.rows() == graph.indices.rows() && graph.distances.cols() == graph.indices.cols(),
                  InvalidArgument, "knn_affinity: the kNN graph is empty or inconsistent (", graph.indices.rows(),
                  " x ", graph.indices.cols(), " indices, ", graph.distances.rows(), " x ", graph.distances.cols(),
                  " distances)");
  NEUNCUT_REQUIRE(params.scale_neighbor >= 1, InvalidArgument, "knn_affinity: scale_neighbor must be >= 1, got ",
                  params.scale_neighbor);
  NEUNCUT_REQUIRE(std::isfinite(params.sigma), InvalidArgument, "knn_affinity: sigma must be finite, got ",
                  params.sigma);
}

}  // namespace

double gaussian_sigma(const KnnGraph& graph, const AffinityParams& params) {
  validate(graph, params);
  if (params.sigma > 0) return params.sigma;
  const Index s = scale_column(graph, params);
  std::vector<float> d(static_cast<std::size_t>(graph.distances.rows()));
  for (Index i = 0; i < graph.distances.rows(); ++i) d[std::size_t(i)] = graph.distances(i, s);
  auto mid = d.begin() + std::ptrdiff_t(d.size() / 2);
  std::nth_element(d.begin(), mid, d.end());
  double sigma = *mid;
  if (!(sigma > 0)) {  // more than half the points have duplicates: fall back to the largest kNN distance
    sigma = graph.distances.maxCoeff();
  }
  return sigma > 0 ? sigma : 1.0;
}

SparseMatrixF knn_affinity(const KnnGraph& graph, const AffinityParams& params) {
  validate(graph, params);
  const Index n = graph.indices.rows(), m = graph.indices.cols();
  VectorD sigma;  // SelfTuning: per point
  double global = 1;
  if (params.kind == AffinityKind::SelfTuning) {
    const Index s = scale_column(graph, params);
    sigma = graph.distances.col(s).cast<double>();
    double smallest = std::numeric_limits<double>::infinity();
    for (Index i = 0; i < n; ++i)
      if (sigma[i] > 0) smallest = std::min(smallest, sigma[i]);
    if (!std::isfinite(smallest)) smallest = 1;
    for (Index i = 0; i < n; ++i)
      if (!(sigma[i] > 0)) sigma[i] = smallest;
  } else if (params.kind == AffinityKind::Gaussian) {
    global = gaussian_sigma(graph, params);
  }

  const double half = params.symmetrize == Symmetrization::Average ? 0.5 : 1.0;
  std::vector<Eigen::Triplet<float>> triplets;
  triplets.reserve(std::size_t(2 * n * m));
  for (Index i = 0; i < n; ++i)
    for (Index c = 0; c < m; ++c) {
      const Index j = graph.indices(i, c);
      NEUNCUT_REQUIRE(j >= 0 && j < n && j != i, InvalidArgument, "knn_affinity: invalid neighbour index ", j,
                      " of point ", i);
      const double d2 = double(graph.distances(i, c)) * double(graph.distances(i, c));
      double w = 1;
      if (params.kind == AffinityKind::Gaussian) w = std::exp(-d2 / (2 * global * global));
      if (params.kind == AffinityKind::SelfTuning) w = std::exp(-d2 / (sigma[i] * sigma[j]));
      const float wf = float(w * half);
      if (!(wf > 0)) continue;  // underflow: no edge
      triplets.emplace_back(std::int32_t(i), std::int32_t(j), wf);
      triplets.emplace_back(std::int32_t(j), std::int32_t(i), wf);
    }
  SparseMatrixF w(n, n);
  if (params.symmetrize == Symmetrization::Average) {
    w.setFromTriplets(triplets.begin(), triplets.end());
  } else {
    w.setFromTriplets(triplets.begin(), triplets.end(), [](float a, float b) { return std::max(a, b); });
  }
  w.makeCompressed();
  return w;
}

int connected_components(const SparseMatrixF& affinity, Labels* component) {
  NEUNCUT_REQUIRE(affinity.rows() == affinity.cols(), InvalidArgument,
                  "connected_components: the affinity must be square, got ", affinity.rows(), " x ", affinity.cols());
  const Index n = affinity.rows();
  Labels comp(static_cast<std::size_t>(n), -1);
  std::vector<Index> stack;
  int count = 0;
  for (Index s = 0; s < n; ++s) {
    if (comp[std::size_t(s)] >= 0) continue;
    comp[std::size_t(s)] = count;
    stack.push_back(s);
    while (!stack.empty()) {
      const Index u = stack.back();
      stack.pop_back();
      for (SparseMatrixF::InnerIterator it(affinity, u); it; ++it) {
        if (it.value() == 0) continue;
        const Index v = it.col();
        if (comp[std::size_t(v)] < 0) {
          comp[std::size_t(v)] = count;
          stack.push_back(v);
        }
      }
    }
    ++count;
  }
  if (component) *component = std::move(comp);
  return count;
}

MatrixF knn_batch_affinity(const Eigen::Ref<const MatrixF>& batch, int n_neighbors, const AffinityParams& params) {
  const Index m = batch.rows();
  NEUNCUT_REQUIRE(m >= 2 && batch.cols() > 0, InvalidArgument,
                  "knn_batch_affinity: the batch needs at least 2 rows and 1 column, got ", m, " x ", batch.cols());
  NEUNCUT_REQUIRE(n_neighbors >= 1 && Index(n_neighbors) < m, InvalidArgument,
                  "knn_batch_affinity: n_neighbors must be in [1, batch size - 1 = ", m - 1, "], got ", n_neighbors);
  NEUNCUT_REQUIRE(batch.allFinite(), InvalidArgument, "knn_batch_affinity: the batch contains NaN or Inf values");
  const VectorF norms = batch.rowwise().squaredNorm();
  MatrixF dots(m, m);
  dots.noalias() = batch * batch.transpose();
  KnnGraph g;
  g.indices.resize(m, n_neighbors);
  g.distances.resize(m, n_neighbors);
  std::vector<std::pair<float, std::int32_t>> row(static_cast<std::size_t>(m - 1));
  for (Index i = 0; i < m; ++i) {
    std::size_t p = 0;
    for (Index j = 0; j < m; ++j)
      if (j != i) row[p++] = {std::max(0.0f, norms[i] + norms[j] - 2.0f * dots(i, j)), std::int32_t(j)};
    std::partial_sort(row.begin(), row.begin() + n_neighbors, row.end());
    for (Index c = 0; c < n_neighbors; ++c) {
      g.indices(i, c) = row[std::size_t(c)].second;
      g.distances(i, c) = std::sqrt(row[std::size_t(c)].first);
    }
  }
  return MatrixF(knn_affinity(g, params));
}

}  // namespace neuncut
