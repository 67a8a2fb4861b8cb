#include "ingest/ingest_server.h"

#include <chrono>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "domain/status_json.h"
#include "eventlog/event_log.h"
#include "domain/wire_event.h"
#include "ingest/group_writer.h"
#include "security/gatekeeper.h"

namespace hub {
namespace {

using nlohmann::json;

// Requests received but not yet read, per publisher connection (ZMQ_RCVHWM).
constexpr int kReceiveWindow = 64;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}


}  // namespace

// One request waiting for its reply: its routing envelope and either a ready reply or the
// staged results to turn into one after the commit.
struct PendingRequest {
  zmq::socket_t* from = nullptr;  // the socket the reply goes back on
  std::vector<zmq::message_t> envelope;
  json reply;                        // set when the request needs no commit (error, dry run, duplicates)
  bool is_batch = false;
  StageResult staged;                // when the request staged events
  bool awaits_commit = false;
};

namespace {

// The reply to a stored request. Written directly (keys in the order json::dump() would put
// them): a batch reply has one result per event, and this runs for every event ingested.
std::string success_reply(const PendingRequest& r) {
  auto item_text = [](const StageItemResult& item) {
    return std::string(item.duplicate ? "{\"duplicate\":true,\"seq\":" : "{\"duplicate\":false,\"seq\":") +
           std::to_string(item.seq) + "}";
  };
  if (!r.is_batch) {
    const auto& item = r.staged.results.front();
    return std::string("{\"duplicate\":") + (item.duplicate ? "true" : "false") + ",\"ok\":true,\"seq\":" +
           std::to_string(item.seq) + "}";
  }
  std::size_t duplicates = 0;
  std::string results;
  results.reserve(r.staged.results.size() * 32);
  for (const auto& item : r.staged.results) {
    if (!results.empty()) results += ',';
    results += item_text(item);
    duplicates += item.duplicate ? 1 : 0;
  }
  const std::size_t count = r.staged.results.size();
  return "{\"count\":" + std::to_string(count) + ",\"duplicates\":" + std::to_string(duplicates) +
         ",\"ok\":true,\"results\":[" + results + "],\"stored\":" + std::to_string(count - duplicates) + "}";
}

}  // namespace

IngestServer::IngestServer(zmq::context_t& context, const HubConfig& config, EventLog& log,
                           const std::string& control_endpoint, const std::string& notify_endpoint,
                           const security::Gatekeeper* gate, const std::string& internal_endpoint)
    : context_(context),
      config_(config),
      log_(log),
      gate_(gate),
      router_(context, zmq::socket_type::router),
      internal_(context, zmq::socket_type::router),
      control_(context, zmq::socket_type::pair),
      notify_(context, zmq::socket_type::push),
      rate_limiter_(config.max_requests_per_second) {
  router_.set(zmq::sockopt::linger, 1000);
  // Back-pressure: at most kReceiveWindow requests wait per publisher connection. A publisher
  // sending faster than the event log commits fills the window, then ZeroMQ stops reading its
  // TCP stream and its own sends wait: its replies come later, nothing is dropped, and hubd's
  // memory for waiting requests stays bounded (window x max_message_bytes per connection).
  // Replies are small and must not be dropped, so the send side stays deep.
  router_.set(zmq::sockopt::rcvhwm, kReceiveWindow);
  router_.set(zmq::sockopt::sndhwm, 100000);
  if (gate_ != nullptr) gate_->secure(router_, "ingest");
  router_.bind(config.ingest_endpoint);
  if (!internal_endpoint.empty()) {
    internal_.set(zmq::sockopt::linger, 0);
    internal_.bind(internal_endpoint);
    has_internal_ = true;
  }
  control_.connect(control_endpoint);
  notify_.connect(notify_endpoint);
}

std::string IngestServer::bound_endpoint() const { return router_.get(zmq::sockopt::last_endpoint); }

namespace {

// Bound on the events held in memory at once, the group in flight and the group staged on top
// of it together: reading stops once this many are held (a single request may still bring up to
// limits.max_batch_events), which bounds a transaction too. Large enough that one fsync serves
// many batches.
constexpr std::size_t kMaxHeldEvents = 20000;
// A group this large goes to an idle writer before the waiting requests are all read (see
// run()): an fsync per 2,000 events costs little even on a slow disk (258 fsyncs/s x 2,000 =
// 516k events/s, above what one core parses), and the batches behind it are parsed and
// staged while it is written, instead of after.
constexpr std::size_t kHandOverEvents = 2000;

void refuse_awaiting(std::vector<PendingRequest>& requests, const StorageError& e) {
  for (auto& r : requests) {
    if (!r.awaits_commit) continue;
    r.awaits_commit = false;
    r.reply = error_reply("storage_unavailable", "the hub cannot write its event log right now (" +
                                                     std::string(e.what()) + "); nothing was stored, publish again later");
  }
}

void send_replies(std::vector<PendingRequest>& requests) {
  for (auto& r : requests) {
    const std::string text = r.awaits_commit ? success_reply(r) : r.reply.dump();
    for (auto& part : r.envelope) r.from->send(part, zmq::send_flags::sndmore);
    r.from->send(zmq::buffer(text), zmq::send_flags::dontwait);
  }
  requests.clear();
}

}  // namespace

void IngestServer::run() {
  GroupWriter writer(context_, log_);
  std::vector<PendingRequest> in_flight;  // the requests of the group being written
  std::vector<PendingRequest> next;       // read since, staged on top of it: replied after it
  bool stopping = false;

  // The write in flight has ended: acknowledge its requests, or refuse them (and the group
  // staged on top of it) when it failed.
  auto finish_write = [&] {
    const std::optional<StorageError> failure = writer.collect();
    const std::size_t group = log_.in_flight_size();
    const std::size_t staged_after = log_.group_size();
    log_.end_commit(failure ? &*failure : nullptr);
    if (failure) {
      spdlog::error("ingest: cannot write the event log ({}); {} events refused, and the {} staged after them, nothing "
                    "acknowledged{}",
                    failure->what(), group, staged_after,
                    failure->outcome_unknown() ? " (they may be stored: the log is read again, and a publisher who "
                                                 "sends them again is told their seq)"
                                               : "");
      refuse_awaiting(in_flight, *failure);
      refuse_awaiting(next, *failure);  // their group was dropped with the failed one
    } else {
      const std::uint64_t last = log_.last_seq();
      notify_.send(zmq::buffer(&last, sizeof last), zmq::send_flags::dontwait);
      spdlog::debug("ingest: committed {} events, last seq {}", group, last);
    }
    send_replies(in_flight);
  };
  // Hands the staged group to the idle writer; requests that stored nothing are answered now,
  // unless a group ahead of them is still being written (replies keep the requests' order).
  auto hand_over = [&] {
    if (writer.busy()) return;
    if (log_.begin_commit()) {
      in_flight = std::move(next);
      next.clear();
      writer.start(now_ms());
    } else {
      send_replies(next);
    }
  };

  for (;;) {
    // $TERM: this turn still reads every request already received; they are stored and
    // acknowledged, or refused, and then ingest stops. Requests still in the publishers' queues
    // get no reply and are sent again to the next hubd (event ids make that idempotent).
    const bool reading = !stopping && log_.group_size() + log_.in_flight_size() < kMaxHeldEvents;
    zmq::pollitem_t items[] = {{writer.done_socket().handle(), 0, ZMQ_POLLIN, 0},
                               {control_.handle(), 0, ZMQ_POLLIN, 0},
                               {router_.handle(), 0, ZMQ_POLLIN, 0},
                               {internal_.handle(), 0, ZMQ_POLLIN, 0}};
    // Full: wait for the write in flight; after $TERM only the writer is waited for.
    const int watched = !reading ? 1 : has_internal_ ? 4 : 3;
    if (watched > 1 || writer.busy()) zmq::poll(items, watched, std::chrono::milliseconds(-1));

    if (writer.busy() && (items[0].revents & ZMQ_POLLIN)) finish_write();
    if (!stopping && (items[1].revents & ZMQ_POLLIN)) {
      zmq::message_t msg;
      (void)control_.recv(msg);
      stopping = true;
    }

    // Drain what is waiting, the publishers' endpoint and the web console's in turn: each
    // request is validated against everything staged before it. What is already waiting goes
    // into one group (one fsync for all of it), except that a group of kHandOverEvents or more
    // goes to an idle writer at once, so that the rest is parsed and staged while it is written.
    if (reading) {
      std::size_t idle_sockets = 0;
      for (std::size_t turn = 0; idle_sockets < 2 && log_.group_size() + log_.in_flight_size() < kMaxHeldEvents; ++turn) {
        const bool internal = turn % 2 == 1;
        if (internal && !has_internal_) {
          ++idle_sockets;
          continue;
        }
        if (!read_request(internal ? internal_ : router_, internal, next)) {
          ++idle_sockets;
          continue;
        }
        idle_sockets = 0;
        if (writer.busy() && writer.done()) finish_write();
        if (log_.group_size() >= kHandOverEvents) hand_over();
      }
    }

    hand_over();
    if (stopping && !writer.busy() && next.empty()) return;
  }
}

bool IngestServer::read_request(zmq::socket_t& from, bool internal, std::vector<PendingRequest>& into) {
  PendingRequest req;
  req.from = &from;
  zmq::message_t frame;
  if (!from.recv(frame, zmq::recv_flags::dontwait)) return false;
  // Envelope: every frame up to the last; the last frame is the JSON body.
  while (frame.more()) {
    req.envelope.push_back(std::move(frame));
    frame = zmq::message_t();
    (void)from.recv(frame);
  }
  if (req.envelope.empty()) return true;  // malformed routing: nothing to reply to
  // Who publishes: the key's name, stored with each event and in its chain record ("" when
  // the hub runs insecure and cannot tell); from the web console, the frame before the
  // request names the user ("web:<user>").
  std::string publisher;
  if (internal) {
    if (req.envelope.size() < 3) return true;  // not the web console's two frames: nothing to reply to
    publisher = req.envelope.back().to_string();
    req.envelope.pop_back();
  } else if (!rate_limiter_.allow(req.envelope.front().to_string())) {
    req.reply = error_reply("rate_limited", "more than " + std::to_string(config_.max_requests_per_second) +
                                                " requests per second from this connection (limits."
                                                "max_requests_per_second); nothing was stored: send it again "
                                                "after a pause");
    into.push_back(std::move(req));
    return true;
  }
  if (!internal && gate_ != nullptr) {
    const auto verdict = gate_->allow(frame, "publisher", "ingest", "publish");
    if (!verdict.allowed) {
      req.reply = error_reply("unauthorized", verdict.reason + "; nothing was stored");
      into.push_back(std::move(req));
      return true;
    }
    publisher = verdict.who;
  }
  auto parsed = parse_request(std::string_view(static_cast<const char*>(frame.data()), frame.size()),
                              RequestLimits{config_.max_message_bytes, config_.max_batch_events});
  if (auto* e = parsed.error()) {
    req.reply = error_reply(*e);
    into.push_back(std::move(req));
    return true;
  }
  IngestRequest& request = parsed.value();
  req.is_batch = request.is_batch;
  const bool dry_run = request.dry_run;
  std::vector<WireEvent>& events = request.events;
  if (!request.item_errors.empty()) {
    std::map<std::size_t, json> errors_by_index;
    for (const auto& [index, e] : request.item_errors) {
      json item{{"index", index}, {"code", e.code}, {"message", e.message}};
      if (!e.field.empty()) item["field"] = e.field;
      errors_by_index[index] = std::move(item);
    }
    // Report the state errors of the well-formed items too, so the publisher sees every
    // problem at once (a dry run: nothing is staged).
    StageResult check;
    try {
      check = log_.stage(events, /*dry_run=*/true);
    } catch (const StorageError& e) {
      check = StageResult{};  // the state errors cannot be known now; the item errors are
      spdlog::error("ingest: cannot read the event log ({})", e.what());
    }
    for (const auto& item : check.errors) {
      const std::size_t index = request.original_index[item.index];
      json e{{"index", index}, {"code", item.error.code}, {"message", item.error.message}};
      if (!item.error.field.empty()) e["field"] = item.error.field;
      errors_by_index[index] = std::move(e);
    }
    const std::size_t total = request.item_errors.size() + events.size();
    json errors = json::array();
    for (auto& [index, item] : errors_by_index) errors.push_back(std::move(item));
    req.reply = error_reply("invalid_batch", std::to_string(errors.size()) + " of " + std::to_string(total) +
                                                 " events are invalid; nothing was stored");
    req.reply["errors"] = std::move(errors);
    into.push_back(std::move(req));
    return true;
  }

  try {
    req.staged = log_.stage(events, dry_run, publisher);
  } catch (const StorageError& e) {
    // The event log cannot be read (after a commit whose outcome is unknown it is read again
    // first): refused, nothing staged, hubd keeps running.
    spdlog::error("ingest: cannot read the event log ({}); request refused", e.what());
    req.reply = error_reply("storage_unavailable", "the hub cannot read its event log right now (" +
                                                       std::string(e.what()) + "); nothing was stored, publish again later");
    into.push_back(std::move(req));
    return true;
  }
  if (!req.staged.ok()) {
    if (req.is_batch) {
      json errors = json::array();
      for (const auto& item : req.staged.errors) {
        json e{{"index", item.index}, {"code", item.error.code}, {"message", item.error.message}};
        if (!item.error.field.empty()) e["field"] = item.error.field;
        errors.push_back(std::move(e));
      }
      req.reply = error_reply("invalid_batch", std::to_string(req.staged.errors.size()) + " of " +
                                                   std::to_string(events.size()) +
                                                   " events are invalid; nothing was stored");
      req.reply["errors"] = std::move(errors);
    } else {
      const auto& e = req.staged.errors.front().error;
      req.reply = error_reply(e.code, e.message, e.field);
    }
  } else if (dry_run) {
    std::size_t duplicates = 0;
    for (const auto& item : req.staged.results) duplicates += item.duplicate ? 1 : 0;
    req.reply = json{{"ok", true},
                     {"dry_run", true},
                     {"count", events.size()},
                     {"would_store", events.size() - duplicates},
                     {"duplicates", duplicates}};
  } else {
    req.awaits_commit = true;
  }
  into.push_back(std::move(req));
  return true;
}

}  // namespace hub
