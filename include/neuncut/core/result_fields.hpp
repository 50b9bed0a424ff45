// Result fields described once, like the parameter tables (param_table.hpp).
//
// A result struct is declared from an X-macro table X(type, name, default, doc):
//
//   #define NEUNCUT_FOO_RESULT_FIELDS(X)  (each line but the last ends in a backslash)
//     X(double, inertia, 0.0, "sum of squared distances")
//     X(int, iterations, 0, "Lloyd iterations")
//   struct FooResult { NEUNCUT_FOO_RESULT_FIELDS(NEUNCUT_RESULT_MEMBER) };
//   NEUNCUT_RESULT_FIELDS(FooResult, NEUNCUT_FOO_RESULT_FIELDS)
//
// The last line generates for_each_field(const FooResult&, visit), calling
// visit(name, value) for every field in table order, and result_fields(FooResult*) listing
// (name, type, doc). The front ends render a result through these two alone: the CLI's JSON
// summary (cli/result_json.hpp), Python's dicts (python/src/bindings.cpp) and
// docs/results.md (`neuncut results`), so a field added to a table reaches all three.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut {

/// One field of a result, for generic front ends and the docs.
struct FieldInfo {
  std::string name;                  ///< C++ member, Python key and JSON key.
  std::string type;                  ///< "int", "float", "bool", "str", "list of float", ... (field_type_name).
  std::string doc;                   ///< One line: meaning, units, special values.
  std::vector<std::string> choices;  ///< An enumerated field's values (enum_names.hpp); empty otherwise.
};

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};

/// Does T have a field table (NEUNCUT_RESULT_FIELDS)? Nested results render as objects.
template <class T>
struct HasResultFields : std::false_type {};

/// The docs' name of a field's type.
template <class T>
std::string field_type_name() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (has_enum_names_v<T> || std::is_same_v<T, std::string>) return "str";
  else if constexpr (std::is_integral_v<T>) return "int";
  else if constexpr (std::is_floating_point_v<T>) return "float";
  else if constexpr (std::is_same_v<T, Labels>) return "int32 array";
  else if constexpr (std::is_same_v<T, VectorD>) return "float array";
  else if constexpr (std::is_same_v<T, MatrixF>) return "float32 matrix";
  else if constexpr (HasResultFields<T>::value) return "object";
  else if constexpr (requires(const T& t) { t.description(); }) return "str";  // a typed outcome, shown as its sentence
  else if constexpr (requires { T::kFieldTypeName; })
    return T::kFieldTypeName;  // a nested struct with its own rendering
  else if constexpr (IsVector<T>::value) return "list of " + field_type_name<typename T::value_type>();
  else static_assert(sizeof(T) == 0, "field_type_name: a type without a docs name");
}

/// Warnings as one sentence, joined by "; " (how the CLI and Python have always shown them).
inline std::string join_warnings(const std::vector<std::string>& warnings) {
  std::string s;
  for (const auto& w : warnings) s += (s.empty() ? "" : "; ") + w;
  return s;
}

template <class T>
std::vector<std::string> field_choices() {
  if constexpr (has_enum_names_v<T>) return enum_names<T>();
  else return {};
}

}  // namespace neuncut

/// Expands a table X(type, name, default, doc) into members with defaults.
#define NEUNCUT_RESULT_MEMBER(type, name, def, doc) type name = def;

#define NEUNCUT_RESULT_VISIT(type, name, def, doc) visit(#name, r.name);
#define NEUNCUT_RESULT_INFO(type, name, def, doc) \
  {#name, ::neuncut::field_type_name<type>(), doc, ::neuncut::field_choices<type>()},

/// Generates for_each_field and result_fields for `Result` from its table (namespace neuncut scope).
#define NEUNCUT_RESULT_FIELDS(Result, TABLE)                                              \
  template <>                                                                             \
  struct HasResultFields<Result> : std::true_type {};                                     \
  template <class Visit>                                                                  \
  void for_each_field(const Result& r, Visit&& visit) {                                   \
    TABLE(NEUNCUT_RESULT_VISIT)                                                           \
  }                                                                                       \
  inline const std::vector<::neuncut::FieldInfo>& result_fields(const Result*) {          \
    static const std::vector<::neuncut::FieldInfo> fields = {TABLE(NEUNCUT_RESULT_INFO)}; \
    return fields;                                                                        \
  }
