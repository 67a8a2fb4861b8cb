#include "store/sqlite/chain_keeper.h"

#include "store/ledger_records.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>
#include <vector>


namespace hub::store {

using audit::AuditEntry;
using audit::ChainHead;
using audit::ChainName;
using audit::ChainRecord;
using audit::RowDetail;
using audit::VerifyResult;
using audit::blob_to_hex;
using audit::from_hex;
using audit::to_hex;

namespace {

// The columns of a chained row, in the order RecordReader::read() expects them (the formats
// are documented in audit_log.h, event_log.h and ledger.h).
constexpr const char* kAuditColumns = "seq, at_ms, kind, actor, subject, detail, prev_hash, hash, signature";
constexpr const char* kEventColumns =
    "seq, received_at_ms, publisher, event_id, type, household_id, village, status, previous_status, quarter, "
    "previous_quarter, effective_date, designations, correction, digest, body, prev_hash, hash";
constexpr const char* kLedgerColumns =
    "chain_seq, delivered_at_ms, department, seq, household_id, event_id, plugin_version, actions, handoff, "
    "handoff_detail, prev_hash, hash";

std::string head_write(const std::string& table) {
  return "INSERT INTO " + table +
         " (id, seq, hash) VALUES (1, ?, ?) "
         "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";
}

// How a file stores its chain.
struct Layout {
  ChainName name;       // the chain, in messages
  ChainName file_name;  // the file, in messages
  std::string table;    // the chained rows
  std::string head_select, head_write;
  std::string records;  // every chained record, in chain order (verification)
  // An older file's rows not chained yet, after a key (?1 = seq in events.db; ?1, ?2 =
  // department, seq in ledger.db), in key order, a chunk at a time (a county's ledger has tens
  // of millions of rows), and the update that chains one. events.db is chained whole.
  std::string unchained_chunk, link_row;
};

const Layout& layout(ChainedFile file) {
  static const Layout audit{{"审计链", "audit chain"},
                            {"审计日志", "audit log"},
                            "audit",
                            "SELECT seq, hash FROM head WHERE id = 1",
                            head_write("head"),
                            std::string("SELECT ") + kAuditColumns + " FROM audit ORDER BY seq",
                            "",
                            ""};
  static const Layout events{
      {"事件链", "event chain"},
      {"事件日志", "event log"},
      "event",
      "SELECT seq, hash FROM chain_head WHERE id = 1",
      head_write("chain_head"),
      std::string("SELECT ") + kEventColumns + " FROM event ORDER BY seq",
      std::string("SELECT ") + kEventColumns + " FROM event WHERE seq > ? ORDER BY seq LIMIT 4096",
      "UPDATE event SET prev_hash = ?, hash = ? WHERE seq = ?"};
  static const Layout ledger{
      {"台账链", "ledger chain"},
      {"台账", "ledger"},
      "delivery",
      "SELECT seq, hash FROM chain_head WHERE id = 1",
      head_write("chain_head"),
      std::string("SELECT ") + kLedgerColumns + " FROM delivery WHERE chain_seq IS NOT NULL ORDER BY chain_seq",
      std::string("SELECT ") + kLedgerColumns +
          " FROM delivery WHERE (department, seq) > (?, ?) AND chain_seq IS NULL ORDER BY department, seq LIMIT 4096",
      "UPDATE delivery SET chain_seq = ?, prev_hash = ?, hash = ? WHERE department = ? AND seq = ?"};
  switch (file) {
    case ChainedFile::kAudit:
      return audit;
    case ChainedFile::kEvents:
      return events;
    case ChainedFile::kLedger:
      return ledger;
  }
  return audit;
}

std::string hex(const Hash& h) { return to_hex(h.data(), h.size()); }

// A stored hash (hex TEXT in audit.db, a 32-byte BLOB elsewhere) as hex; "" when NULL.
std::string stored_hex(ChainedFile file, const store::Statement& q, int column) {
  if (q.column_is_null(column)) return {};
  return file == ChainedFile::kAudit ? q.column_text(column) : blob_to_hex(q.column_blob(column));
}

// Reads records back from rows as layout().records selects them: what each writer chained
// (audit_log.h, event_log.h, ledger.h) from the values it bound.
class RecordReader {
 public:
  RecordReader(store::Database& db, ChainedFile file) : file_(file) {
    if (file != ChainedFile::kLedger) return;
    store::Statement q(db, "SELECT id, text FROM reason");
    while (q.step()) reasons_.emplace(q.column_int(0), q.column_text(1));
  }

  void read(const store::Statement& q, ChainRecord& r) const {
    r.seq = q.column_int(0);
    r.at_ms = q.column_int(1);
    RowDetail detail;
    int hashes = 0;  // the column of prev_hash; hash follows
    switch (file_) {
      case ChainedFile::kAudit:
        r.entry = {q.column_text(2), q.column_text(3), q.column_text(4), q.column_text(5)};
        r.signature = q.column_is_null(8) ? std::nullopt : std::optional<std::string>(q.column_text(8));
        hashes = 6;
        break;
      case ChainedFile::kEvents:
        r.entry.kind = "event_accepted";
        r.entry.actor = q.column_text(2);
        r.entry.subject = q.column_text(3);
        for (int c = 4; c <= 15; ++c) append_column(detail, q, c);
        r.entry.detail = detail.take();
        r.signature.reset();
        hashes = 16;
        break;
      case ChainedFile::kLedger:
        r.entry.kind = "policy_action";
        r.entry.actor = q.column_text(2);
        r.entry.subject = q.column_text(2) + ":" + q.column_text(3);
        for (int c = 4; c <= 9; ++c) append_column(detail, q, c);
        append_reasons(detail, q.column_text(7), reasons_);
        r.entry.detail = detail.take();
        r.signature.reset();
        hashes = 10;
        break;
    }
    r.prev_hash = stored_hex(file_, q, hashes);
    r.hash = stored_hex(file_, q, hashes + 1);
  }

 private:
  ChainedFile file_;
  ReasonTexts reasons_;
};

std::optional<ChainHead> read_head(store::Database& db, ChainedFile file) {
  store::Statement q(db, layout(file).head_select.c_str());
  if (!q.step()) return std::nullopt;
  return ChainHead{q.column_int(0), stored_hex(file, q, 1)};
}

VerifyResult verify_file(const std::string& path, ChainedFile file,
                         const std::optional<std::array<unsigned char, 32>>& public_key) {
  const Layout& l = layout(file);
  try {
    store::Database db(path, store::Database::Mode::kReadOnly);
    store::ReadTransaction snapshot(db);
    if (file != ChainedFile::kAudit && !has_column(db, l.table, "hash")) {
      VerifyResult result;
      result.problem = "unchained";
      result.message = l.file_name.zh + " " + path + " 尚无哈希链（旧版 hubd 写入；hubd 下次启动时补上） / the " +
                       l.file_name.en + " " + path +
                       " has no hash chain yet (written by an older hubd; hubd chains it when it next starts)";
      return result;
    }
    const RecordReader reader(db, file);
    const std::optional<ChainHead> head = read_head(db, file);
    store::Statement rows(db, l.records.c_str());
    VerifyResult result = audit::verify_chain(
        l.name, head,
        [&](ChainRecord& r) {
          if (!rows.step()) return false;
          reader.read(rows, r);
          return true;
        },
        public_key);
    if (!result.ok || file != ChainedFile::kLedger) return result;
    // A delivery outside the chain was put there by someone else.
    store::Statement outside(
        db, "SELECT department, seq FROM delivery WHERE chain_seq IS NULL ORDER BY department, seq LIMIT 1");
    if (outside.step()) {
      name_delivery_outside_chain(result, outside.column_text(0) + ":" + outside.column_text(1));
    }
    return result;
  } catch (const std::exception& e) {
    return audit::unreadable(l.file_name, path, e.what());
  }
}

}  // namespace

ChainKeeper::ChainKeeper(store::Database& db, ChainedFile file) : db_(db), file_(file) {
  write_head_ = std::make_unique<store::Statement>(db_, layout(file_).head_write.c_str());
  if (const auto head = read_head(db_, file_)) {
    seq_ = head->seq;
    // audit.db refuses an unreadable head; the BLOB heads of events.db and ledger.db have
    // always been taken as zeros then (verification names the break).
    const auto bytes = from_hex(head->hash, hash_.size());
    if (bytes)
      std::copy(bytes->begin(), bytes->end(), hash_.begin());
    else if (file_ == ChainedFile::kAudit)
      throw std::runtime_error("the chain head's hash is not 64 hex digits");
  }
  committed_seq_ = seq_;
  committed_hash_ = previous_ = hash_;
}

ChainKeeper::~ChainKeeper() = default;

void ChainKeeper::write_head() {
  if (!linked_) return;
  write_head_->bind(1, seq_);
  if (file_ == ChainedFile::kAudit)
    write_head_->bind(2, hex(hash_));
  else
    write_head_->bind_blob(2, hash_.data(), hash_.size());
  write_head_->run();
}

void ChainKeeper::committed() noexcept {
  committed_seq_ = seq_;
  committed_hash_ = hash_;
  linked_ = false;
}

void ChainKeeper::rolled_back() noexcept {
  seq_ = committed_seq_;
  hash_ = previous_ = committed_hash_;
  linked_ = false;
  write_head_->reset();
}

std::uint64_t ChainKeeper::chain_stored_rows() {
  if (file_ == ChainedFile::kAudit) throw std::logic_error("audit.db has had its chain from its first record");
  const bool ledger = file_ == ChainedFile::kLedger;
  const RecordReader reader(db_, file_);
  store::Statement chunk(db_, layout(file_).unchained_chunk.c_str());
  store::Statement update(db_, layout(file_).link_row.c_str());
  struct Chained {
    std::string department;  // the row's key: (department, seq) in ledger.db, seq in events.db
    std::int64_t key_seq, seq;
    Hash previous, hash;
  };
  std::string after_department;
  std::int64_t after_seq = 0;
  std::uint64_t chained = 0;
  ChainRecord r;
  for (;;) {
    // Read a chunk, then write it: no update while the select walks the table.
    std::vector<Chained> rows;
    if (ledger)
      chunk.bind(1, std::string_view(after_department)).bind(2, after_seq);
    else
      chunk.bind(1, after_seq);
    while (chunk.step()) {
      reader.read(chunk, r);
      // A delivery's place in the chain is given now; an event's is its seq.
      link(ledger ? seq_ + 1 : r.seq, r.at_ms, r.entry);
      rows.push_back(
          {ledger ? chunk.column_text(2) : std::string(), chunk.column_int(ledger ? 3 : 0), seq_, previous_, hash_});
    }
    chunk.reset();
    if (rows.empty()) break;
    for (const Chained& c : rows) {
      // ledger.db: chain_seq, prev_hash, hash, department, seq; events.db: prev_hash, hash, seq.
      const int first = ledger ? 2 : 1;
      if (ledger) update.bind(1, c.seq).bind(4, c.department);
      update.bind_blob(first, c.previous.data(), c.previous.size()).bind_blob(first + 1, c.hash.data(), c.hash.size());
      update.bind(ledger ? 5 : 3, c.key_seq);
      update.run();
    }
    after_department = rows.back().department;
    after_seq = rows.back().key_seq;
    chained += rows.size();
  }
  write_head();
  return chained;
}

VerifyResult verify_audit_log(const std::string& path, const std::optional<std::array<unsigned char, 32>>& public_key) {
  return verify_file(path, ChainedFile::kAudit, public_key);
}

VerifyResult verify_event_chain(const std::string& path) {
  return verify_file(path, ChainedFile::kEvents, std::nullopt);
}

VerifyResult verify_ledger_chain(const std::string& path) {
  return verify_file(path, ChainedFile::kLedger, std::nullopt);
}


void append_column(RowDetail& detail, const Statement& row, int index) {
  using Type = Statement::Type;
  switch (row.column_type(index)) {
    case Type::kNull: detail.null(); return;
    case Type::kInteger: detail.integer(row.column_int(index)); return;
    case Type::kText: detail.text(row.column_text(index)); return;
    case Type::kBlob: detail.blob(row.column_blob(index)); return;
    case Type::kFloat: detail.real(row.column_text(index)); return;
  }
}

}  // namespace hub::store
