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
// Failed handshakes and refusals are counted and written to the audit log.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

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
  // "admin", "plugin_hosts" or "live_feed". Call before bind().
  void secure(zmq::socket_t& socket, const std::string& domain) const;

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

  // {"clients_file", "keys":[{name, roles, public_key}], "handshakes": {"accepted", "refused"},
  //  "refused_messages"}: for `hubctl keys list` and /metrics.
  nlohmann::json describe() const;
  const std::string& server_public_key() const { return server_public_key_; }

 private:
  void serve();  // the ZAP handler's thread
  std::shared_ptr<const KeyRing> ring() const;

  std::string server_secret_key_;
  std::string server_public_key_;
  std::string clients_file_;
  std::set<std::string> departments_;
  audit::AuditTrail& audit_;

  mutable std::mutex ring_mutex_;
  std::shared_ptr<const KeyRing> ring_;

  zmq::socket_t zap_;
  zmq::socket_t control_;        // the destructor's stop signal
  zmq::socket_t control_peer_;
  std::thread thread_;

  std::atomic<std::uint64_t> handshakes_accepted_{0};
  std::atomic<std::uint64_t> handshakes_refused_{0};
  mutable std::atomic<std::uint64_t> messages_refused_{0};
};

}  // namespace hub::security
