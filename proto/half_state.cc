#include "proto/half_state.h"

namespace txmsg::proto {

const char* HalfStateLabel(wire::HalfState state) {
  switch (state) {
    case wire::HALF_PENDING:
      return "pending";
    case wire::HALF_COMMITTED:
      return "committed";
    case wire::HALF_ROLLED_BACK:
      return "rolled_back";
    case wire::HALF_DISCARDED:
      return "discarded";
    default:
      return "unknown";
  }
}

}  // namespace txmsg::proto
