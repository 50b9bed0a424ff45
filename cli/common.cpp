#include "common.hpp"

#include <cstdio>
#include <iostream>

#include "neuncut/core/error.hpp"
#include "neuncut/core/resources.hpp"

namespace neuncut::cli {

void DataOptions::add_to(CLI::App* app, bool required) {
  auto* d = app->add_option(
      "--data", data,
      "input data: 'fashion-mnist' (Debian package dataset-fashion-mnist, 70,000 x 784, "
      "labels included) or a file: .npy (2-D, or 3-D: images), .csv/.txt (numeric) or MNIST IDX (plain or .gz)");
  if (required) d->required();
  app->add_option("--truth", truth,
                  "ground-truth labels (.npy, .csv or IDX) for ACC/NMI/ARI; "
                  "fashion-mnist and CSV files with --label-column bring their own");
  app->add_option("--label-column", csv.label_column, "CSV only: column index holding labels (-1: none)")
      ->default_val(-1);
  app->add_option("--delimiter", csv.delimiter, "CSV only: field separator")->default_str(",");
  app->add_option("--csv-header", csv_header, "CSV only: first line is a header: auto, yes or no")
      ->default_val("auto")
      ->check(CLI::IsMember({"auto", "yes", "no"}));
}

CsvOptions DataOptions::csv_options() const {
  CsvOptions options = csv;
  options.header = csv_header == "yes" ? 1 : csv_header == "no" ? 0 : -1;
  return options;
}

Dataset DataOptions::load() const {
  Dataset ds = load_dataset(data, csv_options());
  ds.labels = ground_truth(std::move(ds.labels), ds.features.rows());
  return ds;
}

RowReader DataOptions::open() const { return RowReader(data, csv_options()); }

FileRows DataOptions::open_rows() const { return FileRows(data, csv_options()); }

StreamedOrLoaded DataOptions::stream_or_load(const std::function<bool(Index rows)>& stream) const {
  StreamedOrLoaded in;
  if (RowReader::streams(data)) {
    in.streamed.emplace(open_rows());
    if (!stream(in.streamed->rows())) in.streamed.reset();
  }
  if (in.streamed) {
    in.ds.name = in.streamed->name();
    in.ds.labels = ground_truth(in.streamed->labels(), in.streamed->rows());
  } else {
    in.ds = load();
  }
  return in;
}

Labels DataOptions::ground_truth(Labels with_data, Index rows) const {
  if (!truth.empty()) with_data = load_labels(truth);
  NEUNCUT_REQUIRE(with_data.empty() || Index(with_data.size()) == rows, InvalidArgument, "ground truth has ",
                  with_data.size(), " labels but the data has ", rows, " rows");
  return with_data;
}

void OutputOptions::add_to(CLI::App* app) {
  app->add_flag("--json", json, "print a one-line JSON summary on stdout (metric keys acc, nmi, ari)");
  app->add_flag("-q,--quiet", quiet, "no progress output on stderr");
}

void warn_thread_bound(int threads) {
  const std::string warning = thread_bound_warning(threads);
  if (!warning.empty()) std::fprintf(stderr, "neuncut: WARNING: %s\n", warning.c_str());
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) % 3600 / 60);
  return buf;
}

ClusteringScores add_scores(JsonObject& summary, const Labels& truth, const Labels& predicted) {
  const ClusteringScores s = score_clustering(truth, predicted);
  summary.add("acc", s.acc).add("nmi", s.nmi);
  summary.add("nmi_arithmetic", normalized_mutual_info(truth, predicted, NmiAverage::Arithmetic));
  summary.add("ari", s.ari);
  return s;
}

void print_summary(const JsonObject& summary, bool json) {
  if (json) {
    std::cout << summary.str() << std::endl;
    return;
  }
  // Human form: the same fields, one "key: value" per line; strings without their quotes.
  for (const auto& [key, value] : summary.json().items())
    std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : dump_line(value)) << "\n";
  std::cout.flush();
}

}  // namespace neuncut::cli
