#include "txmsg/consumer.h"

#include <cstdio>
#include <variant>

#include "client/connection.h"
#include "client/convert.h"
#include "client/serial_worker.h"

namespace txmsg {
namespace internal {

class ConsumerImpl {
 public:
  ConsumerImpl(ConsumerOptions options, std::variant<Consumer::Handler, Consumer::AsyncHandler> h)
      : options_(std::move(options)), handler_(std::move(h)) {
    wire::Hello hello;
    hello.set_version(wire::PROTOCOL_VERSION_1);
    hello.set_role(wire::ROLE_CONSUMER);
    hello.set_client_id(options_.client.client_id);
    BrokerConnection::Handlers handlers;
    handlers.on_ready = [this](uint64_t epoch) { Subscribe(epoch); };
    handlers.on_push = [this](wire::Frame f, uint64_t epoch) { OnDeliver(std::move(f), epoch); };
    conn_ =
        std::make_unique<BrokerConnection>(options_.client, std::move(hello), std::move(handlers));
  }

  absl::Status Start(std::chrono::milliseconds wait) {
    conn_->Start();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&subscribed_), absl::FromChrono(wait))) {
      return absl::OkStatus();
    }
    if (!last_error_.ok()) return last_error_;
    if (conn_->ready()) return absl::DeadlineExceededError("subscription not confirmed in time");
    return conn_->WaitReady(std::chrono::milliseconds(0));  // says why it is not connected
  }

  void Stop() {
    worker_.Stop();
    conn_->Stop();
  }

  bool subscribed() {
    absl::MutexLock lock(&mu_);
    return subscribed_ && conn_->ready();
  }

  bool responsive() const { return conn_->responsive(); }

 private:
  void Subscribe(uint64_t epoch) {
    wire::Frame f;
    f.mutable_subscribe()->set_topic(options_.topic);
    f.mutable_subscribe()->set_group(options_.group);
    f.mutable_subscribe()->set_max_unacked(options_.max_unacked);
    conn_->Request(std::move(f), [this, epoch](absl::StatusOr<wire::Frame> r) {
      absl::MutexLock lock(&mu_);
      if (r.ok() && epoch == conn_->epoch()) {
        subscribed_ = true;
        last_error_ = absl::OkStatus();
      } else if (!r.ok()) {
        last_error_ = r.status();
        std::fprintf(stderr, "txmsg consumer: subscribe %s/%s failed: %s\n", options_.topic.c_str(),
                     options_.group.c_str(), std::string(r.status().message()).c_str());
        if (absl::IsDeadlineExceeded(r.status())) {
          // The Subscribe or its answer was lost on the way: ask again.
          conn_->Post([this, epoch] {
            if (epoch == conn_->epoch()) Subscribe(epoch);
          });
        }
      }
    });
  }

  void OnDeliver(wire::Frame f, uint64_t epoch) {
    if (!f.has_deliver()) return;
    wire::Deliver& d = *f.mutable_deliver();
    Delivery delivery;
    delivery.message_id = d.message_id();
    delivery.group = d.group();
    delivery.attempt = d.attempt();
    delivery.commit_time_ms = d.commit_time_ms();
    delivery.message = FromWire(d.mutable_content());
    const uint64_t id = delivery.message_id;
    auto report = [this, id, epoch](ConsumeResult r) {
      conn_->Post([this, id, epoch, r] { Report(id, epoch, r); });
    };
    if (auto* sync = std::get_if<Consumer::Handler>(&handler_)) {
      worker_.Post([sync, delivery = std::move(delivery), report] { report((*sync)(delivery)); });
    } else {
      std::get<Consumer::AsyncHandler>(handler_)(std::move(delivery), report);
    }
  }

  // Network thread. Acks of one turn go out as one frame.
  void Report(uint64_t id, uint64_t epoch, ConsumeResult r) {
    if (epoch != conn_->epoch()) return;  // that delivery's connection is gone
    if (!r.success()) {
      wire::Frame nack;
      nack.mutable_nack()->set_group(options_.group);
      nack.mutable_nack()->set_topic(options_.topic);
      nack.mutable_nack()->set_message_id(id);
      nack.mutable_nack()->set_delay_ms(r.delay_ms);
      nack.mutable_nack()->set_consumer_unavailable(r.kind == ConsumeResult::Kind::kUnavailable);
      nack.mutable_nack()->set_dead_letter(r.kind == ConsumeResult::Kind::kDeadLetter);
      conn_->Push(std::move(nack), epoch);
      return;
    }
    if (acks_.message_ids_size() == 0) {
      conn_->Post([this, epoch] {
        wire::Frame frame;
        frame.mutable_ack()->Swap(&acks_);
        frame.mutable_ack()->set_group(options_.group);
        frame.mutable_ack()->set_topic(options_.topic);
        conn_->Push(std::move(frame), epoch);
      });
    }
    acks_.add_message_ids(id);
  }

  const ConsumerOptions options_;
  const std::variant<Consumer::Handler, Consumer::AsyncHandler> handler_;
  std::unique_ptr<BrokerConnection> conn_;
  SerialWorker worker_;
  wire::Ack acks_;  // network thread only
  absl::Mutex mu_;
  bool subscribed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal

Consumer::Consumer(ConsumerOptions options, Handler handler)
    : impl_(std::make_shared<internal::ConsumerImpl>(std::move(options), std::move(handler))) {}

Consumer::Consumer(ConsumerOptions options, AsyncHandler handler)
    : impl_(std::make_shared<internal::ConsumerImpl>(std::move(options), std::move(handler))) {}

Consumer::~Consumer() { Stop(); }

absl::Status Consumer::Start(std::chrono::milliseconds wait) { return impl_->Start(wait); }

void Consumer::Stop() { impl_->Stop(); }

bool Consumer::subscribed() const { return impl_->subscribed(); }

bool Consumer::responsive() const { return impl_->responsive(); }

}  // namespace txmsg
