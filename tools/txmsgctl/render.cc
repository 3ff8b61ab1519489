#include "tools/txmsgctl/render.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/printable.h"
#include "proto/json/proto_json.h"
#include "txmsg/events.pb.h"

namespace txmsg::ctl {

namespace pb = google::protobuf;

std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& raw_rows) {
  // Cells hold names clients chose: escape control characters so that a
  // name cannot break the table or send escape sequences to the terminal.
  std::vector<std::vector<std::string>> rows;
  rows.reserve(raw_rows.size());
  for (const auto& raw : raw_rows) {
    std::vector<std::string>& row = rows.emplace_back();
    for (const std::string& cell : raw) row.push_back(base::Printable(cell));
  }
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

pb::Value ToValue(const pb::Message& message) {
  return json::ToValue(message, json::Names::kProto);
}

std::string ToJson(const pb::Value& value) { return json::Print(value, /*pretty=*/true); }

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
