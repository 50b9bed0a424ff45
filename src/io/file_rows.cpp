#include "neuncut/io/file_rows.hpp"

#include <algorithm>
#include <numeric>

#include "neuncut/core/error.hpp"

namespace neuncut {

FileRows::FileRows(std::string spec, CsvOptions csv)
    : spec_(std::move(spec)), csv_(std::move(csv)), reader_(spec_, csv_) {}

MatrixF FileRows::gather(const std::vector<Index>& rows) const {
  for (Index r : rows)
    NEUNCUT_REQUIRE(r >= 0 && r < this->rows(), InvalidArgument, "row ", r, " is outside '", name(), "' (",
                    this->rows(), " rows)");
  if (rows.empty()) return MatrixF(0, cols());
  const Index n = Index(rows.size());
  // One run of consecutive rows asked for in order (a block of a pass over the file): the read is
  // the result, without sorting and without a second matrix of the same size to copy it into.
  Index run = 1;
  while (run < n && rows[std::size_t(run)] == rows.front() + run) ++run;
  if (run == n) {
    if (reader_.next_row() > rows.front()) reader_ = RowReader(spec_, csv_);
    reader_.skip(rows.front() - reader_.next_row());
    rows_read_ += n;
    return reader_.read(n);
  }
  // The requested positions in file order; runs of consecutive rows are read as one block.
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rows[a] < rows[b]; });
  // A reader moves forward only: start again when a row before its position is asked for.
  if (reader_.next_row() > rows[order.front()]) reader_ = RowReader(spec_, csv_);
  MatrixF out(n, cols());
  for (std::size_t i = 0; i < order.size();) {
    const Index first = rows[order[i]];
    std::size_t j = i + 1;
    while (j < order.size() && rows[order[j]] <= rows[order[j - 1]] + 1) ++j;
    const Index count = rows[order[j - 1]] - first + 1;
    reader_.skip(first - reader_.next_row());
    const MatrixF block = reader_.read(count);
    rows_read_ += count;
    for (std::size_t q = i; q < j; ++q) out.row(Index(order[q])) = block.row(rows[order[q]] - first);
    i = j;
  }
  return out;
}

}  // namespace neuncut
