// PRIVATE header: finite-value scans of a data matrix, used by the one data check
// (core/data_check.hpp) and by the kernels that must refuse NaN and Inf.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/parallel.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// True when every entry of rows [lo, hi) is finite, read from the exponent bits (all ones:
/// Inf or NaN). The compiler vectorizes this loop; Eigen's allFinite() is not vectorized and
/// was a large share of `neuncut predict` on Fashion-MNIST (docs/measurements.md).
inline bool rows_finite(const Eigen::Ref<const MatrixF>& x, Index lo, Index hi) {
  std::uint32_t bad = 0;
  for (Index i = lo; i < hi; ++i) {
    const float* row = x.row(i).data();
    for (Index j = 0; j < x.cols(); ++j) {
      std::uint32_t bits;
      std::memcpy(&bits, row + j, sizeof bits);
      bad |= std::uint32_t((bits & 0x7f800000u) == 0x7f800000u);
    }
  }
  return bad == 0;
}

/// True when every entry is finite (checked in parallel; data sets can be large).
inline bool all_finite(const Eigen::Ref<const MatrixF>& x, int threads) {
  const Index blocks = std::max<Index>(1, std::min<Index>(x.rows(), 64));
  std::vector<char> ok(static_cast<std::size_t>(blocks), 1);
  parallel_for(0, blocks, threads, [&](Index b) {
    const Index lo = x.rows() * b / blocks, hi = x.rows() * (b + 1) / blocks;
    ok[static_cast<std::size_t>(b)] = rows_finite(x, lo, hi) ? 1 : 0;
  });
  return std::all_of(ok.begin(), ok.end(), [](char c) { return c != 0; });
}

}  // namespace neuncut::detail
