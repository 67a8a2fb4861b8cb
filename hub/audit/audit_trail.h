// The one audit log of a running hubd, shared by its threads (admin, ingest, plugin hosts,
// the ZAP handler): audit.db opened on first use, appends serialised by a mutex.
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
  // With a signing key, every record is signed (AuditLog).
  explicit AuditTrail(std::string path, std::optional<SigningKey> signing_key = std::nullopt);
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

  const std::string& path() const { return path_; }

 private:
  void append_locked(const AuditEntry& entry);

  std::string path_;
  std::optional<SigningKey> signing_key_;
  std::mutex mutex_;
  std::unique_ptr<AuditLog> log_;
  std::chrono::steady_clock::time_point window_start_{};
  int in_window_ = 0;
  std::int64_t suppressed_ = 0;
};

}  // namespace hub::audit
