// One benchmark per kernel of a NeuNcut training step (affinity, loss, softmax, MLP, Adam)
// and of the baselines' heavy steps (exact kNN graph, k-means), at the default shapes.
#include <algorithm>
#include <cmath>

#include "common.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/graph/knn.hpp"
#include "neuncut/nn/mlp.hpp"
#include "neuncut/methods/neuncut/ncut_loss.hpp"
#include "neuncut/nn/optimizer.hpp"
#include "kernels/pairwise_distance.hpp"

namespace neuncut::bench {
namespace {

// Inputs of the loss as a step sees them: W and d of a batch, P = softmax of the untrained
// network's logits.
struct LossInputs {
  MatrixF batch, W, P;
  VectorF degree;
  explicit LossInputs(int threads) : batch(make_points(kBatch, kDim)) {
    const double sigma = estimate_sigma(batch, SigmaRule{}, threads);
    gaussian_batch_affinity(batch, float(sigma), W, degree, threads);
    Mlp mlp(default_widths());
    mlp.initialize(0);
    P = mlp.predict_logits(batch);
    softmax_rows(P);
  }
};

// gaussian_batch_affinity on an m x d batch. FLOPs: affinity_flops (the Gram's lower block
// triangle, about m^2 d, plus about 4 m^2 + 2 m d element-wise).
void BM_GaussianBatchAffinity(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const MatrixF batch = make_points(kBatch, kDim);
  const float sigma = float(estimate_sigma(batch, SigmaRule{}, threads));
  MatrixF W;
  VectorF degree;
  for (auto _ : state) {
    gaussian_batch_affinity(batch, sigma, W, degree, threads);
    benchmark::DoNotOptimize(W.data());
    benchmark::DoNotOptimize(degree.data());
  }
  set_gflops(state, affinity_flops(kBatch, kDim));
}

// ncut_loss<float> with its gradient (m = 1000, k = 10). FLOPs: ncut_loss_flops
// (2 m^2 k + 4 m k^2 + 15 m k).
void BM_NcutLossWithGradient(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const LossInputs in(threads);
  MatrixF grad;
  for (auto _ : state) {
    const NcutLossTerms t = ncut_loss(in.W, in.degree, in.P, 80.0, 1e-6, &grad);
    benchmark::DoNotOptimize(t);
    benchmark::DoNotOptimize(grad.data());
  }
  set_gflops(state, ncut_loss_flops(kBatch, kClusters));
}

// The loss value alone (no gradient): what an evaluation pass pays. FLOPs: 2 m^2 k + 2 m k^2 + 5 m k.
void BM_NcutLossForward(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const LossInputs in(threads);
  for (auto _ : state) {
    const NcutLossTerms t = ncut_loss<float>(in.W, in.degree, in.P, 80.0, 1e-6, nullptr);
    benchmark::DoNotOptimize(t);
  }
  const double m = double(kBatch), k = double(kClusters);
  set_gflops(state, 2.0 * m * m * k + 2.0 * m * k * k + 5.0 * m * k);
}

// softmax_rows on m x k logits, restored from a copy each iteration (the copy of m k floats
// is inside the timing). FLOPs: 5 m k.
void BM_SoftmaxRows(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const MatrixF logits = MatrixF::Random(kBatch, kClusters) * 4.0f;
  MatrixF P(kBatch, kClusters);
  for (auto _ : state) {
    P = logits;
    softmax_rows(P);
    benchmark::DoNotOptimize(P.data());
  }
  set_gflops(state, softmax_flops(kBatch, kClusters));
}

// softmax_backward: dloss/dP -> dloss/dZ (the gradient is restored from a copy each
// iteration; the copy is included). FLOPs: 4 m k.
void BM_SoftmaxBackward(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const LossInputs in(threads);
  MatrixF grad_p;
  ncut_loss(in.W, in.degree, in.P, 80.0, 1e-6, &grad_p);
  MatrixF G(kBatch, kClusters);
  for (auto _ : state) {
    G = grad_p;
    softmax_backward(in.P, G);
    benchmark::DoNotOptimize(G.data());
  }
  set_gflops(state, softmax_backward_flops(kBatch, kClusters));
}

// Mlp::forward of the default network {784, 512, 512, 10} on m = 1000 rows.
// FLOPs: mlp_forward_flops = sum_l 2 m n_l n_{l+1} + bias and ReLU (1.34 GFLOP).
void BM_MlpForward(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const MatrixF batch = make_points(kBatch, kDim);
  Mlp mlp(default_widths());
  mlp.initialize(0);
  MlpWorkspace ws;
  for (auto _ : state) {
    mlp.forward(batch, ws);
    benchmark::DoNotOptimize(ws.activations.back().data());
  }
  set_gflops(state, mlp_forward_flops(mlp.widths(), kBatch));
}

// Mlp::backward of the same network (after one forward, outside the timing).
// FLOPs: mlp_backward_flops = weight gradients 2 m sum_l n_l n_{l+1}, input gradients of
// layers 1.. 2 m sum_{l>0} n_l n_{l+1}, bias sums and ReLU masks (1.87 GFLOP).
void BM_MlpBackward(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const LossInputs in(threads);
  Mlp mlp(default_widths());
  mlp.initialize(0);
  MlpWorkspace ws;
  mlp.forward(in.batch, ws);
  MatrixF grad_p;
  ncut_loss(in.W, in.degree, in.P, 80.0, 1e-6, &grad_p);
  softmax_backward(in.P, grad_p);
  AlignedFloats gradient(static_cast<std::size_t>(mlp.num_parameters()));
  for (auto _ : state) {
    mlp.backward(in.batch, ws, grad_p, gradient);
    benchmark::DoNotOptimize(gradient.data());
  }
  set_gflops(state, mlp_backward_flops(mlp.widths(), kBatch));
}

// Adam::step (L2 weight decay 1e-4, as NeuNcut's default) over the default network's
// 669,706 parameters, on `threads` threads as NeuNcut::fit calls it. FLOPs: 16 per parameter;
// memory: 28 bytes per parameter (GB/s).
void BM_AdamStep(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  Mlp mlp(default_widths());
  mlp.initialize(0);
  AdamParams ap;
  ap.weight_decay = 1e-4;
  Adam adam(mlp.num_parameters(), ap);
  AlignedFloats gradient(static_cast<std::size_t>(mlp.num_parameters()));
  for (std::size_t i = 0; i < gradient.size(); ++i) gradient[i] = 1e-3f * float(int(i % 7) - 3);
  for (auto _ : state) {
    adam.step(mlp.parameters(), gradient, 1e-3, threads);
    benchmark::DoNotOptimize(mlp.parameters().data());
  }
  set_gflops(state, adam_flops(mlp.num_parameters()));
  set_gbytes(state, adam_bytes(mlp.num_parameters()));
}

// knn_exact on N = 5000 points of d = 784, m = 10 neighbours.
// FLOPs: the tile GEMMs, sum over tile pairs I <= J of 2 |I| |J| d (about N^2 d: each pair once,
// plus the lower half of the diagonal tiles), plus 3 d per refined neighbour (N m of them).
// The top-m list updates (2 comparisons per pair) are not counted.
void BM_KnnExact(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const MatrixF data = make_points(kKnnPoints, kDim);
  for (auto _ : state) {
    KnnGraph g = knn_exact(data, kKnnNeighbors, threads);
    benchmark::DoNotOptimize(g.indices.data());
  }
  constexpr Index kTile = 1024;  // kKnnTileRows in src/graph/knn.cpp
  double flops = 3.0 * double(kKnnPoints) * kKnnNeighbors * double(kDim);
  for (Index a0 = 0; a0 < kKnnPoints; a0 += kTile)
    for (Index b0 = a0; b0 < kKnnPoints; b0 += kTile)
      flops += 2.0 * double(std::min(kTile, kKnnPoints - a0)) * double(std::min(kTile, kKnnPoints - b0)) * double(kDim);
  set_gflops(state, flops);
}

// One Lloyd assignment step: detail::nearest_centres of N = 10000 points (d = 784) to k = 10
// centroids, the GEMM-based kernel k-means runs every iteration. FLOPs: 2 N k d (GEMM)
// + 3 N k (distance and compare) + 2 k d (centroid norms).
void BM_KMeansAssign(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const MatrixF data = make_points(kKMeansPoints, kDim);
  const VectorF norms = detail::squared_row_norms(data, threads);
  const MatrixF centroids = data.topRows(kClusters);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(kKMeansPoints));
  std::vector<float> dist(static_cast<std::size_t>(kKMeansPoints));
  for (auto _ : state) {
    detail::nearest_centres(data, norms, centroids, labels.data(), dist.data(), threads);
    benchmark::DoNotOptimize(labels.data());
  }
  const double n = double(kKMeansPoints), k = double(kClusters), d = double(kDim);
  set_gflops(state, 2.0 * n * k * d + 3.0 * n * k + 2.0 * k * d);
}

// A short k-means run: fit_kmeans with n_init = 1, max_iter = 10, tol = 0 (so it runs all 10
// Lloyd iterations unless it reaches a fixed point), normalize off, on N x d overlapping blobs
// (noise 30: on well-separated blobs Lloyd stops after one iteration and seeding dominates).
// FLOPs (counted from the run): greedy k-means++ seeding, 2 N d for the first centre and
// (k - 1) rounds of 2 + floor(ln k) candidates at 2 N d each; (iterations + 1) assignments at 2 N k d; iterations centroid
// updates at N d. Validation, variance and norm passes (a few N d) are not counted.
void BM_KMeansShortRun(benchmark::State& state) {
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const MatrixF data = make_points(kKMeansPoints, kDim, 30.0);
  KMeansParams p;
  p.n_clusters = int(kClusters);
  p.n_init = 1;
  p.max_iter = 10;
  p.tol = 0;
  p.normalize = false;
  p.threads = threads;
  int iterations = 0;
  for (auto _ : state) {
    KMeansResult r = fit_kmeans(data, p);
    iterations = r.iterations;
    benchmark::DoNotOptimize(r.labels.data());
  }
  const double n = double(kKMeansPoints), k = double(kClusters), d = double(kDim);
  const double trials = 2.0 + std::floor(std::log(k));
  set_gflops(state, 2.0 * n * d + (k - 1.0) * trials * 2.0 * n * d + double(iterations + 1) * 2.0 * n * k * d +
                        double(iterations) * n * d);
  state.counters["lloyd_iterations"] = iterations;
}

}  // namespace

BENCHMARK(BM_GaussianBatchAffinity)->Apply(thread_args);
BENCHMARK(BM_NcutLossWithGradient)->Apply(thread_args);
BENCHMARK(BM_NcutLossForward)->Apply(thread_args);
BENCHMARK(BM_SoftmaxRows)->Apply(thread_args);
BENCHMARK(BM_SoftmaxBackward)->Apply(thread_args);
BENCHMARK(BM_MlpForward)->Apply(thread_args);
BENCHMARK(BM_MlpBackward)->Apply(thread_args);
BENCHMARK(BM_AdamStep)->Apply(thread_args);
BENCHMARK(BM_KnnExact)->Apply(thread_args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KMeansAssign)->Apply(thread_args);
BENCHMARK(BM_KMeansShortRun)->Apply(thread_args)->Unit(benchmark::kMillisecond);

}  // namespace neuncut::bench
