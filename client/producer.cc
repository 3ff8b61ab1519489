#include "txmsg/producer.h"

#include <future>

#include "client/connection.h"
#include "client/convert.h"
#include "client/serial_worker.h"

namespace txmsg {
namespace internal {

class ProducerImpl {
 public:
  ProducerImpl(ClientOptions options, std::string group, TransactionProducer::CheckHandler check)
      : check_(std::move(check)) {
    wire::Hello hello;
    hello.set_version(wire::PROTOCOL_VERSION_1);
    hello.set_role(wire::ROLE_PRODUCER);
    hello.set_producer_group(std::move(group));
    hello.set_client_id(options.client_id);
    BrokerConnection::Handlers handlers;
    handlers.on_push = [this](wire::Frame f, uint64_t) { OnPush(std::move(f)); };
    conn_ = std::make_unique<BrokerConnection>(std::move(options), std::move(hello),
                                               std::move(handlers));
  }

  void Stop() {
    worker_.Stop();
    conn_->Stop();
  }

  BrokerConnection& conn() { return *conn_; }

 private:
  void OnPush(wire::Frame f) {
    if (!f.has_check_tx() || !check_) return;
    // The handler may block (a database): run it off the network thread.
    worker_.Post([this, f = std::move(f)]() mutable {
      CheckRequest req;
      req.message_id = f.check_tx().message_id();
      req.tx_id = f.check_tx().tx_id();
      req.check_number = f.check_tx().check_number();
      req.message = FromWire(f.mutable_check_tx()->mutable_content());
      const TxOutcome outcome = check_(req);
      wire::Frame answer;
      answer.mutable_check_tx_answer()->set_message_id(req.message_id);
      answer.mutable_check_tx_answer()->set_tx_id(req.tx_id);
      answer.mutable_check_tx_answer()->set_outcome(ToWire(outcome));
      conn_->Request(std::move(answer), [](absl::StatusOr<wire::Frame>) {});
    });
  }

  const TransactionProducer::CheckHandler check_;
  std::unique_ptr<BrokerConnection> conn_;
  SerialWorker worker_;
};

}  // namespace internal

namespace {

template <typename T>
absl::StatusOr<T> Wait(const std::function<void(std::function<void(absl::StatusOr<T>)>)>& start) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<T>>>();
  std::future<absl::StatusOr<T>> result = promise->get_future();
  start([promise](absl::StatusOr<T> r) { promise->set_value(std::move(r)); });
  return result.get();
}

}  // namespace

TransactionProducer::TransactionProducer(ClientOptions options, std::string producer_group,
                                         CheckHandler on_check)
    : impl_(std::make_shared<internal::ProducerImpl>(std::move(options), std::move(producer_group),
                                                     std::move(on_check))) {}

TransactionProducer::~TransactionProducer() { impl_->Stop(); }

absl::Status TransactionProducer::Start(std::chrono::milliseconds wait) {
  impl_->conn().Start();
  return impl_->conn().WaitReady(wait);
}

bool TransactionProducer::connected() const { return impl_->conn().ready(); }

bool TransactionProducer::responsive() const { return impl_->conn().responsive(); }

void TransactionProducer::SendHalfAsync(Message message, std::string tx_id,
                                        std::function<void(absl::StatusOr<uint64_t>)> done) {
  wire::Frame f;
  internal::ToWire(std::move(message), f.mutable_send_half()->mutable_content());
  f.mutable_send_half()->set_tx_id(std::move(tx_id));
  impl_->conn().Request(std::move(f), [done = std::move(done)](absl::StatusOr<wire::Frame> r) {
    if (!r.ok()) return done(r.status());
    if (!r->has_send_half_ok()) return done(absl::InternalError("unexpected answer to SendHalf"));
    done(r->send_half_ok().message_id());
  });
}

void TransactionProducer::EndTxAsync(uint64_t message_id, std::string tx_id, TxOutcome outcome,
                                     std::function<void(absl::StatusOr<EndTxResult>)> done) {
  wire::Frame f;
  f.mutable_end_tx()->set_message_id(message_id);
  f.mutable_end_tx()->set_tx_id(std::move(tx_id));
  f.mutable_end_tx()->set_outcome(internal::ToWire(outcome));
  impl_->conn().Request(std::move(f), [done = std::move(done)](absl::StatusOr<wire::Frame> r) {
    if (!r.ok()) return done(r.status());
    if (!r->has_end_tx_ok()) return done(absl::InternalError("unexpected answer to EndTx"));
    done(EndTxResult{internal::FromWire(r->end_tx_ok().state()), r->end_tx_ok().applied()});
  });
}

void TransactionProducer::SendAsync(Message message,
                                    std::function<void(absl::StatusOr<uint64_t>)> done) {
  wire::Frame f;
  internal::ToWire(std::move(message), f.mutable_send()->mutable_content());
  impl_->conn().Request(std::move(f), [done = std::move(done)](absl::StatusOr<wire::Frame> r) {
    if (!r.ok()) return done(r.status());
    if (!r->has_send_ok()) return done(absl::InternalError("unexpected answer to Send"));
    done(r->send_ok().message_id());
  });
}

absl::StatusOr<uint64_t> TransactionProducer::SendHalf(Message message, std::string tx_id) {
  return Wait<uint64_t>([&](auto done) { SendHalfAsync(std::move(message), tx_id, done); });
}

absl::StatusOr<EndTxResult> TransactionProducer::EndTx(uint64_t message_id, std::string tx_id,
                                                       TxOutcome outcome) {
  return Wait<EndTxResult>([&](auto done) { EndTxAsync(message_id, tx_id, outcome, done); });
}

absl::StatusOr<uint64_t> TransactionProducer::Send(Message message) {
  return Wait<uint64_t>([&](auto done) { SendAsync(std::move(message), done); });
}

absl::StatusOr<TransactionProducer::TransactionResult> TransactionProducer::ExecuteTransaction(
    Message message, std::string tx_id, const std::function<TxOutcome(uint64_t)>& local_tx) {
  absl::StatusOr<uint64_t> id = SendHalf(std::move(message), tx_id);
  if (!id.ok()) return id.status();
  TransactionResult result;
  result.message_id = *id;
  result.local_outcome = local_tx(*id);
  result.end_tx = EndTx(*id, std::move(tx_id), result.local_outcome);
  return result;
}

}  // namespace txmsg
