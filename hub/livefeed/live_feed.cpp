#include "livefeed/live_feed.h"

#include "security/gatekeeper.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace hub::livefeed {

using nlohmann::json;

namespace {
// Enough to describe every delivery of a large import while departments catch up; older
// events are looked up in events.db.
constexpr std::size_t kRecentEvents = 200000;
constexpr std::uint64_t kReadChunk = 2048;
}  // namespace

LiveFeed::LiveFeed(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
                   const std::string& notify_endpoint, std::uint64_t last_seq, EventReaderOpener events,
                   const security::Gatekeeper* gate)
    : open_events_(std::move(events)),
      pub_(context, zmq::socket_type::xpub),
      pull_(context, zmq::socket_type::pull),
      control_(context, zmq::socket_type::pair),
      published_upto_(last_seq) {
  pub_.set(zmq::sockopt::linger, 0);
  // Only observers and admins complete the handshake (a PUB socket cannot answer a message).
  if (gate != nullptr) gate->secure(pub_, "live_feed");
  pub_.bind(config.live_feed_endpoint);
  pull_.bind(notify_endpoint);
  control_.connect(control_endpoint);
}

std::string LiveFeed::bound_endpoint() const { return pub_.get(zmq::sockopt::last_endpoint); }

void LiveFeed::run() {
  zmq::pollitem_t items[] = {{pull_.handle(), 0, ZMQ_POLLIN, 0},
                             {control_.handle(), 0, ZMQ_POLLIN, 0},
                             {pub_.handle(), 0, ZMQ_POLLIN, 0}};
  for (;;) {
    zmq::poll(items, 3, std::chrono::milliseconds(-1));
    if (items[1].revents & ZMQ_POLLIN) return;
    zmq::message_t msg;
    // Subscriptions first: a notice read after one is published to the new subscriber.
    while (pub_.recv(msg, zmq::recv_flags::dontwait)) on_subscription(msg);
    while (pull_.recv(msg, zmq::recv_flags::dontwait)) {
      const json notice = json::parse(msg.to_string(), nullptr, false);
      try {
        if (notice.is_object()) on_notice(notice);
      } catch (const StorageError& e) {
        reader_.reset();  // opened again for the next notice (a lost database connection is not reused)
        spdlog::warn("live feed: {}", e.what());
      } catch (const std::exception& e) {
        // The feed is best effort: an unreadable event log must not stop hubd.
        spdlog::warn("live feed: {}", e.what());
      }
    }
  }
}

void LiveFeed::on_subscription(const zmq::message_t& message) {
  if (!interest_.apply(message.to_string_view())) return;
  outcomes_watched_.store(interest_.may_want("delivery/") || interest_.may_want("failure/"),
                          std::memory_order_relaxed);
}

void LiveFeed::on_notice(const json& notice) {
  if (notice.contains("committed")) publish_committed(notice["committed"].get<std::uint64_t>());
  else publish_recorded(notice);
}

void LiveFeed::publish_committed(std::uint64_t upto) {
  // Deliveries are described from the status changes kept here: read them while anyone may
  // want either.
  if (!interest_.may_want("status/") && !interest_.may_want("delivery/")) {
    published_upto_ = std::max(published_upto_, upto);
    return;
  }
  if (!reader_) reader_ = open_events_();
  while (published_upto_ < upto) {
    const std::uint64_t to = std::min(upto, published_upto_ + kReadChunk);
    for (const LoggedEvent& e : reader_->read(published_upto_ + 1, to)) {
      if (e.type != EventType::kStatusChange) continue;
      const std::string status(hub::sdk::to_string(e.status));
      recent_[e.seq] = Summary{e.village, status, e.quarter};
      if (recent_.size() > kRecentEvents) recent_.erase(recent_.begin());
      const std::string topic = "status/" + e.village + "/" + status;
      if (!interest_.wants(topic)) continue;
      send(topic,
           {{"type", "status_change"}, {"seq", e.seq}, {"village", e.village}, {"status", status},
            {"previous_status", hub::sdk::to_string(e.previous_status)}, {"quarter", e.quarter},
            {"correction", e.correction}, {"received_at_ms", e.received_at_ms}});
    }
    published_upto_ = to;
  }
}

const LiveFeed::Summary* LiveFeed::summary(std::uint64_t seq) {
  if (auto it = recent_.find(seq); it != recent_.end()) return &it->second;
  if (!reader_) reader_ = open_events_();
  const auto events = reader_->read(seq, seq);
  if (events.empty()) return nullptr;
  const auto& e = events.front();
  auto [it, inserted] = recent_.emplace(seq, Summary{e.village, std::string(hub::sdk::to_string(e.status)), e.quarter});
  (void)inserted;
  return &it->second;
}

void LiveFeed::publish_recorded(const json& notice) {
  const std::string department = notice.value("department", "");
  const std::int64_t at_ms = notice.value("at_ms", std::int64_t{0});
  const json delivered = interest_.may_want("delivery/" + department + "/") ? notice.value("delivered", json::array())
                                                                          : json::array();
  for (const auto& d : delivered) {
    const std::uint64_t seq = d["seq"].get<std::uint64_t>();
    const Summary* s = summary(seq);
    if (s == nullptr) continue;
    const std::string topic = "delivery/" + department + "/" + s->village + "/" + s->status;
    if (!interest_.wants(topic)) continue;
    send(topic,
         {{"type", "delivery"}, {"department", department}, {"seq", seq}, {"village", s->village},
          {"status", s->status}, {"quarter", s->quarter}, {"actions", d["actions"]}, {"recorded_at_ms", at_ms}});
  }
  if (!interest_.wants("failure/" + department)) return;
  for (const auto& f : notice.value("failures", json::array()))
    send("failure/" + department, {{"type", "delivery_failed"}, {"department", department}, {"seq", f["seq"]},
                                   {"attempt", f["attempt"]}, {"at_ms", at_ms}});
}

void LiveFeed::send(const std::string& topic, const json& body) {
  const std::string text = body.dump();
  pub_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
  pub_.send(zmq::buffer(text), zmq::send_flags::dontwait);
}

}  // namespace hub::livefeed
