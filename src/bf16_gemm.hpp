// PRIVATE header: matrix products with bf16 operands and fp32 accumulation (oneDNN matmul).
//
// C (f32) = A B (+ bias) (then ReLU), where A and B are given in f32 and rounded to bf16 by
// oneDNN reorders (round to nearest even) right before the product. Everything the product
// needs for one problem shape (the matmul and reorder primitives, the bf16 layouts) is
// created once and cached, so a training loop does not re-create primitives every step.
//
// Threads: Debian's oneDNN runs on OpenMP, like the rest of neuncut, and reads the calling
// thread's OpenMP thread count when a primitive is created and run. Callers set it with
// ThreadCountScope, as for Eigen's GEMM; inside a parallel region each call runs on the
// calling thread only. The cache keys on that count, so a product is always run by a
// primitive made for its thread count, and results depend on the thread count only.
//
// Every function exists in builds without oneDNN too: there, bf16_gemm throws
// InvalidArgument with bf16_backend_unavailable_reason().
#pragma once

#include <string>

#include "neuncut/types.hpp"

namespace neuncut::detail {

/// "" when oneDNN can run bf16 products natively on this CPU; otherwise the reason.
std::string bf16_backend_unavailable_reason();

/// One f32 operand as the product uses it: `rows x cols`. Stored row-major with leading
/// dimension `ld`; when `transposed`, the stored matrix is its transpose (cols x rows,
/// leading dimension ld), read without a copy.
struct GemmOperand {
  const float* data = nullptr;
  Index rows = 0, cols = 0, ld = 0;
  bool transposed = false;
};

/// C = A B, A: M x K, B: K x N, C: M x N row-major f32 with leading dimension ldc
/// (overwritten). With `bias` (N floats) C += bias on every row; with `relu`, C = max(C, 0)
/// after the bias (fused into the product's output stage). Operands are rounded to bf16
/// (8 significant bits); products and sums are fp32.
void bf16_gemm(const GemmOperand& a, const GemmOperand& b, float* c, Index ldc, const float* bias = nullptr,
               bool relu = false);

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

/// Number of cached problem shapes (for tests).
std::size_t bf16_gemm_cached_shapes();

}  // namespace neuncut::detail
