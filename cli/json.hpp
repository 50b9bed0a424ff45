// The CLI's --json summaries: an ordered nlohmann::json object (keys in insertion order), written
// on one line with the separators the summaries have always had (", " and ": "), because
// scripts and the test suite look for `"key": value`. Floating-point values are kept at the 10
// significant digits the summaries have always printed, so a value reads the same as before.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace neuncut::cli {

using Json = nlohmann::ordered_json;

/// `v` rounded to `digits` significant digits (what printf's %.<digits>g shows); NaN and
/// infinities stay as they are (written as null).
inline double round_significant(double v, int digits = 10) {
  if (!std::isfinite(v)) return v;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return std::strtod(buf, nullptr);
}

/// One line of JSON: `{"a": 1, "b": [1, 2], "c": {"d": null}}`.
inline std::string dump_line(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      std::string s = "{";
      bool first = true;
      for (const auto& [key, value] : j.items()) {
        s += (first ? "" : ", ") + Json(key).dump() + ": " + dump_line(value);
        first = false;
      }
      return s + "}";
    }
    case Json::value_t::array: {
      std::string s = "[";
      for (std::size_t i = 0; i < j.size(); ++i) s += (i ? ", " : "") + dump_line(j[i]);
      return s + "]";
    }
    case Json::value_t::number_float: {
      const double v = j.get<double>();
      if (!std::isfinite(v)) return "null";
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.10g", v);
      return buf;
    }
    default:
      return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

/// A flat summary object with ordered keys; the builder the commands use.
class JsonObject {
 public:
  JsonObject& add(const std::string& key, const std::string& value) { return set(key, value); }
  JsonObject& add(const std::string& key, const char* value) { return set(key, std::string(value)); }
  JsonObject& add(const std::string& key, bool value) { return set(key, value); }
  JsonObject& add(const std::string& key, double value) {
    return std::isfinite(value) ? set(key, round_significant(value)) : null(key);
  }
  JsonObject& add(const std::string& key, long long value) { return set(key, value); }
  JsonObject& add(const std::string& key, long value) { return set(key, value); }
  JsonObject& add(const std::string& key, int value) { return set(key, value); }
  JsonObject& add(const std::string& key, unsigned long value) { return set(key, value); }
  /// A nested object.
  JsonObject& add(const std::string& key, const JsonObject& value) { return set(key, value.json()); }
  /// An array of numbers, each kept at `digits` significant digits.
  JsonObject& add(const std::string& key, const std::vector<double>& values, int digits = 10) {
    Json a = Json::array();
    for (double v : values) a.push_back(std::isfinite(v) ? Json(round_significant(v, digits)) : Json(nullptr));
    return set(key, std::move(a));
  }
  JsonObject& null(const std::string& key) { return set(key, nullptr); }
  /// Any JSON value (a key given again keeps its place and takes the new value).
  JsonObject& set(const std::string& key, Json value) {
    j_[key] = std::move(value);
    return *this;
  }
  const Json& json() const { return j_; }
  std::string str() const { return dump_line(j_); }

 private:
  Json j_ = Json::object();
};

}  // namespace neuncut::cli
