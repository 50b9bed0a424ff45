#include "streamed_labels.hpp"

#include "core/timing.hpp"

namespace neuncut::cli {

Labels label_with_neuncut(const NeuNcut& model, const MatrixF& x, Index chunk_rows, Index first_row, MatrixF* proba) {
  MatrixF P = model.predict_proba(x, chunk_rows, first_row);
  Labels labels = NeuNcut::labels_from_proba(P);
  if (proba) *proba = std::move(P);
  return labels;
}

StreamedLabels label_stream(RowReader& data, Index chunk_rows, Index k, const LabelBlock& label, RowWriter* labels_out,
                            RowWriter* proba_out, bool keep_labels) {
  StreamedLabels out;
  out.used.assign(static_cast<std::size_t>(k), false);
  do {
    const Index first_row = data.next_row();
    const MatrixF x = data.read(chunk_rows);
    const auto t0 = std::chrono::steady_clock::now();
    MatrixF proba;
    const Labels block = label(x, first_row, proba_out ? &proba : nullptr);
    out.seconds += detail::seconds_since(t0);
    for (std::int32_t c : block) out.used[static_cast<std::size_t>(c)] = true;
    if (keep_labels) out.labels.insert(out.labels.end(), block.begin(), block.end());
    if (labels_out) labels_out->append(block);
    if (proba_out) proba_out->append(proba);
  } while (!data.done());
  return out;
}

}  // namespace neuncut::cli
