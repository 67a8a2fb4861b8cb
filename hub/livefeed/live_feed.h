// The live feed (§4): a read-only ZeroMQ PUB socket at endpoints.live_feed on which hubd
// announces status changes as they are committed and delivery outcomes as they are recorded,
// for observers and other systems. Plain PUB/SUB: a slow or late subscriber misses messages;
// the ledger, not the feed, is the record.
//
// Every message is two frames: a topic and a JSON body. Topics are paths, so a subscriber
// filters by prefix:
//   status/<village>/<status>                  a committed status change
//   delivery/<department>/<village>/<status>   a department recorded its actions for one
//   failure/<department>                       a failed delivery attempt
// Bodies carry no personal data: no household id, head of household, event id or basis —
// only sequence numbers, villages, statuses, quarters, counts and times (docs/protocol.md).
//
// Runs on its own thread (an actor: control PAIR, $TERM to stop). Input: FeedNotifier's
// notices on an inproc PULL; it reads the committed events from events.db itself (its own
// read-only connection), so the ingest thread needs no hook at all.
//
// The socket is an XPUB, so the feed knows which topics anyone subscribed to
// (topic_interest.h): it builds only the messages someone will receive, reads no event while
// nobody wants status changes or deliveries, and tells the notifier (outcomes_watched()) so that
// the delivery thread does not even describe its outcomes while nobody watches them. A new
// subscriber gets what is recorded after its subscription reached the feed, as with any PUB.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>
#include <zmq.hpp>

#include "config/hub_config.h"
#include "eventlog/event_reader.h"
#include "livefeed/topic_interest.h"

namespace hub::security {
class Gatekeeper;
}

namespace hub::livefeed {

class LiveFeed {
 public:
  // Binds the PUB socket at config.live_feed_endpoint and the PULL at `notify_endpoint`. The
  // committed events are read through a reader from `events`, opened on the feed's thread.
  LiveFeed(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
           const std::string& notify_endpoint, std::uint64_t last_seq, EventReaderOpener events,
           const security::Gatekeeper* gate = nullptr);
  std::string bound_endpoint() const;
  void run();
  // Whether anyone subscribed to deliveries or failures; any thread may ask.
  bool outcomes_watched() const noexcept { return outcomes_watched_.load(std::memory_order_relaxed); }

 private:
  struct Summary {  // what the feed may say about an event
    std::string village, status, quarter;
  };
  void on_subscription(const zmq::message_t& message);
  void on_notice(const nlohmann::json& notice);
  void publish_committed(std::uint64_t upto);
  void publish_recorded(const nlohmann::json& notice);
  const Summary* summary(std::uint64_t seq);
  void send(const std::string& topic, const nlohmann::json& body);

  EventReaderOpener open_events_;
  zmq::socket_t pub_;
  zmq::socket_t pull_;
  zmq::socket_t control_;
  std::unique_ptr<EventReader> reader_;  // opened on the feed thread
  std::uint64_t published_upto_;
  std::map<std::uint64_t, Summary> recent_;  // status changes recently published, by seq (bounded)
  TopicInterest interest_;
  std::atomic<bool> outcomes_watched_{false};
};

}  // namespace hub::livefeed
