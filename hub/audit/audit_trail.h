// The one audit log of a running hubd, shared by its threads (admin, ingest, plugin hosts,
// the ZAP handler): the log opened on first use (through the opener the daemon hands in: the
// storage backend's), appends serialised by a mutex; after a failed append it is opened again
// for the next one, so its head is read again from what was stored.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "audit/audit_log.h"

namespace hub::audit {

class AuditTrail {
 public:
  // `open` opens the log (with the hub's signing key, if any); `where` names it in messages.
  AuditTrail(AuditLogOpener open, std::string where);
  ~AuditTrail();

  // Opens (creates) audit.db now rather than at the first record: hubd does it at start, so
  // that a missing audit.db is a finding for `hubctl audit verify`. Throws when it cannot.
  void open();

  // Appends one record, committed before it returns. Throws std::runtime_error when it cannot:
  // the caller then does not carry out what it was about to do (fail closed).
  void append(const AuditEntry& entry);

  // A refusal (a failed handshake, an unauthorised request). Refusals are recorded, but a
  // flood of them must not turn into a flood of fsyncs: at most kRefusalsPerSecond records a
  // second; the ones over it are counted and the count goes into the next record's detail
  // ("suppressed":N). Never throws (a refusal stays a refusal when it cannot be recorded).
  static constexpr int kRefusalsPerSecond = 20;
  void record_refusal(AuditEntry entry);

  const std::string& where() const { return where_; }

 private:
  void append_locked(const AuditEntry& entry);

  AuditLogOpener open_;
  std::string where_;
  std::mutex mutex_;
  std::unique_ptr<AuditLog> log_;
  std::chrono::steady_clock::time_point window_start_{};
  int in_window_ = 0;
  std::int64_t suppressed_ = 0;
};

}  // namespace hub::audit
