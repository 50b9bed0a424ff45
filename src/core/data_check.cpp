#include "core/data_check.hpp"

#include <cmath>

#include "core/finite.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut::detail {
namespace {

std::string prefix(const DataCheck& c) { return c.who.empty() ? std::string() : c.who + ": "; }

// The first non-finite value in row order, named with its row and column. The parallel scan
// answers the common case (all finite); the serial search runs only to word the error.
void require_finite(const Eigen::Ref<const MatrixF>& data, const DataCheck& c) {
  if (all_finite(data, c.threads)) return;
  for (Index i = 0; i < data.rows(); ++i)
    for (Index j = 0; j < data.cols(); ++j)
      NEUNCUT_REQUIRE(std::isfinite(data(i, j)), InvalidArgument, prefix(c), c.what, " contains ",
                      std::isnan(data(i, j)) ? "NaN" : "infinity (Inf)", " at row ", c.row_offset + i, ", column ", j,
                      ": every value must be finite (no NaN or Inf)");
}

void require_k_fits(Index n, const DataCheck& c) {
  if (c.k <= 0) return;
  NEUNCUT_REQUIRE(c.k <= n, InvalidArgument, prefix(c), "k (", c.k, ") exceeds the number of points (", n, ")");
  NEUNCUT_REQUIRE(!c.k_below_points || c.k < n, InvalidArgument, prefix(c), "k (", c.k,
                  ") must be smaller than the number of points (", n, ")");
}

void require_min_points(Index n, const DataCheck& c) {
  NEUNCUT_REQUIRE(n >= c.min_points, InvalidArgument, prefix(c), c.what, " has ", n, n == 1 ? " sample" : " samples",
                  "; ", c.min_points_reason.empty() ? std::string("it") : c.min_points_reason, " needs at least ",
                  c.min_points, " points");
}

void require_not_empty(Index rows, Index cols, const DataCheck& c) {
  NEUNCUT_REQUIRE((rows > 0 || c.min_points == 0) && cols > 0, InvalidArgument, prefix(c), c.what, " is empty (", rows,
                  " x ", cols, ")");
}

}  // namespace

void check_data(const Eigen::Ref<const MatrixF>& data, const DataCheck& c) {
  require_not_empty(data.rows(), data.cols(), c);
  require_finite(data, c);
  require_min_points(data.rows(), c);
  require_k_fits(data.rows(), c);
}

void check_data_shape(Index rows, Index cols, const DataCheck& c) {
  require_not_empty(rows, cols, c);
  require_min_points(rows, c);
  require_k_fits(rows, c);
}

void check_gathered_values(const Eigen::Ref<const MatrixF>& gathered, const std::vector<Index>& rows,
                           const DataCheck& c) {
  if (all_finite(gathered, c.threads)) return;
  for (Index i = 0; i < gathered.rows(); ++i) {
    DataCheck one = c;
    one.row_offset = rows[std::size_t(i)];
    require_finite(gathered.middleRows(i, 1), one);
  }
}

void check_affinity(const SparseMatrixF& w, const DataCheck& c) {
  NEUNCUT_REQUIRE(w.rows() == w.cols() && w.rows() > 0, InvalidArgument, prefix(c), "the ", c.what,
                  " must be square and non-empty, got ", w.rows(), " x ", w.cols());
  for (Index i = 0; i < w.outerSize(); ++i)
    for (SparseMatrixF::InnerIterator it(w, i); it; ++it)
      NEUNCUT_REQUIRE(std::isfinite(it.value()) && it.value() >= 0, InvalidArgument, prefix(c), c.what, " entry (", i,
                      ", ", it.col(), ") = ", it.value(), " is negative or not finite");
  const SparseMatrixF wt = w.transpose();
  const SparseMatrixF diff = w - wt;
  const float asym = diff.nonZeros() ? diff.coeffs().cwiseAbs().maxCoeff() : 0.0f;
  const float scale = w.nonZeros() ? w.coeffs().cwiseAbs().maxCoeff() : 1.0f;
  NEUNCUT_REQUIRE(asym <= 1e-5f * scale, InvalidArgument, prefix(c), "the ", c.what,
                  " is not symmetric (max |W - W^T| = ", asym, ")");
  require_min_points(w.rows(), c);
  require_k_fits(w.rows(), c);
}

}  // namespace neuncut::detail
