// Numeric CSV input and output.
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "io/io_util.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/row_writer.hpp"

namespace neuncut {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// A space delimiter means "any run of blanks", as in whitespace-separated text files;
// every other delimiter separates exactly one field, so "1,,2" has an empty field.
void split(std::string_view line, char delimiter, std::vector<std::string_view>& fields) {
  fields.clear();
  if (delimiter == ' ') {
    std::size_t i = 0;
    while (true) {
      while (i < line.size() && is_space(line[i])) ++i;
      if (i == line.size()) return;
      const std::size_t start = i;
      while (i < line.size() && !is_space(line[i])) ++i;
      fields.push_back(trim(line.substr(start, i - start)));
    }
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(delimiter, start);
    fields.push_back(trim(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return;
    start = end + 1;
  }
}

// from_chars rather than strtod: locale-independent and it tells us whether the whole field
// was consumed. "nan" and "inf" are accepted as written; the estimators reject them later.
bool parse_number(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool is_blank(std::string_view line) {
  for (char c : line)
    if (!is_space(c)) return false;
  return true;
}

}  // namespace

Dataset read_csv(const std::string& path, const CsvOptions& options) {
  const char delim = options.delimiter;
  NEUNCUT_REQUIRE(delim != '\n' && delim != '\r' && delim != '\0' && delim != '"', InvalidArgument,
                  "CSV delimiter must be a printable separator, got character code ", int(delim));
  NEUNCUT_REQUIRE(options.header >= -1 && options.header <= 1, InvalidArgument,
                  "CsvOptions::header must be -1 (detect), 0 or 1, got ", options.header);
  NEUNCUT_REQUIRE(options.label_column >= -1, InvalidArgument, "CsvOptions::label_column must be >= -1, got ",
                  options.label_column);
  detail::require_readable_file(path, "CSV file");
  std::ifstream in(path, std::ios::binary);
  NEUNCUT_REQUIRE(in.is_open(), IoError, "cannot open CSV file '", path, "': ", std::strerror(errno));

  std::vector<float> values;
  Labels labels;
  std::vector<std::string_view> fields;
  std::string line;
  std::size_t line_no = 0, n_cols = 0;
  bool first = true;
  const int label_col = options.label_column;
  while (std::getline(in, line)) {
    ++line_no;
    if (is_blank(line)) continue;
    split(line, delim, fields);
    if (first) {
      first = false;
      n_cols = fields.size();
      NEUNCUT_REQUIRE(label_col < static_cast<int>(n_cols), InvalidArgument, "label column ", label_col,
                      " is out of range: '", path, "' has ", n_cols, " columns");
      bool header = options.header == 1;
      if (options.header == -1) {
        // An empty field is a missing number, not a column name: "1,,2" is data with a hole.
        double v;
        for (std::string_view f : fields) header = header || (!f.empty() && !parse_number(f, v));
      }
      if (header) continue;
    }
    NEUNCUT_REQUIRE(fields.size() == n_cols, FormatError, "'", path, "' line ", line_no, ": ", fields.size(),
                    " fields, expected ", n_cols, " like the first line");
    for (std::size_t c = 0; c < n_cols; ++c) {
      double v;
      NEUNCUT_REQUIRE(parse_number(fields[c], v), FormatError, "'", path, "' line ", line_no, ", column ", c + 1, ": '",
                      fields[c], "' is not a number");
      if (static_cast<int>(c) == label_col) {
        NEUNCUT_REQUIRE(detail::is_int32_value(v), FormatError, "'", path, "' line ", line_no, ", column ", c + 1,
                        ": label '", fields[c], "' is not an integer that fits in int32");
        labels.push_back(static_cast<std::int32_t>(v));
      } else {
        NEUNCUT_REQUIRE(!std::isfinite(v) || std::abs(v) <= std::numeric_limits<float>::max(), FormatError, "'", path,
                        "' line ", line_no, ", column ", c + 1, ": ", fields[c], " is out of float32 range");
        values.push_back(static_cast<float>(v));
      }
    }
  }
  NEUNCUT_REQUIRE(!in.bad(), IoError, "read error on '", path, "'");
  NEUNCUT_REQUIRE(!first, FormatError, "'", path, "' is empty (no data lines)");

  Dataset out;
  out.name = path;
  const Index feature_cols = static_cast<Index>(n_cols) - (label_col >= 0 ? 1 : 0);
  const Index rows =
      feature_cols > 0 ? static_cast<Index>(values.size()) / feature_cols : static_cast<Index>(labels.size());
  out.features = MatrixF(rows, feature_cols);
  std::copy(values.begin(), values.end(), out.features.data());
  out.labels = std::move(labels);
  return out;
}

void write_csv(const std::string& path, const MatrixF& matrix) {
  RowWriter file = RowWriter::csv_matrix(path, matrix.rows(), matrix.cols());
  file.append(matrix);
  file.commit();
}

void write_csv(const std::string& path, const Labels& labels) {
  RowWriter file = RowWriter::csv_labels(path, Index(labels.size()));
  file.append(labels);
  file.commit();
}

}  // namespace neuncut
