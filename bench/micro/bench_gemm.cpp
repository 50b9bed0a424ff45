// Reference: single-precision GEMM through Eigen, so the kernels' GFLOP/s can be read against
// what this machine's GEMM reaches; and detail::gemm, the product training and inference run,
// at the shapes of a training step in each of its modes: fp32 through Eigen, fp32 through
// oneDNN (the default where built with it) and bf16 through oneDNN.
#include <array>

#include "kernels/gemm.hpp"
#include "common.hpp"
#include "neuncut/core/precision.hpp"

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

// C (M x N, f32) = op(A) (M x K) * op(B) (K x N) through detail::gemm. mode 0: fp32 through
// Eigen; 1: fp32 through oneDNN; 2: bf16 (f32 operands rounded to bf16 by oneDNN reorders, then
// oneDNN's bf16 matmul with f32 accumulation; the timing includes the two conversions, as the
// MLP and the affinity pay them on every call). trans_a / trans_b: the operand is read
// transposed from a row-major K x M / N x K matrix (the backward pass's a^T g and g W^T, the
// affinity's X X^T). FLOPs: 2 M N K.
void BM_Gemm(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(6));
  const Precision precision = mode == 2 ? Precision::Bf16 : Precision::Fp32;
  if (precision == Precision::Bf16 && !bf16_available()) {
    state.SkipWithError(("bf16 unavailable: " + bf16_unavailable_reason()).c_str());
    return;
  }
  const auto saved = detail::fp32_gemm_backend();
  try {
    detail::set_fp32_gemm_backend(mode == 0 ? detail::Fp32GemmBackend::Eigen : detail::Fp32GemmBackend::OneDnn);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const Index M = state.range(0), K = state.range(1), N = state.range(2);
  const bool trans_a = state.range(3) != 0, trans_b = state.range(4) != 0;
  BenchThreads scope(static_cast<int>(state.range(5)));
  const MatrixF A = trans_a ? MatrixF::Random(K, M) : MatrixF::Random(M, K);
  const MatrixF B = trans_b ? MatrixF::Random(N, K) : MatrixF::Random(K, N);
  MatrixF C(M, N);
  for (auto _ : state) {
    detail::gemm(detail::gemm_operand(A, trans_a), detail::gemm_operand(B, trans_b), C.data(), N, precision);
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  detail::set_fp32_gemm_backend(saved);
  set_gflops(state, 2.0 * double(M) * double(N) * double(K));
}

// The products of a default step (m 1000, 784-512-512-10): forward a W, backward a^T g and
// g W^T per layer, and the affinity's Gram matrix X X^T (full, 1000 x 784 x 1000).
void step_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "K", "N", "tA", "tB", "threads", "mode"});
  const std::array<std::array<int64_t, 5>, 9> shapes = {{
      {kBatch, kDim, 512, 0, 0},  {kBatch, 512, 512, 0, 0},  {kBatch, 512, kClusters, 0, 0},   // forward
      {kDim, kBatch, 512, 1, 0},  {512, kBatch, 512, 1, 0},  {512, kBatch, kClusters, 1, 0},  // weight gradients
      {kBatch, 512, 512, 0, 1},   {kBatch, kClusters, 512, 0, 1},                              // input gradients
      {kBatch, kDim, kBatch, 0, 1},                                                             // affinity Gram
  }};
  for (const auto& s : shapes)
    for (int64_t mode : {0, 1, 2})
      for (int64_t threads : {1, 2}) b->Args({s[0], s[1], s[2], s[3], s[4], threads, mode});
}

}  // namespace

BENCHMARK(BM_Gemm)->Apply(step_shapes)->Unit(benchmark::kMillisecond)->UseRealTime();

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
