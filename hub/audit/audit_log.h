// The tamper-evident audit log (SPEC §5, issue 5): an append-only store (audit.db in the SQLite
// backend, hub/store/sqlite/sqlite_audit_log.h) whose records are hash-chained — each record's
// hash is SHA-256 over the previous record's hash and the record itself — and optionally signed
// with the hub's Ed25519 key. This header is the part every backend shares: the record format,
// the hash, the signature, the verification walk, and the AuditLog interface.
//
// What the chain proves. Anyone who changes, deletes, inserts or reorders a record in the store
// breaks the chain at that record, and verification (verify_chain() below, e.g. through
// `hubctl audit verify`) names it. The head (last seq and hash) is kept with the records,
// written in the same transaction, so that deleting the last record or appending a forged one
// is caught too. Someone who rewrites the
// whole chain from a record onwards AND the head can only be caught by the signatures (they
// need the hub's secret key) or by a head published elsewhere (docs/security.md).
//
// Fail closed: append() commits durably before it returns and throws when it cannot;
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
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

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

// The audit log's contract: a store that appends records as the file comment says (hashed,
// chained, signed when it has the hub's key) and keeps the head with them. A storage backend
// implements it (hub/store/sqlite/sqlite_audit_log.h: audit.db); AuditTrail is handed an opener.
class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Appends the entries in one transaction and returns the seq of the last. Throws
  // StorageError (domain/status.h) when the log cannot be written: nothing was appended then,
  // unless the error says outcome_unknown (AuditTrail then opens the log again, which reads
  // the head from what was stored).
  virtual std::int64_t append(const std::vector<AuditEntry>& entries, std::int64_t at_ms) = 0;
  std::int64_t append(const AuditEntry& entry, std::int64_t at_ms) { return append(std::vector{entry}, at_ms); }

  virtual std::int64_t last_seq() const = 0;
};

// Opens the hub's audit log (with its signing key, if any); throws StorageError or
// std::runtime_error naming the file when it cannot.
using AuditLogOpener = std::function<std::unique_ptr<AuditLog>()>;

// The Ed25519 signature of a record's hash with the hub's key, in hex (128 digits).
std::string signature_hex(const Hash& hash, const SigningKey& key);

// The hash of one record (see the file comment).
Hash record_hash(const Hash& previous, std::int64_t seq, std::int64_t at_ms, const AuditEntry& entry);

struct VerifyResult {
  bool ok = false;
  std::int64_t records = 0;           // records checked
  std::int64_t signatures_checked = 0;
  std::int64_t first_bad_seq = 0;     // the record named, when !ok
  std::string first_bad_subject;      // its subject, when the record is there to read
  std::string problem;                // "modified", "deleted", "inserted", "reordered", "bad_signature", "unreadable",
                                      // "unchained" (a file from before its chain existed)
  std::string message;                // for people: which record, what is wrong, in Chinese and English
  std::string head_hash_hex;          // the chain head, when ok
};

// ---- Chains kept inside other files -------------------------------------------------------
// The event log chains every accepted event and the ledger every delivered action set with the
// same record hash, in the same transaction that stores them (eventlog/event_store.h,
// delivery/ledger.h). Their records are rows of those stores; the walker below is the one all
// three verifiers use (the SQLite backend's in hub/store/sqlite/chain_keeper.h).

// The `detail` of a chained row: its stored column values in a fixed order, each typed, so
// that no two different rows encode alike (integers big-endian):
//   NULL -> 'n' | INTEGER v -> 'i' v:u64 | TEXT t -> 't' len(t):u32 t | BLOB b -> 'b' len(b):u32 b
//   | REAL x -> 'r' len:u32 (x printed with %.17g)
// The writer encodes the values it binds; the verifier the values it reads back.
class RowDetail {
 public:
  RowDetail& null();
  RowDetail& integer(std::int64_t value);
  RowDetail& text(std::string_view value);
  RowDetail& blob(std::string_view value);
  RowDetail& real(std::string_view printed);  // a REAL as SQLite prints it (%.17g)
  const std::string& bytes() const noexcept { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  void length_prefixed(char tag, std::string_view value);
  std::string bytes_;
};

// One record as stored: hashes in hex, "" when the row has none.
struct ChainRecord {
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
  AuditEntry entry;
  std::string prev_hash;
  std::string hash;
  std::optional<std::string> signature;
};

struct ChainHead {
  std::int64_t seq = 0;
  std::string hash;  // hex
};

// How messages call the chain, e.g. {"审计链", "audit chain"}.
struct ChainName {
  std::string zh, en;
};

// Fills the next record in seq order; false after the last. May throw (unreadable file).
using NextRecord = std::function<bool(ChainRecord&)>;

// Walks records 1..n (from `next`) against the head (std::nullopt: the file has none) and
// names the first one modified, deleted, inserted or reordered. Exceptions from `next`
// propagate; callers report them with unreadable().
VerifyResult verify_chain(const ChainName& name, const std::optional<ChainHead>& head, const NextRecord& next,
                          const std::optional<std::array<unsigned char, 32>>& public_key = std::nullopt);
VerifyResult unreadable(const ChainName& name, const std::string& path, const std::string& why);

// The hash as stored in events.db and ledger.db (32-byte BLOB) <-> hex.
std::string blob_to_hex(const std::string& blob);

std::string to_hex(const unsigned char* data, std::size_t size);
// SHA-256 of everything `in` yields, with the chains' hash function (OpenSSL libcrypto), as hex;
// read in 64 KiB blocks (a backup hashes whole databases with it).
std::string sha256_hex(std::istream& in);
// Decodes lower- or upper-case hex of exactly `size` bytes; std::nullopt otherwise.
std::optional<std::vector<unsigned char>> from_hex(const std::string& text, std::size_t size);

}  // namespace hub::audit
