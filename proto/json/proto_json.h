// Protobuf messages as JSON for people and scripts: numbers stay numbers
// (the standard mapping prints 64-bit integers as strings; here they print
// as exact integers), enums by name, every field present, in the order the
// .proto declares them (stable from one response to the next).
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

// `message` as a JSON value (bytes fields are left out), for callers that
// compose documents. 64-bit integers become doubles here (exact up to
// 2^53); ToJson prints them exactly.
google::protobuf::Value ToValue(const google::protobuf::Message& message, Names names);
// One JSON document; pretty-printed or on one line. Object keys of a
// Struct come out sorted, so the text is the same every time.
std::string Print(const google::protobuf::Value& value, bool pretty = true);
// `message` in field order, 64-bit integers exact, bytes fields left out.
std::string ToJson(const google::protobuf::Message& message, Names names, bool pretty = false);
// A flat JSON object of string fields, on one line, in the order given:
// {"k":"v",...}. Any bytes are fine (invalid UTF-8 becomes U+FFFD).
std::string Object(std::initializer_list<std::pair<const char*, std::string>> fields);
// Parses the body of a write request, strictly: the text must be a JSON
// object; a field the message does not have is an error (a misspelt
// "totalcount" must not mean "0"); and every top-level field is required
// (present and not null) unless the .proto declares it `optional`.
// INVALID_ARGUMENT with a message that names the field.
[[nodiscard]] absl::Status ParseRequest(const std::string& text, google::protobuf::Message* out);

}  // namespace txmsg::json

#endif  // TXMSG_PROTO_JSON_PROTO_JSON_H_
