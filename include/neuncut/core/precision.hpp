// Arithmetic precision of the network's matrix products: fp32 everywhere (the default), or
// bf16 mixed precision, where the operands of every GEMM are rounded to bfloat16 (8
// significant bits) and the products are accumulated and returned in fp32. Master weights,
// gradients after the GEMM, the loss, softmax and the optimizer stay fp32 in both modes.
//
// bf16 runs through oneDNN's matmul primitive, so it needs a build with oneDNN
// (NEUNCUT_WITH_ONEDNN, Debian's libdnnl-dev) and a CPU with native bf16 dot products
// (AVX512_BF16: Intel Cooper Lake / Sapphire Rapids and later, AMD Zen 4 and later). oneDNN
// could emulate bf16 on older AVX-512 CPUs, but slower than fp32, so neuncut refuses instead.
// docs/mixed-precision.md has the measurements (speed and clustering accuracy).
#pragma once

#include <string>

#include "neuncut/core/enum_names.hpp"

namespace neuncut {

/// Precision of the network's matrix products.
enum class Precision {
  Fp32,  ///< float32 operands and accumulation (oneDNN's matmul, or Eigen's GEMM without oneDNN). The default.
  Bf16,  ///< bfloat16 operands, float32 accumulation and output (oneDNN matmul).
};

NEUNCUT_ENUM_NAMES(Precision, "precision", {Precision::Fp32, "fp32"}, {Precision::Bf16, "bf16"})
/// parse_enum<Precision>, under its earlier name.
inline Precision parse_precision(const std::string& text) { return parse_enum<Precision>(text); }

/// Why bf16 cannot run in this process: "" when it can; otherwise a sentence naming the
/// reason (a build without oneDNN, a CPU without AVX512_BF16, or oneDNN limited below it by
/// ONEDNN_MAX_CPU_ISA). Computed once per process.
const std::string& bf16_unavailable_reason();

/// Whether bf16 can run here (bf16_unavailable_reason() is empty).
inline bool bf16_available() { return bf16_unavailable_reason().empty(); }

/// The library that runs fp32 products in this process: "oneDNN" in builds with oneDNN (JIT
/// kernels, faster than Eigen's GEMM on the products of a training step: docs/measurements.md), or
/// "Eigen"; the environment variable NEUNCUT_FP32_GEMM=eigen, read at start-up, chooses Eigen.
std::string fp32_gemm_library();

/// The instruction set of oneDNN's kernels here (e.g. "avx512_core_bf16"); "" in builds without
/// oneDNN. Shown by `neuncut --version`, so that a fallback to slower kernels is not silent.
std::string onednn_cpu_isa();

/// Throws InvalidArgument when `precision` is Bf16 and bf16 is unavailable; `what` names
/// the caller in the message (e.g. "precision bf16").
void require_precision_available(Precision precision, const std::string& what);

}  // namespace neuncut
