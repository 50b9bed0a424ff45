// PRIVATE header: the one check of the data given to an estimator, shared by every entry point
// (NeuNcut, SpectralNet, k-means, classic Ncut on rows or on a precomputed affinity, kNN).
//
// One set of messages, each naming the problem and where it is: an empty matrix with its
// shape, the first non-finite value with its row and column, k against the number of points.
// The checks run in that order, so that a NaN is named whatever else is wrong (scikit-learn's
// check_estimators_nan_inf fits 10 rows with parameters that only fit larger data).
#pragma once

#include <string>
#include <vector>

#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// What a data check requires. Messages read "<who>: <what> ..." ("kmeans: data is empty
/// (0 x 2)"); with who empty, "<what> ..." (NeuNcut's messages carry no prefix).
struct DataCheck {
  std::string who;                ///< the estimator, prefixed to every message; "" for none
  std::string what = "data";      ///< the matrix, as the caller knows it ("training data")
  Index k = 0;                    ///< clusters asked for, checked against the points; 0: not checked
  bool k_below_points = false;    ///< k < N rather than k <= N (the eigensolver needs ncv > k)
  Index min_points = 1;           ///< fewest rows accepted; 0 accepts no rows (nothing to predict)
  std::string min_points_reason;  ///< why min_points (named when the data has fewer)
  int threads = 1;                ///< threads for the scan of the values
  Index row_offset = 0;           ///< added to row numbers in messages: the first row's index when a
                                  ///< caller checks a larger data set in parts (streamed inference)
};

/// Throws InvalidArgument unless `data` has at least one row and column (and min_points rows),
/// every value is finite, and k fits the number of rows.
void check_data(const Eigen::Ref<const MatrixF>& data, const DataCheck& check);

/// The checks of check_data that need no values (empty, min_points, k), for data whose rows are
/// read only where sampled (RowAccess).
void check_data_shape(Index rows, Index cols, const DataCheck& check);

/// The finite-value check of rows gathered from a larger data set: `gathered` row i is data row
/// rows[i], and the message names that row.
void check_gathered_values(const Eigen::Ref<const MatrixF>& gathered, const std::vector<Index>& rows,
                           const DataCheck& check);

/// The same for a precomputed affinity: square and non-empty, every entry finite and >= 0,
/// symmetric (max |W - W^T| <= 1e-5 max |W|), k against its rows.
void check_affinity(const SparseMatrixF& affinity, const DataCheck& check);

}  // namespace neuncut::detail
