#include "core/blocked_rows.hpp"

#include <algorithm>
#include <numeric>

#include "core/random.hpp"
#include "kernels/pairwise_distance.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut::detail {

namespace {
constexpr Index kPassBlockFloats = Index(1) << 24;
}  // namespace

std::vector<Index> sorted_sample(Index n, Index m, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Index> out;
  out.reserve(std::size_t(m));
  for (Index i = 0; i < n && Index(out.size()) < m; ++i)
    if (double(n - i) * rng.uniform() < double(m - Index(out.size()))) out.push_back(i);
  return out;
}

Index pass_block_rows(Index cols) {
  return std::max<Index>(1, kPassBlockFloats / std::max<Index>(1, cols) / kDistanceBlockRows) * kDistanceBlockRows;
}

BlockedRows::BlockedRows(const RowAccess& access, const DataCheck& check, Index block_rows)
    : access_(&access), check_(check), block_rows_(block_rows) {
  NEUNCUT_REQUIRE(block_rows >= 1 && block_rows % kDistanceBlockRows == 0, InvalidArgument, check.who,
                  check.who.empty() ? "" : ": ", "pass blocks must be a positive multiple of ", kDistanceBlockRows,
                  " rows, got ", block_rows);
}

MatrixF BlockedRows::gather(const std::vector<Index>& rows) const {
  if (matrix_) return MatrixRowAccess(*matrix_).gather(rows);
  MatrixF out = access_->gather(rows);
  check_gathered_values(out, rows, check_);
  return out;
}

MatrixF BlockedRows::read_block(Index first) const {
  std::vector<Index> index(std::size_t(std::min(block_rows_, rows() - first)));
  std::iota(index.begin(), index.end(), first);
  MatrixF block = access_->gather(index);
  DataCheck check = check_;
  check.row_offset = first;
  check.min_points = 0;
  check.k = 0;
  check_data(block, check);
  return block;
}

}  // namespace neuncut::detail
