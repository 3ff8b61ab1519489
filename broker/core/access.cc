// BrokerCore: who may do what (docs/security.md). With --auth_file every
// connection authenticates in Hello (broker/auth/authenticator.h) and every
// request is checked against its principal's permissions as the file says
// now, so a reload applies from the next request; a principal removed by a
// reload loses its connections. Operator actions are audited: who, when and
// from where, written with the record of the action and shown by ShowHalf.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/printable.h"
#include "broker/core/broker_core.h"
#include "broker/core/event_log.h"

namespace txmsg::broker {
namespace {

// "127.0.0.1" of "127.0.0.1:53412" (and "::1" of "::1:53412").
std::string SourceAddress(const std::string& description) {
  const size_t colon = description.rfind(':');
  return colon == std::string::npos ? description : description.substr(0, colon);
}

std::string Quoted(const std::string& name) {
  return absl::StrCat("\"", base::Printable(name), "\"");
}

}  // namespace

bool BrokerCore::Authenticate(PeerState& ps, uint64_t corr, const wire::Hello& h) {
  const std::string source = SourceAddress(ps.peer->description());
  absl::StatusOr<std::string> who =
      auth_->Authenticate(h.user(), h.secret(), ps.peer->verified_peer_name(), source, clock_());
  if (!who.ok()) {
    std::string why(who.status().message());
    SendError(ps, corr, wire::ERROR_UNAUTHENTICATED, std::move(why), /*close=*/true);
    return false;
  }
  ps.principal = *who;
  ps.principal_credential = auth_->Find(*who)->credential;
  return true;
}

const auth::Principal* BrokerCore::PrincipalOf(const PeerState& ps) const {
  return auth_ == nullptr ? nullptr : auth_->Find(ps.principal);
}

bool BrokerCore::Permit(PeerState& ps, uint64_t corr, auth::Role role, const char* op,
                        const std::string* group, const std::string* topic, bool close) {
  if (auth_ == nullptr) return true;
  const auth::Principal* p = PrincipalOf(ps);
  if (p != nullptr && p->Allows(role, group, topic)) return true;
  ++metrics_.permission_denials;
  std::string resource;
  if (group != nullptr) {
    absl::StrAppend(&resource, " on ", role == auth::Role::kConsume ? "consumer" : "producer",
                    " group ", Quoted(*group));
  }
  if (topic != nullptr) {
    absl::StrAppend(&resource, group != nullptr ? " and" : " on", " topic ", Quoted(*topic));
  }
  SendError(ps, corr, wire::ERROR_PERMISSION_DENIED,
            absl::StrCat(op, resource, " denied for user ", Quoted(ps.principal), " (needs ",
                         auth::RoleName(role), ")"),
            close);
  return false;
}

bool BrokerCore::PermitAdmin(PeerState& ps, uint64_t corr, const char* op, bool write) {
  if (auth_ == nullptr) return true;
  const auth::Principal* p = PrincipalOf(ps);
  if (p != nullptr && (write ? p->MayAdmin() : p->MayAdminRead())) return true;
  ++metrics_.permission_denials;
  SendError(ps, corr, wire::ERROR_PERMISSION_DENIED,
            absl::StrCat(op, " denied for user ", Quoted(ps.principal),
                         write ? " (needs admin)" : " (needs admin or admin_read)"));
  return false;
}

BrokerCore::PeerState* BrokerCore::CheckableProducer(const MessageEntry& m) {
  if (auth_ == nullptr) {
    std::optional<uint64_t> id = registry_.NextProducer(m.producer_group);
    return id ? FindPeer(*id) : nullptr;
  }
  const std::string& group = registry_.Name(m.producer_group);
  const std::string& topic = registry_.TopicName(m.topic);
  for (size_t tries = registry_.producer_count(m.producer_group); tries > 0; --tries) {
    std::optional<uint64_t> id = registry_.NextProducer(m.producer_group);
    PeerState* ps = id ? FindPeer(*id) : nullptr;
    if (ps == nullptr) continue;
    const auth::Principal* p = PrincipalOf(*ps);
    if (p != nullptr && p->Allows(auth::Role::kProduce, &group, &topic)) return ps;
  }
  return nullptr;
}

void BrokerCore::OnPrincipalsReloaded() {
  if (auth_ == nullptr) return;
  // Ids first: a transport may end a connection inside Close.
  std::vector<uint64_t> stale;
  for (const auto& [id, ps] : peers_) {
    if (!ps->hello || ps->principal.empty()) continue;
    const auth::Principal* p = PrincipalOf(*ps);
    if (p == nullptr || p->credential != ps->principal_credential) stale.push_back(id);
  }
  for (uint64_t id : stale) {
    PeerState* ps = FindPeer(id);
    if (ps == nullptr) continue;
    const bool removed = PrincipalOf(*ps) == nullptr;
    SendError(*ps, 0, wire::ERROR_UNAUTHENTICATED,
              absl::StrCat("user ", Quoted(ps->principal),
                           removed ? " was removed from" : " has a new credential in",
                           " the principals file; closing"),
              /*close=*/true);
  }
  const size_t closed = stale.size();
  LogEvent("principals reloaded from ", auth_->path(), ": ", auth_->principal_count(),
           " users; closed ", closed, " connection(s) of removed or changed users");
}

wire::AuditRecord BrokerCore::MakeAudit(const PeerState& ps, const char* action) const {
  wire::AuditRecord a;
  a.set_action(action);
  a.set_principal(auth_ == nullptr ? "(no auth)" : ps.principal);
  a.set_time_ms(clock_());
  a.set_source(ps.peer->description());
  a.set_client_id(ps.client_id);
  return a;
}

void BrokerCore::RememberAudit(uint64_t id, const wire::AuditRecord& record) {
  auto [it, fresh] = audit_.try_emplace(id);
  if (fresh) audit_order_.push_back(id);
  it->second.push_back(record);
  constexpr size_t kMaxPerMessage = 16;  // the log keeps every one
  if (it->second.size() > kMaxPerMessage) it->second.erase(it->second.begin());
  while (audit_order_.size() > kMaxAudited) {
    audit_.erase(audit_order_.front());
    audit_order_.pop_front();
  }
}

const std::vector<wire::AuditRecord>* BrokerCore::AuditOf(uint64_t id) const {
  auto it = audit_.find(id);
  return it == audit_.end() ? nullptr : &it->second;
}

}  // namespace txmsg::broker
