// Machinery that turns one X-macro parameter table into a struct, a runtime list of
// (name, flag, default, doc) entries and string conversions. The CLI flags, the Python
// keyword arguments and docs/parameters.md are all generated from these tables, so the
// three can never drift apart.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "neuncut/core/enum_names.hpp"

namespace neuncut {

/// Hidden-layer widths, written "512,512" on the command line.
using LayerWidths = std::vector<int>;

/// One parameter of an estimator, for generic front ends.
template <class Params>
struct ParamInfo {
  std::string name;                                      ///< C++/Python name, e.g. "train_size".
  std::string flag;                                      ///< CLI flag without dashes, e.g. "train-size".
  std::string type;                                      ///< "int", "float", "bool", "str", "widths".
  std::string doc;                                       ///< One line: meaning, units, special values.
  std::string default_text;                              ///< The default rendered as text.
  std::function<std::string(const Params&)> get;         ///< Current value as text.
  std::function<void(Params&, const std::string&)> set;  ///< Parses text; InvalidArgument on bad text.
  std::vector<std::string> choices;  ///< The allowed values of an enumerated option (enum_names.hpp); empty otherwise.
};

/// Text conversions used by the tables (InvalidArgument on malformed text).
namespace param_text {
std::string format(int v);
std::string format(std::int64_t v);
std::string format(std::uint64_t v);
std::string format(double v);
std::string format(bool v);
std::string format(const std::string& v);
std::string format(const LayerWidths& v);
void parse(const std::string& name, const std::string& text, int& out);
void parse(const std::string& name, const std::string& text, std::int64_t& out);
void parse(const std::string& name, const std::string& text, std::uint64_t& out);
void parse(const std::string& name, const std::string& text, double& out);
void parse(const std::string& name, const std::string& text, bool& out);
void parse(const std::string& name, const std::string& text, std::string& out);
void parse(const std::string& name, const std::string& text, LayerWidths& out);
inline const char* type_name(int) { return "int"; }
inline const char* type_name(std::int64_t) { return "int"; }
inline const char* type_name(std::uint64_t) { return "int"; }
inline const char* type_name(double) { return "float"; }
inline const char* type_name(bool) { return "bool"; }
inline const char* type_name(const std::string&) { return "str"; }
inline const char* type_name(const LayerWidths&) { return "widths"; }
// Enumerated options: the text is the enum's name (enum_names.hpp), "str" to the front ends,
// which read the allowed values from ParamInfo::choices.
template <class E, std::enable_if_t<has_enum_names_v<E>, int> = 0>
const char* type_name(E) {
  return "str";
}
template <class E, std::enable_if_t<has_enum_names_v<E>, int> = 0>
std::string format(E v) {
  return to_string(v);
}
template <class E, std::enable_if_t<has_enum_names_v<E>, int> = 0>
void parse(const std::string&, const std::string& text, E& out) {
  out = parse_enum<E>(text);
}
template <class T>
std::vector<std::string> choices(const T&) {
  if constexpr (has_enum_names_v<T>) return enum_names<T>();
  else return {};
}
}  // namespace param_text

}  // namespace neuncut

// Expands a table X(type, name, flag, default, doc) into struct members with defaults.
#define NEUNCUT_PARAM_MEMBER(type, name, flag, def, doc) type name = def;

// Expands the same table into a std::vector<ParamInfo<Params>>.
#define NEUNCUT_PARAM_INFO(type, name, flag, def, doc)                                                \
  {#name,                                                                                             \
   flag,                                                                                              \
   ::neuncut::param_text::type_name(type{}),                                                          \
   doc,                                                                                               \
   ::neuncut::param_text::format(type(def)),                                                          \
   [](const ParamsType& p) { return ::neuncut::param_text::format(p.name); },                         \
   [](ParamsType& p, const std::string& text) { ::neuncut::param_text::parse(#name, text, p.name); }, \
   ::neuncut::param_text::choices(type{})},
