#include "audit/audit_trail.h"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace hub::audit {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AuditTrail::AuditTrail(AuditLogOpener open, std::string where) : open_(std::move(open)), where_(std::move(where)) {}
AuditTrail::~AuditTrail() = default;

void AuditTrail::append_locked(const AuditEntry& entry) {
  try {
    if (!log_) log_ = open_();
    log_->append(entry, now_ms());
  } catch (const std::exception&) {
    log_.reset();  // opened again for the next record
    throw;
  }
}

void AuditTrail::open() {
  std::lock_guard lock(mutex_);
  if (!log_) log_ = open_();
}

void AuditTrail::append(const AuditEntry& entry) {
  std::lock_guard lock(mutex_);
  append_locked(entry);
}

void AuditTrail::record_refusal(AuditEntry entry) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= kRefusalsPerSecond) {
    ++suppressed_;
    return;
  }
  ++in_window_;
  if (suppressed_ > 0) {
    // detail is compact JSON written by the hub: add the count before its closing brace.
    if (!entry.detail.empty() && entry.detail.back() == '}')
      entry.detail.insert(entry.detail.size() - 1,
                          std::string(entry.detail.size() > 2 ? "," : "") + "\"suppressed\":" + std::to_string(suppressed_));
  }
  try {
    append_locked(entry);
    suppressed_ = 0;
  } catch (const std::exception& e) {
    spdlog::error("audit: a refusal ({}) could not be recorded: {}", entry.kind, e.what());
  }
}

}  // namespace hub::audit
