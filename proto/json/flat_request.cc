#include "proto/json/flat_request.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"

namespace txmsg::json::internal {
namespace {

namespace pb = google::protobuf;

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }
  // A string of printable ASCII without escapes (anything else: decline).
  bool String(std::string_view* out) {
    if (!Eat('"')) return false;
    const size_t start = pos_;
    while (pos_ < text_.size()) {
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        *out = text_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x7f) return false;
      ++pos_;
    }
    return false;
  }
  // A JSON integer literal: -?(0|[1-9][0-9]*), no fraction or exponent.
  bool Integer(std::string_view* out) {
    SkipSpace();
    const size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    const size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    const size_t n = pos_ - digits;
    if (n == 0 || (n > 1 && text_[digits] == '0')) return false;
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      return false;
    }
    *out = text_.substr(start, pos_ - start);
    return true;
  }
  bool Literal(std::string_view word) {
    SkipSpace();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  char Peek() {
    SkipSpace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

template <typename Int>
bool ToInt(std::string_view token, Int* v) {
  return absl::SimpleAtoi(absl::string_view(token.data(), token.size()), v);
}

bool SetValue(Scanner& in, const pb::FieldDescriptor* f, pb::Message* out) {
  const pb::Reflection* r = out->GetReflection();
  std::string_view token;
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!in.Integer(&token) || !ToInt(token, &v)) return false;
      r->SetInt32(out, f, v);
      return true;
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!in.Integer(&token) || !ToInt(token, &v)) return false;
      r->SetInt64(out, f, v);
      return true;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!in.Integer(&token) || token[0] == '-' || !ToInt(token, &v)) return false;
      r->SetUInt32(out, f, v);
      return true;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!in.Integer(&token) || token[0] == '-' || !ToInt(token, &v)) return false;
      r->SetUInt64(out, f, v);
      return true;
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      if (in.Literal("true")) {
        r->SetBool(out, f, true);
        return true;
      }
      if (in.Literal("false")) {
        r->SetBool(out, f, false);
        return true;
      }
      return false;
    case pb::FieldDescriptor::CPPTYPE_STRING:
      if (f->type() == pb::FieldDescriptor::TYPE_BYTES) return false;  // base64: general path
      if (!in.String(&token)) return false;
      r->SetString(out, f, std::string(token));
      return true;
    default:  // floating point, enums, messages: the general path
      return false;
  }
}

bool Parse(std::string_view text, pb::Message* out) {
  const pb::Descriptor* d = out->GetDescriptor();
  Scanner in(text);
  if (!in.Eat('{')) return false;
  std::vector<bool> seen(static_cast<size_t>(d->field_count()), false);
  if (in.Peek() == '}') {
    in.Eat('}');
  } else {
    while (true) {
      std::string_view key;
      if (!in.String(&key) || !in.Eat(':')) return false;
      const pb::FieldDescriptor* f = nullptr;
      for (int i = 0; i < d->field_count(); ++i) {
        const pb::FieldDescriptor* c = d->field(i);
        if (key == c->json_name() || key == c->name()) {
          f = c;
          break;
        }
      }
      if (f == nullptr || f->is_repeated() || f->containing_oneof() != nullptr) return false;
      if (seen[static_cast<size_t>(f->index())]) return false;  // a duplicate
      seen[static_cast<size_t>(f->index())] = true;
      if (!SetValue(in, f, out)) return false;
      if (in.Eat(',')) continue;
      if (in.Eat('}')) break;
      return false;
    }
  }
  if (!in.AtEnd()) return false;
  for (int i = 0; i < d->field_count(); ++i) {
    // Missing (the general path says which), unless `optional` or in a oneof.
    if (!seen[static_cast<size_t>(i)] && d->field(i)->containing_oneof() == nullptr) return false;
  }
  return true;
}

}  // namespace

bool ParseFlatRequest(std::string_view text, pb::Message* out) {
  if (Parse(text, out)) return true;
  out->Clear();
  return false;
}

}  // namespace txmsg::json::internal
