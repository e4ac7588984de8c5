#include "ingest/otlp/otlp_json.h"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <boost/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ingest/string_util.h"

namespace otelbox::ingest::otlp {
namespace {

namespace json = boost::json;

// Bytes fields that OTLP/JSON spells in hex, with their required length in bytes.
// (Other bytes fields, such as AnyValue.bytesValue, stay base64.)
int IdFieldBytes(std::string_view key) {
  if (key == "traceId") return 16;
  if (key == "spanId" || key == "parentSpanId") return 8;
  return 0;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status HexToBase64(std::string_view key, int want_bytes, json::value* v) {
  if (v->is_null()) return absl::OkStatus();
  if (!v->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", AbslView(key), "\" must be a hex string"));
  }
  const json::string& s = v->get_string();
  if (s.empty()) return absl::OkStatus();  // zero-length id = absent
  if (s.size() != static_cast<size_t>(want_bytes) * 2) {
    return absl::InvalidArgumentError(absl::StrCat("invalid length for \"", AbslView(key), "\": want ",
                                                   want_bytes * 2, " hex digits, got ",
                                                   s.size()));
  }
  std::string raw;
  raw.reserve(want_bytes);
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = HexDigit(s[i]), lo = HexDigit(s[i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat("invalid hex in \"", AbslView(key), "\""));
    }
    raw.push_back(static_cast<char>(hi << 4 | lo));
  }
  *v = json::string(absl::Base64Escape(raw));
  return absl::OkStatus();
}

absl::Status RewriteIdsToBase64(json::value* v, int depth) {
  if (depth > 200) return absl::InvalidArgumentError("JSON nested too deeply");
  if (v->is_object()) {
    for (auto& kv : v->get_object()) {
      if (int n = IdFieldBytes(kv.key()); n > 0) {
        if (auto st = HexToBase64(kv.key(), n, &kv.value()); !st.ok()) return st;
      } else if (auto st = RewriteIdsToBase64(&kv.value(), depth + 1); !st.ok()) {
        return st;
      }
    }
  } else if (v->is_array()) {
    for (auto& e : v->get_array()) {
      if (auto st = RewriteIdsToBase64(&e, depth + 1); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

void RewriteIdsToHex(json::value* v) {
  if (v->is_object()) {
    for (auto& kv : v->get_object()) {
      if (IdFieldBytes(kv.key()) > 0 && kv.value().is_string()) {
        std::string raw;
        const json::string& s = kv.value().get_string();
        if (absl::Base64Unescape(absl::string_view(s.data(), s.size()), &raw)) {
          kv.value() = json::string(HexEncode(raw));
        }
      } else {
        RewriteIdsToHex(&kv.value());
      }
    }
  } else if (v->is_array()) {
    for (auto& e : v->get_array()) RewriteIdsToHex(&e);
  }
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

absl::Status OtlpJsonToMessage(std::string_view text, google::protobuf::Message* message) {
  json::parse_options opts;
  opts.max_depth = 200;  // attribute values nest (kvlist in array in kvlist ...)
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(text.data(), text.size()), ec, {}, opts);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", ec.message()));
  if (!root.is_object()) return absl::InvalidArgumentError("invalid JSON: expected an object");
  if (auto st = RewriteIdsToBase64(&root, 0); !st.ok()) return st;

  const std::string rewritten = json::serialize(root);
  google::protobuf::util::JsonParseOptions parse_opts;
  parse_opts.ignore_unknown_fields = true;
  message->Clear();
  auto st = google::protobuf::util::JsonStringToMessage(rewritten, message, parse_opts);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid OTLP/JSON: ", std::string(st.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MessageToOtlpJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_enums_as_ints = true;
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(message, &out, opts);
  if (!st.ok()) return absl::InternalError(std::string(st.message()));
  boost::system::error_code ec;
  json::value root = json::parse(out, ec);
  if (ec) return absl::InternalError("BUG: protobuf printed invalid JSON");
  RewriteIdsToHex(&root);
  return json::serialize(root);
}

}  // namespace otelbox::ingest::otlp
