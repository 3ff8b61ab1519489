#include "proto/json/proto_json.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/json/flat_request.h"
#include "proto/json/json_writer.h"

namespace txmsg::json {

namespace pb = google::protobuf;

namespace {

std::string FieldName(const pb::FieldDescriptor* f, Names names) {
  return names == Names::kCamel ? f->json_name() : f->name();
}

pb::Value Scalar(const pb::Message& m, const pb::FieldDescriptor* f, int index, Names names) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  pb::Value v;
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      v.set_number_value(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      v.set_number_value(
          static_cast<double>(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      v.set_number_value(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      v.set_number_value(
          static_cast<double>(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f)));
      break;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      v.set_number_value(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      v.set_number_value(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      v.set_bool_value(rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      v.set_string_value((rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name());
      break;
    case pb::FieldDescriptor::CPPTYPE_STRING:
      v.set_string_value(rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      v = ToValue(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), names);
      break;
  }
  return v;
}

void WriteValue(const pb::Value& v, JsonWriter& w) {
  switch (v.kind_case()) {
    case pb::Value::kNumberValue:
      return w.Double(v.number_value());
    case pb::Value::kStringValue:
      return w.String(v.string_value());
    case pb::Value::kBoolValue:
      return w.Bool(v.bool_value());
    case pb::Value::kStructValue: {
      std::vector<const std::string*> keys;
      for (const auto& [k, unused] : v.struct_value().fields()) keys.push_back(&k);
      std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
      w.BeginObject();
      for (const std::string* k : keys) {
        w.Key(*k);
        WriteValue(v.struct_value().fields().at(*k), w);
      }
      return w.EndObject();
    }
    case pb::Value::kListValue:
      w.BeginArray();
      for (const pb::Value& e : v.list_value().values()) WriteValue(e, w);
      return w.EndArray();
    default:
      return w.Null();
  }
}

void WriteMessage(const pb::Message& m, Names names, JsonWriter& w);

// One element of field `f` (element `index` if repeated).
void WriteElement(const pb::Message& m, const pb::FieldDescriptor* f, int index, Names names,
                  JsonWriter& w) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return w.Int(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return w.Int(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return w.Uint(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return w.Uint(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return w.Double(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      return w.Double(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return w.Bool(rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f));
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const int n = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const pb::EnumValueDescriptor* e = f->enum_type()->FindValueByNumber(n);
      return e ? w.String(e->name()) : w.Int(n);  // a value this build does not know
    }
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return w.String(rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f));
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      return WriteMessage(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), names, w);
  }
}

// A map field as an object, keys sorted (a protobuf map has no stable order).
void WriteMap(const pb::Message& m, const pb::FieldDescriptor* f, Names names, JsonWriter& w) {
  const pb::Reflection* r = m.GetReflection();
  std::vector<std::pair<std::string, int>> keys;
  for (int k = 0; k < r->FieldSize(m, f); ++k) {
    const pb::Message& entry = r->GetRepeatedMessage(m, f, k);
    const pb::FieldDescriptor* kf = entry.GetDescriptor()->field(0);
    std::string key;
    if (kf->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      key = entry.GetReflection()->GetString(entry, kf);
    } else {
      JsonWriter kw;
      WriteElement(entry, kf, 0, names, kw);
      key = kw.text();
    }
    keys.emplace_back(std::move(key), k);
  }
  std::sort(keys.begin(), keys.end());
  w.BeginObject();
  for (const auto& [key, k] : keys) {
    const pb::Message& entry = r->GetRepeatedMessage(m, f, k);
    w.Key(key);
    WriteElement(entry, entry.GetDescriptor()->field(1), 0, names, w);
  }
  w.EndObject();
}

void WriteMessage(const pb::Message& m, Names names, JsonWriter& w) {
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  w.BeginObject();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->type() == pb::FieldDescriptor::TYPE_BYTES) continue;
    w.Key(FieldName(f, names));
    if (f->is_map()) {
      WriteMap(m, f, names, w);
    } else if (f->is_repeated()) {
      w.BeginArray();
      for (int k = 0; k < r->FieldSize(m, f); ++k) WriteElement(m, f, k, names, w);
      w.EndArray();
    } else {
      WriteElement(m, f, 0, names, w);
    }
  }
  w.EndObject();
}

absl::Status ToAbsl(const pb::util::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string(s.message()));
}

}  // namespace

pb::Value ToValue(const pb::Message& m, Names names) {
  pb::Value out;
  pb::Struct& obj = *out.mutable_struct_value();
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->type() == pb::FieldDescriptor::TYPE_BYTES) continue;
    pb::Value& v = (*obj.mutable_fields())[FieldName(f, names)];
    if (f->is_map()) {
      pb::Struct& map = *v.mutable_struct_value();
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        const pb::Message& entry = r->GetRepeatedMessage(m, f, k);
        const pb::Descriptor* ed = entry.GetDescriptor();
        (*map.mutable_fields())[entry.GetReflection()->GetString(entry, ed->field(0))] =
            Scalar(entry, ed->field(1), 0, names);
      }
    } else if (f->is_repeated()) {
      pb::ListValue& list = *v.mutable_list_value();
      for (int k = 0; k < r->FieldSize(m, f); ++k) *list.add_values() = Scalar(m, f, k, names);
    } else {
      v = Scalar(m, f, 0, names);
    }
  }
  return out;
}

std::string Print(const pb::Value& value, bool pretty) {
  JsonWriter w(pretty);
  WriteValue(value, w);
  return w.text();
}

std::string ToJson(const pb::Message& message, Names names, bool pretty) {
  JsonWriter w(pretty);
  WriteMessage(message, names, w);
  return w.text();
}

std::string Object(std::initializer_list<std::pair<const char*, std::string>> fields) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [k, s] : fields) {
    w.Key(k);
    w.String(s);
  }
  w.EndObject();
  return w.text();
}

absl::Status ParseRequest(const std::string& text, pb::Message* out) {
  if (internal::ParseFlatRequest(text, out)) return absl::OkStatus();
  pb::Value doc;
  if (absl::Status s = ToAbsl(pb::util::JsonStringToMessage(text, &doc)); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON: ", s.message()));
  }
  if (doc.kind_case() != pb::Value::kStructValue) {
    return absl::InvalidArgumentError("the body must be a JSON object");
  }
  const pb::Descriptor* d = out->GetDescriptor();
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->json_name());
  for (const auto& [key, value] : doc.struct_value().fields()) {
    const pb::FieldDescriptor* f = d->FindFieldByName(key);
    if (f == nullptr) f = d->FindFieldByCamelcaseName(key);
    if (f != nullptr && (key == f->name() || key == f->json_name())) continue;
    for (const std::string& n : names) {
      if (absl::AsciiStrToLower(n) == absl::AsciiStrToLower(key)) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown field ", Quote(key), ": did you mean \"", n, "\"?"));
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown field ", Quote(key), " (known: ", absl::StrJoin(names, ", "), ")"));
  }
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    // `optional` (a synthetic oneof) and oneof members may be left out.
    if (f->containing_oneof() != nullptr) continue;
    const auto& fields = doc.struct_value().fields();
    auto it = fields.find(f->json_name());
    if (it == fields.end()) it = fields.find(f->name());
    if (it == fields.end() || it->second.kind_case() == pb::Value::kNullValue) {
      return absl::InvalidArgumentError(absl::StrCat("missing required field ", f->json_name()));
    }
  }
  pb::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  return ToAbsl(pb::util::JsonStringToMessage(text, out, strict));
}

}  // namespace txmsg::json
