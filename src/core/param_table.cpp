#include "neuncut/core/param_table.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

#include "neuncut/core/error.hpp"

namespace neuncut::param_text {

namespace {
template <class T>
void parse_number(const std::string& name, const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  NEUNCUT_REQUIRE(ec == std::errc() && ptr == end && !text.empty(), InvalidArgument, "parameter ", name,
                  ": cannot parse '", text, "' as a number of the expected type");
}
}  // namespace

std::string format(int v) { return std::to_string(v); }
std::string format(std::int64_t v) { return std::to_string(v); }
std::string format(std::uint64_t v) { return std::to_string(v); }
std::string format(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
std::string format(bool v) { return v ? "true" : "false"; }
std::string format(const std::string& v) { return v; }
std::string format(const LayerWidths& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}

void parse(const std::string& name, const std::string& text, int& out) { parse_number(name, text, out); }
void parse(const std::string& name, const std::string& text, std::int64_t& out) { parse_number(name, text, out); }
void parse(const std::string& name, const std::string& text, std::uint64_t& out) { parse_number(name, text, out); }
void parse(const std::string& name, const std::string& text, double& out) {
  parse_number(name, text, out);
  NEUNCUT_REQUIRE(std::isfinite(out), InvalidArgument, "parameter ", name, " must be finite, got ", text);
}
void parse(const std::string& name, const std::string& text, bool& out) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") out = true;
  else if (text == "false" || text == "0" || text == "no" || text == "off") out = false;
  else throw InvalidArgument("parameter " + name + ": expected true or false, got '" + text + "'");
}
void parse(const std::string&, const std::string& text, std::string& out) { out = text; }
void parse(const std::string& name, const std::string& text, LayerWidths& out) {
  out.clear();
  if (text.empty() || text == "none") return;  // no hidden layer: a linear model
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int w;
    parse_number(name, item, w);
    NEUNCUT_REQUIRE(w >= 1, InvalidArgument, "parameter ", name, ": layer widths must be >= 1, got ", w);
    out.push_back(w);
  }
}

}  // namespace neuncut::param_text
