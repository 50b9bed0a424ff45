// Precision names and the check estimators run before a bf16 fit. What the machine can run
// (bf16_unavailable_reason, fp32_gemm_library, onednn_cpu_isa) is answered by the products'
// backend itself, in src/kernels/gemm.cpp, so that core does not depend on kernels.
#include "neuncut/core/precision.hpp"

#include "neuncut/core/error.hpp"

namespace neuncut {

void require_precision_available(Precision precision, const std::string& what) {
  NEUNCUT_REQUIRE(precision != Precision::Bf16 || bf16_available(), InvalidArgument, what,
                  " is unavailable here: ", bf16_unavailable_reason(), "; use precision fp32");
}

}  // namespace neuncut
