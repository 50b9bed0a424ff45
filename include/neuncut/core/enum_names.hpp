// One list of names per enumerated option, and everything text-related generated from it.
//
// A runtime choice (an affinity kind, a solver status, a recipe) is an enum in C++. Its
// spellings on the command line, in Python, in the JSON summaries, in model files and in the
// docs all come from ONE constexpr list declared next to the enum:
//
//   enum class LrSchedule { Cosine, Constant };
//   NEUNCUT_ENUM_NAMES(LrSchedule, "lr schedule",
//                      {LrSchedule::Cosine, "cosine"}, {LrSchedule::Constant, "constant"})
//
// which gives, for that enum and no other:
//   to_string(LrSchedule::Cosine)        -> "cosine"
//   parse_enum<LrSchedule>("constant")   -> LrSchedule::Constant
//   parse_enum<LrSchedule>("linear")     -> InvalidArgument "unknown lr schedule 'linear'
//                                            (expected cosine or constant)"
//   enum_choices<LrSchedule>()           -> "cosine or constant"
//   enum_names<LrSchedule>()             -> {"cosine", "constant"}
// and lets a parameter table (param_table.hpp) hold the enum directly: the table's parse,
// format, allowed values and docs are these.
//
// Why a specialized trait and not a reflection trick: the names are part of the file formats
// and the CLI (a renamed enumerator must not silently rename a flag value), so they are written
// once by hand, and everything else is derived from that list.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "neuncut/core/error.hpp"

namespace neuncut {

/// One enumerator and its name.
template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

/// Specialized by NEUNCUT_ENUM_NAMES for every enum that has names; `what` names the option
/// in error messages ("unknown <what> '<text>' (expected ...)").
template <class E>
struct EnumNames {
  static constexpr bool defined = false;
};

/// True for enums declared with NEUNCUT_ENUM_NAMES.
template <class E>
inline constexpr bool has_enum_names_v = EnumNames<std::decay_t<E>>::defined;

/// The name of `value` (the first listed for it). An unlisted value, which only a cast can
/// produce, is a broken invariant and reads "unknown(<number>)".
template <class E, std::enable_if_t<has_enum_names_v<E>, int> = 0>
std::string to_string(E value) {
  for (const auto& n : EnumNames<E>::names)
    if (n.value == value) return std::string(n.name);
  return "unknown(" + std::to_string(static_cast<long long>(value)) + ")";
}

/// Every name, in the listed order.
template <class E, std::enable_if_t<has_enum_names_v<E>, int> = 0>
std::vector<std::string> enum_names() {
  std::vector<std::string> out;
  for (const auto& n : EnumNames<E>::names) out.emplace_back(n.name);
  return out;
}

/// The names as an English list: "a, b or c".
template <class E, std::enable_if_t<has_enum_names_v<E>, int> = 0>
std::string enum_choices() {
  const auto& names = EnumNames<E>::names;
  const std::size_t n = std::size(names);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) s += i + 1 == n ? " or " : ", ";
    s += names[i].name;
  }
  return s;
}

/// The value named `text`; InvalidArgument "unknown <what> '<text>' (expected a, b or c)".
template <class E, std::enable_if_t<has_enum_names_v<E>, int> = 0>
E parse_enum(std::string_view text) {
  for (const auto& n : EnumNames<E>::names)
    if (n.name == text) return n.value;
  throw InvalidArgument(
      detail::concat("unknown ", EnumNames<E>::what, " '", text, "' (expected ", enum_choices<E>(), ")"));
}

/// Prints the name (so that test failures and logs show "gaussian", not 1).
template <class E, std::enable_if_t<has_enum_names_v<E>, int> = 0>
std::ostream& operator<<(std::ostream& os, E value) {
  return os << to_string(value);
}

}  // namespace neuncut

/// Declares the names of enum `Enum` (use at namespace neuncut scope, after the enum):
/// NEUNCUT_ENUM_NAMES(Enum, "what", {Enum::A, "a"}, {Enum::B, "b"}, ...).
#define NEUNCUT_ENUM_NAMES(Enum, what_text, ...)                        \
  template <>                                                           \
  struct EnumNames<Enum> {                                              \
    static constexpr bool defined = true;                               \
    static constexpr std::string_view what = what_text;                 \
    static constexpr ::neuncut::EnumName<Enum> names[] = {__VA_ARGS__}; \
  };
