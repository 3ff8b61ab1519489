// The little JSON the bench needs, without a regex on the hot path: reading a
// named field out of a service's response by a plain scan, and writing the
// result document of --json.
//
// The reader is not a parser: it finds `"name"` followed by `:` and reads the
// value after it, which is enough for the flat, known responses of
// order-service and stock-service. A name that also occurs as a string value
// followed by ':' would confuse it; those responses have none.
#ifndef TXMSG_TOOLS_BENCH_JSON_TEXT_H_
#define TXMSG_TOOLS_BENCH_JSON_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace txmsg::bench {

// The string value of the first field `name` (escapes \" and \\ undone), or
// "" if there is none or it is not a string.
std::string JsonStringField(const std::string& json, const char* name);
// Every string value of fields called `name`, in order.
std::vector<std::string> JsonStringFields(const std::string& json, const char* name);
// The integer value of the first field `name`, or nullopt.
std::optional<int64_t> JsonIntField(const std::string& json, const char* name);

class LatencyHistogram;

// Builds one JSON object, field by field, in the order added.
class JsonObjectWriter {
 public:
  JsonObjectWriter& Int(const char* key, int64_t value);
  // Non-finite numbers are written as null.
  JsonObjectWriter& Num(const char* key, double value);
  JsonObjectWriter& Str(const char* key, const std::string& value);
  JsonObjectWriter& Bool(const char* key, bool value);
  JsonObjectWriter& Null(const char* key);
  JsonObjectWriter& Obj(const char* key, const JsonObjectWriter& object);
  // "{...}"
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(const char* key);
  std::string body_;
};

// count, min, mean, p50, p90, p99, p999, max of `h`, in its unit.
JsonObjectWriter LatencyJson(const LatencyHistogram& h);

// `s` as a quoted JSON string.
std::string JsonQuote(const std::string& s);

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_JSON_TEXT_H_
