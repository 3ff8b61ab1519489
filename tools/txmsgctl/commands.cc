#include "tools/txmsgctl/commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/printable.h"
#include "proto/half_state.h"
#include "tools/txmsgctl/paging.h"
#include "tools/txmsgctl/render.h"
#include "tools/txmsgctl/user_commands.h"
#include "txmsg/blocking_client.h"

namespace txmsg::ctl {
namespace {

namespace pb = google::protobuf;
using proto::HalfStateLabel;

constexpr int kOk = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;

// A failed connect is the broker refusing us (1: it said why) or not being
// reachable, answering in time or named correctly (2).
int ConnectFailureCode(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDeadlineExceeded:
      return 2;
    default:
      return 1;
  }
}

// How txmsgctl connects: the broker, the timeout, TLS, the principal.
ClientOptions ConnectOptions(const CtlOptions& o) {
  ClientOptions c;
  c.broker = o.broker;
  c.request_timeout = o.timeout;
  c.tls = o.tls;
  c.user = o.user;
  c.secret = o.secret;
  return c;
}

int Usage(const std::string& why) {
  std::fprintf(stderr, "txmsgctl: %s (see txmsgctl --help)\n", why.c_str());
  return kUsage;
}

// Runs one request; prints why and returns the exit code on failure.
class Session {
 public:
  explicit Session(const CtlOptions& o) : options_(o) {}

  // nullopt + *code set when it failed.
  std::optional<wire::Frame> Call(wire::Frame request, int* code) {
    if (!client_) {
      auto c = BlockingClient::Connect(ConnectOptions(options_), wire::ROLE_ADMIN);
      if (!c.ok()) {
        std::fprintf(stderr, "txmsgctl: cannot reach the broker at %s: %s\n",
                     options_.broker.c_str(), std::string(c.status().message()).c_str());
        *code = ConnectFailureCode(c.status());
        return std::nullopt;
      }
      client_ = std::move(*c);
    }
    absl::StatusOr<wire::Frame> r = client_->Call(std::move(request));
    if (!r.ok()) {
      if (client_->broken()) {
        std::fprintf(stderr, "txmsgctl: lost the broker at %s: %s\n", options_.broker.c_str(),
                     std::string(r.status().message()).c_str());
        *code = kUsage;
      } else {
        std::fprintf(stderr, "txmsgctl: refused by the broker: %s\n",
                     base::Printable(std::string(r.status().message())).c_str());
        *code = kRefused;
      }
      return std::nullopt;
    }
    return std::move(*r);
  }

 private:
  const CtlOptions& options_;
  std::unique_ptr<BlockingClient> client_;
};

bool ParseId(const std::string& s, uint64_t* id) { return absl::SimpleAtoi(s, id) && *id > 0; }

// ---- half list ----

std::optional<wire::Frame> ListHalfRequest(const CtlOptions& o, int* code) {
  wire::Frame f;
  wire::ListHalf& req = *f.mutable_list_half();
  req.set_producer_group(o.group);
  req.set_topic(o.topic);
  if (o.state == "pending") {
    req.set_state(wire::HALF_PENDING);
  } else if (o.state == "discarded") {
    req.set_state(wire::HALF_DISCARDED);
  } else if (!o.state.empty()) {
    *code = Usage("--state must be pending or discarded, not '" + o.state + "'");
    return std::nullopt;
  }
  if (!o.older_than.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(o.older_than, &d) || d < absl::ZeroDuration()) {
      *code = Usage("--older-than takes a duration like 30s or 5m, not '" + o.older_than + "'");
      return std::nullopt;
    }
    req.set_older_than_ms(static_cast<uint64_t>(absl::ToInt64Milliseconds(d)));
  }
  return f;
}

int PrintHalfList(const CtlOptions& o, const wire::ListHalfOk& ok) {
  uint64_t pending = 0, discarded = 0;
  for (const auto& h : ok.messages()) (h.state() == wire::HALF_PENDING ? pending : discarded)++;
  if (o.json) {
    pb::Value doc;
    pb::Struct& root = *doc.mutable_struct_value();
    pb::ListValue& list = *(*root.mutable_fields())["messages"].mutable_list_value();
    for (const auto& h : ok.messages()) {
      pb::Struct& m = *list.add_values()->mutable_struct_value();
      auto& fields = *m.mutable_fields();
      fields["id"].set_number_value(static_cast<double>(h.message_id()));
      fields["tx_id"].set_string_value(h.tx_id());
      fields["group"].set_string_value(h.producer_group());
      fields["topic"].set_string_value(h.content().topic());
      fields["key"].set_string_value(h.content().key());
      fields["age_ms"].set_number_value(static_cast<double>(h.age_ms()));
      fields["checks"].set_number_value(h.checks());
      fields["next_check_ms"].set_number_value(static_cast<double>(h.next_check_ms()));
      fields["state"].set_string_value(HalfStateLabel(h.state()));
    }
    (*root.mutable_fields())["total"].set_number_value(static_cast<double>(ok.total()));
    (*root.mutable_fields())["pending"].set_number_value(static_cast<double>(pending));
    (*root.mutable_fields())["discarded"].set_number_value(static_cast<double>(discarded));
    std::printf("%s\n", ToJson(doc).c_str());
    return kOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& h : ok.messages()) {
    rows.push_back({absl::StrCat(h.message_id()), h.tx_id(), h.producer_group(),
                    h.content().topic(), Age(h.age_ms()), absl::StrCat(h.checks()),
                    h.state() == wire::HALF_PENDING ? Age(h.next_check_ms()) : "-",
                    HalfStateLabel(h.state())});
  }
  std::printf("%s",
              Table({"ID", "TX_ID", "GROUP", "TOPIC", "AGE", "CHECKS", "NEXT_CHECK", "STATE"}, rows)
                  .c_str());
  std::printf("%llu half message%s: %llu pending, %llu discarded%s\n",
              static_cast<unsigned long long>(ok.total()), ok.total() == 1 ? "" : "s",
              static_cast<unsigned long long>(pending), static_cast<unsigned long long>(discarded),
              ok.total() > static_cast<uint64_t>(ok.messages_size())
                  ? absl::StrCat(" (first ", ok.messages_size(), " shown)").c_str()
                  : "");
  return kOk;
}

// ---- the list commands, each one printout of every page ----

using Printer = std::function<int(const wire::Frame&)>;
// Asks for every page and prints them as one answer. When that takes more
// than one page, a progress line goes to stderr (at most one a second).
int RunOnce(Session& s, wire::Frame request, const Printer& print, const Pager& pager = nullptr) {
  int code = kOk;
  std::optional<wire::Frame> all = s.Call(request, &code);
  if (!all) return code;
  bool more = pager && pager(*all, nullptr, request);
  auto last_report = std::chrono::steady_clock::time_point();
  for (size_t pages = 2; more; ++pages) {
    if (std::chrono::steady_clock::now() - last_report >= std::chrono::seconds(1)) {
      std::fprintf(stderr, "txmsgctl: the answer takes several pages; reading page %zu\n", pages);
      last_report = std::chrono::steady_clock::now();
    }
    std::optional<wire::Frame> page = s.Call(request, &code);
    if (!page) return code;
    more = pager(*all, &*page, request);
  }
  return print(*all);
}

int RunListing(const CtlOptions& o, const wire::Frame& request, const Printer& print,
               const Pager& pager = nullptr) {
  Session s(o);
  if (o.watch_seconds <= 0) return RunOnce(s, request, print, pager);
  while (true) {
    if (!o.json) std::printf("\033[H\033[2J");  // refresh in place
    const int code = RunOnce(s, request, print, pager);
    std::fflush(stdout);
    if (code != kOk) return code;
    std::this_thread::sleep_for(std::chrono::seconds(o.watch_seconds));
  }
}

int Topics(const CtlOptions& o) {
  wire::Frame f;
  f.mutable_list_topics();
  return RunListing(
      o, f,
      [&](const wire::Frame& r) {
        if (o.json) {
          std::printf("%s\n", ToJson(ListingValue(r.list_topics_ok())).c_str());
          return kOk;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& t : r.list_topics_ok().topics()) {
          std::string groups;
          for (const auto& g : t.groups()) absl::StrAppend(&groups, groups.empty() ? "" : ",", g);
          rows.push_back({t.name(), absl::StrCat(t.committed()), absl::StrCat(t.pending_half()),
                          groups.empty() ? "-" : groups});
        }
        std::printf("%s", Table({"TOPIC", "COMMITTED", "PENDING_HALF", "GROUPS"}, rows).c_str());
        return kOk;
      },
      PageTopics);
}

int Groups(const CtlOptions& o) {
  wire::Frame f;
  f.mutable_list_groups();
  return RunListing(
      o, f,
      [&](const wire::Frame& r) {
        if (o.json) {
          std::printf("%s\n", ToJson(ListingValue(r.list_groups_ok())).c_str());
          return kOk;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& g : r.list_groups_ok().groups()) {
          rows.push_back({g.group(), g.topic(), absl::StrCat(g.delivered()),
                          absl::StrCat(g.in_flight()), absl::StrCat(g.acked()),
                          absl::StrCat(g.lag()), g.lag() > 0 ? Age(g.oldest_unacked_age_ms()) : "-",
                          absl::StrCat(g.consumers()), absl::StrCat(g.dlq())});
        }
        std::printf("%s", Table({"GROUP", "TOPIC", "DELIVERED", "IN_FLIGHT", "ACKED", "LAG",
                                 "OLDEST_UNACKED", "CONSUMERS", "DLQ"},
                                rows)
                              .c_str());
        return kOk;
      },
      PageGroups);
}

int Stats(const CtlOptions& o) {
  wire::Frame f;
  f.mutable_stats();
  return RunListing(o, f, [&](const wire::Frame& r) {
    if (o.json) {
      std::printf("%s\n", ToJson(ToValue(r.stats_ok())).c_str());
      return kOk;
    }
    const wire::StatsOk& s = r.stats_ok();
    std::printf(
        "connections   %llu\npending half  %llu\ncommitted     %llu\nin flight     %llu\n"
        "acked         %llu\ndiscarded     %llu\ndlq           %llu\nlog           %.1f MiB in "
        "%llu segments\nfsyncs        %llu (%.1f/s)\nuptime        %s\n",
        (unsigned long long)s.connections(), (unsigned long long)s.pending_half(),
        (unsigned long long)s.committed(), (unsigned long long)s.in_flight(),
        (unsigned long long)s.acked(), (unsigned long long)s.discarded(),
        (unsigned long long)s.dlq(), s.log_bytes() / 1048576.0, (unsigned long long)s.segments(),
        (unsigned long long)s.fsyncs(), s.fsyncs_per_s(), Age(s.uptime_ms()).c_str());
    return kOk;
  });
}

int Dlq(const CtlOptions& o, const std::vector<std::string>& args) {
  if (args.size() < 3) return Usage("dlq list GROUP | dlq replay GROUP [ID]");
  const std::string& group = args[2];
  if (args[1] == "list") {
    if (args.size() != 3) return Usage("dlq list takes one GROUP");
    wire::Frame f;
    f.mutable_list_dlq()->set_group(group);
    return RunListing(
        o, f,
        [&](const wire::Frame& r) {
          if (o.json) {
            std::printf("%s\n", ToJson(ListingValue(r.list_dlq_ok())).c_str());
            return kOk;
          }
          std::vector<std::vector<std::string>> rows;
          const uint64_t now = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
          for (const auto& e : r.list_dlq_ok().entries()) {
            rows.push_back({absl::StrCat(e.message_id()), e.topic(), absl::StrCat(e.attempts()),
                            Age(now > e.moved_time_ms() ? now - e.moved_time_ms() : 0) + " ago",
                            e.key()});
          }
          std::printf("%s%d message%s in the DLQ of %s\n",
                      Table({"ID", "TOPIC", "ATTEMPTS", "MOVED", "KEY"}, rows).c_str(),
                      r.list_dlq_ok().entries_size(),
                      r.list_dlq_ok().entries_size() == 1 ? "" : "s", group.c_str());
          return kOk;
        },
        PageDlq);
  }
  if (args[1] == "replay") {
    if (args.size() > 4) return Usage("dlq replay takes GROUP and at most one ID");
    wire::Frame f;
    f.mutable_replay_dlq()->set_group(group);
    if (args.size() == 4) {
      uint64_t id;
      if (!ParseId(args[3], &id)) return Usage("'" + args[3] + "' is not a message id");
      f.mutable_replay_dlq()->set_message_id(id);
    }
    Session s(o);
    return RunOnce(s, f, [&](const wire::Frame& r) {
      if (o.json) {
        std::printf("%s\n", ToJson(ToValue(r.replay_dlq_ok())).c_str());
      } else {
        std::printf("replayed %llu message(s) of %s\n",
                    static_cast<unsigned long long>(r.replay_dlq_ok().replayed()), group.c_str());
      }
      return kOk;
    });
  }
  return Usage("dlq takes list or replay, not '" + args[1] + "'");
}

// One AUDIT line per operator action: what, who, when, from where.
void PrintAudit(const wire::HalfInfo& h) {
  for (const wire::AuditRecord& a : h.audit()) {
    std::printf(
        "AUDIT       %s by %s at %s from %s (client %s)%s\n", base::Printable(a.action()).c_str(),
        base::Printable(a.principal()).c_str(),
        absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC", absl::FromUnixMillis(a.time_ms()),
                         absl::UTCTimeZone())
            .c_str(),
        base::Printable(a.source()).c_str(), base::Printable(a.client_id()).c_str(),
        a.group().empty() ? "" : absl::StrCat(" group ", base::Printable(a.group())).c_str());
  }
}

int HalfShow(const CtlOptions& o, uint64_t id) {
  wire::Frame f;
  f.mutable_show_half()->set_message_id(id);
  Session s(o);
  return RunOnce(s, f, [&](const wire::Frame& r) {
    const wire::HalfInfo& h = r.show_half_ok().half();
    const ShownBody body = ShowBody(h.content().body());
    if (o.json) {
      pb::Value doc = ToValue(h);
      auto& fields = *doc.mutable_struct_value()->mutable_fields();
      fields["id"].set_number_value(static_cast<double>(h.message_id()));
      fields["group"].set_string_value(h.producer_group());
      fields["state"].set_string_value(HalfStateLabel(h.state()));
      fields["body_format"].set_string_value(body.kind);
      fields["body"].set_string_value(body.text);
      std::printf("%s\n", ToJson(doc).c_str());
      return kOk;
    }
    if (h.forgotten()) {
      std::printf("id          %llu\nstate       %s (no longer retained)\n",
                  static_cast<unsigned long long>(h.message_id()), HalfStateLabel(h.state()));
      PrintAudit(h);
      return kOk;
    }
    std::printf(
        "id          %llu\ntx id       %s\ngroup       %s\ntopic       %s\nkey         %s\n"
        "state       %s\nstored      %s (%s ago)\nchecks      %u\n",
        static_cast<unsigned long long>(h.message_id()), base::Printable(h.tx_id()).c_str(),
        base::Printable(h.producer_group()).c_str(), base::Printable(h.content().topic()).c_str(),
        base::Printable(h.content().key()).c_str(), HalfStateLabel(h.state()),
        absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC", absl::FromUnixMillis(h.store_time_ms()),
                         absl::UTCTimeZone())
            .c_str(),
        Age(h.age_ms()).c_str(), h.checks());
    if (h.state() == wire::HALF_PENDING)
      std::printf("next check  in %s\n", Age(h.next_check_ms()).c_str());
    for (const auto& [k, v] : h.content().properties())
      std::printf("property    %s=%s\n", base::Printable(k).c_str(), base::Printable(v).c_str());
    std::printf("body (%s, %zu bytes):\n%s\n", body.kind.c_str(), h.content().body().size(),
                body.text.c_str());
    if (h.check_history_size() > 0) {
      std::vector<std::vector<std::string>> rows;
      int n = 0;
      for (const auto& c : h.check_history()) {
        rows.push_back({absl::StrCat(++n),
                        absl::FormatTime("%H:%M:%E3S", absl::FromUnixMillis(c.sent_time_ms()),
                                         absl::UTCTimeZone()),
                        c.asked_client(),
                        c.answer() == wire::TX_OUTCOME_UNSPECIFIED
                            ? "(no answer)"
                            : wire::TxOutcome_Name(c.answer())});
      }
      std::printf("check history:\n%s",
                  Table({"#", "SENT (UTC)", "ASKED", "ANSWER"}, rows).c_str());
    }
    PrintAudit(h);
    return kOk;
  });
}

int HalfResolve(const CtlOptions& o, uint64_t id, bool commit) {
  wire::Frame f;
  f.mutable_resolve_half()->set_message_id(id);
  f.mutable_resolve_half()->set_outcome(commit ? wire::TX_COMMIT : wire::TX_ROLLBACK);
  Session s(o);
  return RunOnce(s, f, [&](const wire::Frame& r) {
    const wire::EndTxOk& ok = r.end_tx_ok();
    if (o.json) {
      pb::Value doc;
      auto& fields = *doc.mutable_struct_value()->mutable_fields();
      fields["id"].set_number_value(static_cast<double>(id));
      fields["state"].set_string_value(HalfStateLabel(ok.state()));
      fields["applied"].set_bool_value(ok.applied());
      std::printf("%s\n", ToJson(doc).c_str());
    } else if (ok.applied()) {
      std::printf(
          "message %llu %s\n", static_cast<unsigned long long>(id),
          commit ? "committed: it will be delivered" : "rolled back: it will never be delivered");
    } else {
      std::printf("message %llu was already %s: nothing changed\n",
                  static_cast<unsigned long long>(id), HalfStateLabel(ok.state()));
    }
    return kOk;
  });
}

int Half(const CtlOptions& o, const std::vector<std::string>& args) {
  if (args.size() < 2) return Usage("half takes list, show, commit or rollback");
  const std::string& verb = args[1];
  if (verb == "list") {
    if (args.size() != 2) return Usage("half list takes no arguments, only flags");
    int code = kOk;
    std::optional<wire::Frame> req = ListHalfRequest(o, &code);
    if (!req) return code;
    return RunListing(
        o, *req, [&](const wire::Frame& r) { return PrintHalfList(o, r.list_half_ok()); },
        PageHalves);
  }
  if (verb == "show" || verb == "commit" || verb == "rollback") {
    if (args.size() != 3) return Usage("half " + verb + " takes one message ID");
    uint64_t id;
    if (!ParseId(args[2], &id)) return Usage("'" + args[2] + "' is not a message id");
    if (verb == "show") return HalfShow(o, id);
    return HalfResolve(o, id, verb == "commit");
  }
  return Usage("half takes list, show, commit or rollback, not '" + verb + "'");
}

// topic delete NAME | group delete GROUP TOPIC: refused (exit 1, with the
// broker's reason) while it would lose live work or the name is unknown.
int Delete(const CtlOptions& o, const std::vector<std::string>& args) {
  const bool topic = args[0] == "topic";
  const size_t names = topic ? 1 : 2;
  if (args.size() < 2 || args[1] != "delete") {
    return Usage(args[0] + " takes delete" + (topic ? " NAME" : " GROUP TOPIC"));
  }
  if (args.size() != 2 + names) {
    return Usage(topic ? "topic delete takes one NAME" : "group delete takes GROUP and TOPIC");
  }
  wire::Frame f;
  if (topic) {
    f.mutable_delete_topic()->set_topic(args[2]);
  } else {
    f.mutable_delete_group()->set_group(args[2]);
    f.mutable_delete_group()->set_topic(args[3]);
  }
  Session s(o);
  return RunOnce(s, f, [&](const wire::Frame& r) {
    if (o.json) {
      std::printf(
          "%s\n",
          ToJson(topic ? ToValue(r.delete_topic_ok()) : ToValue(r.delete_group_ok())).c_str());
    } else if (topic) {
      std::printf("deleted topic %s: %llu message(s) and %u group(s) dropped\n",
                  base::Printable(args[2]).c_str(),
                  static_cast<unsigned long long>(r.delete_topic_ok().dropped_messages()),
                  r.delete_topic_ok().dropped_groups());
    } else {
      std::printf(
          "deleted group %s on topic %s: %llu unacked message(s) dropped "
          "(%llu in its DLQ)\n",
          base::Printable(args[2]).c_str(), base::Printable(args[3]).c_str(),
          static_cast<unsigned long long>(r.delete_group_ok().unacked()),
          static_cast<unsigned long long>(r.delete_group_ok().dlq()));
    }
    return kOk;
  });
}

int Send(const CtlOptions& o, const std::vector<std::string>& args) {
  if (args.size() != 3) return Usage("send TOPIC BODY");
  wire::Frame f;
  wire::MessageContent* content;
  const std::string group = o.group.empty() ? "txmsgctl" : o.group;
  const std::string tx_id = absl::StrCat("txmsgctl-", ::getpid(), "-", std::time(nullptr));
  if (o.half) {
    f.mutable_send_half()->set_tx_id(tx_id);
    f.mutable_send_half()->set_producer_group(group);
    content = f.mutable_send_half()->mutable_content();
  } else {
    content = f.mutable_send()->mutable_content();
  }
  content->set_topic(args[1]);
  content->set_body(args[2]);
  content->set_key(o.key);
  for (const std::string& p : o.props) {
    std::pair<std::string, std::string> kv = absl::StrSplit(p, absl::MaxSplits('=', 1));
    if (kv.first.empty() || p.find('=') == std::string::npos) {
      return Usage("--prop takes k=v, not '" + p + "'");
    }
    (*content->mutable_properties())[kv.first] = kv.second;
  }
  auto client = BlockingClient::Connect(ConnectOptions(o), wire::ROLE_PRODUCER, group);
  if (!client.ok()) {
    std::fprintf(stderr, "txmsgctl: cannot reach the broker at %s: %s\n", o.broker.c_str(),
                 std::string(client.status().message()).c_str());
    return ConnectFailureCode(client.status());
  }
  absl::StatusOr<wire::Frame> r = (*client)->Call(f);
  if (!r.ok()) {
    std::fprintf(stderr, "txmsgctl: refused by the broker: %s\n",
                 std::string(r.status().message()).c_str());
    return (*client)->broken() ? kUsage : kRefused;
  }
  const uint64_t id = o.half ? r->send_half_ok().message_id() : r->send_ok().message_id();
  if (o.json) {
    pb::Value doc;
    auto& fields = *doc.mutable_struct_value()->mutable_fields();
    fields["id"].set_number_value(static_cast<double>(id));
    fields["half"].set_bool_value(o.half);
    if (o.half) fields["tx_id"].set_string_value(tx_id);
    std::printf("%s\n", ToJson(doc).c_str());
  } else if (o.half) {
    std::printf("stored half message %llu (tx %s, group %s): pending until resolved\n",
                static_cast<unsigned long long>(id), tx_id.c_str(), group.c_str());
  } else {
    std::printf("sent message %llu to %s\n", static_cast<unsigned long long>(id), args[1].c_str());
  }
  std::fflush(stdout);
  // With --hold, stay and answer check-backs UNKNOWN so it stays pending.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(o.hold_seconds);
  while (o.half && std::chrono::steady_clock::now() < until) {
    absl::StatusOr<wire::Frame> in = (*client)->ReadFrame();
    if (!in.ok()) {
      if ((*client)->broken() && std::chrono::steady_clock::now() < until) continue;
      break;
    }
    if (!in->has_check_tx()) continue;
    wire::Frame answer;
    answer.set_correlation_id(1'000'000 + in->check_tx().check_number());
    answer.mutable_check_tx_answer()->set_message_id(in->check_tx().message_id());
    answer.mutable_check_tx_answer()->set_tx_id(in->check_tx().tx_id());
    answer.mutable_check_tx_answer()->set_outcome(wire::TX_UNKNOWN);
    (void)(*client)->SendOnly(answer);
  }
  return kOk;
}

}  // namespace

int RunCommand(const std::vector<std::string>& args, const CtlOptions& options) {
  if (args.empty()) return Usage("give a command");
  const std::string& cmd = args[0];
  if (cmd == "half") return Half(options, args);
  if (cmd == "dlq") return Dlq(options, args);
  if (cmd == "send") return Send(options, args);
  if (cmd == "topic" || cmd == "group") return Delete(options, args);
  if (args.size() != 1) return Usage(cmd + " takes no arguments");
  if (cmd == "topics") return Topics(options);
  if (cmd == "groups") return Groups(options);
  if (cmd == "stats") return Stats(options);
  return Usage("unknown command '" + cmd + "'");
}

}  // namespace txmsg::ctl
