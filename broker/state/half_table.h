// Every live message the broker holds, and everything that must change in
// step with one: its state, the check-back schedule of pending halves, the
// set of open halves the operator lists, each topic's commit order and
// counts, and the memory of settled halves already forgotten (so a late
// EndTx is still answered). Plain messages live here too: they are halves
// born committed.
//
// One owner for all of it: a message's state, its place in the check
// schedule and in the open set change only through the operations below,
// so the indexes can never disagree. Fields of MessageEntry that no index
// depends on (delivery progress, pending writes, check history) are the
// caller's to change.
//
// Pure bookkeeping: no I/O, no clock (callers pass now_ms), so every rule is
// unit-tested directly. Not thread-safe (the broker's state thread owns it).
#ifndef TXMSG_BROKER_STATE_HALF_TABLE_H_
#define TXMSG_BROKER_STATE_HALF_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "txmsg/broker.pb.h"

namespace txmsg::broker {

// One live message: ~100 bytes plus its tx id while it is a half. The body
// stays in the log; `body_pos` finds it. Set the public fields before the
// message is added; `topic` and `plain` never change afterwards.
struct MessageEntry {
  uint64_t body_pos = 0;  // record holding the content (== id unless carried)
  uint64_t store_time_ms = 0;
  std::string tx_id;                          // cleared once committed
  uint32_t topic = 0;                         // topic index (TopicRegistry)
  uint32_t producer_group = 0;                // interned name (TopicRegistry)
  bool plain = false;                         // sent with Send: no transaction
  uint16_t checks = 0;                        // check-backs sent
  uint16_t unacked_groups = 0;                // committed: groups that still owe an ack
  uint16_t pending_writes = 0;                // log records about it not yet durable
  absl::InlinedVector<uint32_t, 2> acked_by;  // group-topic indices
  std::unique_ptr<std::vector<std::function<void()>>> waiters;  // run when settled
  std::unique_ptr<std::deque<wire::CheckRecord>> history;       // checks sent

  wire::HalfState state() const { return state_; }
  // Decided but not yet durable (a TX_END on its way to the log): requests
  // in the meantime are judged against it and answered once it lands.
  // HALF_STATE_UNSPECIFIED when nothing is on its way.
  wire::HalfState settling() const { return settling_; }
  bool is_settling() const { return settling_ != wire::HALF_STATE_UNSPECIFIED; }
  uint64_t commit_time_ms() const { return commit_time_ms_; }  // 0 until committed
  // PENDING: when the next check is due (kept while settling, for display).
  uint64_t next_check_ms() const { return next_check_ms_; }

 private:
  friend class HalfMessageTable;
  wire::HalfState state_ = wire::HALF_PENDING;
  wire::HalfState settling_ = wire::HALF_STATE_UNSPECIFIED;
  uint64_t commit_time_ms_ = 0;
  uint64_t next_check_ms_ = 0;
};

class HalfMessageTable {
 public:
  using Entries = absl::btree_map<uint64_t, MessageEntry>;

  // Remembers the settled state of up to `settled_memory` forgotten halves.
  explicit HalfMessageTable(size_t settled_memory) : settled_memory_(settled_memory) {}
  HalfMessageTable(const HalfMessageTable&) = delete;
  HalfMessageTable& operator=(const HalfMessageTable&) = delete;

  // ---- looking up

  // The live message `id`, or nullptr.
  MessageEntry* Find(uint64_t id);
  const MessageEntry* Find(uint64_t id) const;
  bool contains(uint64_t id) const { return entries_.contains(id); }
  // Every live message, by id (read-only: change one through Find).
  const Entries& entries() const { return entries_; }
  // How a forgotten half was settled; nullopt if `id` is live, plain, never
  // stored, or forgotten so long ago that it fell out of the memory.
  std::optional<wire::HalfState> SettledState(uint64_t id) const;

  // ---- a message's life

  // A half message stored at `id`: PENDING, first checked at `first_check_ms`.
  MessageEntry& AddHalf(uint64_t id, MessageEntry m, uint64_t first_check_ms);
  // A plain message stored at `id`: committed at `now_ms`.
  MessageEntry& AddPlain(uint64_t id, MessageEntry m, uint64_t now_ms);
  // An open half (PENDING or DISCARDED) is being settled as `to`: it is not
  // checked until FinishSettling or AbortSettling. False (and no change) if
  // `id` is not an open half with nothing on its way.
  bool StartSettling(uint64_t id, wire::HalfState to);
  // The outcome could not be stored: nothing changes, and a PENDING half is
  // checked again at `next_check_ms`.
  void AbortSettling(uint64_t id, uint64_t next_check_ms);
  // The outcome is durable: the half takes the state it was settling to
  // (committed at `now_ms` if COMMITTED) and leaves the open set. Returns the
  // state it had before, or nullopt if it was not settling.
  std::optional<wire::HalfState> FinishSettling(uint64_t id, uint64_t now_ms);
  // A PENDING half ran out of checks: DISCARDED, never checked again, still
  // open for an operator or a late answer. False if `id` is not PENDING or
  // is settling.
  bool Discard(uint64_t id);
  // Drops a live message; a settled half's state is remembered for late
  // requests (SettledState). Plain messages are not remembered.
  void Forget(uint64_t id);
  // Drops every live message of `topic` (deleted by an operator; the caller
  // made sure none is open) and its commit order, so the topic's index can
  // serve a new topic. Also while restoring. Returns how many were dropped.
  size_t ForgetTopic(uint32_t topic);
  // The ids of every live message of `topic`, by id (a walk of all of them).
  std::vector<uint64_t> IdsOfTopic(uint32_t topic) const;

  // ---- the check-back schedule (PENDING halves, nothing on its way)

  struct DueCheck {
    uint64_t due_ms;
    uint64_t id;
    auto operator<=>(const DueCheck&) const = default;
  };
  // (Re)schedules the next check of a PENDING half. False (and no change)
  // if `id` is not PENDING or is settling.
  bool ScheduleCheck(uint64_t id, uint64_t due_ms);
  // The first check due at `now_ms`, in (due, id) order, after `after` (a
  // cursor: pass the last one returned to walk past checks left in place).
  std::optional<DueCheck> NextDueCheck(uint64_t now_ms,
                                       std::optional<DueCheck> after = std::nullopt) const;
  size_t scheduled_checks() const { return checks_.size(); }

  // ---- open halves and commit order

  // Calls fn(id, entry) for every PENDING or DISCARDED half, by id.
  template <typename Fn>
  void ForEachOpenHalf(Fn fn) const {
    for (uint64_t id : open_) fn(id, entries_.at(id));
  }
  // Calls fn(id, entry) for every live committed message of `topic`, oldest
  // commit first.
  template <typename Fn>
  void ForEachCommitted(uint32_t topic, Fn fn) {
    if (topic >= topics_.size()) return;
    for (uint64_t id : topics_[topic].commit_order) {
      auto it = entries_.find(id);
      if (it != entries_.end() && it->second.state_ == wire::HALF_COMMITTED) fn(id, it->second);
    }
  }
  // The live committed message of `topic` committed first, or nullopt.
  std::optional<uint64_t> OldestCommitted(uint32_t topic);

  // ---- log replay: Restore* while the log is read, then FinishRestore once,
  // before any other change. Until then no index is kept.

  // A message record: inserted, or replacing the one it was carried from.
  MessageEntry& Restore(uint64_t id, MessageEntry m, wire::HalfState state,
                        uint64_t commit_time_ms);
  // A TX_END record. False if `id` is not known (its record is gone).
  bool RestoreOutcome(uint64_t id, wire::HalfState state, uint64_t time_ms);
  // A DISCARD record: a PENDING half becomes DISCARDED.
  void RestoreDiscard(uint64_t id);
  // A FORGET record (or an ack that made the broker forget `id`): dropped.
  void RestoreForget(uint64_t id);
  // Builds the indexes: pending halves are checked `tx_timeout_ms` after
  // they were stored, rolled-back ones are forgotten (and remembered as
  // settled). Returns the committed ids, oldest commit first.
  std::vector<uint64_t> FinishRestore(uint64_t now_ms, uint64_t tx_timeout_ms);

  // ---- counts (kept as the states change: cheap to read)

  size_t size() const { return entries_.size(); }
  uint64_t pending() const { return pending_; }
  uint64_t discarded() const { return open_.size() - pending_; }
  uint64_t committed() const { return committed_; }
  uint64_t pending_in(uint32_t topic) const;
  uint64_t committed_in(uint32_t topic) const;
  size_t settled_remembered() const { return settled_.size(); }

 private:
  struct TopicState {
    std::deque<uint64_t> commit_order;  // committed ids, oldest first (may hold dead ids)
    uint64_t committed = 0;             // live committed messages
    uint64_t pending = 0;               // PENDING halves
  };

  TopicState& Topic(uint32_t topic);
  void Unschedule(const MessageEntry& m, uint64_t id);
  // Records a commit: commit order, counts; the tx id is no longer needed.
  void MarkCommitted(uint64_t id, MessageEntry& m, uint64_t now_ms);
  void RememberSettled(uint64_t id, wire::HalfState state);
  // Squeezes forgotten ids out of a commit order they have come to dominate,
  // so it never outgrows the live set much.
  void TrimCommitOrder(TopicState& t);

  // Drops `id` while restoring (no index or count is kept yet).
  void DropRestored(Entries::iterator it);

  const size_t settled_memory_;
  bool restoring_ = false;   // between the first Restore and FinishRestore: no index kept
  Entries entries_;          // live messages by id
  std::set<uint64_t> open_;  // PENDING or DISCARDED
  std::set<std::pair<uint64_t, uint64_t>> checks_;  // (due, id): PENDING, not settling
  std::vector<TopicState> topics_;                  // by topic index
  uint64_t pending_ = 0;
  uint64_t committed_ = 0;
  // Outcomes of forgotten halves, oldest first out.
  absl::flat_hash_map<uint64_t, wire::HalfState> settled_;
  std::deque<uint64_t> settled_order_;
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_STATE_HALF_TABLE_H_
