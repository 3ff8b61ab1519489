#include "tools/txmsgctl/paging.h"

#include "tools/txmsgctl/render.h"

namespace txmsg::ctl {

google::protobuf::Value ListingValue(const google::protobuf::Message& answer) {
  google::protobuf::Value doc = ToValue(answer);
  doc.mutable_struct_value()->mutable_fields()->erase("more");
  return doc;
}

bool PageTopics(wire::Frame& all, const wire::Frame* page, wire::Frame& request) {
  const wire::ListTopicsOk& p = page ? page->list_topics_ok() : all.list_topics_ok();
  if (p.topics_size() > 0) request.mutable_list_topics()->set_after(p.topics().rbegin()->name());
  const bool more = p.more() && p.topics_size() > 0;
  if (page) all.mutable_list_topics_ok()->mutable_topics()->MergeFrom(p.topics());
  all.mutable_list_topics_ok()->set_more(false);
  return more;
}

bool PageGroups(wire::Frame& all, const wire::Frame* page, wire::Frame& request) {
  const wire::ListGroupsOk& p = page ? page->list_groups_ok() : all.list_groups_ok();
  if (p.groups_size() > 0) {
    request.mutable_list_groups()->set_after_group(p.groups().rbegin()->group());
    request.mutable_list_groups()->set_after_topic(p.groups().rbegin()->topic());
  }
  const bool more = p.more() && p.groups_size() > 0;
  if (page) all.mutable_list_groups_ok()->mutable_groups()->MergeFrom(p.groups());
  all.mutable_list_groups_ok()->set_more(false);
  return more;
}

bool PageDlq(wire::Frame& all, const wire::Frame* page, wire::Frame& request) {
  const wire::ListDlqOk& p = page ? page->list_dlq_ok() : all.list_dlq_ok();
  if (p.entries_size() > 0) {
    request.mutable_list_dlq()->set_after_moved_time_ms(p.entries().rbegin()->moved_time_ms());
    request.mutable_list_dlq()->set_after_id(p.entries().rbegin()->message_id());
  }
  const bool more = p.more() && p.entries_size() > 0;
  if (page) all.mutable_list_dlq_ok()->mutable_entries()->MergeFrom(p.entries());
  all.mutable_list_dlq_ok()->set_more(false);
  return more;
}

bool PageHalves(wire::Frame& all, const wire::Frame* page, wire::Frame& request) {
  const wire::ListHalfOk& p = page ? page->list_half_ok() : all.list_half_ok();
  if (p.messages_size() > 0) {
    request.mutable_list_half()->set_after_id(p.messages().rbegin()->message_id());
  }
  const bool more = p.more() && p.messages_size() > 0;
  if (page) all.mutable_list_half_ok()->mutable_messages()->MergeFrom(p.messages());
  all.mutable_list_half_ok()->set_more(false);
  return more;
}

}  // namespace txmsg::ctl
