// A minimal JSON object writer for the CLI's --json summaries (flat objects, ordered keys).
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace neuncut::cli {

class JsonObject {
 public:
  JsonObject& add(const std::string& key, const std::string& value) { return raw(key, quote(value)); }
  JsonObject& add(const std::string& key, const char* value) { return raw(key, quote(value)); }
  JsonObject& add(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
  JsonObject& add(const std::string& key, double value) {
    if (!std::isfinite(value)) return raw(key, "null");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", value);
    return raw(key, buf);
  }
  JsonObject& add(const std::string& key, long long value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, long value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, int value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, unsigned long value) { return raw(key, std::to_string(value)); }
  JsonObject& null(const std::string& key) { return raw(key, "null"); }
  /// Inserts an already-serialized JSON value (nested object or array).
  JsonObject& raw(const std::string& key, const std::string& json) {
    fields_.emplace_back(key, json);
    return *this;
  }
  std::string str() const {
    std::string s = "{";
    for (std::size_t i = 0; i < fields_.size(); ++i)
      s += (i ? ", " : "") + quote(fields_[i].first) + ": " + fields_[i].second;
    return s + "}";
  }
  static std::string quote(const std::string& v) {
    std::string s = "\"";
    for (unsigned char c : v) {
      if (c == '"' || c == '\\') s += '\\', s += char(c);
      else if (c == '\n') s += "\\n";
      else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        s += buf;
      } else s += char(c);
    }
    return s + "\"";
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace neuncut::cli
