// Paged admin listings, as txmsgctl reads them: the broker answers one page
// at a time (docs/protocol.md, "Paging of admin listings"); each Page*
// function moves the request's cursor past a page and adds the page to the
// answer so far, so the printout is one answer of every page.
#ifndef TXMSG_TOOLS_TXMSGCTL_PAGING_H_
#define TXMSG_TOOLS_TXMSGCTL_PAGING_H_

#include <functional>

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>

#include "txmsg/broker.pb.h"

namespace txmsg::ctl {

// Points `request` past `page` (the first page when null: then `all` is
// that page) and returns whether more pages follow; adds a later page to
// `all`. Null for a request answered at once.
using Pager = std::function<bool(wire::Frame& all, const wire::Frame* page, wire::Frame& request)>;

bool PageTopics(wire::Frame& all, const wire::Frame* page, wire::Frame& request);
bool PageGroups(wire::Frame& all, const wire::Frame* page, wire::Frame& request);
bool PageDlq(wire::Frame& all, const wire::Frame* page, wire::Frame& request);
bool PageHalves(wire::Frame& all, const wire::Frame* page, wire::Frame& request);

// The JSON of a listing, without its paging field (the output is every page).
google::protobuf::Value ListingValue(const google::protobuf::Message& answer);

}  // namespace txmsg::ctl

#endif  // TXMSG_TOOLS_TXMSGCTL_PAGING_H_
