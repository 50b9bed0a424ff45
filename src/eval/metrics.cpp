// External clustering metrics (ACC, NMI, ARI) and the discrete Ncut value. NMI and ARI
// follow scikit-learn's normalized_mutual_info_score and adjusted_rand_score, including
// their conventions for degenerate partitions.
#include "neuncut/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

#include "neuncut/core/error.hpp"

namespace neuncut {

namespace {

// Labels renumbered 0..k-1 in order of first appearance.
struct Remapped {
  std::vector<std::int32_t> codes;
  int k = 0;
};

Remapped remap(std::span<const std::int32_t> labels) {
  Remapped out;
  out.codes.resize(labels.size());
  std::unordered_map<std::int32_t, std::int32_t> ids;
  ids.reserve(64);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto [it, inserted] = ids.try_emplace(labels[i], out.k);
    if (inserted) ++out.k;
    out.codes[i] = it->second;
  }
  return out;
}

// The non-zero cells of the contingency table with its row and column sums.
struct Contingency {
  int kt = 0, kp = 0;
  std::int64_t n = 0;
  std::vector<std::int64_t> rows, cols;  // sizes of the true / predicted clusters
  struct Cell {
    int t, p;
    std::int64_t count;
  };
  std::vector<Cell> cells;
};

void check_pair(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted, const char* what) {
  NEUNCUT_REQUIRE(truth.size() == predicted.size(), InvalidArgument, what, ": truth has ", truth.size(),
                  " labels but predicted has ", predicted.size());
  NEUNCUT_REQUIRE(!truth.empty(), InvalidArgument, what, ": the label arrays are empty");
}

Contingency contingency(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted) {
  const Remapped t = remap(truth), p = remap(predicted);
  Contingency c;
  c.kt = t.k;
  c.kp = p.k;
  c.n = static_cast<std::int64_t>(truth.size());
  c.rows.assign(static_cast<std::size_t>(c.kt), 0);
  c.cols.assign(static_cast<std::size_t>(c.kp), 0);
  const std::size_t n = truth.size();
  for (std::size_t i = 0; i < n; ++i) {
    ++c.rows[static_cast<std::size_t>(t.codes[i])];
    ++c.cols[static_cast<std::size_t>(p.codes[i])];
  }
  const std::uint64_t dense_size = std::uint64_t(c.kt) * std::uint64_t(c.kp);
  if (dense_size <= std::max<std::uint64_t>(4 * n, 1 << 16)) {
    std::vector<std::int64_t> table(dense_size, 0);
    for (std::size_t i = 0; i < n; ++i) ++table[std::size_t(t.codes[i]) * c.kp + std::size_t(p.codes[i])];
    for (int a = 0; a < c.kt; ++a)
      for (int b = 0; b < c.kp; ++b)
        if (const std::int64_t v = table[std::size_t(a) * c.kp + b]) c.cells.push_back({a, b, v});
  } else {
    // Many clusters on both sides (e.g. one per point): sort the pairs instead of allocating kt x kp.
    std::vector<std::uint64_t> keys(n);
    for (std::size_t i = 0; i < n; ++i) keys[i] = std::uint64_t(t.codes[i]) << 32 | std::uint32_t(p.codes[i]);
    std::sort(keys.begin(), keys.end());
    for (std::size_t i = 0; i < n;) {
      std::size_t j = i;
      while (j < n && keys[j] == keys[i]) ++j;
      c.cells.push_back({int(keys[i] >> 32), int(keys[i] & 0xffffffffu), std::int64_t(j - i)});
      i = j;
    }
  }
  return c;
}

// Maximum-weight matching of the rows of a rows x cols table (rows <= cols) to distinct
// columns: the Hungarian algorithm with potentials (Kuhn-Munkres in the shortest augmenting
// path form), O(rows^2 cols). A rectangular table is the square one padded with zero rows,
// whose padding rows would take the leftover columns at no cost.
std::int64_t max_weight_matching(const std::vector<std::int64_t>& w, int rows, int cols) {
  const std::int64_t inf = std::numeric_limits<std::int64_t>::max() / 4;
  // Costs are -w; 1-based arrays with column 0 as the virtual start, as in the classic form.
  std::vector<std::int64_t> u(rows + 1, 0), v(cols + 1, 0), minv(cols + 1);
  std::vector<int> match(cols + 1, 0), way(cols + 1, 0);
  std::vector<char> used(cols + 1);
  for (int i = 1; i <= rows; ++i) {
    match[0] = i;
    int j0 = 0;
    std::fill(minv.begin(), minv.end(), inf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      const int i0 = match[j0];
      std::int64_t delta = inf;
      int j1 = 0;
      for (int j = 1; j <= cols; ++j) {
        if (used[j]) continue;
        const std::int64_t cur = -w[std::size_t(i0 - 1) * cols + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= cols; ++j) {
        if (used[j]) {
          u[match[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (match[j0] != 0);
    do {
      const int j1 = way[j0];
      match[j0] = match[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::int64_t total = 0;
  for (int j = 1; j <= cols; ++j)
    if (match[j] != 0) total += w[std::size_t(match[j] - 1) * cols + (j - 1)];
  return total;
}

double entropy(const std::vector<std::int64_t>& sizes, std::int64_t n) {
  double h = 0;
  const double log_n = std::log(static_cast<double>(n));
  for (std::int64_t s : sizes)
    if (s > 0) h -= static_cast<double>(s) / static_cast<double>(n) * (std::log(static_cast<double>(s)) - log_n);
  return h;
}

template <class Degrees, class Within>
double ncut_from(const Remapped& r, const Degrees& degree, const Within& within) {
  std::vector<double> vol(static_cast<std::size_t>(r.k), 0.0), assoc(static_cast<std::size_t>(r.k), 0.0);
  for (std::size_t i = 0; i < r.codes.size(); ++i) {
    vol[static_cast<std::size_t>(r.codes[i])] += degree[i];
    assoc[static_cast<std::size_t>(r.codes[i])] += within[i];
  }
  double total = 0;
  for (int c = 0; c < r.k; ++c)
    if (vol[c] > 0) total += (vol[c] - assoc[c]) / vol[c];
  return total;
}

}  // namespace

double clustering_accuracy(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted) {
  check_pair(truth, predicted, "clustering_accuracy");
  const Contingency c = contingency(truth, predicted);
  // The smaller side indexes rows so the Hungarian step costs O(min^2 max), not O(max^3).
  const bool transpose = c.kt > c.kp;
  const int rows = transpose ? c.kp : c.kt, cols = transpose ? c.kt : c.kp;
  std::vector<std::int64_t> w(std::size_t(rows) * std::size_t(cols), 0);
  for (const auto& cell : c.cells) {
    const int r = transpose ? cell.p : cell.t, col = transpose ? cell.t : cell.p;
    w[std::size_t(r) * cols + col] = cell.count;
  }
  return static_cast<double>(max_weight_matching(w, rows, cols)) / static_cast<double>(c.n);
}

double normalized_mutual_info(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted,
                              NmiAverage average) {
  check_pair(truth, predicted, "normalized_mutual_info");
  const Contingency c = contingency(truth, predicted);
  // Neither labelling splits the data: a perfect match by scikit-learn's convention.
  if (c.kt == 1 && c.kp == 1) return 1.0;
  // One side does not split the data: I = 0 exactly, which rounding in the sum below could miss.
  if (c.kt == 1 || c.kp == 1) return 0.0;
  const double n = static_cast<double>(c.n), log_n = std::log(n);
  double mi = 0;
  for (const auto& cell : c.cells) {
    const double nij = static_cast<double>(cell.count);
    mi += nij / n *
          (std::log(nij) + log_n - std::log(static_cast<double>(c.rows[cell.t])) -
           std::log(static_cast<double>(c.cols[cell.p])));
  }
  mi = std::max(mi, 0.0);
  // Zero information, including one side with a single cluster and the other not (scikit-learn
  // returns 0 here rather than 0/0).
  if (mi == 0.0) return 0.0;
  const double ht = entropy(c.rows, c.n), hp = entropy(c.cols, c.n);
  const double norm = average == NmiAverage::Geometric ? std::sqrt(ht * hp) : 0.5 * (ht + hp);
  if (!(norm > 0)) return 0.0;
  return std::clamp(mi / norm, 0.0, 1.0);
}

double adjusted_rand_index(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted) {
  check_pair(truth, predicted, "adjusted_rand_index");
  const Contingency c = contingency(truth, predicted);
  // scikit-learn's pair confusion matrix, counted over ordered pairs; int64 holds n^2 for
  // n < 3e9, and the products below go through double.
  const std::int64_t n = c.n;
  std::int64_t sum_squares = 0, dot_cols = 0, dot_rows = 0;
  for (const auto& cell : c.cells) {
    sum_squares += cell.count * cell.count;
    dot_cols += cell.count * c.cols[cell.p];
    dot_rows += cell.count * c.rows[cell.t];
  }
  const std::int64_t tp = sum_squares - n;
  const std::int64_t fp = dot_cols - sum_squares;
  const std::int64_t fn = dot_rows - sum_squares;
  const std::int64_t tn = n * n - fp - fn - sum_squares;
  if (fn == 0 && fp == 0) return 1.0;
  const double dtp = double(tp), dfp = double(fp), dfn = double(fn), dtn = double(tn);
  return 2.0 * (dtp * dtn - dfn * dfp) / ((dtp + dfn) * (dfn + dtn) + (dtp + dfp) * (dfp + dtn));
}

ClusteringScores score_clustering(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted) {
  check_pair(truth, predicted, "score_clustering");
  return {clustering_accuracy(truth, predicted), normalized_mutual_info(truth, predicted, NmiAverage::Geometric),
          adjusted_rand_index(truth, predicted)};
}

double ncut_value(const MatrixF& affinity, std::span<const std::int32_t> labels) {
  const Index n = static_cast<Index>(labels.size());
  NEUNCUT_REQUIRE(n > 0, InvalidArgument, "ncut_value: labels are empty");
  NEUNCUT_REQUIRE(affinity.rows() == n && affinity.cols() == n, InvalidArgument, "ncut_value: affinity is ",
                  affinity.rows(), " x ", affinity.cols(), " but there are ", n, " labels");
  const Remapped r = remap(labels);
  std::vector<double> degree(static_cast<std::size_t>(n), 0.0), within(static_cast<std::size_t>(n), 0.0);
  for (Index i = 0; i < n; ++i) {
    double d = 0, w = 0;
    const std::int32_t ci = r.codes[std::size_t(i)];
    for (Index j = 0; j < n; ++j) {
      const double a = affinity(i, j);
      d += a;
      if (r.codes[std::size_t(j)] == ci) w += a;
    }
    degree[std::size_t(i)] = d;
    within[std::size_t(i)] = w;
  }
  return ncut_from(r, degree, within);
}

double ncut_value(const SparseMatrixF& affinity, std::span<const std::int32_t> labels) {
  const Index n = static_cast<Index>(labels.size());
  NEUNCUT_REQUIRE(n > 0, InvalidArgument, "ncut_value: labels are empty");
  NEUNCUT_REQUIRE(affinity.rows() == n && affinity.cols() == n, InvalidArgument, "ncut_value: affinity is ",
                  affinity.rows(), " x ", affinity.cols(), " but there are ", n, " labels");
  const Remapped r = remap(labels);
  std::vector<double> degree(static_cast<std::size_t>(n), 0.0), within(static_cast<std::size_t>(n), 0.0);
  for (Index i = 0; i < n; ++i) {
    const std::int32_t ci = r.codes[std::size_t(i)];
    for (SparseMatrixF::InnerIterator it(affinity, i); it; ++it) {
      degree[std::size_t(i)] += it.value();
      if (r.codes[std::size_t(it.col())] == ci) within[std::size_t(i)] += it.value();
    }
  }
  return ncut_from(r, degree, within);
}

int count_clusters(std::span<const std::int32_t> labels) { return remap(labels).k; }

}  // namespace neuncut
