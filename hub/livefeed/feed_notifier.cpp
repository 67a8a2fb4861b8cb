#include "livefeed/feed_notifier.h"

#include <nlohmann/json.hpp>

namespace hub::livefeed {

using nlohmann::json;

FeedNotifier::FeedNotifier(zmq::context_t& context, const std::string& endpoint, const LiveFeed& feed) : feed_(&feed) {
  push_.emplace(context, zmq::socket_type::push);
  push_->set(zmq::sockopt::linger, 0);
  push_->set(zmq::sockopt::sndhwm, 10000);
  push_->connect(endpoint);
}

void FeedNotifier::committed(std::uint64_t last_seq) {
  if (!push_ || last_seq <= last_committed_) return;
  last_committed_ = last_seq;
  const std::string text = json{{"committed", last_seq}}.dump();
  (void)push_->send(zmq::buffer(text), zmq::send_flags::dontwait);
}

bool FeedNotifier::watching_outcomes() const { return push_ && feed_ != nullptr && feed_->outcomes_watched(); }

void FeedNotifier::recorded(const std::vector<delivery::RecordedOutcome>& outcomes, std::int64_t at_ms) {
  if (!push_) return;
  for (const auto& o : outcomes) {
    json delivered = json::array();
    for (const auto& d : o.delivered) delivered.push_back({{"seq", d.seq}, {"actions", d.actions}});
    json failures = json::array();
    for (const auto& f : o.failures) failures.push_back({{"seq", f.seq}, {"attempt", f.attempt}});
    const std::string text =
        json{{"department", o.department}, {"at_ms", at_ms}, {"delivered", delivered}, {"failures", failures}}.dump();
    (void)push_->send(zmq::buffer(text), zmq::send_flags::dontwait);
  }
}

}  // namespace hub::livefeed
