// PRIVATE header: data read as a sample of rows by index plus passes over all rows a block at a
// time, so that a solver can run on a file larger than memory (a RowAccess) with the same code,
// and the same results, as on a matrix. Used by landmark Ncut and by k-means on large data.
#pragma once

#include <cstdint>
#include <vector>

#include "core/data_check.hpp"
#include "neuncut/core/row_access.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// m distinct row indices out of n in increasing order (Knuth's selection sampling: O(n) time,
/// O(m) memory, where a permutation of 20 million rows would take 160 MB).
std::vector<Index> sorted_sample(Index n, Index m, std::uint64_t seed);

/// The rows of one pass block over a RowAccess with `cols` values a row: about 16M floats (64 MB:
/// 40,960 rows of 400 scattering features), a multiple of kDistanceBlockRows, so that reading a
/// file larger than memory holds one block at a time.
Index pass_block_rows(Index cols);

/// The data as a solver reads it: a sample of rows by index, and passes over all rows a block at
/// a time. A matrix in memory is one block, seen without a copy. Rows behind a RowAccess are
/// gathered a block at a time, once per pass, and their values checked as they arrive (`check`:
/// the message names the row in the whole data set). Blocks are multiples of kDistanceBlockRows,
/// so the GEMM blocks of nearest_centres and the like fall on the same rows either way: whatever a
/// solver computes from a row alone is then the same for both inputs, bit for bit.
class BlockedRows {
 public:
  explicit BlockedRows(const Eigen::Ref<const MatrixF>& data) : matrix_(&data) {}
  /// InvalidArgument unless block_rows is a positive multiple of kDistanceBlockRows.
  BlockedRows(const RowAccess& access, const DataCheck& check, Index block_rows);

  Index rows() const { return matrix_ ? matrix_->rows() : access_->rows(); }
  Index cols() const { return matrix_ ? matrix_->cols() : access_->cols(); }

  /// The rows with these indices, in the order given (values checked when streamed).
  MatrixF gather(const std::vector<Index>& rows) const;

  /// f(first row, block) for consecutive blocks covering every row, in order.
  template <class F>
  void for_each_block(F&& f) const {
    if (matrix_) return f(Index(0), *matrix_);
    for (Index first = 0; first < rows(); first += block_rows_) {
      const MatrixF block = read_block(first);
      f(first, Eigen::Ref<const MatrixF>(block));
    }
  }

 private:
  MatrixF read_block(Index first) const;

  const Eigen::Ref<const MatrixF>* matrix_ = nullptr;
  const RowAccess* access_ = nullptr;
  DataCheck check_;
  Index block_rows_ = 0;
};

}  // namespace neuncut::detail
