// Labelling a data set a block of rows at a time: each block is read, labelled and appended
// to the outputs before the next is read, so memory holds one block whatever the file's size
// (neuncut predict; neuncut fit on a file it read only where sampled).
#pragma once

#include <functional>
#include <vector>

#include "neuncut/core/types.hpp"
#include "neuncut/io/row_reader.hpp"
#include "neuncut/io/row_writer.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"

namespace neuncut::cli {

/// The labels of one block of rows (and, given a matrix, its soft memberships); first_row is
/// the block's place in the data set, for messages naming a row.
using LabelBlock = std::function<Labels(const MatrixF& x, Index first_row, MatrixF* proba)>;

/// A NeuNcut model's LabelBlock body: memberships of x in chunk_rows blocks, their argmax, and
/// the memberships handed over when asked for (predict and fit alike).
Labels label_with_neuncut(const NeuNcut& model, const MatrixF& x, Index chunk_rows, Index first_row, MatrixF* proba);

struct StreamedLabels {
  Labels labels;           ///< every label, when kept (4 bytes a row: to score them)
  std::vector<bool> used;  ///< which of the k clusters received a row
  double seconds = 0;      ///< time in `label`, reading excluded
};

/// Reads `data` from its current row to its end, chunk_rows rows at a time (at least one block,
/// so that empty data meets the model's own check and message), labels each block and appends
/// it to the writers given (either may be null; neither is committed here).
StreamedLabels label_stream(RowReader& data, Index chunk_rows, Index k, const LabelBlock& label, RowWriter* labels_out,
                            RowWriter* proba_out, bool keep_labels);

}  // namespace neuncut::cli
