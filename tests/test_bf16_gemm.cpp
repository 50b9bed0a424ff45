// The bf16 GEMM (oneDNN) against a double-precision reference, with an error bound derived
// from bf16's 8-bit significand; the precision names and the availability check.
//
// The bound. Rounding to nearest with p = 8 significant bits has unit roundoff u = 2^-8, so
// each operand is a(1 + d) with |d| <= u, and a product of two rounded operands is off by at
// most (2u + u^2)|a b|. Summing K such products in fp32, in any order, adds at most
// gamma_K = K 2^-24 / (1 - K 2^-24) times the sum of their magnitudes (Higham, Accuracy and
// Stability, 3.1). Hence, elementwise,
//   |C_bf16 - A B| <= ((2u + u^2)(1 + gamma_K) + gamma_K) (|A| |B|)   (+ the output's own rounding),
// a worst case that holds for every input, so the test cannot fail by bad luck. A typical
// error is far smaller (independent roundings add up like sqrt(K), not K), so the bound is
// loose but principled; the tests that show bf16 rounding really happens use inputs chosen
// for it.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "bf16_gemm.hpp"
#include "neuncut/error.hpp"
#include "neuncut/precision.hpp"
#include "parallel.hpp"
#include "random.hpp"
#include "test_data.hpp"

using namespace neuncut;

#define SKIP_WITHOUT_BF16() \
  if (!bf16_available()) GTEST_SKIP() << "bf16 unavailable: " << bf16_unavailable_reason()

using neuncut::testing::gaussian_matrix;
namespace {

// The worst-case relative factor of the bound above for sums of K products.
double bf16_product_bound(Index K) {
  const double u = std::ldexp(1.0, -8), gamma = double(K) * std::ldexp(1.0, -24) / (1.0 - double(K) * std::ldexp(1.0, -24));
  return (2 * u + u * u) * (1 + gamma) + gamma;
}

// Checks C = op(A) op(B) (+ bias) (ReLU) elementwise against the bound, with A, B given as used (M x K, K x N).
void expect_within_bound(const MatrixF& C, const MatrixF& A, const MatrixF& B, const float* bias = nullptr,
                         bool relu = false) {
  const Eigen::MatrixXd exact = A.cast<double>() * B.cast<double>();
  const Eigen::MatrixXd magnitude = A.cast<double>().cwiseAbs() * B.cast<double>().cwiseAbs();
  const double factor = bf16_product_bound(A.cols());
  for (Index i = 0; i < C.rows(); ++i)
    for (Index j = 0; j < C.cols(); ++j) {
      double ref = exact(i, j) + (bias ? bias[j] : 0.0);
      if (relu) ref = std::max(ref, 0.0);
      // The output's fp32 rounding, and the bias added in fp32.
      const double tol = factor * magnitude(i, j) + std::ldexp(std::abs(ref) + (bias ? std::abs(bias[j]) : 0.0), -23);
      ASSERT_LE(std::abs(C(i, j) - ref), tol) << "at (" << i << ", " << j << ") of " << C.rows() << " x " << C.cols();
    }
}
}  // namespace

TEST(Precision, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_precision("fp32"), Precision::Fp32);
  EXPECT_EQ(parse_precision("bf16"), Precision::Bf16);
  EXPECT_EQ(to_string(Precision::Bf16), "bf16");
  EXPECT_EQ(to_string(Precision::Fp32), "fp32");
  try {
    parse_precision("fp16");
    FAIL() << "fp16 accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'fp16'"), std::string::npos) << e.what();
  }
}

TEST(Precision, AvailabilityIsExplainedWhenMissing) {
  EXPECT_NO_THROW(require_precision_available(Precision::Fp32, "fp32"));
  if (bf16_available()) {
    EXPECT_NO_THROW(require_precision_available(Precision::Bf16, "precision bf16"));
    return;
  }
  try {
    require_precision_available(Precision::Bf16, "precision bf16");
    FAIL() << "bf16 reported unavailable but accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(bf16_unavailable_reason()), std::string::npos) << e.what();
  }
  // The product itself refuses too, with the same reason.
  const MatrixF A = MatrixF::Ones(2, 2);
  MatrixF C(2, 2);
  EXPECT_THROW(detail::bf16_gemm(detail::gemm_operand(A), detail::gemm_operand(A), C.data(), 2), InvalidArgument);
}

TEST(Bf16Gemm, MatchesReferenceWithinTheBf16Bound) {
  SKIP_WITHOUT_BF16();
  // The shapes of a NeuNcut step (scaled down), thin ones, and odd sizes that fit no block.
  for (auto [M, K, N] : {std::array<Index, 3>{100, 78, 51}, {64, 512, 10}, {37, 10, 64}, {1, 300, 7}, {129, 257, 65}}) {
    const MatrixF A = gaussian_matrix(M, K, 1), B = gaussian_matrix(K, N, 2);
    MatrixF C(M, N);
    detail::bf16_gemm(detail::gemm_operand(A), detail::gemm_operand(B), C.data(), N);
    expect_within_bound(C, A, B);
  }
}

TEST(Bf16Gemm, TransposedOperandsBiasReluAndStrides) {
  SKIP_WITHOUT_BF16();
  const Index M = 40, K = 70, N = 30;
  const MatrixF At = gaussian_matrix(K, M, 3), Bt = gaussian_matrix(N, K, 4), bias = gaussian_matrix(1, N, 5);
  const MatrixF A = At.transpose(), B = Bt.transpose();
  MatrixF C(M, N);
  // A^T and B^T read in place (the backward pass's a^T g and g W^T).
  detail::bf16_gemm(detail::gemm_operand(At, true), detail::gemm_operand(Bt, true), C.data(), N, bias.data(), true);
  expect_within_bound(C, A, B, bias.data(), true);
  EXPECT_EQ(C.minCoeff(), 0.0f);  // ReLU cut something
  // Blocks of larger matrices (leading dimension > columns), written into a block.
  const MatrixF big_a = gaussian_matrix(M + 5, K + 9, 6), big_b = gaussian_matrix(K + 3, N + 11, 7);
  MatrixF big_c = MatrixF::Constant(M + 2, N + 4, 42.0f);
  detail::bf16_gemm(detail::gemm_operand(big_a.block(2, 3, M, K)), detail::gemm_operand(big_b.block(1, 4, K, N)),
                    big_c.data() + 1, big_c.cols(), bias.data());
  expect_within_bound(big_c.block(0, 1, M, N), big_a.block(2, 3, M, K), big_b.block(1, 4, K, N), bias.data());
  EXPECT_EQ(big_c(0, 0), 42.0f);            // outside the block: untouched
  EXPECT_EQ(big_c(M, 1), 42.0f);
  EXPECT_EQ(big_c(0, N + 1), 42.0f);
}

TEST(Bf16Gemm, RoundsOperandsToBf16AndIsExactOnBf16Values) {
  SKIP_WITHOUT_BF16();
  const Index M = 8, K = 64, N = 8;
  // Small integers are exact in bf16 and their sums are exact in fp32: so is the product.
  detail::Rng rng(8);
  MatrixF A(M, K), B(K, N);
  for (Index i = 0; i < A.size(); ++i) A.data()[i] = float(int(rng.uniform(-8, 9)));
  for (Index i = 0; i < B.size(); ++i) B.data()[i] = float(int(rng.uniform(-8, 9)));
  MatrixF C(M, N);
  detail::bf16_gemm(detail::gemm_operand(A), detail::gemm_operand(B), C.data(), N);
  EXPECT_EQ(C, (A * B).eval());
  // 1 + 2^-10 is not a bf16 value (8 significant bits): it rounds to 1, so each of the K
  // terms loses 2^-10, which fp32 would keep.
  const MatrixF X = MatrixF::Constant(1, K, 1.0f + std::ldexp(1.0f, -10)), ones = MatrixF::Ones(K, 1);
  MatrixF y(1, 1);
  detail::bf16_gemm(detail::gemm_operand(X), detail::gemm_operand(ones), y.data(), 1);
  EXPECT_EQ(y(0, 0), float(K));
}

TEST(Bf16Gemm, CachesPlansPerShapeAndRepeatsBitForBit) {
  SKIP_WITHOUT_BF16();
  const MatrixF A = gaussian_matrix(50, 60, 9), B = gaussian_matrix(60, 70, 10);
  MatrixF C1(50, 70), C2(50, 70);
  for (int threads : {1, 2}) {
    detail::ThreadCountScope scope(threads);
    detail::bf16_gemm(detail::gemm_operand(A), detail::gemm_operand(B), C1.data(), 70);
    const std::size_t shapes = detail::bf16_gemm_cached_shapes();
    detail::bf16_gemm(detail::gemm_operand(A), detail::gemm_operand(B), C2.data(), 70);
    EXPECT_EQ(detail::bf16_gemm_cached_shapes(), shapes) << "a repeated shape made a new plan";
    EXPECT_EQ(C1, C2) << "threads " << threads;
    expect_within_bound(C1, A, B);
  }
}

TEST(Bf16Gemm, RunsConcurrentlyFromSeveralThreads) {
  SKIP_WITHOUT_BF16();
  // Inference runs one chunk per thread, each with its own product on the shared plans.
  const MatrixF A = gaussian_matrix(64, 100, 11), B = gaussian_matrix(100, 32, 12);
  MatrixF expected(64, 32);
  {
    detail::ThreadCountScope one(1);  // inside the parallel loop each product runs on one thread
    detail::bf16_gemm(detail::gemm_operand(A), detail::gemm_operand(B), expected.data(), 32);
  }
  std::vector<MatrixF> out(8, MatrixF(64, 32));
  detail::parallel_for(0, 8, 2, [&](Index t) {
    detail::bf16_gemm(detail::gemm_operand(A), detail::gemm_operand(B), out[t].data(), 32);
  });
  for (const MatrixF& C : out) EXPECT_EQ(C, expected);
}
