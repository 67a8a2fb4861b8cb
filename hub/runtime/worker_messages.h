// What the dispatcher and a department's worker thread say to each other over their inproc
// PAIR socket. Each message is one frame holding a Tag and a pointer: ownership of the
// pointed-to object passes to the receiver with the message (inproc never leaves the
// process, so the pointer is the cheapest way to hand over a batch).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "domain/logged_event.h"
#include "hub/sdk/plugin.h"

// ThreadSanitizer cannot see the synchronisation inside libzmq (a Debian package, not built
// with TSan), so it would take every object handed over below for a data race between the
// sender, which built it, and the receiver. Under TSan the hand-over is declared: the sender
// releases the object and the receiver acquires it, the happens-before edge the inproc queue
// really provides. No effect in other builds.
#if defined(__SANITIZE_THREAD__)
#define HUB_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HUB_TSAN_BUILD 1
#endif
#endif
#ifdef HUB_TSAN_BUILD
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace hub::runtime {

// kHostLost and kRewound are only used for departments placed on a plugin host: the host link
// (pluginhost/host_link.h) stands in for the worker and says when its host went away (or has
// not come yet); the dispatcher answers kRewound with the generation it will use from then on.
// kReload asks an in-process worker to swap its plugin for another build (the dispatcher sends
// it only with nothing in flight); the worker answers with kStarted (reload = true).
// kHostCrashed: the host link's notice that the department's plugin host was restarted by its
// supervisor after a crash (pluginhost/supervisor.h); it follows kHostLost and precedes the new
// host's kStarted.
enum class Tag : std::uint8_t { kStarted, kRequest, kReport, kTerminate, kHostLost, kRewound, kReload, kHostCrashed };

// The worker's answer to start-up: the plugin loaded and started, or why not.
struct Started {
  bool ok = false;
  hub::sdk::PluginInfo info;
  std::string error_code;  // plugin_not_found, abi_mismatch, start_failed, …
  std::string error;
  std::string host;        // the plugin host's name; empty for a plugin inside hubd
  bool reload = false;     // the answer to kReload
  bool keeps_running = false;  // a refused reload: the previous build still runs
  std::string library;     // the library now loaded (reload answers)
  // At start-up: the library chosen by an earlier reload (recorded in the ledger) could not be
  // loaded or started, why; the worker fell back to the config's library.
  std::string fallback_error;
};

struct HostCrash {
  std::string reason;      // for operators: what died, how, in which plugin call, when it restarts
  std::uint64_t seq = 0;   // the event this department's plugin was handling when it died, or 0
};

struct Reload {
  std::string library;  // the .so to load instead; "" = the current library's file again
};

// Deliver chunk->events[begin, end) in order. `generation` lets the dispatcher disown requests
// sent before a failure: after a failure in generation g the worker skips requests of
// generation <= g, so nothing after a failed event is delivered out of order.
struct Request {
  std::shared_ptr<const EventChunk> chunk;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::uint64_t generation = 0;
};

struct DeliveredEvent {
  std::uint64_t seq = 0;
  std::string household_id;
  std::string event_id;
  std::int64_t received_at_ms = 0;  // when the hub received the event: the ledger's latency counts
  std::vector<hub::sdk::PolicyAction> actions;
  // The connector that handed the actions to the department's system ("none", "spool",
  // "webhook"); an event is only reported delivered when that hand-off succeeded. The detail
  // says where it went (spool file name, "HTTP 200, attempt 1").
  std::string handoff = "none";
  std::string handoff_detail;
};

struct Report {
  std::uint64_t generation = 0;
  std::uint64_t done_upto = 0;          // every event up to here was handled (or not subscribed)
  std::vector<DeliveredEvent> delivered;
  bool skipped = false;                 // the request was of a generation disowned after a failure
  bool failed = false;
  std::uint64_t failed_seq = 0;
  std::string failure;                  // reason, shown in the log and in hubctl status
  // The event the failure is blamed on (its attempts count towards parking): failed_seq,
  // except when a call timed out after earlier events of the batch were handled but not yet
  // committed by the plugin (failed_seq is then the first of those).
  std::uint64_t culprit_seq = 0;
};

template <class T>
void send_owned(zmq::socket_t& socket, Tag tag, std::unique_ptr<T> object) {
  struct Frame {
    Tag tag;
    T* pointer;
  } frame{tag, object.release()};
#ifdef HUB_TSAN_BUILD
  if (frame.pointer != nullptr) __tsan_release(frame.pointer);
#endif
  socket.send(zmq::buffer(&frame, sizeof frame), zmq::send_flags::none);
}

// Receives one frame; returns its tag and (for tags that carry one) the raw pointer, which
// the caller must wrap in a unique_ptr of the right type at once.
inline std::pair<Tag, void*> receive_owned(zmq::socket_t& socket) {
  zmq::message_t msg;
  (void)socket.recv(msg);
  struct Frame {
    Tag tag;
    void* pointer;
  } frame{};
  if (msg.size() == sizeof frame) std::memcpy(&frame, msg.data(), sizeof frame);
#ifdef HUB_TSAN_BUILD
  if (frame.pointer != nullptr) __tsan_acquire(frame.pointer);
#endif
  return {frame.tag, frame.pointer};
}

inline void send_terminate(zmq::socket_t& socket) { send_owned<int>(socket, Tag::kTerminate, nullptr); }

// The host link's notice that no plugin host serves the department (any more). Every request
// it was given before has been (or will be) answered with a skipped Report, so the dispatcher
// disowns them: it moves to a new generation, rewinds to its last acknowledged position and
// answers with kRewound.
inline void send_host_lost(zmq::socket_t& socket) { send_owned<int>(socket, Tag::kHostLost, nullptr); }

// The dispatcher's answer to kHostLost: requests of a generation below `generation` are stale.
struct Rewound {
  std::uint64_t generation = 0;
};

// Frees the object a received frame owns, whatever its tag (for messages nobody will handle,
// e.g. those still queued in a pipe when its thread stops).
inline void discard_owned(Tag tag, void* pointer) {
  switch (tag) {
    case Tag::kStarted: delete static_cast<Started*>(pointer); break;
    case Tag::kRequest: delete static_cast<Request*>(pointer); break;
    case Tag::kReport: delete static_cast<Report*>(pointer); break;
    case Tag::kRewound: delete static_cast<Rewound*>(pointer); break;
    case Tag::kReload: delete static_cast<Reload*>(pointer); break;
    case Tag::kHostCrashed: delete static_cast<HostCrash*>(pointer); break;
    case Tag::kTerminate:
    case Tag::kHostLost: break;
  }
}

}  // namespace hub::runtime
