// Tests for src/eval/metrics.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "neuncut/core/error.hpp"
#include "neuncut/eval/metrics.hpp"

namespace neuncut {
namespace {

// A 6-point example worked by hand.
//   truth     = 0 0 0 1 1 1
//   predicted = 0 0 1 1 2 2
// Contingency (rows truth, columns predicted):   p0 p1 p2
//                                           t0:  2  1  0
//                                           t1:  0  1  2
// ACC: best one-to-one matching t0->p0 (2), t1->p2 (2): 4/6 = 2/3.
// Entropies (nats): H(T) = ln 2, H(P) = ln 3 (three clusters of 2).
// MI = sum n_ij/n ln(n n_ij / (a_i b_j)) = 2/6 ln(12/6) + 1/6 ln(6/6) + 1/6 ln(6/6) + 2/6 ln(12/6)
//    = (2/3) ln 2.
// NMI geometric  = (2/3) ln 2 / sqrt(ln 2 ln 3) = (2/3) sqrt(ln 2 / ln 3) ~ 0.52955.
// NMI arithmetic = (2/3) ln 2 / ((ln 2 + ln 3) / 2) = (4/3) ln 2 / ln 6 ~ 0.51580.
// ARI: sum C(n_ij, 2) = 1 + 1 = 2; sum C(a_i, 2) = 3 + 3 = 6; sum C(b_j, 2) = 1 + 1 + 1 = 3;
//      C(6, 2) = 15; expected = 6 * 3 / 15 = 1.2; max = (6 + 3) / 2 = 4.5;
//      ARI = (2 - 1.2) / (4.5 - 1.2) = 0.8 / 3.3 = 8/33.
const Labels kTruth6 = {0, 0, 0, 1, 1, 1};
const Labels kPred6 = {0, 0, 1, 1, 2, 2};

TEST(Metrics, HandWorkedSixPointExample) {
  EXPECT_NEAR(clustering_accuracy(kTruth6, kPred6), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(normalized_mutual_info(kTruth6, kPred6), 2.0 / 3.0 * std::sqrt(std::log(2.0) / std::log(3.0)), 1e-12);
  EXPECT_NEAR(normalized_mutual_info(kTruth6, kPred6, NmiAverage::Arithmetic),
              4.0 / 3.0 * std::log(2.0) / std::log(6.0), 1e-12);
  EXPECT_NEAR(adjusted_rand_index(kTruth6, kPred6), 8.0 / 33.0, 1e-12);
  const ClusteringScores s = score_clustering(kTruth6, kPred6);
  EXPECT_DOUBLE_EQ(s.acc, clustering_accuracy(kTruth6, kPred6));
  EXPECT_DOUBLE_EQ(s.nmi, normalized_mutual_info(kTruth6, kPred6));
  EXPECT_DOUBLE_EQ(s.ari, adjusted_rand_index(kTruth6, kPred6));
}

// A second example where the matching is not the diagonal.
//   truth     = 0 0 1 1 1 2 2 2 2
//   predicted = 5 5 9 9 7 7 7 7 9
// Contingency:   p5 p9 p7
//           t0:   2  0  0
//           t1:   0  2  1
//           t2:   0  1  3
// Best matching t0->p5, t1->p9, t2->p7 = 2 + 2 + 3 = 7, so ACC = 7/9.
// ARI: sum C(n_ij,2) = 1+1+3 = 5; a = (2,3,4): 1+3+6 = 10; b = (2,3,4): 10; C(9,2) = 36;
//      expected = 100/36; max = 10; ARI = (5 - 100/36) / (10 - 100/36) = 80/260 = 4/13.
TEST(Metrics, HandWorkedPermutedExample) {
  const Labels t = {0, 0, 1, 1, 1, 2, 2, 2, 2};
  const Labels p = {5, 5, 9, 9, 7, 7, 7, 7, 9};
  EXPECT_NEAR(clustering_accuracy(t, p), 7.0 / 9.0, 1e-12);
  EXPECT_NEAR(adjusted_rand_index(t, p), 4.0 / 13.0, 1e-12);
}

TEST(Metrics, IdenticalPartitionsScoreOne) {
  const Labels a = {3, 3, -1, 7, 7, 7, -1, 100000};
  const Labels relabelled = {0, 0, 1, 2, 2, 2, 1, 3};
  for (const Labels* b : {&a, &relabelled}) {
    EXPECT_DOUBLE_EQ(clustering_accuracy(a, *b), 1.0);
    EXPECT_NEAR(normalized_mutual_info(a, *b), 1.0, 1e-12);
    EXPECT_NEAR(normalized_mutual_info(a, *b, NmiAverage::Arithmetic), 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(adjusted_rand_index(a, *b), 1.0);
  }
}

TEST(Metrics, DegenerateConventionsMatchScikitLearn) {
  const Labels one = {4, 4, 4, 4};
  const Labels split = {0, 0, 1, 1};
  const Labels singletons = {0, 1, 2, 3};
  // Neither labelling splits the data: a perfect match.
  EXPECT_DOUBLE_EQ(normalized_mutual_info(one, one), 1.0);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(one, one), 1.0);
  EXPECT_DOUBLE_EQ(clustering_accuracy(one, one), 1.0);
  // One side a single cluster, the other not: no information.
  EXPECT_DOUBLE_EQ(normalized_mutual_info(one, split), 0.0);
  EXPECT_DOUBLE_EQ(normalized_mutual_info(split, one, NmiAverage::Arithmetic), 0.0);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(one, split), 0.0);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(one, singletons), 0.0);
  EXPECT_DOUBLE_EQ(clustering_accuracy(one, split), 0.5);
  // Every point its own cluster on both sides is a perfect match too.
  EXPECT_DOUBLE_EQ(adjusted_rand_index(singletons, singletons), 1.0);
  EXPECT_NEAR(normalized_mutual_info(singletons, singletons), 1.0, 1e-12);
  // A single point.
  EXPECT_DOUBLE_EQ(normalized_mutual_info(Labels{1}, Labels{2}), 1.0);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(Labels{1}, Labels{2}), 1.0);
  EXPECT_DOUBLE_EQ(clustering_accuracy(Labels{1}, Labels{2}), 1.0);
}

TEST(Metrics, UnequalNumbersOfClusters) {
  // truth has 3 clusters, predicted 2 (clusters 1 and 2 merged): the merged cluster matches one
  // of them and the other's 2 points are errors, ACC = 4/6.
  const Labels t = {0, 0, 1, 1, 2, 2};
  const Labels p = {0, 0, 1, 1, 1, 1};
  EXPECT_NEAR(clustering_accuracy(t, p), 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(clustering_accuracy(p, t), 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(normalized_mutual_info(t, p), normalized_mutual_info(p, t), 1e-12);
  EXPECT_NEAR(adjusted_rand_index(t, p), adjusted_rand_index(p, t), 1e-12);
  // Ten predicted clusters against two true ones: at most two can be matched.
  const Labels t2 = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
  const Labels p2 = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_NEAR(clustering_accuracy(t2, p2), 0.2, 1e-12);
}

// Brute force over all injective matchings of the smaller side into the larger.
double brute_force_acc(const Labels& t, const Labels& p) {
  std::map<std::pair<int, int>, int> cells;
  int kt = 0, kp = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    ++cells[{t[i], p[i]}];
    kt = std::max(kt, t[i] + 1);
    kp = std::max(kp, p[i] + 1);
  }
  const int k = std::max(kt, kp);
  std::vector<int> perm(k);
  std::iota(perm.begin(), perm.end(), 0);
  int best = 0;
  do {
    int total = 0;
    for (int a = 0; a < k; ++a) {
      auto it = cells.find({a, perm[a]});
      if (it != cells.end()) total += it->second;
    }
    best = std::max(best, total);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return double(best) / double(t.size());
}

TEST(Metrics, AccuracyMatchesBruteForce) {
  std::mt19937 gen(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int kt = 1 + int(gen() % 6), kp = 1 + int(gen() % 6), n = 1 + int(gen() % 40);
    Labels t(n), p(n);
    for (int i = 0; i < n; ++i) {
      t[i] = int(gen() % kt);
      p[i] = gen() % 3 == 0 ? t[i] % kp : int(gen() % kp);
    }
    ASSERT_NEAR(clustering_accuracy(t, p), brute_force_acc(t, p), 1e-12) << "trial " << trial;
  }
}

// Plain-formula ARI: (index - expected) / (max - expected) from pair counts.
double reference_ari(const Labels& t, const Labels& p) {
  std::map<std::pair<int, int>, double> cells;
  std::map<int, double> a, b;
  for (std::size_t i = 0; i < t.size(); ++i) {
    ++cells[{t[i], p[i]}];
    ++a[t[i]];
    ++b[p[i]];
  }
  auto c2 = [](double x) { return x * (x - 1) / 2; };
  double index = 0, sa = 0, sb = 0;
  for (auto& [key, v] : cells) index += c2(v);
  for (auto& [key, v] : a) sa += c2(v);
  for (auto& [key, v] : b) sb += c2(v);
  const double expected = sa * sb / c2(double(t.size())), max = (sa + sb) / 2;
  return (index - expected) / (max - expected);
}

TEST(Metrics, AriMatchesThePairCountingFormula) {
  std::mt19937 gen(11);
  for (int trial = 0; trial < 100; ++trial) {
    const int n = 10 + int(gen() % 200), kt = 2 + int(gen() % 5), kp = 2 + int(gen() % 5);
    Labels t(n), p(n);
    for (int i = 0; i < n; ++i) {
      t[i] = int(gen() % kt);
      p[i] = gen() % 2 ? t[i] : int(gen() % kp);
    }
    ASSERT_NEAR(adjusted_rand_index(t, p), reference_ari(t, p), 1e-10) << "trial " << trial;
  }
}

TEST(Metrics, InvariantToRelabellingAndRowOrder) {
  std::mt19937 gen(3);
  const int n = 500;
  Labels t(n), p(n);
  for (int i = 0; i < n; ++i) {
    t[i] = int(gen() % 5);
    p[i] = gen() % 4 ? (t[i] + 1) % 6 : int(gen() % 6);
  }
  const ClusteringScores base = score_clustering(t, p);
  const double base_arith = normalized_mutual_info(t, p, NmiAverage::Arithmetic);
  EXPECT_GT(base.acc, 0.5);

  // Relabel each side with an arbitrary injective map, including extreme int32 values.
  const std::vector<std::int32_t> map_t = {-2147483647 - 1, 42, -5, 2147483647, 0};
  const std::vector<std::int32_t> map_p = {9, 8, -1, 1000000, 3, 77};
  Labels t2(n), p2(n);
  for (int i = 0; i < n; ++i) {
    t2[i] = map_t[t[i]];
    p2[i] = map_p[p[i]];
  }
  // Shuffle the rows of both together.
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), gen);
  Labels t3(n), p3(n);
  for (int i = 0; i < n; ++i) {
    t3[i] = t2[order[i]];
    p3[i] = p2[order[i]];
  }
  for (const auto& [tt, pp] : {std::pair{&t2, &p2}, std::pair{&t3, &p3}}) {
    const ClusteringScores s = score_clustering(*tt, *pp);
    EXPECT_NEAR(s.acc, base.acc, 1e-12);
    EXPECT_NEAR(s.nmi, base.nmi, 1e-12);
    EXPECT_NEAR(s.ari, base.ari, 1e-12);
    EXPECT_NEAR(normalized_mutual_info(*tt, *pp, NmiAverage::Arithmetic), base_arith, 1e-12);
  }
  // Swapping truth and predicted changes none of them.
  const ClusteringScores swapped = score_clustering(p, t);
  EXPECT_NEAR(swapped.acc, base.acc, 1e-12);
  EXPECT_NEAR(swapped.nmi, base.nmi, 1e-12);
  EXPECT_NEAR(swapped.ari, base.ari, 1e-12);
}

TEST(Metrics, ManyClustersUseTheSparseTable) {
  // 300 singletons on both sides makes a 300 x 300 table, larger than the dense threshold.
  const int n = 300;
  Labels a(n), b(n);
  for (int i = 0; i < n; ++i) {
    a[i] = i * 7;
    b[i] = n - i;
  }
  EXPECT_DOUBLE_EQ(clustering_accuracy(a, b), 1.0);
  EXPECT_NEAR(normalized_mutual_info(a, b), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(a, b), 1.0);
  for (int i = 0; i < n; ++i) b[i] = i / 2;  // pairs
  EXPECT_NEAR(clustering_accuracy(a, b), 0.5, 1e-12);
  EXPECT_NEAR(adjusted_rand_index(a, b), reference_ari(a, b), 1e-12);
}

TEST(Metrics, BadInputThrows) {
  const Labels a = {0, 1, 2}, b = {0, 1};
  EXPECT_THROW(clustering_accuracy(a, b), InvalidArgument);
  EXPECT_THROW(normalized_mutual_info(a, b), InvalidArgument);
  EXPECT_THROW(adjusted_rand_index(a, b), InvalidArgument);
  EXPECT_THROW(score_clustering(a, b), InvalidArgument);
  EXPECT_THROW(score_clustering(Labels{}, Labels{}), InvalidArgument);
  EXPECT_THROW(clustering_accuracy(Labels{}, Labels{}), InvalidArgument);
}

TEST(Metrics, CountClusters) {
  EXPECT_EQ(count_clusters(Labels{}), 0);
  EXPECT_EQ(count_clusters(Labels{5, 5, 5}), 1);
  EXPECT_EQ(count_clusters(Labels{-1, 3, 3, 1000, -1}), 3);
}

// Path graph 0 -1- 1 -0.5- 2 -1- 3 (symmetric, zero diagonal).
// Degrees: d = (1, 1.5, 1.5, 1).
//  {0,1} | {2,3}: each side vol 2.5, cut 0.5 -> 0.5/2.5 + 0.5/2.5 = 0.4.
//  {0} | {1,2,3}: cut 1, vol 1 and 4 -> 1/1 + 1/4 = 1.25.
//  one cluster: cut 0 -> 0.
MatrixF path_graph() {
  MatrixF w = MatrixF::Zero(4, 4);
  w(0, 1) = w(1, 0) = 1.0f;
  w(1, 2) = w(2, 1) = 0.5f;
  w(2, 3) = w(3, 2) = 1.0f;
  return w;
}

TEST(Ncut, HandComputedGraphDenseAndSparse) {
  const MatrixF w = path_graph();
  const SparseMatrixF ws = w.sparseView();
  const std::vector<std::pair<Labels, double>> cases = {
      {{0, 0, 1, 1}, 0.4}, {{7, -3, -3, -3}, 1.25}, {{2, 2, 2, 2}, 0.0}, {{0, 1, 2, 3}, 4.0}};
  // Singletons: cut({i}) = vol({i}) = d_i, so each of the four contributes 1.
  for (const auto& [labels, expected] : cases) {
    EXPECT_NEAR(ncut_value(w, labels), expected, 1e-6);
    EXPECT_NEAR(ncut_value(ws, labels), expected, 1e-6);
  }
}

TEST(Ncut, IsolatedVertexContributesNothing) {
  // Vertex 4 has no edges: its own cluster has zero volume and adds 0.
  MatrixF w = MatrixF::Zero(5, 5);
  w.topLeftCorner(4, 4) = path_graph();
  const Labels labels = {0, 0, 1, 1, 2};
  EXPECT_NEAR(ncut_value(w, labels), 0.4, 1e-6);
  EXPECT_NEAR(ncut_value(SparseMatrixF(w.sparseView()), labels), 0.4, 1e-6);
}

TEST(Ncut, DenseAndSparseAgreeOnARandomGraph) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const int n = 60;
  MatrixF w = MatrixF::Zero(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      if (u(gen) < 0.2f) w(i, j) = w(j, i) = u(gen);
  Labels labels(n);
  for (int& l : labels) l = int(gen() % 4);
  const double dense = ncut_value(w, labels);
  EXPECT_GT(dense, 0.0);
  EXPECT_LT(dense, 4.0);
  EXPECT_NEAR(ncut_value(SparseMatrixF(w.sparseView()), labels), dense, 1e-9 * n);
}

TEST(Ncut, BadInputThrows) {
  EXPECT_THROW(ncut_value(path_graph(), Labels{0, 1, 1}), InvalidArgument);
  EXPECT_THROW(ncut_value(MatrixF(0, 0), Labels{}), InvalidArgument);
  EXPECT_THROW(ncut_value(SparseMatrixF(3, 3), Labels{0, 1}), InvalidArgument);
  EXPECT_THROW(ncut_value(MatrixF(4, 3), Labels{0, 1, 1, 0}), InvalidArgument);
}

}  // namespace
}  // namespace neuncut
