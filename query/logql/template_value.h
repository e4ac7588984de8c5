#pragma once
// Values and functions of the Go text/template subset used by line_format / label_format
// (template.cc parses and executes, template_funcs.cc holds Loki's and Sprig's functions).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql::internal {

// A dynamically typed template value, standing in for Go's reflect.Value over the types Loki's
// functions use: string, int, int64, float64, bool, time.Time, maps/lists from fromJson, nil,
// and the labels map (dot).
struct TValue {
  enum class Kind : uint8_t { kNil, kString, kInt, kInt64, kFloat, kBool, kTime, kMap, kList, kLabels };
  Kind kind = Kind::kNil;
  std::string s;
  int64_t i = 0;     // kInt / kInt64; kTime: Unix seconds
  int32_t nsec = 0;  // kTime
  double f = 0;
  bool b = false;
  std::shared_ptr<const std::vector<std::pair<std::string, TValue>>> map;  // sorted by key
  std::shared_ptr<const std::vector<TValue>> list;

  static TValue Str(std::string v) {
    TValue t;
    t.kind = Kind::kString;
    t.s = std::move(v);
    return t;
  }
  static TValue Int(int64_t v) {
    TValue t;
    t.kind = Kind::kInt;
    t.i = v;
    return t;
  }
  static TValue Int64(int64_t v) {
    TValue t;
    t.kind = Kind::kInt64;
    t.i = v;
    return t;
  }
  static TValue Float(double v) {
    TValue t;
    t.kind = Kind::kFloat;
    t.f = v;
    return t;
  }
  static TValue Bool(bool v) {
    TValue t;
    t.kind = Kind::kBool;
    t.b = v;
    return t;
  }
  static TValue Time(int64_t sec, int32_t nsec) {
    TValue t;
    t.kind = Kind::kTime;
    t.i = sec;
    t.nsec = nsec;
    return t;
  }
  bool IsInteger() const { return kind == Kind::kInt || kind == Kind::kInt64; }
};

// Go's type name of a value, for error messages ("string", "int", "float64", "time.Time").
std::string_view TypeName(const TValue& v);

// What functions may read besides their arguments.
struct FuncEnv {
  const TemplateContext* ctx = nullptr;
  // The call's regex argument compiled at parse time, when it is a string literal (saves a
  // compile per entry; Go compiles on every call).
  const re2::RE2* literal_regex = nullptr;
};

using TemplateFunc = absl::StatusOr<TValue> (*)(std::vector<TValue>& args, const FuncEnv& env);

struct FuncSpec {
  std::string_view name;
  TemplateFunc fn;
  int min_args;
  int max_args;  // -1: variadic
};

// Looks up a function by name (Loki's function map plus the template builtins).
const FuncSpec* FindTemplateFunc(std::string_view name);
// True for the functions whose first argument is a regular expression.
bool TakesRegexFirst(std::string_view name);

// fmt.Fprint of one value, as text/template prints an action's result.
void PrintValue(const TValue& v, const TemplateContext& ctx, std::string* out);
// Go's %v for float64 (strconv 'g', shortest).
std::string FormatGoFloat(double f);
// text/template truthiness.
bool IsTrue(const TValue& v, const TemplateContext& ctx);

}  // namespace otelbox::query::logql::internal
