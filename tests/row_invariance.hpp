// The property every inference function must have: each output row is a function of its own
// input row only, bit for bit, whatever batch the row comes in (its position, the batch's
// size, the rows around it). Checked by recomputing rows in other batches: the rows reversed,
// shuffled, and in slices of several sizes, around the size of the products' row tiles too.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "kernels/gemm.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut::testing {

/// Expects f(rows of X in any batch) to give those rows' results of f(X) exactly. f maps an
/// n x d matrix to n result rows (MatrixF).
template <class F>
void expect_rows_independent_of_batch(const MatrixF& X, F f) {
  const Index n = X.rows();
  const MatrixF whole = f(X);
  ASSERT_EQ(whole.rows(), n);
  const auto expect_rows = [&](const std::vector<Index>& rows, const std::string& batch) {
    MatrixF sub(Index(rows.size()), X.cols());
    for (std::size_t i = 0; i < rows.size(); ++i) sub.row(Index(i)) = X.row(rows[i]);
    const MatrixF out = f(sub);
    ASSERT_EQ(out.rows(), sub.rows()) << batch;
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (Index j = 0; j < out.cols(); ++j)
        ASSERT_EQ(out(Index(i), j), whole(rows[i], j))
            << "row " << rows[i] << " (column " << j << ") at position " << i << " of " << batch;
  };
  std::vector<Index> all(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) all[std::size_t(i)] = i;
  expect_rows(std::vector<Index>(all.rbegin(), all.rend()), "the reversed rows");
  expect_rows(detail::Rng(5).permutation(n), "a shuffle");
  for (Index size : {Index(1), Index(2), Index(3), Index(7), Index(20), Index(127), Index(128), Index(129),
                     detail::kRowTileRows - 1, detail::kRowTileRows, detail::kRowTileRows + 1}) {
    if (size > n) break;
    for (Index offset : {Index(0), n - size, (n - size) / 2})
      expect_rows(std::vector<Index>(all.begin() + offset, all.begin() + offset + size),
                  "rows " + std::to_string(offset) + ".." + std::to_string(offset + size - 1));
  }
}

}  // namespace neuncut::testing
