#include "store/sqlite/sqlite_event_store.h"

#include <array>
#include <map>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

#include "domain/activity_minute.h"
#include "store/event_row.h"
#include "store/sqlite/backup.h"
#include "store/sqlite/checkpointer.h"

namespace hub::store {

using hub::sdk::HouseholdStatus;

namespace {

// events.db's schema version (PRAGMA user_version): 0 before the audit chain, 1 with it, 2
// with the counts of /metrics (table event_tally), 3 with the timeline's (table status_minute).
constexpr std::int64_t kEventLogVersion = 3;

}  // namespace

const char* event_log_schema() {
  return R"sql(
CREATE TABLE IF NOT EXISTS event (
  seq              INTEGER PRIMARY KEY,
  event_id         TEXT NOT NULL UNIQUE,
  type             TEXT NOT NULL,
  household_id     TEXT NOT NULL,
  village          TEXT NOT NULL,
  status           TEXT,
  previous_status  TEXT,
  quarter          TEXT,
  previous_quarter TEXT,
  effective_date   TEXT,
  designations     TEXT,
  correction       INTEGER NOT NULL DEFAULT 0,
  received_at_ms   INTEGER NOT NULL,
  digest           TEXT NOT NULL,
  body             TEXT NOT NULL,
  publisher        TEXT NOT NULL DEFAULT '',  -- who published it (the key's name), the chain's actor
  prev_hash        BLOB,                      -- the audit chain (event_log.h): the previous event's hash
  hash             BLOB                       -- and this event's, SHA-256 as in audit_log.h
);
CREATE INDEX IF NOT EXISTS event_by_household ON event(household_id, seq);
CREATE TABLE IF NOT EXISTS household (
  household_id         TEXT PRIMARY KEY,
  village              TEXT NOT NULL,
  head                 TEXT,
  members              INTEGER,
  registered_seq       INTEGER NOT NULL,
  commitment_signed_on TEXT,
  commitment_seq       INTEGER,
  status               TEXT NOT NULL DEFAULT 'unevaluated',
  quarter              TEXT,
  designations         TEXT,
  status_seq           INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chain_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash BLOB NOT NULL
);
-- The events stored, by type, added to in the transaction that stores them: /metrics reads
-- three rows, not the whole log.
CREATE TABLE IF NOT EXISTS event_tally (
  type TEXT PRIMARY KEY,
  n    INTEGER NOT NULL
) WITHOUT ROWID;
-- The status changes stored, per minute of receipt (its first ms), village and status, added to
-- in the same transaction: the overview's timeline reads a few rows per minute of activity, not
-- the log.
CREATE TABLE IF NOT EXISTS status_minute (
  minute_ms INTEGER NOT NULL,
  village   TEXT NOT NULL,
  status    TEXT NOT NULL,
  n         INTEGER NOT NULL,
  PRIMARY KEY (minute_ms, village, status)
) WITHOUT ROWID;
)sql";
}

SqliteEventStore::SqliteEventStore(const std::string& path) try : db_(path, Database::Mode::kReadWrite) {
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=FULL");
  disable_auto_checkpoint(db_);  // hubd's Checkpointer does it off the commit path
  const std::int64_t version = user_version(db_);
  if (version > kEventLogVersion)
    throw SqliteError(0, path + ": event log schema version " + std::to_string(version) +
                                    " is newer than this hubd understands (" + std::to_string(kEventLogVersion) +
                                    "); upgrade hubd");
  bool had_events = version >= 1;
  if (version < 1) {
    Statement had(db_, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'event'");
    had.step();
    had_events = had.column_int(0) > 0;
    had.reset();
  }
  // The file as it was, before any upgrade changes it (docs/operations.md); a new file has
  // nothing to keep.
  if (version < kEventLogVersion && had_events) keep_before_upgrade(db_, kEventLogVersion);
  if (version < 1) upgrade_to_chain(had_events);
  if (version < kEventLogVersion) {
    count_stored_events(version);
  } else {
    db_.exec(event_log_schema());
  }
  insert_event_ = std::make_unique<Statement>(
      db_,
      "INSERT INTO event (seq, event_id, type, household_id, village, status, previous_status, quarter, "
      "previous_quarter, effective_date, designations, correction, received_at_ms, digest, body, publisher, "
      "prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  upsert_household_ = std::make_unique<Statement>(
      db_,
      "INSERT INTO household (household_id, village, head, members, registered_seq) VALUES (?,?,?,?,?) "
      "ON CONFLICT(household_id) DO UPDATE SET village=excluded.village, head=excluded.head, "
      "members=excluded.members, registered_seq=excluded.registered_seq");
  update_commitment_ = std::make_unique<Statement>(
      db_, "UPDATE household SET commitment_signed_on = ?, commitment_seq = ? WHERE household_id = ?");
  update_status_ = std::make_unique<Statement>(
      db_, "UPDATE household SET status = ?, quarter = ?, designations = ?, status_seq = ? WHERE household_id = ?");
  add_tally_ = std::make_unique<Statement>(
      db_, "INSERT INTO event_tally (type, n) VALUES (?1, ?2) ON CONFLICT DO UPDATE SET n = n + ?2");
  add_minute_ = std::make_unique<Statement>(
      db_, "INSERT INTO status_minute (minute_ms, village, status, n) VALUES (?1, ?2, ?3, ?4) "
           "ON CONFLICT DO UPDATE SET n = n + ?4");

  lookup_db_ = std::make_unique<Database>(path, Database::Mode::kReadWrite);
  lookup_db_->exec("PRAGMA query_only=1");
  find_id_ = std::make_unique<Statement>(*lookup_db_, "SELECT seq, digest FROM event WHERE event_id = ?");
  find_status_in_quarter_ = std::make_unique<Statement>(
      *lookup_db_,
      "SELECT status FROM event WHERE household_id = ? AND quarter = ? AND type = 'status_change' "
      "ORDER BY seq DESC LIMIT 1");
  const std::uint64_t last = read_last_seq();
  chain_ = std::make_unique<ChainKeeper>(db_, ChainedFile::kEvents);
  const std::int64_t head_seq = chain_->seq();
  // Both are written in every commit; they differ only when someone changed the file.
  if (head_seq != static_cast<std::int64_t>(last))
    spdlog::error("{}: the audit chain's head is at seq {} but the last event is seq {}: the file was changed outside "
                  "hubd; new events are chained onto the head (run 'hubctl audit verify')",
                  path, head_seq, last);
} catch (const SqliteError& e) {
  throw StorageError(e.status());
}

// Version 0 -> 1: adds the chain's columns and head and chains every stored event in seq
// order (publisher ""), in one transaction.
void SqliteEventStore::upgrade_to_chain(bool had_events) {
  Transaction tx(db_);
  db_.exec(event_log_schema());
  if (!has_column(db_, "event", "hash")) {
    db_.exec("ALTER TABLE event ADD COLUMN publisher TEXT NOT NULL DEFAULT ''");
    db_.exec("ALTER TABLE event ADD COLUMN prev_hash BLOB");
    db_.exec("ALTER TABLE event ADD COLUMN hash BLOB");
  }
  const std::uint64_t chained = ChainKeeper(db_, ChainedFile::kEvents).chain_stored_rows();
  db_.exec("PRAGMA user_version=1");
  tx.commit();
  chained_at_open_ = chained;
  if (had_events)
    spdlog::info("{}: upgraded to the audit chain: {} stored events chained (their publisher unknown)", db_.path(), chained);
}

// Version 1 -> 2: the counts by type; 2 -> 3: the status changes per minute; both from the
// stored events, in one transaction.
void SqliteEventStore::count_stored_events(std::int64_t version) {
  Transaction tx(db_);
  db_.exec(event_log_schema());
  if (version < 2) {
    db_.exec("DELETE FROM event_tally");
    db_.exec("INSERT INTO event_tally SELECT type, COUNT(*) FROM event GROUP BY type");
  }
  db_.exec("DELETE FROM status_minute");
  db_.exec(("INSERT INTO status_minute SELECT received_at_ms / " + std::to_string(kActivityMinuteMs) + " * " +
            std::to_string(kActivityMinuteMs) + ", village, status, COUNT(*) FROM event "
            "WHERE type = 'status_change' GROUP BY 1, 2, 3").c_str());
  db_.exec(("PRAGMA user_version=" + std::to_string(kEventLogVersion)).c_str());
  tx.commit();
}

SqliteEventStore::~SqliteEventStore() = default;

std::uint64_t SqliteEventStore::read_last_seq() {
  Statement last(db_, "SELECT COALESCE(MAX(seq), 0) FROM event");
  last.step();
  return static_cast<std::uint64_t>(last.column_int(0));
}

std::uint64_t SqliteEventStore::last_seq() {
  return guarded([&] { return read_last_seq(); });
}

std::vector<StoredHousehold> SqliteEventStore::load_households() {
  return guarded([&] {
    std::vector<StoredHousehold> out;
    Statement load(db_, "SELECT household_id, village, status, quarter FROM household");
    while (load.step()) {
      StoredHousehold h;
      h.household_id = load.column_text(0);
      h.village = load.column_text(1);
      h.status = hub::sdk::parse_household_status(load.column_text(2)).value_or(HouseholdStatus::kUnevaluated);
      h.quarter = load.column_text(3);
      out.push_back(std::move(h));
    }
    return out;
  });
}

namespace {

// One read snapshot (BEGIN … COMMIT) around a request's event_id look-ups.
class SqliteLookups final : public EventStore::Lookups {
 public:
  SqliteLookups(Database& db, Statement& find, Statement& status_in_quarter)
      : snapshot_(db), find_(find), status_in_quarter_(status_in_quarter) {}
  std::optional<KnownEvent> find(const std::string& event_id) override {
    return guarded([&] {
      find_.bind(1, event_id);
      std::optional<KnownEvent> known;
      if (find_.step()) known = KnownEvent{static_cast<std::uint64_t>(find_.column_int(0)), find_.column_text(1)};
      find_.reset();
      return known;
    });
  }
  std::optional<hub::sdk::HouseholdStatus> status_in_quarter(const std::string& household_id,
                                                             const std::string& quarter) override {
    return guarded([&] {
      status_in_quarter_.bind(1, household_id).bind(2, quarter);
      std::optional<hub::sdk::HouseholdStatus> status;
      if (status_in_quarter_.step()) status = hub::sdk::parse_household_status(status_in_quarter_.column_text(0));
      status_in_quarter_.reset();
      return status;
    });
  }

 private:
  ReadTransaction snapshot_;
  Statement& find_;
  Statement& status_in_quarter_;
};

}  // namespace

std::unique_ptr<EventStore::Lookups> SqliteEventStore::lookups() {
  return guarded([&]() -> std::unique_ptr<EventStore::Lookups> { return std::make_unique<SqliteLookups>(*lookup_db_, *find_id_, *find_status_in_quarter_);
  });
}

void SqliteEventStore::each_event_id(const std::function<void(std::string_view)>& visit) {
  guarded([&] {
    // Chunks of 100,000 by seq (the rowid), each its own read on the look-ups' connection.
    constexpr std::int64_t kChunk = 100000;
    Statement chunk(*lookup_db_, "SELECT seq, event_id FROM event WHERE seq > ? ORDER BY seq LIMIT ?");
    for (std::int64_t after = 0;;) {
      chunk.bind(1, after).bind(2, kChunk);
      std::int64_t rows = 0;
      while (chunk.step()) {
        after = chunk.column_int(0);
        visit(chunk.column_text(1));
        ++rows;
      }
      chunk.reset();
      if (rows < kChunk) return;
    }
  });
}

void SqliteEventStore::append(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) {
  if (group.empty()) return;
  guarded([&] { append_group(group, received_at_ms); });
}

void SqliteEventStore::append_group(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) {
  if (stale_) {
    chain_ = std::make_unique<ChainKeeper>(db_, ChainedFile::kEvents);  // the head as stored
    stale_ = false;
  }
  try {
    Transaction tx(db_);
    std::array<std::int64_t, 3> stored_by_type{};  // by EventType
    std::map<std::pair<std::string_view, std::string_view>, std::int64_t> by_village_status;  // status changes
    for (const StagedEvent& s : group) {
      ++stored_by_type.at(static_cast<std::size_t>(s.event.type));
      const WireEvent& ev = s.event;
      // What is bound is what the chain record's detail encodes (store/event_row.h; the chain
      // keeper reads the same columns back in the same order).
      const EventRow row = event_row(s);
      auto& ins = *insert_event_;
      const auto optional = [&](int column, const std::optional<std::string>& value) {
        if (value)
          ins.bind(column, *value);
        else
          ins.bind_null(column);
      };
      ins.bind(1, row.seq).bind(2, row.event_id).bind(3, row.type).bind(4, row.household_id).bind(5, row.village);
      optional(6, row.status);
      optional(7, row.previous_status);
      optional(8, row.quarter);
      optional(9, row.previous_quarter);
      optional(10, row.effective_date);
      optional(11, row.designations);
      ins.bind(12, row.correction).bind(13, received_at_ms).bind(14, row.digest).bind(15, row.body);
      ins.bind(16, row.publisher);
      const audit::Hash& hash = chain_->link(row.seq, received_at_ms, event_chain_entry(row));
      const audit::Hash& previous = chain_->previous();
      ins.bind_blob(17, previous.data(), previous.size()).bind_blob(18, hash.data(), hash.size());
      ins.run();

      switch (ev.type) {
        case EventType::kHousehold:
          upsert_household_->bind(1, ev.household_id).bind(2, ev.village);
          if (ev.head.empty()) upsert_household_->bind_null(3); else upsert_household_->bind(3, ev.head);
          upsert_household_->bind(4, ev.members).bind(5, static_cast<std::int64_t>(s.seq));
          upsert_household_->run();
          break;
        case EventType::kCommitment:
          update_commitment_->bind(1, ev.signed_on).bind(2, static_cast<std::int64_t>(s.seq)).bind(3, ev.household_id);
          update_commitment_->run();
          break;
        case EventType::kStatusChange:
          ++by_village_status[{s.village, hub::sdk::to_string(ev.status)}];
          if (s.past_quarter) break;  // the household's evaluation now is not the one corrected
          update_status_->bind(1, hub::sdk::to_string(ev.status))
              .bind(2, ev.quarter)
              .bind(3, row.designations.value_or(""))
              .bind(4, row.seq)
              .bind(5, ev.household_id);
          update_status_->run();
          break;
      }
    }
    for (std::size_t type = 0; type < stored_by_type.size(); ++type) {
      if (stored_by_type[type] == 0) continue;
      add_tally_->bind(1, to_string(static_cast<EventType>(type))).bind(2, stored_by_type[type]);
      add_tally_->run();
    }
    const std::int64_t minute = activity_minute(received_at_ms);
    for (const auto& [key, n] : by_village_status) {
      add_minute_->bind(1, minute).bind(2, key.first).bind(3, key.second).bind(4, n);
      add_minute_->run();
    }
    chain_->write_head();
    tx.commit();
  } catch (...) {
    insert_event_->reset();
    add_tally_->reset();
    add_minute_->reset();
    upsert_household_->reset();
    update_commitment_->reset();
    update_status_->reset();
    chain_->rolled_back();
    stale_ = true;  // the commit may have happened: the head is read again before the next append
    throw;
  }
  chain_->committed();
}


SqliteEventReader::SqliteEventReader(const std::string& path)
    : db_(path, Database::Mode::kReadWrite),
      range_(db_,
             "SELECT seq, type, event_id, household_id, village, status, previous_status, quarter, previous_quarter, "
             "effective_date, designations, correction, received_at_ms, CASE WHEN correction != 0 OR "
             "substr(publisher, 1, 10) = 'complaint:' THEN body END, substr(publisher, 1, 7) = 'notice:' FROM event "
             "WHERE seq BETWEEN ? AND ? ORDER BY seq"),
      received_(db_, "SELECT received_at_ms FROM event WHERE seq = ?") {
  db_.exec("PRAGMA query_only=1");
}

std::vector<LoggedEvent> SqliteEventReader::read(std::uint64_t from, std::uint64_t to) {
  return guarded([&] { return read_range(from, to); });
}

std::vector<LoggedEvent> SqliteEventReader::read_range(std::uint64_t from, std::uint64_t to) {
  std::vector<LoggedEvent> out;
  range_.bind(1, static_cast<std::int64_t>(from)).bind(2, static_cast<std::int64_t>(to));
  while (range_.step()) {
    LoggedEvent e;
    e.seq = static_cast<std::uint64_t>(range_.column_int(0));
    e.type = event_type_from(range_.column_text(1));
    e.event_id = range_.column_text(2);
    e.household_id = range_.column_text(3);
    e.village = range_.column_text(4);
    if (e.type == EventType::kStatusChange) {
      using hub::sdk::parse_household_status;
      e.status = parse_household_status(range_.column_text(5)).value_or(hub::sdk::HouseholdStatus::kUnevaluated);
      e.previous_status = parse_household_status(range_.column_text(6)).value_or(hub::sdk::HouseholdStatus::kUnevaluated);
      e.quarter = range_.column_text(7);
      e.previous_quarter = range_.column_text(8);
      e.effective_date = range_.column_text(9);
      e.designations = designations_from(range_.column_text(10));
      read_correction(range_.column_int(11), range_.column_text(13), e);
      e.from_notice = range_.column_int(14) != 0;
    }
    e.received_at_ms = range_.column_int(12);
    out.push_back(std::move(e));
  }
  range_.reset();
  return out;
}

std::int64_t SqliteEventReader::received_at(std::uint64_t seq) {
  return guarded([&] {
    received_.bind(1, static_cast<std::int64_t>(seq));
    const std::int64_t at = received_.step() ? received_.column_int(0) : 0;
    received_.reset();
    return at;
  });
}

EventReaderOpener sqlite_event_reader_opener(std::string path) {
  return [path = std::move(path)]() -> std::unique_ptr<EventReader> {
    return guarded([&] { return std::make_unique<SqliteEventReader>(path); });
  };
}

}  // namespace hub::store
