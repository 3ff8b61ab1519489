// Protobuf messages as JSON for people and scripts: numbers stay numbers
// (the standard mapping prints 64-bit integers as strings), enums by name,
// every field present. Built on google.protobuf.Struct and its printer.
#ifndef TXMSG_PROTO_JSON_PROTO_JSON_H_
#define TXMSG_PROTO_JSON_PROTO_JSON_H_

#include <initializer_list>
#include <string>
#include <utility>

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>

#include "absl/status/status.h"

namespace txmsg::json {

enum class Names { kProto, kCamel };  // snake_case as in .proto, or lowerCamelCase

// `message` as a JSON value (bytes fields are left out).
google::protobuf::Value ToValue(const google::protobuf::Message& message, Names names);
// One JSON document; pretty-printed or on one line.
std::string Print(const google::protobuf::Value& value, bool pretty = true);
std::string ToJson(const google::protobuf::Message& message, Names names, bool pretty = false);
// A flat JSON object of string fields, on one line: {"k": "v", ...}.
std::string Object(std::initializer_list<std::pair<const char*, std::string>> fields);
// Parses a JSON object into `out` (either name style accepted; unknown
// fields ignored). The error says what is wrong with the input.
[[nodiscard]] absl::Status Parse(const std::string& text, google::protobuf::Message* out);

}  // namespace txmsg::json

#endif  // TXMSG_PROTO_JSON_PROTO_JSON_H_
