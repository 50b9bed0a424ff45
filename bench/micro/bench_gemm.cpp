// Reference: single-precision GEMM through Eigen (the product every heavy neuncut kernel is
// built on), so the kernels' GFLOP/s can be read against what this machine's GEMM reaches.
#include "common.hpp"

namespace neuncut::bench {
namespace {

// C (M x N) = A (M x K) * B (K x N), all row-major float (MatrixF).
// FLOPs: 2 M N K (one multiply and one add per term).
void BM_SgemmEigen(benchmark::State& state) {
  const Index M = state.range(0), K = state.range(1), N = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  BenchThreads scope(threads);
  const MatrixF A = MatrixF::Random(M, K), B = MatrixF::Random(K, N);
  MatrixF C(M, N);
  for (auto _ : state) {
    C.noalias() = A * B;
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, 2.0 * double(M) * double(N) * double(K));
}

// Gram matrix X X^T of an m x d batch as one full Eigen product (both triangles), the way
// gaussian_batch_affinity computed it before it switched to lower-triangle tiles.
// FLOPs: 2 m^2 d.
void BM_SgemmEigenGram(benchmark::State& state) {
  const Index m = state.range(0), d = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  BenchThreads scope(threads);
  const MatrixF X = MatrixF::Random(m, d);
  MatrixF C(m, m);
  for (auto _ : state) {
    C.noalias() = X * X.transpose();
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, 2.0 * double(m) * double(m) * double(d));
}

}  // namespace

// 1000 x 784 x 512: the first MLP layer of a default step; 2048^3: a large square product.
BENCHMARK(BM_SgemmEigen)
    ->ArgNames({"M", "K", "N", "threads"})
    ->Args({kBatch, kDim, 512, 1})
    ->Args({kBatch, kDim, 512, 2})
    ->Args({2048, 2048, 2048, 1})
    ->Args({2048, 2048, 2048, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SgemmEigenGram)
    ->ArgNames({"m", "d", "threads"})
    ->Args({kBatch, kDim, 1})
    ->Args({kBatch, kDim, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace neuncut::bench
