// Business events (proto/txmsg/events.proto) built in one line, for tests
// that publish them straight onto the services' topics: poison events,
// mostly, so every field is whatever the test says, valid or not. Header
// only; the including target links txmsg_proto_events.
#ifndef TXMSG_TESTS_TESTUTIL_EVENT_BUILDERS_H_
#define TXMSG_TESTS_TESTUTIL_EVENT_BUILDERS_H_

#include <cstdint>
#include <string>

#include "txmsg/events.pb.h"

namespace txmsg::testing {

// An order placed: order number "order-" + tx (none when tx is empty).
inline events::OrderPlaced OrderPlacedEvent(const std::string& tx, int64_t product, int32_t pay) {
  events::OrderPlaced o;
  o.set_tx_no(tx);
  o.set_order_no(tx.empty() ? "" : "order-" + tx);
  o.set_product_id(product);
  o.set_pay_count(pay);
  return o;
}

// A stock outcome for one unit of product 1; `kind` may be any number.
inline events::StockOutcome StockOutcomeEvent(const std::string& order_no, const std::string& tx,
                                              int kind) {
  events::StockOutcome o;
  o.set_order_no(order_no);
  o.set_tx_no(tx);
  o.set_product_id(1);
  o.set_pay_count(1);
  o.set_outcome(static_cast<events::StockOutcomeKind>(kind));
  return o;
}

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_EVENT_BUILDERS_H_
