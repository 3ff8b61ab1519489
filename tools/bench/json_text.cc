#include "tools/bench/json_text.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/bench/latency_histogram.h"

namespace txmsg::bench {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Position of the value of the next field `name` at or after `from`, or npos.
size_t FindValue(const std::string& json, const std::string& quoted, size_t from) {
  for (size_t at = json.find(quoted, from); at != std::string::npos;
       at = json.find(quoted, at + 1)) {
    size_t i = at + quoted.size();
    while (i < json.size() && IsSpace(json[i])) ++i;
    if (i >= json.size() || json[i] != ':') continue;  // a value equal to the name
    ++i;
    while (i < json.size() && IsSpace(json[i])) ++i;
    return i;
  }
  return std::string::npos;
}

// Reads the string starting at json[i] == '"'; sets *end past its closing
// quote. nullopt if it is not a string.
std::optional<std::string> ReadString(const std::string& json, size_t i, size_t* end) {
  if (i >= json.size() || json[i] != '"') return std::nullopt;
  std::string out;
  for (++i; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') {
      *end = i + 1;
      return out;
    }
    if (c == '\\' && i + 1 < json.size()) {
      const char e = json[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e;  // \" \\ \/ as themselves
    } else {
      out += c;
    }
  }
  return std::nullopt;  // unterminated
}

std::string Quoted(const char* name) { return absl::StrCat("\"", name, "\""); }

}  // namespace

std::string JsonStringField(const std::string& json, const char* name) {
  const size_t at = FindValue(json, Quoted(name), 0);
  size_t end = 0;
  return ReadString(json, at, &end).value_or("");
}

std::vector<std::string> JsonStringFields(const std::string& json, const char* name) {
  std::vector<std::string> out;
  const std::string quoted = Quoted(name);
  for (size_t at = FindValue(json, quoted, 0); at != std::string::npos;
       at = FindValue(json, quoted, at)) {
    size_t end = at;
    if (std::optional<std::string> s = ReadString(json, at, &end)) out.push_back(std::move(*s));
    at = std::max(end, at + 1);
  }
  return out;
}

std::optional<int64_t> JsonIntField(const std::string& json, const char* name) {
  const size_t at = FindValue(json, Quoted(name), 0);
  if (at == std::string::npos) return std::nullopt;
  size_t end = at;
  if (end < json.size() && json[end] == '-') ++end;
  while (end < json.size() && json[end] >= '0' && json[end] <= '9') ++end;
  int64_t value = 0;
  if (!absl::SimpleAtoi(json.substr(at, end - at), &value)) return std::nullopt;
  return value;
}

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void JsonObjectWriter::Key(const char* key) {
  if (!body_.empty()) body_ += ", ";
  absl::StrAppend(&body_, JsonQuote(key), ": ");
}

JsonObjectWriter& JsonObjectWriter::Int(const char* key, int64_t value) {
  Key(key);
  absl::StrAppend(&body_, value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Num(const char* key, double value) {
  Key(key);
  if (!std::isfinite(value)) {
    body_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", value);
  body_ += buf;
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Str(const char* key, const std::string& value) {
  Key(key);
  body_ += JsonQuote(value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Bool(const char* key, bool value) {
  Key(key);
  body_ += value ? "true" : "false";
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Null(const char* key) {
  Key(key);
  body_ += "null";
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Obj(const char* key, const JsonObjectWriter& object) {
  Key(key);
  body_ += object.str();
  return *this;
}

JsonObjectWriter LatencyJson(const LatencyHistogram& h) {
  JsonObjectWriter o;
  o.Int("count", static_cast<int64_t>(h.count()))
      .Int("min", h.min())
      .Num("mean", h.mean())
      .Int("p50", h.ValueAtPercentile(50))
      .Int("p90", h.ValueAtPercentile(90))
      .Int("p99", h.ValueAtPercentile(99))
      .Int("p999", h.ValueAtPercentile(99.9))
      .Int("max", h.max());
  return o;
}

}  // namespace txmsg::bench
