#include "proto/json/proto_json.h"

#include <google/protobuf/util/json_util.h>

namespace txmsg::json {

namespace pb = google::protobuf;

namespace {

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

}  // namespace

pb::Value ToValue(const pb::Message& m, Names names) {
  pb::Value out;
  pb::Struct& obj = *out.mutable_struct_value();
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->type() == pb::FieldDescriptor::TYPE_BYTES) continue;
    pb::Value& v = (*obj.mutable_fields())[names == Names::kCamel ? f->json_name() : f->name()];
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
  std::string out;
  pb::util::JsonPrintOptions opts;
  opts.add_whitespace = pretty;
  opts.preserve_proto_field_names = true;
  (void)pb::util::MessageToJsonString(value, &out, opts);
  return out;
}

std::string ToJson(const pb::Message& message, Names names, bool pretty) {
  return Print(ToValue(message, names), pretty);
}

std::string Object(std::initializer_list<std::pair<const char*, std::string>> fields) {
  pb::Value v;
  auto& out = *v.mutable_struct_value()->mutable_fields();
  for (const auto& [k, s] : fields) out[k].set_string_value(s);
  return Print(v, /*pretty=*/false);
}

absl::Status Parse(const std::string& text, pb::Message* out) {
  pb::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  const auto status = pb::util::JsonStringToMessage(text, out, opts);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string(status.message()));
}

}  // namespace txmsg::json
