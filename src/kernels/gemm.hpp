// PRIVATE header: the matrix products of training and inference (MLP layers, batch Gram).
//
// C (f32) = A B (+ bias) (then ReLU), A and B given in f32, in one of two precisions:
//
// - fp32: oneDNN's f32 matmul (JIT AVX-512 / AVX2 kernels) when neuncut is built with oneDNN,
//   else Eigen's GEMM, because oneDNN's JIT kernels ran the training step's shapes markedly
//   faster (numbers in docs/measurements.md). The backend can be switched at run time
//   (set_fp32_gemm_backend, or NEUNCUT_FP32_GEMM=eigen|onednn in the environment), which the
//   tests use to compare the two and the benchmarks to measure the difference.
// - bf16: operands rounded to bf16 by oneDNN reorders (round to nearest even) right before
//   the product, or handed over already rounded (Bf16Matrix: the affinity and the network
//   round an operand once when several products read it); fp32 accumulation; oneDNN only.
//
// Everything oneDNN needs for one problem shape (the matmul and reorder primitives, the bf16
// layouts) is created once and cached, so a training loop does not re-create primitives
// every step.
//
// Threads: Debian's oneDNN runs on OpenMP, like the rest of neuncut, and reads the calling
// thread's OpenMP thread count when a primitive is created and run. Callers set it with
// ThreadCountScope, as for Eigen's GEMM; inside a parallel region each call runs on the
// calling thread only. The cache keys on that count, so a product is always run by a
// primitive made for its thread count, and results depend on the thread count only.
//
// In builds without oneDNN, bf16 products throw InvalidArgument with
// bf16_backend_unavailable_reason().
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "neuncut/core/precision.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// "" when oneDNN can run bf16 products natively on this CPU; otherwise the reason.
std::string bf16_backend_unavailable_reason();

/// The instruction set oneDNN's kernels use in this process (its effective CPU ISA, e.g.
/// "avx512_core_bf16"), so that a fallback to slower kernels can be seen and tested; "" in
/// builds without oneDNN.
std::string onednn_cpu_isa();

/// One operand as the product uses it: `rows x cols`. Stored row-major with leading
/// dimension `ld`; when `transposed`, the stored matrix is its transpose (cols x rows,
/// leading dimension ld), read without a copy. The values are f32 (`data`), or, for bf16
/// products only, already rounded to bf16 (`bf16`, see Bf16Matrix; `data` is then null).
struct GemmOperand {
  const float* data = nullptr;
  const std::uint16_t* bf16 = nullptr;
  Index rows = 0, cols = 0, ld = 0;
  bool transposed = false;
};

/// A row-major matrix rounded to bf16 once, for bf16 products that read it several times.
/// A bf16 product otherwise converts its f32 operands on every call: the affinity's Gram
/// tiles would each convert both of their row blocks, many times the cost of converting the
/// batch once (docs/measurements.md).
class Bf16Matrix {
 public:
  /// Rounds `m` to nearest even, subnormals to zero, the way oneDNN's f32 -> bf16 conversion
  /// (and the AVX512_BF16 instruction) does, on `threads` threads.
  void assign(const Eigen::Ref<const MatrixF>& m, int threads);
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  const std::uint16_t* row(Index i) const { return values_.data() + i * cols_; }

 private:
  Index rows_ = 0, cols_ = 0;
  std::vector<std::uint16_t, Eigen::aligned_allocator<std::uint16_t>> values_;
};

/// bf16 bits of x: round to nearest even, subnormals to zero (finite x). Inline, so that the
/// conversion loops vectorize: as a call it took a fifth of the affinity's time.
inline std::uint16_t round_to_bf16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0) u &= 0x80000000u;  // subnormal -> signed zero
  u += 0x7fffu + ((u >> 16) & 1u);               // round to nearest, ties to even
  return static_cast<std::uint16_t>(u >> 16);
}

/// The float a bf16 value stands for.
inline float bf16_to_float(std::uint16_t bits) {
  const std::uint32_t u = std::uint32_t(bits) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// C = A B, A: M x K, B: K x N, C: M x N row-major f32 with leading dimension ldc
/// (overwritten). With `bias` (N floats) C += bias on every row; with `relu`, C = max(C, 0)
/// after the bias (fused into the product's output stage). In bf16 the operands are rounded to
/// bf16 (8 significant bits) and products and sums are fp32; in fp32 everything is fp32.
void gemm(const GemmOperand& a, const GemmOperand& b, float* c, Index ldc, Precision precision,
          const float* bias = nullptr, bool relu = false);

/// Rows per product in gemm_rowwise: every product it runs has exactly this many rows.
inline constexpr Index kRowTileRows = 1024;

/// gemm() for inference, where every row of C must be a function of the same row of A alone
/// (A not transposed): a row's result does not depend on M, on where the row sits in A, or
/// on the thread count. A plain gemm() gives no such guarantee: the GEMM libraries pick
/// kernels and blocking by the problem's shape (oneDNN's AVX2 kernels handled some rows of
/// 8-, 20- and 32-row products by other code than the rest, and both libraries run a
/// one-row product as a matrix-vector product that sums in another order), so the same row
/// gave results a few units in the last place apart in different batches. Here the rows run
/// in tiles of exactly kRowTileRows (the last one padded with zero rows), each a
/// single-threaded product with the same shape and dense strides; within such a product both
/// backends treat every row alike (tests/kernels/test_gemm.cpp checks it for many shapes). The tiles
/// are spread over the calling thread's thread count (ThreadCountScope; one inside a parallel
/// region). The padding costs at most kRowTileRows - 1 rows per call; the tile size and its
/// cost are measured in docs/row-invariance.md. B may be given in bf16 (bf16 products, not
/// transposed), A only in f32; a transposed or strided f32 B is copied into a dense one first.
void gemm_rowwise(const GemmOperand& a, const GemmOperand& b, float* c, Index ldc, Precision precision,
                  const float* bias = nullptr, bool relu = false);

/// The library that runs fp32 products.
enum class Fp32GemmBackend { Eigen, OneDnn };

/// The backend fp32 products use now: oneDNN when built with it, unless NEUNCUT_FP32_GEMM=eigen
/// was set at start-up or set_fp32_gemm_backend chose otherwise.
Fp32GemmBackend fp32_gemm_backend();
/// Chooses the fp32 backend for the whole process (tests and benchmarks). OneDnn in a build
/// without oneDNN throws InvalidArgument. Not to be called while products run.
void set_fp32_gemm_backend(Fp32GemmBackend backend);

/// An operand view of a row-major Eigen matrix (or block of one), optionally transposed.
template <class Derived>
GemmOperand gemm_operand(const Eigen::DenseBase<Derived>& m, bool transposed = false) {
  static_assert(Derived::IsRowMajor, "row-major operands only");
  GemmOperand op;
  op.data = m.derived().data();
  op.rows = transposed ? m.cols() : m.rows();
  op.cols = transposed ? m.rows() : m.cols();
  op.ld = m.derived().outerStride();
  op.transposed = transposed;
  return op;
}

/// An operand view of rows [first, first + count) of a Bf16Matrix, optionally transposed.
inline GemmOperand gemm_operand(const Bf16Matrix& m, Index first, Index count, bool transposed = false) {
  GemmOperand op;
  op.bf16 = m.row(first);
  op.rows = transposed ? m.cols() : count;
  op.cols = transposed ? count : m.cols();
  op.ld = m.cols();
  op.transposed = transposed;
  return op;
}

/// Number of cached oneDNN problem shapes, both precisions (for tests).
std::size_t gemm_cached_shapes();

}  // namespace neuncut::detail
