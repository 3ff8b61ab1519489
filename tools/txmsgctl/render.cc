#include "tools/txmsgctl/render.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "txmsg/events.pb.h"

namespace txmsg::ctl {

namespace pb = google::protobuf;

std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      absl::StrAppend(&out, cells[c]);
      if (c + 1 < cells.size()) out.append(width[c] - cells[c].size() + 2, ' ');
    }
    out += "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

namespace {

pb::Value Scalar(const pb::Message& m, const pb::FieldDescriptor* f, int index) {
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
      v = ToValue(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
      break;
  }
  return v;
}

}  // namespace

pb::Value ToValue(const pb::Message& m) {
  pb::Value out;
  pb::Struct& obj = *out.mutable_struct_value();
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->type() == pb::FieldDescriptor::TYPE_BYTES) continue;
    pb::Value& v = (*obj.mutable_fields())[f->name()];
    if (f->is_map()) {
      pb::Struct& map = *v.mutable_struct_value();
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        const pb::Message& entry = r->GetRepeatedMessage(m, f, k);
        const pb::Descriptor* ed = entry.GetDescriptor();
        (*map.mutable_fields())[entry.GetReflection()->GetString(entry, ed->field(0))] =
            Scalar(entry, ed->field(1), 0);
      }
    } else if (f->is_repeated()) {
      pb::ListValue& list = *v.mutable_list_value();
      for (int k = 0; k < r->FieldSize(m, f); ++k) *list.add_values() = Scalar(m, f, k);
    } else {
      v = Scalar(m, f, 0);
    }
  }
  return out;
}

std::string ToJson(const pb::Value& value) {
  std::string out;
  pb::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  (void)pb::util::MessageToJsonString(value, &out, opts);
  return out;
}

std::string Age(uint64_t ms) {
  if (ms < 1000) return absl::StrCat(ms, "ms");
  const uint64_t s = ms / 1000;
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m");
}

ShownBody ShowBody(const std::string& body) {
  // One of our events? Parsing arbitrary bytes can succeed by accident, so
  // ask for the fields every event has and a byte-exact round trip.
  events::StockOutcome outcome;
  if (outcome.ParseFromString(body) && !outcome.tx_no().empty() &&
      outcome.outcome() != events::STOCK_OUTCOME_UNSPECIFIED &&
      outcome.SerializeAsString() == body) {
    return {"json", ToJson(ToValue(outcome))};
  }
  events::OrderPlaced order;
  if (order.ParseFromString(body) && !order.tx_no().empty() && !order.order_no().empty() &&
      order.SerializeAsString() == body) {
    return {"json", ToJson(ToValue(order))};
  }
  bool printable = true;
  for (unsigned char c : body) {
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') printable = false;
    if (c == 0x7f) printable = false;
  }
  if (printable) return {"text", body};
  std::string hex;
  for (size_t i = 0; i < body.size(); ++i) {
    absl::StrAppendFormat(&hex, "%02x", static_cast<unsigned char>(body[i]));
    if (i % 32 == 31)
      hex += "\n";
    else if (i + 1 < body.size())
      hex += " ";
  }
  return {"hex", hex};
}

}  // namespace txmsg::ctl
