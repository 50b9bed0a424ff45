// Pieces every subcommand shares: data options, ground truth, output flags, progress
// printing, the --json summary and the thread-bound warning. Outputs: outputs.hpp; signals:
// signals.hpp.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/timing.hpp"
#include "json.hpp"
#include "neuncut/core/param_table.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/file_rows.hpp"
#include "neuncut/io/row_reader.hpp"

namespace neuncut::cli {

/// The input of a command that streams a large file (landmark ncut, kmeans above its sample):
/// the file's rows read by index, or the data set loaded whole. `ds` holds the name and labels
/// either way, the features only when loaded.
struct StreamedOrLoaded {
  std::optional<FileRows> streamed;
  Dataset ds;
  Index rows() const { return streamed ? streamed->rows() : ds.features.rows(); }
  Index cols() const { return streamed ? streamed->cols() : ds.features.cols(); }
};

/// --data and the options that say how to read it and where its ground truth is.
struct DataOptions {
  std::string data;   ///< "fashion-mnist" or a path.
  std::string truth;  ///< Optional path of ground-truth labels.
  CsvOptions csv;
  std::string csv_header = "auto";
  void add_to(CLI::App* app, bool required = true);
  /// Loads the data and, if given, the truth (replacing labels that came with the data).
  /// Throws InvalidArgument when the truth's length differs from the data's row count.
  Dataset load() const;
  /// Opens the data to be read a block of rows at a time (RowReader: .npy and IDX files are
  /// streamed, CSV and fashion-mnist read whole).
  RowReader open() const;
  /// Opens the data for reading rows by index (NeuNcut's fit then reads only its samples).
  FileRows open_rows() const;
  /// A .npy, IDX or HDF5 file whose row count `stream(rows)` accepts is opened for reading by
  /// index, with its name and ground truth; anything else is loaded (load()).
  StreamedOrLoaded stream_or_load(const std::function<bool(Index rows)>& stream) const;
  /// The labels to score against: the --truth file when given, else `with_data` (labels that
  /// came with the data); InvalidArgument unless empty or `rows` long.
  Labels ground_truth(Labels with_data, Index rows) const;

 private:
  CsvOptions csv_options() const;
};

/// --json / --quiet.
struct OutputOptions {
  bool json = false;   ///< Print a one-line JSON summary on stdout instead of text.
  bool quiet = false;  ///< No progress on stderr.
  void add_to(CLI::App* app);
};

/// Adds one --flag per parameter of a table; after parsing, apply() writes the flags the
/// user gave into the parameter struct (others keep the struct's defaults).
template <class Params>
class ParamFlags {
 public:
  ParamFlags(CLI::App* app, const std::vector<ParamInfo<Params>>& table, const std::string& group)
      : table_(table), values_(table.size()) {
    for (std::size_t i = 0; i < table.size(); ++i) {
      auto* opt = app->add_option("--" + table[i].flag, values_[i], table[i].doc);
      opt->default_str(table[i].default_text)->group(group);
      opt->type_name(table[i].type == "widths"  ? "W1,W2,..."
                     : table[i].type == "str"   ? "TEXT"
                     : table[i].type == "float" ? "FLOAT"
                     : table[i].type == "bool"  ? "BOOL"
                                                : "INT");
      options_.push_back(opt);
    }
  }
  void apply(Params& params) const {
    for (std::size_t i = 0; i < table_.size(); ++i)
      if (options_[i]->count() > 0) table_[i].set(params, values_[i]);
  }

 private:
  const std::vector<ParamInfo<Params>>& table_;
  std::vector<std::string> values_;
  std::vector<CLI::Option*> options_;
};

/// Seconds since `start` (the library's one clock helper, core/timing.hpp).
using detail::seconds_since;
/// Prints neuncut::thread_bound_warning(threads) on stderr when there is one (more threads
/// asked for than the hardware has; the library runs on the hardware threads).
void warn_thread_bound(int threads);
/// "1m05s" / "12.3s" / "2h03m".
std::string format_duration(double seconds);

/// Adds acc, nmi (geometric), nmi_arithmetic, ari to the summary and returns the scores.
ClusteringScores add_scores(JsonObject& summary, const Labels& truth, const Labels& predicted);

/// Prints the summary: JSON on one line, or "key: value" lines for humans.
void print_summary(const JsonObject& summary, bool json);

/// Registration functions of the subcommands (one file each).
void register_fit(CLI::App& app);
void register_predict(CLI::App& app);
void register_evaluate(CLI::App& app);
void register_generate(CLI::App& app);
void register_params(CLI::App& app);
void register_results(CLI::App& app);
void register_kmeans(CLI::App& app);
void register_features(CLI::App& app);
void register_export(CLI::App& app);
void register_ncut(CLI::App& app);
void register_spectralnet(CLI::App& app);

}  // namespace neuncut::cli
