// Result fields in the --json summaries, rendered from the result tables (result_fields.hpp).
//
// Each command's summary shows a chosen part of its result, some fields under the key the
// summary has always used (restarts as lanczos_restarts, total_seconds as fit_seconds, the
// warnings list joined as warning). Those choices are one list per command below, covering EVERY
// field of the result table: a field is shown under `key`, or not shown (empty key) with `note`
// saying why. The commands add a field's value through add_result_field (value and type from
// the table), and `neuncut results` prints the lists into docs/results.md and refuses a list
// that misses a field of its table, so a new result field cannot silently stay out of the CLI.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "json.hpp"
#include "neuncut/core/result_fields.hpp"
#include "neuncut/eval/partition_quality.hpp"

namespace neuncut::cli {

/// How a field's value is written.
enum class SummaryForm {
  Value,   ///< As its type says (numbers at 10 significant digits, enums by name).
  Joined,  ///< A list of sentences joined by "; ", null when empty (the summaries' "warning").
  Custom,  ///< Written by the command itself (see note).
};

/// Where one result field appears in a command's --json summary.
struct SummaryField {
  std::string_view field;  ///< Name in the result table.
  std::string_view key;    ///< Summary key; empty: not in the summary.
  std::string_view note;   ///< Why not, or how the value is derived.
  SummaryForm form = SummaryForm::Value;
};

/// The label-free quality check as the summaries and Python show it.
inline JsonObject quality_json(const PartitionQuality& q) {
  JsonObject o;
  o.add("verdict", to_string(q.verdict));
  if (q.verdict == QualityVerdict::NotChecked) return o;
  o.add("ncut", q.ncut).add("kmeans_ncut", q.kmeans_ncut).add("chance_ncut", q.chance_ncut);
  o.add("relative", q.relative).add("sample_points", long(q.sample_points));
  if (q.advice.empty()) o.null("what_to_try");
  else o.add("what_to_try", q.advice);
  return o;
}

/// A field's value as JSON, by its type.
template <class T>
Json field_json(const T& v) {
  if constexpr (has_enum_names_v<T>) return to_string(v);
  else if constexpr (std::is_same_v<T, bool>) return v;
  else if constexpr (std::is_integral_v<T>) return static_cast<long long>(v);
  else if constexpr (std::is_floating_point_v<T>) return std::isfinite(v) ? Json(round_significant(v)) : Json(nullptr);
  else if constexpr (std::is_same_v<T, std::string>) return v;
  else if constexpr (std::is_same_v<T, PartitionQuality>) return quality_json(v).json();
  else if constexpr (std::is_same_v<T, std::vector<double>>) {
    Json a = Json::array();
    for (double x : v) a.push_back(field_json(x));
    return a;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) return v;
  else throw std::logic_error("field_json: this field is not written into a summary");
}

template <std::size_t N>
const SummaryField& summary_field(const SummaryField (&fields)[N], std::string_view field) {
  for (const SummaryField& f : fields)
    if (f.field == field) return f;
  throw std::logic_error("no summary entry for result field " + std::string(field));
}

/// Adds result field `field` of `r` under its summary key (as its list says).
template <class Result, std::size_t N>
void add_result_field(JsonObject& summary, const SummaryField (&fields)[N], const Result& r, std::string_view field) {
  const SummaryField& f = summary_field(fields, field);
  if (f.key.empty() || f.form == SummaryForm::Custom)
    throw std::logic_error("result field " + std::string(field) + " is not written by add_result_field");
  bool found = false;
  for_each_field(r, [&](const char* name, const auto& value) {
    if (field != name) return;
    found = true;
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (f.form == SummaryForm::Joined) {
        if (value.empty()) summary.null(std::string(f.key));
        else summary.set(std::string(f.key), join_warnings(value));
        return;
      }
    }
    if constexpr (std::is_same_v<T, Labels> || std::is_same_v<T, MatrixF> || std::is_same_v<T, VectorD> ||
                  (IsVector<T>::value && !std::is_same_v<T, std::vector<double>> &&
                   !std::is_same_v<T, std::vector<std::string>>))
      throw std::logic_error("result field " + std::string(field) + " is too large for a summary");
    else if constexpr (requires(const T& t) { t.description(); })
      throw std::logic_error("result field " + std::string(field) + " is written by the command");
    else summary.set(std::string(f.key), field_json(value));
  });
  if (!found) throw std::logic_error("no result field " + std::string(field));
}

/// Throws unless `fields` lists every field of `table` exactly once, and nothing else.
template <std::size_t N>
void check_summary_fields(const SummaryField (&fields)[N], const std::vector<FieldInfo>& table,
                          const std::string& command) {
  for (const FieldInfo& info : table) {
    int count = 0;
    for (const SummaryField& f : fields) count += f.field == info.name;
    if (count != 1)
      throw std::logic_error("neuncut " + command + ": the summary list names result field '" + info.name + "' " +
                             std::to_string(count) + " times (cli/result_json.hpp)");
  }
  if (N != table.size())
    throw std::logic_error("neuncut " + command + ": the summary list names fields its result does not have");
}

// ---- one list per command, in the result table's order ---------------------------------

inline constexpr SummaryField kFitSummary[] = {
    {"history", "", "summarized as epochs, final_loss, final_trace, final_penalty, seconds_per_epoch(_median)"},
    {"sigma", "sigma", ""},
    {"sigma_estimated", "sigma_estimated", ""},
    {"train_points", "train_points", ""},
    {"batch_size", "batch_size", ""},
    {"train_seconds", "train_seconds", ""},
    {"init_seconds", "init_seconds", ""},
    {"init_agreement", "init_agreement", "with init spectral only"},
    {"threads", "threads", ""},
    {"clusters_used", "", "the summary's clusters_used counts the labels of all rows, not of the training subset"},
    {"mean_max_probability", "", "per epoch in the progress lines"},
    {"l2_normalized", "l2_normalized", ""},
    {"scaling", "scaling", ""},
    {"geometry_eigengaps", "geometry_eigengaps", "tables with scaling and normalize auto only; NaN as null"},
    {"geometry_fallback", "geometry_fallback", ""},
    {"features", "features", ""},
    {"feature_dim", "feature_dim", ""},
    {"features_seconds", "features_seconds", ""},
    {"precision", "precision", ""},
    {"affinity_precision", "affinity_precision", ""},
    {"collapse", "collapse", "null when healthy; also reports clusters empty among all rows' labels",
     SummaryForm::Custom},
    {"collapse_rollbacks", "collapse_rollbacks", ""},
    {"restored_epoch", "restored_epoch", ""},
    {"quality", "quality", ""},
    {"selected_candidate", "selected_candidate", "with select auto only"},
    {"candidate_ncuts", "candidate_ncuts", "with select auto only; 6 significant digits", SummaryForm::Custom},
};

inline constexpr SummaryField kSpectralNetSummary[] = {
    {"history", "", "summarized as epochs, final_loss, seconds_per_epoch"},
    {"labels", "", "written by --labels-out"},
    {"train_points", "train_points", ""},
    {"batch_size", "batch_size", ""},
    {"scaling", "scaling", ""},
    {"l2_normalized", "l2_normalized", ""},
    {"geometry_eigengaps", "geometry_eigengaps", "tables with scaling and normalize auto only; NaN as null"},
    {"cholesky_fallbacks", "cholesky_fallbacks", ""},
    {"kmeans_inertia", "", "not shown"},
    {"kmeans_converged", "kmeans_converged", ""},
    {"warnings", "warning", "joined by \"; \"; null when none", SummaryForm::Joined},
    {"train_seconds", "train_seconds", ""},
    {"total_seconds", "fit_seconds", ""},
};

inline constexpr SummaryField kKMeansSummary[] = {
    {"labels", "", "written by --labels-out"},
    {"tol_absolute", "", "not shown"},
    {"inertia", "inertia", ""},
    {"iterations", "iterations", ""},
    {"converged", "converged", ""},
    {"best_init", "best_init", ""},
    {"empty_cluster_reseeds", "empty_cluster_reseeds", ""},
    {"inertia_trace", "", "not shown"},
    {"sample_rows", "sample_rows", ""},
    {"full_passes", "full_passes", ""},
    {"warnings", "warning", "joined by \"; \"; null when none", SummaryForm::Joined},
    {"seconds", "fit_seconds", ""},
};

inline constexpr SummaryField kNcutSummary[] = {
    {"labels", "", "written by --labels-out"},
    {"eigenvalues", "eigenvalues", "six decimals", SummaryForm::Custom},
    {"embedding", "", "written by --embedding-out"},
    {"converged", "converged", ""},
    {"solver_status", "solver_status", ""},
    {"restarts", "lanczos_restarts", ""},
    {"matvecs", "matvecs", ""},
    {"n_components", "n_components", ""},
    {"n_neighbors_used", "n_neighbors_used", ""},
    {"isolated_points", "isolated_points", ""},
    {"n_edges", "n_edges", ""},
    {"knn_method", "knn_method", ""},
    {"solver", "solver", ""},
    {"n_landmarks", "n_landmarks", ""},
    {"landmark_neighbors_used", "landmark_neighbors_used", ""},
    {"kmeans_inertia", "", "not shown"},
    {"kmeans_converged", "kmeans_converged", ""},
    {"warnings", "warning", "joined by \"; \"; null when none", SummaryForm::Joined},
    {"knn_seconds", "knn_seconds", ""},
    {"affinity_seconds", "", "not shown"},
    {"eigen_seconds", "eigen_seconds", ""},
    {"kmeans_seconds", "kmeans_seconds", ""},
    {"total_seconds", "fit_seconds", ""},
};

}  // namespace neuncut::cli
