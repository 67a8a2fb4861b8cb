// The tamper-evident audit log (SPEC §5, issue 5): an append-only SQLite file, audit.db, whose
// records are hash-chained — each record's hash is SHA-256 over the previous record's hash and
// the record itself — and optionally signed with the hub's Ed25519 key.
//
// What the chain proves. Anyone who changes, deletes, inserts or reorders a record in the file
// breaks the chain at that record, and verify_audit_log() names it. The head (last seq and
// hash) is kept in the same file, written in the same transaction as the records, so that
// deleting the last record or appending a forged one is caught too. Someone who rewrites the
// whole chain from a record onwards AND the head can only be caught by the signatures (they
// need the hub's secret key) or by a head published elsewhere (docs/security.md).
//
// Fail closed: append() commits (synchronous=FULL) before it returns and throws when it cannot;
// a caller audits an operation first and does not perform it when append() throws.
//
// Record hash, byte by byte (all integers big-endian):
//   SHA-256( prev_hash[32] || seq:u64 || at_ms:u64 ||
//            len(kind):u32 kind || len(actor):u32 actor || len(subject):u32 subject ||
//            len(detail):u32 detail )
// with prev_hash = 32 zero bytes for record 1. Signature: Ed25519 over the 32-byte hash.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hub::store {
class Database;
}

namespace hub::audit {

using Hash = std::array<unsigned char, 32>;

// What happened, who did it, to what. `detail` is free text (the hub writes compact JSON).
struct AuditEntry {
  std::string kind;     // e.g. "event_accepted", "policy_actions", "admin_retry", "refused"
  std::string actor;    // who: a key's name, "hubd", a department id
  std::string subject;  // what: an event id, "<department>:<seq>", a command
  std::string detail;
};

// An Ed25519 key pair as libsodium makes it (crypto_sign_keypair): 32-byte public key,
// 64-byte secret key.
struct SigningKey {
  std::array<unsigned char, 32> public_key{};
  std::array<unsigned char, 64> secret_key{};
  static SigningKey generate();
  // Reads a NAME.sign.key file (128 hex digits, as hubctl keygen writes it). Throws
  // std::runtime_error naming the file when it is not one.
  static SigningKey from_file(const std::string& path);
};

class AuditLog {
 public:
  // Opens (creates) the audit file. With a signing key, every record appended is signed.
  // Throws std::runtime_error naming the file when it cannot be opened or its chain head is
  // unreadable.
  explicit AuditLog(const std::string& path, std::optional<SigningKey> signing_key = std::nullopt);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends the entries in one transaction and returns the seq of the last; throws
  // std::runtime_error (nothing appended) when the file cannot be written.
  std::int64_t append(const std::vector<AuditEntry>& entries, std::int64_t at_ms);
  std::int64_t append(const AuditEntry& entry, std::int64_t at_ms) { return append(std::vector{entry}, at_ms); }

  std::int64_t last_seq() const { return head_seq_; }

 private:
  std::unique_ptr<store::Database> db_;
  std::optional<SigningKey> signing_key_;
  std::int64_t head_seq_ = 0;
  Hash head_hash_{};
};

// The hash of one record (see the file comment).
Hash record_hash(const Hash& previous, std::int64_t seq, std::int64_t at_ms, const AuditEntry& entry);

struct VerifyResult {
  bool ok = false;
  std::int64_t records = 0;           // records checked
  std::int64_t signatures_checked = 0;
  std::int64_t first_bad_seq = 0;     // the record named, when !ok
  std::string problem;                // "modified", "deleted", "inserted", "reordered", "bad_signature", "unreadable"
  std::string message;                // for people: which record, what is wrong, in Chinese and English
  std::string head_hash_hex;          // the chain head, when ok
};

// Walks the chain of the audit file at `path` (read-only) and names the first record that was
// modified, deleted, inserted or reordered. With a public key, signatures are checked too (a
// record without one is then a failure).
VerifyResult verify_audit_log(const std::string& path,
                              const std::optional<std::array<unsigned char, 32>>& public_key = std::nullopt);

std::string to_hex(const unsigned char* data, std::size_t size);
// Decodes lower- or upper-case hex of exactly `size` bytes; std::nullopt otherwise.
std::optional<std::vector<unsigned char>> from_hex(const std::string& text, std::size_t size);

}  // namespace hub::audit
