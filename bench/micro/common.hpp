// PRIVATE header of the micro-benchmarks: shared shapes, data, thread control and counters.
//
// Every benchmark takes the thread count as an argument ("threads", 1 and 2) and runs
// the kernel the way NeuNcut::fit runs it: the calling thread's OpenMP thread count (which
// Eigen's GEMM reads) set with ThreadCountScope, flush-to-zero/denormals-are-zero set on
// every worker with FlushDenormalsScope, and the same `threads` passed to the kernel.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/float_env.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/core/types.hpp"
#include "core/parallel.hpp"

namespace neuncut::bench {

// Default shapes: a NeuNcut step on Fashion-MNIST-sized rows with the default network.
inline constexpr Index kBatch = 1000;            // m: mini-batch size (the default batch)
inline constexpr Index kDim = 784;               // d: input features (28 x 28 images)
inline constexpr Index kHidden[] = {512, 512};   // hidden widths (the default)
inline constexpr Index kClusters = 10;           // k
inline constexpr Index kTrainPoints = 20000;     // training subset the step draws batches from
inline constexpr Index kKnnPoints = 5000;        // N for the exact kNN graph
inline constexpr int kKnnNeighbors = 10;         // neighbours per point (classic Ncut's default)
inline constexpr Index kKMeansPoints = 10000;    // N for k-means

/// The calling thread's OpenMP thread count and FTZ/DAZ on `threads` workers, for one
/// benchmark run; restored on exit.
class BenchThreads {
 public:
  explicit BenchThreads(int threads) : count_(threads), flush_(threads) {}

 private:
  detail::ThreadCountScope count_;
  detail::FlushDenormalsScope flush_;
};

/// The thread count argument of the benchmark.
inline int threads_arg(const benchmark::State& state) { return static_cast<int>(state.range(0)); }

/// Registers a benchmark at 1 and 2 threads (argument "threads"), timed by wall clock, in
/// microseconds unless the registration sets another unit after it.
inline void thread_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"threads"})->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

/// Registers the FLOPs of one iteration as a rate: GFLOP/s = flops * iterations / time.
inline void set_gflops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

/// Registers the bytes one iteration moves (memory-bound kernels) as GB/s.
inline void set_gbytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB/s"] = benchmark::Counter(bytes_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

/// Seeded blobs (10 clusters of std `noise` with centres in a box of +-10) of dimension `dim`,
/// L2-normalized per row as NeuNcut preprocesses image data (normalize = auto gives l2 for
/// d > 10). With the default noise the blobs are well apart; noise 30 makes them overlap.
inline MatrixF make_points(Index n, Index dim, double noise = 2.0, std::uint64_t seed = 0) {
  SyntheticParams sp;
  sp.kind = SyntheticKind::Blobs;
  sp.n_samples = n;
  sp.n_clusters = 10;
  sp.dim = static_cast<int>(dim);
  sp.noise = noise;
  sp.seed = seed;
  MatrixF x = make_synthetic(sp).features;
  Preprocessor pre(FeatureScaling::None, true);
  pre.fit(x);
  pre.transform_in_place(x);
  return x;
}

/// {d, hidden..., k}: the widths of the default NeuNcut network.
inline std::vector<Index> default_widths() {
  std::vector<Index> w = {kDim};
  for (Index h : kHidden) w.push_back(h);
  w.push_back(kClusters);
  return w;
}

/// Multiply-adds of one forward pass of an MLP on m rows, as FLOPs: sum_l 2 m n_l n_{l+1}
/// (GEMMs) + m n_{l+1} (bias) + m n_{l+1} on hidden layers (ReLU).
inline double mlp_forward_flops(const std::vector<Index>& widths, Index m) {
  double f = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    f += 2.0 * double(m) * double(widths[l]) * double(widths[l + 1]) + double(m) * double(widths[l + 1]);
    if (l + 2 < widths.size()) f += double(m) * double(widths[l + 1]);
  }
  return f;
}

/// FLOPs of Mlp::backward on m rows: for every layer l the weight gradient a_{l-1}^T g
/// (2 m n_l n_{l+1}) and the bias gradient (m n_{l+1}); for every layer but the first the
/// gradient through W_l (2 m n_{l+1} n_l) and the ReLU mask (m n_l). The input gradient is
/// not computed.
inline double mlp_backward_flops(const std::vector<Index>& widths, Index m) {
  double f = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    const double in = double(widths[l]), out = double(widths[l + 1]), rows = double(m);
    f += 2.0 * rows * in * out + rows * out;
    if (l > 0) f += 2.0 * rows * out * in + rows * in;
  }
  return f;
}

/// FLOPs of gaussian_batch_affinity on m x d as src/graph/batch_affinity.cpp computes it: the Gram
/// matrix's lower block triangle as single-threaded GEMMs of 256 x 256 tiles (its kBlock;
/// diagonal tiles are computed whole), sum over tiles I >= J of 2 |I| |J| d, about m^2 d;
/// 6 per lower-triangle entry (distance from the Gram entry: 2 adds, 1 multiply, 1 max;
/// scale; exp counted as 1); m^2 adds for the degrees; 2 m d for the squared norms.
/// Update kAffinityTile if that file changes its tiling.
inline constexpr Index kAffinityTile = 256;
inline double affinity_flops(Index m, Index d) {
  double gemm = 0;
  for (Index r0 = 0; r0 < m; r0 += kAffinityTile)
    for (Index c0 = 0; c0 <= r0; c0 += kAffinityTile)
      gemm += 2.0 * double(std::min(kAffinityTile, m - r0)) * double(std::min(kAffinityTile, m - c0)) * double(d);
  const double mm = double(m);
  return gemm + 6.0 * mm * (mm + 1.0) / 2.0 + mm * mm + 2.0 * mm * double(d);
}

/// FLOPs of ncut_loss with gradient on an m x m affinity and m x k memberships: the thin
/// GEMM W P (2 m^2 k) dominates; P^T D P and D P F are 2 m k^2 each; about 15 m k for the
/// element-wise terms (D P, volumes, P o WP, the trace gradient and the outer products).
/// The k x k work (O(k^3)) is ignored.
inline double ncut_loss_flops(Index m, Index k) {
  const double mm = double(m), kk = double(k);
  return 2.0 * mm * mm * kk + 4.0 * mm * kk * kk + 15.0 * mm * kk;
}

/// softmax_rows: max, subtract, exp (1), sum, divide: 5 per entry.
inline double softmax_flops(Index m, Index k) { return 5.0 * double(m) * double(k); }
/// softmax_backward: P o G and its row sums (2), subtract and multiply (2): 4 per entry.
inline double softmax_backward_flops(Index m, Index k) { return 4.0 * double(m) * double(k); }

/// Adam (L2 weight decay) per parameter: g + wd p (2), p *= decay (1), m update (3),
/// v update (4), p -= step m / (sqrt(v) c + eps) (6, sqrt and divide counted as 1): 16.
inline double adam_flops(Index params) { return 16.0 * double(params); }
/// Adam's memory traffic per parameter: reads p, g, m, v and writes p, m, v (4 bytes each).
inline double adam_bytes(Index params) { return 28.0 * double(params); }

}  // namespace neuncut::bench
