// JSON text, written in the order the caller gives: objects keep their
// fields in that order from one response to the next (a map-backed
// google.protobuf.Struct does not), 64-bit integers print exactly, and
// every string comes out as valid JSON whatever bytes it held (invalid
// UTF-8 becomes U+FFFD, control characters are escaped).
#ifndef TXMSG_PROTO_JSON_JSON_WRITER_H_
#define TXMSG_PROTO_JSON_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace txmsg::json {

// `text` as a JSON string literal, quotes included.
std::string Quote(std::string_view text);

// Builds one JSON document. The caller nests Begin/End calls correctly and
// puts a Key before every value inside an object. Pretty output indents by
// one space per level, as protobuf's printer does; compact output has no
// whitespace at all.
class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view name);
  void String(std::string_view value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  // Shortest text that reads back as the same double; NaN and infinities
  // (which JSON numbers cannot carry) as the strings "NaN", "Infinity".
  void Double(double value);
  void Bool(bool value);
  void Null();

  const std::string& text() const { return out_; }

 private:
  void Separate();  // before a value or a key
  void Open(char c);
  void Close(char c);

  const bool pretty_;
  std::string out_;
  std::vector<int> counts_;  // elements written so far, per open level
  bool after_key_ = false;
};

}  // namespace txmsg::json

#endif  // TXMSG_PROTO_JSON_JSON_WRITER_H_
