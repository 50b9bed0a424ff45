// The products of training and inference (detail::gemm) against a double-precision
// reference, with error bounds derived from each precision's significand, in every mode this
// build has: fp32 through Eigen, fp32 through oneDNN, bf16 through oneDNN. Also the precision
// names and the availability check.
//
// The bound. Rounding to nearest with p significant bits has unit roundoff u = 2^-p; bf16
// operands (p = 8) are a(1 + d) with |d| <= u = 2^-8, so a product of two rounded operands is
// off by at most (2u + u^2)|a b|; fp32 operands are used as given (u = 0 here). Summing K
// products in fp32, in any order, adds at most gamma_K = K 2^-24 / (1 - K 2^-24) times the sum
// of their magnitudes (Higham, Accuracy and Stability, 3.1). Hence, elementwise,
//   |C - A B| <= ((2u + u^2)(1 + gamma_K) + gamma_K) (|A| |B|)   (+ the output's own rounding),
// a worst case that holds for every input, so the test cannot fail by bad luck. A typical
// error is far smaller (independent roundings add up like sqrt(K), not K), so the bound is
// loose but principled; the tests that show bf16 rounding really happens use inputs chosen
// for it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "core/random.hpp"
#include "kernels/gemm.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/precision.hpp"
#include "row_invariance.hpp"
#include "test_data.hpp"

using namespace neuncut;

#define SKIP_WITHOUT_BF16() \
  if (!bf16_available()) GTEST_SKIP() << "bf16 unavailable: " << bf16_unavailable_reason()

using neuncut::testing::gaussian_matrix;
namespace {

// The worst-case relative factor of the bound above for sums of K products.
double product_bound(Index K, Precision precision) {
  const double u = precision == Precision::Bf16 ? std::ldexp(1.0, -8) : 0.0;
  const double gamma = double(K) * std::ldexp(1.0, -24) / (1.0 - double(K) * std::ldexp(1.0, -24));
  return (2 * u + u * u) * (1 + gamma) + gamma;
}

// Checks C = op(A) op(B) (+ bias) (ReLU) elementwise against the bound, with A, B given as used (M x K, K x N).
void expect_within_bound(const MatrixF& C, const MatrixF& A, const MatrixF& B, Precision precision,
                         const float* bias = nullptr, bool relu = false) {
  const Eigen::MatrixXd exact = A.cast<double>() * B.cast<double>();
  const Eigen::MatrixXd magnitude = A.cast<double>().cwiseAbs() * B.cast<double>().cwiseAbs();
  const double factor = product_bound(A.cols(), precision);
  for (Index i = 0; i < C.rows(); ++i)
    for (Index j = 0; j < C.cols(); ++j) {
      double ref = exact(i, j) + (bias ? bias[j] : 0.0);
      if (relu) ref = std::max(ref, 0.0);
      // The output's fp32 rounding, and the bias added in fp32.
      const double tol = factor * magnitude(i, j) + std::ldexp(std::abs(ref) + (bias ? std::abs(bias[j]) : 0.0), -23);
      ASSERT_LE(std::abs(C(i, j) - ref), tol) << "at (" << i << ", " << j << ") of " << C.rows() << " x " << C.cols();
    }
}

// One way of computing a product: a precision and, for fp32, a backend.
struct Mode {
  Precision precision;
  detail::Fp32GemmBackend backend;
  std::string name;
};

bool onednn_fp32_available() {
  const auto saved = detail::fp32_gemm_backend();
  try {
    detail::set_fp32_gemm_backend(detail::Fp32GemmBackend::OneDnn);
  } catch (const InvalidArgument&) {
    return false;
  }
  detail::set_fp32_gemm_backend(saved);
  return true;
}

// Every mode this build and CPU can run.
std::vector<Mode> available_modes() {
  std::vector<Mode> modes = {{Precision::Fp32, detail::Fp32GemmBackend::Eigen, "fp32 (Eigen)"}};
  if (onednn_fp32_available()) modes.push_back({Precision::Fp32, detail::Fp32GemmBackend::OneDnn, "fp32 (oneDNN)"});
  if (bf16_available()) modes.push_back({Precision::Bf16, detail::fp32_gemm_backend(), "bf16 (oneDNN)"});
  return modes;
}

// Selects a mode's fp32 backend for a scope.
class BackendScope {
 public:
  explicit BackendScope(const Mode& mode) : saved_(detail::fp32_gemm_backend()) {
    detail::set_fp32_gemm_backend(mode.backend);
  }
  ~BackendScope() { detail::set_fp32_gemm_backend(saved_); }

 private:
  detail::Fp32GemmBackend saved_;
};

void gemm(const MatrixF& A, const MatrixF& B, MatrixF& C, Precision precision) {
  detail::gemm(detail::gemm_operand(A), detail::gemm_operand(B), C.data(), C.cols(), precision);
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
  EXPECT_THROW(gemm(A, A, C, Precision::Bf16), InvalidArgument);
}

TEST(Gemm, DefaultFp32BackendIsOneDnnWhenBuiltWithIt) {
  if (std::getenv("NEUNCUT_FP32_GEMM")) GTEST_SKIP() << "NEUNCUT_FP32_GEMM is set";
  EXPECT_EQ(detail::fp32_gemm_backend(),
            onednn_fp32_available() ? detail::Fp32GemmBackend::OneDnn : detail::Fp32GemmBackend::Eigen);
}

namespace {
// oneDNN's instruction sets in families, narrowest first: what it can run is the CPU's widest
// family, or the cap set in ONEDNN_MAX_CPU_ISA (DNNL_MAX_CPU_ISA) when that is narrower.
enum class IsaFamily { Sse41 = 1, Avx, Avx2, Avx512Core, Avx512Bf16, All };

IsaFamily family_of_onednn_isa(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "all") return IsaFamily::All;
  if (name.find("bf16") != std::string::npos || name.find("amx") != std::string::npos ||
      name.find("fp16") != std::string::npos)
    return IsaFamily::Avx512Bf16;  // AMX and FP16 levels include AVX512_BF16
  if (name.rfind("avx512_core", 0) == 0) return IsaFamily::Avx512Core;
  if (name.rfind("avx2", 0) == 0) return IsaFamily::Avx2;
  if (name == "avx") return IsaFamily::Avx;
  return IsaFamily::Sse41;
}
}  // namespace

TEST(Gemm, OneDnnRunsTheWidestKernelsTheCpuHas) {
  // The fp32 default must not fall back to slower kernels unnoticed (Debian's OpenBLAS does on
  // CPUs it does not recognise): oneDNN's effective instruction set has to match the CPU's, or
  // the cap the environment sets (CI's AVX2 emulation on AVX-512 hosts, scripts/test-avx2.sh).
  const std::string isa = onednn_cpu_isa();
  if (isa.empty()) GTEST_SKIP() << "built without oneDNN";
#if defined(__x86_64__)
  __builtin_cpu_init();
  IsaFamily cpu = IsaFamily::Sse41;
  if (__builtin_cpu_supports("avx")) cpu = IsaFamily::Avx;
  if (__builtin_cpu_supports("avx2")) cpu = IsaFamily::Avx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    cpu = IsaFamily::Avx512Core;
  if (cpu == IsaFamily::Avx512Core && __builtin_cpu_supports("avx512bf16")) cpu = IsaFamily::Avx512Bf16;
  IsaFamily expected = cpu;
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (!cap) cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (cap && *cap) expected = std::min(cpu, family_of_onednn_isa(cap));
  EXPECT_EQ(static_cast<int>(family_of_onednn_isa(isa)), static_cast<int>(expected))
      << "oneDNN runs " << isa << "; cap: " << (cap ? cap : "(none)");
#else
  GTEST_SKIP() << "x86-64 only";
#endif
}

TEST(Gemm, MatchesReferenceWithinTheBoundInEveryMode) {
  for (const Mode& mode : available_modes()) {
    SCOPED_TRACE(mode.name);
    BackendScope scope(mode);
    // The shapes of a NeuNcut step (scaled down), thin ones, and odd sizes that fit no block.
    for (auto [M, K, N] :
         {std::array<Index, 3>{100, 78, 51}, {64, 512, 10}, {37, 10, 64}, {1, 300, 7}, {129, 257, 65}}) {
      const MatrixF A = gaussian_matrix(M, K, 1), B = gaussian_matrix(K, N, 2);
      MatrixF C(M, N);
      gemm(A, B, C, mode.precision);
      expect_within_bound(C, A, B, mode.precision);
    }
  }
}

TEST(Gemm, TransposedOperandsBiasReluAndStridesInEveryMode) {
  for (const Mode& mode : available_modes()) {
    SCOPED_TRACE(mode.name);
    BackendScope scope(mode);
    const Precision p = mode.precision;
    const Index M = 40, K = 70, N = 30;
    const MatrixF At = gaussian_matrix(K, M, 3), Bt = gaussian_matrix(N, K, 4), bias = gaussian_matrix(1, N, 5);
    const MatrixF A = At.transpose(), B = Bt.transpose();
    // A^T and B^T read in place (the backward pass's a^T g and g W^T), each alone and both.
    for (auto [ta, tb] : {std::array<bool, 2>{true, false}, {false, true}, {true, true}}) {
      MatrixF C(M, N);
      detail::gemm(ta ? detail::gemm_operand(At, true) : detail::gemm_operand(A),
                   tb ? detail::gemm_operand(Bt, true) : detail::gemm_operand(B), C.data(), N, p, bias.data(), true);
      expect_within_bound(C, A, B, p, bias.data(), true);
      EXPECT_EQ(C.minCoeff(), 0.0f);  // ReLU cut something
    }
    // Blocks of larger matrices (leading dimension > columns), written into a block.
    const MatrixF big_a = gaussian_matrix(M + 5, K + 9, 6), big_b = gaussian_matrix(K + 3, N + 11, 7);
    MatrixF big_c = MatrixF::Constant(M + 2, N + 4, 42.0f);
    detail::gemm(detail::gemm_operand(big_a.block(2, 3, M, K)), detail::gemm_operand(big_b.block(1, 4, K, N)),
                 big_c.data() + 1, big_c.cols(), p, bias.data());
    expect_within_bound(big_c.block(0, 1, M, N), big_a.block(2, 3, M, K), big_b.block(1, 4, K, N), p, bias.data());
    EXPECT_EQ(big_c(0, 0), 42.0f);  // outside the block: untouched
    EXPECT_EQ(big_c(M, 1), 42.0f);
    EXPECT_EQ(big_c(0, N + 1), 42.0f);
    // An empty sum: C = bias, then ReLU.
    MatrixF C0(3, N);
    detail::gemm(detail::gemm_operand(MatrixF(3, 0)), detail::gemm_operand(MatrixF(0, N)), C0.data(), N, p, bias.data(),
                 true);
    EXPECT_EQ(C0.row(2), bias.cwiseMax(0.0f)) << "empty product";
  }
}

TEST(GemmRowwise, EachRowDependsOnItsOwnRowOnlyInEveryMode) {
  // The inference products: a row's result is bit-identical whatever the batch, for odd and
  // step-like shapes, with bias and ReLU, in every backend and at 1 and 2 threads; and it is
  // the product (within the bound, in case a tile or its padding were misplaced).
  for (const Mode& mode : available_modes()) {
    SCOPED_TRACE(mode.name);
    BackendScope scope(mode);
    for (auto [K, N] : {std::array<Index, 2>{3, 3}, {16, 2}, {3, 16}, {100, 7}, {784, 64}, {64, 10}}) {
      SCOPED_TRACE(::testing::Message() << "K " << K << ", N " << N);
      // A full tile and a tail; B as stored and transposed (k-means reads its centroids so).
      const MatrixF X = gaussian_matrix(detail::kRowTileRows + 100, K, 21), B = gaussian_matrix(K, N, 22),
                    Bt = B.transpose(), bias = gaussian_matrix(1, N, 23);
      for (bool transposed : {false, true}) {
        SCOPED_TRACE(transposed ? "B transposed" : "B as stored");
        const auto product = [&](const MatrixF& A) {
          MatrixF C(A.rows(), N);
          detail::gemm_rowwise(detail::gemm_operand(A),
                               transposed ? detail::gemm_operand(Bt, true) : detail::gemm_operand(B), C.data(), N,
                               mode.precision, bias.data(), true);
          return C;
        };
        neuncut::testing::expect_rows_independent_of_batch(X, product);
        const MatrixF C = product(X);
        expect_within_bound(C, X, B, mode.precision, bias.data(), true);
        detail::ThreadCountScope two(2);
        EXPECT_EQ(product(X), C) << "2 threads";
      }
    }
  }
}

TEST(GemmRowwise, ReadsAndWritesStridedBlocks) {
  for (const Mode& mode : available_modes()) {
    SCOPED_TRACE(mode.name);
    BackendScope scope(mode);
    const Index M = 150, K = 40, N = 12;
    const MatrixF big_a = gaussian_matrix(M + 4, K + 5, 24), B = gaussian_matrix(K, N, 25);
    const MatrixF A = big_a.block(2, 3, M, K);
    MatrixF dense(M, N), big_c = MatrixF::Constant(M + 2, N + 3, 42.0f);
    detail::gemm_rowwise(detail::gemm_operand(A), detail::gemm_operand(B), dense.data(), N, mode.precision);
    detail::gemm_rowwise(detail::gemm_operand(big_a.block(2, 3, M, K)), detail::gemm_operand(B), big_c.data() + 1,
                         big_c.cols(), mode.precision);
    EXPECT_EQ(MatrixF(big_c.block(0, 1, M, N)), dense);
    EXPECT_EQ(big_c(0, 0), 42.0f);  // outside the block: untouched
    EXPECT_EQ(big_c(M, 1), 42.0f);
    EXPECT_EQ(big_c(0, N + 1), 42.0f);
  }
}

TEST(Gemm, Fp32BackendsAgreeToRounding) {
  // The fast path against the plain one on the step's own shapes: both are fp32 sums of the
  // same products in different orders, so they differ by rounding only (the bound above, for
  // each against the exact product, is checked in the tests before; here the two are compared
  // directly, far tighter than that bound, to catch a wrong operand or stride).
  if (!onednn_fp32_available()) GTEST_SKIP() << "built without oneDNN";
  const MatrixF X = gaussian_matrix(300, 784, 13), W1 = gaussian_matrix(784, 512, 14);
  MatrixF eigen_out(300, 512), onednn_out(300, 512);
  {
    BackendScope s({Precision::Fp32, detail::Fp32GemmBackend::Eigen, ""});
    gemm(X, W1, eigen_out, Precision::Fp32);
  }
  {
    BackendScope s({Precision::Fp32, detail::Fp32GemmBackend::OneDnn, ""});
    gemm(X, W1, onednn_out, Precision::Fp32);
  }
  const float scale = (X.cwiseAbs() * W1.cwiseAbs()).maxCoeff();
  EXPECT_LE((eigen_out - onednn_out).cwiseAbs().maxCoeff(), 1e-5f * scale);
}

TEST(Gemm, Bf16RoundsOperandsAndFp32DoesNot) {
  const Index M = 8, K = 64, N = 8;
  // 1 + 2^-10 is not a bf16 value (8 significant bits): it rounds to 1, so each of the K
  // terms loses 2^-10, which fp32 keeps.
  const MatrixF X = MatrixF::Constant(1, K, 1.0f + std::ldexp(1.0f, -10)), ones = MatrixF::Ones(K, 1);
  MatrixF y(1, 1);
  for (const Mode& mode : available_modes()) {
    SCOPED_TRACE(mode.name);
    BackendScope scope(mode);
    gemm(X, ones, y, mode.precision);
    EXPECT_EQ(y(0, 0), mode.precision == Precision::Bf16 ? float(K) : float(K) * (1.0f + std::ldexp(1.0f, -10)));
  }
  if (!bf16_available()) return;
  // Small integers are exact in bf16 and their sums are exact in fp32: so is the product.
  detail::Rng rng(8);
  MatrixF A(M, K), B(K, N);
  for (Index i = 0; i < A.size(); ++i) A.data()[i] = float(int(rng.uniform(-8, 9)));
  for (Index i = 0; i < B.size(); ++i) B.data()[i] = float(int(rng.uniform(-8, 9)));
  MatrixF C(M, N);
  gemm(A, B, C, Precision::Bf16);
  EXPECT_EQ(C, (A * B).eval());
}

TEST(Gemm, CachesPlansPerShapeAndRepeatsBitForBit) {
  const MatrixF A = gaussian_matrix(50, 60, 9), B = gaussian_matrix(60, 70, 10);
  for (const Mode& mode : available_modes()) {
    SCOPED_TRACE(mode.name);
    BackendScope scope(mode);
    MatrixF C1(50, 70), C2(50, 70);
    for (int threads : {1, 2}) {
      detail::ThreadCountScope count(threads);
      gemm(A, B, C1, mode.precision);
      const std::size_t shapes = detail::gemm_cached_shapes();
      gemm(A, B, C2, mode.precision);
      EXPECT_EQ(detail::gemm_cached_shapes(), shapes) << "a repeated shape made a new plan";
      EXPECT_EQ(C1, C2) << "threads " << threads;
      expect_within_bound(C1, A, B, mode.precision);
    }
  }
}

TEST(Gemm, RunsConcurrentlyFromSeveralThreads) {
  // Inference runs one chunk per thread, each with its own product on the shared plans.
  const MatrixF A = gaussian_matrix(64, 100, 11), B = gaussian_matrix(100, 32, 12);
  for (const Mode& mode : available_modes()) {
    SCOPED_TRACE(mode.name);
    BackendScope scope(mode);
    MatrixF expected(64, 32);
    {
      detail::ThreadCountScope one(1);  // inside the parallel loop each product runs on one thread
      gemm(A, B, expected, mode.precision);
    }
    std::vector<MatrixF> out(8, MatrixF(64, 32));
    detail::parallel_for(0, 8, 2, [&](Index t) { gemm(A, B, out[t], mode.precision); });
    for (const MatrixF& C : out) EXPECT_EQ(C, expected);
  }
}

TEST(Bf16Matrix, RoundsTheWayOneDnnDoes) {
  // oneDNN's own f32 -> bf16 conversion is the reference: a bf16 product x * 1 returns the
  // value it rounded x to, exactly. Round to nearest even: ties both ways, values just above
  // and below a tie, subnormals (flushed to zero), and a spread of magnitudes and signs.
  SKIP_WITHOUT_BF16();
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               -1.0f,
                               1e-30f,
                               3e35f,
                               std::numeric_limits<float>::min(),
                               std::numeric_limits<float>::denorm_min(),
                               -1e-40f,
                               5e-39f};
  for (int m : {1, 2, 3, 127, 128, 129, 255}) {  // 1 + m 2^-8: bf16 values at even m, ties at odd m; and neighbours
    const float tie = 1.0f + std::ldexp(float(m), -8);
    for (float v : {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, 2.0f)}) {
      values.push_back(v);
      values.push_back(-v * 1024.0f);
    }
  }
  detail::Rng rng(31);
  for (int i = 0; i < 2000; ++i)
    values.push_back(float(rng.uniform(-1, 1) * std::ldexp(1.0, int(rng.uniform(-100, 100)))));
  const Index n = Index(values.size());
  const MatrixF X = Eigen::Map<const MatrixF>(values.data(), n, 1), one = MatrixF::Ones(1, 1);
  MatrixF by_onednn(n, 1);
  gemm(X, one, by_onednn, Precision::Bf16);
  detail::Bf16Matrix rounded;
  rounded.assign(X, 2);
  for (Index i = 0; i < n; ++i) {
    const float ours = detail::bf16_to_float(*rounded.row(i));
    if (ours == 0.0f && by_onednn(i, 0) == 0.0f) continue;  // the product's sum starts at +0: -0 comes out +0
    EXPECT_EQ(std::bit_cast<std::uint32_t>(ours), std::bit_cast<std::uint32_t>(by_onednn(i, 0)))
        << "x = " << values[i] << " (" << std::hexfloat << values[i] << std::defaultfloat << "): ours " << ours
        << ", oneDNN " << by_onednn(i, 0);
  }
  EXPECT_EQ(detail::bf16_to_float(detail::round_to_bf16(1.0f + std::ldexp(1.0f, -8))), 1.0f);  // tie to even
  EXPECT_EQ(detail::bf16_to_float(detail::round_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8))), 1.0f + std::ldexp(1.0f, -6));
}

TEST(Gemm, OperandsGivenInBf16MatchTheConvertingProduct) {
  // The affinity and the network round an operand once and hand it over in bf16. That must
  // be the product of the same rounded values: against an fp32 product of the rounded
  // operands (exact products, fp32 sums in another order) within fp32 summation error, with
  // A, B or both given in bf16, plain or transposed, and as row blocks of a larger matrix.
  SKIP_WITHOUT_BF16();
  const Index M = 37, K = 150, N = 29;
  const MatrixF big_a = gaussian_matrix(M + 10, K, 41), big_b_t = gaussian_matrix(N + 6, K, 42);
  detail::Bf16Matrix a16, b16;
  a16.assign(big_a, 1);
  b16.assign(big_b_t, 2);
  MatrixF a_rounded(big_a.rows(), K), b_rounded_t(big_b_t.rows(), K);
  for (Index i = 0; i < a_rounded.rows(); ++i)
    for (Index j = 0; j < K; ++j) a_rounded(i, j) = detail::bf16_to_float(a16.row(i)[j]);
  for (Index i = 0; i < b_rounded_t.rows(); ++i)
    for (Index j = 0; j < K; ++j) b_rounded_t(i, j) = detail::bf16_to_float(b16.row(i)[j]);
  // Rows 4.. of A (M x K), and B = rows 3.. of big_b_t, transposed (K x N).
  const MatrixF A = a_rounded.middleRows(4, M), B = b_rounded_t.middleRows(3, N).transpose();
  const MatrixF exact_magnitude = (A.cwiseAbs() * B.cwiseAbs()).eval();
  const MatrixF reference = (A * B).eval();
  const double gamma = double(K) * std::ldexp(1.0, -24) * 2;
  const auto check = [&](const MatrixF& C, const char* what) {
    SCOPED_TRACE(what);
    for (Index i = 0; i < M; ++i)
      for (Index j = 0; j < N; ++j)
        ASSERT_LE(std::abs(C(i, j) - reference(i, j)), gamma * exact_magnitude(i, j) + 1e-30) << i << ", " << j;
  };
  const detail::GemmOperand a_given = detail::gemm_operand(a16, 4, M);
  const detail::GemmOperand b_given = detail::gemm_operand(b16, 3, N, true);
  const MatrixF A_f32 = big_a.middleRows(4, M), B_f32 = big_b_t.middleRows(3, N).transpose();
  MatrixF C(M, N);
  detail::gemm(a_given, b_given, C.data(), N, Precision::Bf16);
  check(C, "both given");
  detail::gemm(a_given, detail::gemm_operand(B_f32), C.data(), N, Precision::Bf16);
  check(C, "A given");
  detail::gemm(detail::gemm_operand(A_f32), b_given, C.data(), N, Precision::Bf16);
  check(C, "B given");
  // A^T given: the stored rows of a16 are the columns of the operand (the weight gradient's a^T g).
  const MatrixF At_rows = gaussian_matrix(K, M, 43);
  detail::Bf16Matrix at16;
  at16.assign(At_rows, 1);
  MatrixF At_rounded(K, M);
  for (Index i = 0; i < K; ++i)
    for (Index j = 0; j < M; ++j) At_rounded(i, j) = detail::bf16_to_float(at16.row(i)[j]);
  MatrixF Ct(M, N), Ct_ref(M, N);
  detail::gemm(detail::gemm_operand(at16, 0, K, true), b_given, Ct.data(), N, Precision::Bf16);
  gemm(At_rounded.transpose(), B, Ct_ref, Precision::Fp32);
  EXPECT_LE((Ct - Ct_ref).cwiseAbs().maxCoeff(), gamma * (At_rounded.transpose().cwiseAbs() * B.cwiseAbs()).maxCoeff());
  // And the same values given in f32 (oneDNN converting them) give the same product up to
  // the order of the sums.
  MatrixF C_converting(M, N);
  gemm(A_f32, B_f32, C_converting, Precision::Bf16);
  detail::gemm(a_given, b_given, C.data(), N, Precision::Bf16);
  EXPECT_LE((C - C_converting).cwiseAbs().maxCoeff(), gamma * exact_magnitude.maxCoeff());
}

TEST(Gemm, Fp32ProductsRefuseOperandsGivenInBf16) {
  const MatrixF A = gaussian_matrix(4, 5, 44);
  detail::Bf16Matrix a16;
  a16.assign(A, 1);
  MatrixF C(4, 4);
  EXPECT_THROW(
      detail::gemm(detail::gemm_operand(a16, 0, 4), detail::gemm_operand(A, true), C.data(), 4, Precision::Fp32),
      InvalidArgument);
}
