// Output of txmsgctl: aligned tables for people, JSON (snake_case, numbers
// as numbers) for scripts, and message bodies shown as text, JSON or hex.
#ifndef TXMSG_TOOLS_TXMSGCTL_RENDER_H_
#define TXMSG_TOOLS_TXMSGCTL_RENDER_H_

#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>

namespace txmsg::ctl {

// A table: a header row and data rows, printed with aligned columns;
// control characters in cells are escaped (base/printable.h).
std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

// Any protobuf message as a JSON object: field names as in the .proto
// (snake_case), 64-bit integers as numbers, enums by name, bytes skipped.
google::protobuf::Value ToValue(const google::protobuf::Message& message);
// One JSON document, pretty-printed.
std::string ToJson(const google::protobuf::Value& value);

// "850ms", "12s", "3m5s", "2h4m".
std::string Age(uint64_t ms);

// How a body is best shown: "text", "json" (a txmsg event), or "hex".
struct ShownBody {
  std::string kind;
  std::string text;
};
ShownBody ShowBody(const std::string& body);

}  // namespace txmsg::ctl

#endif  // TXMSG_TOOLS_TXMSGCTL_RENDER_H_
