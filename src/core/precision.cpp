#include "neuncut/precision.hpp"

#include "gemm.hpp"
#include "neuncut/error.hpp"

namespace neuncut {

Precision parse_precision(const std::string& text) {
  if (text == "fp32") return Precision::Fp32;
  if (text == "bf16") return Precision::Bf16;
  throw InvalidArgument("unknown precision '" + text + "' (expected fp32 or bf16)");
}

std::string to_string(Precision precision) { return precision == Precision::Bf16 ? "bf16" : "fp32"; }

const std::string& bf16_unavailable_reason() {
  static const std::string reason = detail::bf16_backend_unavailable_reason();
  return reason;
}

std::string fp32_gemm_library() {
  return detail::fp32_gemm_backend() == detail::Fp32GemmBackend::OneDnn ? "oneDNN" : "Eigen";
}

std::string onednn_cpu_isa() { return detail::onednn_cpu_isa(); }

void require_precision_available(Precision precision, const std::string& what) {
  NEUNCUT_REQUIRE(precision != Precision::Bf16 || bf16_available(), InvalidArgument, what,
                  " is unavailable here: ", bf16_unavailable_reason(), "; use precision fp32");
}

}  // namespace neuncut
