// Who may connect to hubd, and what they may do once connected (issue 5, docs/security.md).
//
// With CURVE on, every TCP server socket of hubd (ingest, admin, plugin hosts, live feed) is a
// CURVE server with the hub's secret key, and every handshake is decided by this gatekeeper's
// ZAP handler (RFC 27) on inproc://zeromq.zap.01. libzmq lets any client key in when no ZAP
// handler answers, so the handler is bound in the constructor, and secure() — the only way a
// socket becomes a CURVE server here — needs a constructed gatekeeper: no socket can be a
// CURVE server without its handshakes being checked.
//
// The handshake lets in a key listed in the clients file (unknown keys are refused there, and
// so is every key but an observer's or admin's on the live feed, which cannot answer a
// message). The ZAP user id is the client's public key; each message is then checked against
// the key ring as it is *now* (allow()), so a key removed from the clients file and reloaded
// is refused on connections it already has, too.
//
// Failed handshakes and refusals are counted and written to the audit log. That covers the
// handshakes libzmq refuses before asking the ZAP handler, too: a client that does not speak
// CURVE (NULL or PLAIN) and one that uses another hub's public key. secure() attaches a
// socket monitor to each server socket for those, and the handler's thread reads it.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "audit/audit_trail.h"
#include "security/keys.h"

namespace hub::security {

class Gatekeeper {
 public:
  // Loads the clients file and binds the ZAP handler. Throws std::runtime_error (naming the
  // file and entry) when the clients file is invalid, or when the handler cannot be bound.
  Gatekeeper(zmq::context_t& context, std::string server_secret_key, std::string clients_file,
             std::set<std::string> departments, audit::AuditTrail& audit);
  ~Gatekeeper();
  Gatekeeper(const Gatekeeper&) = delete;
  Gatekeeper& operator=(const Gatekeeper&) = delete;

  // Makes `socket` a CURVE server whose handshakes are decided here for `domain`: "ingest",
  // "admin", "plugin_hosts" or "live_feed", and watches it (a socket monitor) for handshakes
  // libzmq refuses itself. Call before bind(), from the socket's own thread; the gatekeeper
  // must outlive the socket. A socket has only one monitor: an owner that monitors the socket
  // itself passes Watching::kByOwner, asks for kWatchedEvents too and hands those events to
  // handshake_failed().
  enum class Watching { kByGatekeeper, kByOwner };
  void secure(zmq::socket_t& socket, const std::string& domain, Watching watching = Watching::kByGatekeeper) const;
  // The monitor events of handshakes that fail before the ZAP handler is asked. (Its own
  // refusals come as ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, counted where they are decided.)
  static constexpr int kWatchedEvents = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
  // A handshake on `domain` that failed before the ZAP handler was asked: a monitor event of
  // kWatchedEvents with its value (a ZMQ_PROTOCOL_ERROR_ZMTP_* code, or an errno). Counted,
  // logged and audited; thread-safe.
  void handshake_failed(const std::string& domain, int event, std::uint32_t value) const;

  // Why a handshake was refused: the counters of describe() and /metrics.
  enum class Refusal { kUnknownKey, kRole, kNotCurve, kWrongHubKey, kMalformed, kIncomplete };
  static constexpr std::size_t kRefusalKinds = 6;
  static const char* refusal_name(Refusal r);

  struct Verdict {
    bool allowed = false;
    bool internal = false;  // came without a handshake (inproc, from inside hubd)
    std::string who;        // the key's name, or "(revoked key <first 8>…)"
    std::string reason;     // when refused: for the reply and the audit log
  };
  // May the sender of `frame` (any frame of a message received on a secured socket) act as
  // `role` now? A message that came without a handshake is internal and allowed. A refusal is
  // recorded in the audit log (see AuditTrail::record_refusal).
  Verdict allow(const zmq::message_t& frame, std::string_view role, const std::string& endpoint,
                const std::string& request) const;
  // The name of a key in the current ring ("" when it is not there).
  std::string name_of(const std::string& public_key) const;

  // Reads the clients file again. On success the new ring replaces the old at once (new
  // handshakes and every later message); on error the old ring stays and the error names the
  // entry. The caller audits it (it is an operator action).
  struct ReloadResult {
    bool ok = false;
    std::string error;  // ConfigError::to_string()
    std::size_t keys = 0;
    std::vector<std::string> added, removed;  // names
  };
  ReloadResult reload();

  // {"clients_file", "keys":[{name, roles, public_key}], "handshakes": {"accepted", "refused",
  //  "refused_by_reason": {refusal_name: n}}, "refused_messages"}: for `hubctl keys list` and
  //  /metrics.
  nlohmann::json describe() const;
  const std::string& server_public_key() const { return server_public_key_; }

 private:
  void serve();  // the ZAP handler's thread; it reads the socket monitors too
  void answer_zap();
  void refused(Refusal why, const std::string& domain, audit::AuditEntry entry, const std::string& log_line) const;
  std::shared_ptr<const KeyRing> ring() const;

  // A secured socket's monitor: the PAIR end this gatekeeper reads.
  struct Watch {
    zmq::socket_t events;
    std::string domain;
  };

  std::string server_secret_key_;
  std::string server_public_key_;
  std::string clients_file_;
  std::set<std::string> departments_;
  audit::AuditTrail& audit_;

  mutable std::mutex ring_mutex_;
  std::shared_ptr<const KeyRing> ring_;

  zmq::context_t& context_;
  zmq::socket_t zap_;
  zmq::socket_t control_;        // "$WATCH" (new monitors) and the destructor's "$TERM"
  mutable std::mutex control_mutex_;
  mutable zmq::socket_t control_peer_;
  mutable std::mutex watch_mutex_;
  mutable std::vector<Watch> new_watches_;  // from secure(), for serve() to take
  mutable std::atomic<std::uint64_t> watches_made_{0};
  std::thread thread_;

  // When each kind of refusal was last logged per endpoint, and how many since.
  struct Logged {
    std::chrono::steady_clock::time_point at;
    std::uint64_t since = 0;
  };
  mutable std::mutex logged_mutex_;
  mutable std::map<std::pair<std::string, Refusal>, Logged> logged_;

  std::atomic<std::uint64_t> handshakes_accepted_{0};
  mutable std::atomic<std::uint64_t> refusals_[kRefusalKinds] = {};
  mutable std::atomic<std::uint64_t> messages_refused_{0};
};

}  // namespace hub::security
