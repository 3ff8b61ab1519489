// The fast path of ParseRequest: a flat JSON object of scalar values
// ({"productId": 7, "payCount": 2}) parsed straight into the message.
//
// Protobuf's JSON parser is general and slow (it was a quarter of
// order-service's CPU per order, parsing every body twice). Requests are
// nearly always this simple shape. The fast path takes a body only when it is
// sure the general parser would accept it with the same result; on anything
// else (nested values, escapes, non-ASCII text, enums, null, exponents,
// duplicates, unknown or missing fields, numbers out of range) it declines
// and ParseRequest's general path decides, with its error messages.
#ifndef TXMSG_PROTO_JSON_FLAT_REQUEST_H_
#define TXMSG_PROTO_JSON_FLAT_REQUEST_H_

#include <string_view>

#include <google/protobuf/message.h>

namespace txmsg::json::internal {

// True when `text` was parsed into `out` (every non-oneof field present).
// False: `out` is left cleared and the caller must use the general parser.
bool ParseFlatRequest(std::string_view text, google::protobuf::Message* out);

}  // namespace txmsg::json::internal

#endif  // TXMSG_PROTO_JSON_FLAT_REQUEST_H_
