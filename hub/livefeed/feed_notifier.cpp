#include "livefeed/feed_notifier.h"

#include <map>

#include <nlohmann/json.hpp>

namespace hub::livefeed {

using nlohmann::json;

FeedNotifier::FeedNotifier(zmq::context_t& context, const std::string& endpoint) {
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

void FeedNotifier::recorded(const std::vector<delivery::LedgerBatch>& batches, std::int64_t at_ms) {
  if (!push_) return;
  for (const auto& b : batches) {
    if (b.delivered.empty() && b.failures.empty()) continue;
    json delivered = json::array();
    for (const auto& d : b.delivered) {
      std::map<std::string, int> actions;
      for (const auto& a : d.actions) ++actions[std::string(hub::sdk::to_string(a.action))];
      delivered.push_back({{"seq", d.seq}, {"actions", actions}});
    }
    json failures = json::array();
    for (const auto& f : b.failures) failures.push_back({{"seq", f.seq}, {"attempt", f.attempt}});
    const std::string text =
        json{{"department", b.department}, {"at_ms", at_ms}, {"delivered", delivered}, {"failures", failures}}.dump();
    (void)push_->send(zmq::buffer(text), zmq::send_flags::dontwait);
  }
}

}  // namespace hub::livefeed
