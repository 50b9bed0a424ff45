// A data file seen as a RowAccess: NeuNcut::fit on it reads only the rows it trains on and
// checks (neuncut fit --train-size on a file larger than memory; docs/streaming.md).
//
// gather() reads the requested rows in file order through a RowReader: .npy files seek to each
// run of consecutive rows, IDX and HDF5 files read and drop the rows between; CSV files and
// "fashion-mnist" are read whole at open (RowReader), so for them nothing is saved.
#pragma once

#include <string>
#include <vector>

#include "neuncut/core/row_access.hpp"
#include "neuncut/io/row_reader.hpp"

namespace neuncut {

class FileRows final : public RowAccess {
 public:
  /// Opens the data set (the specs and errors of RowReader); reads no rows of a streamed file.
  explicit FileRows(std::string spec, CsvOptions csv = {});

  Index rows() const override { return reader_.rows(); }
  Index cols() const override { return reader_.cols(); }
  /// InvalidArgument for an index outside [0, rows()); the reader's errors for a bad value.
  MatrixF gather(const std::vector<Index>& rows) const override;

  /// As RowReader's: the spec, "HxW" for images, labels that came with the data.
  const std::string& name() const { return reader_.name(); }
  const std::string& image_shape() const { return reader_.image_shape(); }
  const Labels& labels() const { return reader_.labels(); }
  /// Rows read from the file by gather() so far (the rows skipped over not counted).
  Index rows_read() const { return rows_read_; }

 private:
  std::string spec_;
  CsvOptions csv_;
  mutable RowReader reader_;  // reopened by gather() to go back; the same file, shape and labels
  mutable Index rows_read_ = 0;
};

}  // namespace neuncut
