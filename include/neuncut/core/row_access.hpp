// Rows of a data set fetched by index. NeuNcut trains on a sample (train_size rows) and checks
// its result on another (quality_points rows): given a RowAccess instead of a matrix, its fit
// reads only those rows, so a file larger than memory is trained on without being loaded
// (neuncut fit on a streamed file; io/file_rows.hpp; docs/streaming.md).
#pragma once

#include <vector>

#include "neuncut/core/types.hpp"

namespace neuncut {

class RowAccess {
 public:
  virtual ~RowAccess() = default;
  /// Rows and values per row of the whole data set.
  virtual Index rows() const = 0;
  virtual Index cols() const = 0;
  /// The rows with these indices (each in [0, rows()), in any order), in the order given, as
  /// float32: row i of the result is data row `rows[i]`.
  virtual MatrixF gather(const std::vector<Index>& rows) const = 0;
};

/// A matrix in memory seen as a RowAccess (no copy; the matrix must outlive it).
class MatrixRowAccess final : public RowAccess {
 public:
  explicit MatrixRowAccess(const Eigen::Ref<const MatrixF>& data) : data_(data) {}
  Index rows() const override { return data_.rows(); }
  Index cols() const override { return data_.cols(); }
  MatrixF gather(const std::vector<Index>& rows) const override {
    MatrixF out(Index(rows.size()), data_.cols());
    for (Index i = 0; i < out.rows(); ++i) out.row(i) = data_.row(rows[std::size_t(i)]);
    return out;
  }

 private:
  Eigen::Ref<const MatrixF> data_;
};

}  // namespace neuncut
