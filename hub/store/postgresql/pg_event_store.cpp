#include "store/postgresql/pg_event_store.h"

#include <array>
#include <map>
#include <string_view>
#include <utility>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "domain/activity_minute.h"
#include "store/event_row.h"
#include "store/postgresql/pg_chain_walk.h"
#include "store/postgresql/pg_schema.h"

namespace hub::store::pg {

using hub::sdk::HouseholdStatus;

namespace {

constexpr const char* kChain = "events";

// Version 1 of the "events" component: events.db's tables (sqlite_event_store.cpp) with hub_id
// leading every key. The chain's head lives in chain_head (pg_chain.h). The ids are compared
// byte by byte (COLLATE "C"), as SQLite compares them: the same order in both backends' views,
// and key comparisons without the locale's strcoll.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE event (
  hub_id           text COLLATE "C" NOT NULL,
  seq              bigint NOT NULL,
  event_id         text COLLATE "C" NOT NULL,
  type             text COLLATE "C" NOT NULL,
  household_id     text COLLATE "C" NOT NULL,
  village          text COLLATE "C" NOT NULL,
  status           text,
  previous_status  text,
  quarter          text,
  previous_quarter text,
  effective_date   text,
  designations     text,
  correction       integer NOT NULL DEFAULT 0,
  received_at_ms   bigint NOT NULL,
  digest           text NOT NULL,
  body             text NOT NULL,
  publisher        text NOT NULL DEFAULT '',  -- who published it (the key's name), the chain's actor
  prev_hash        bytea,                     -- the audit chain (event_store.h): the previous event's hash
  hash             bytea,                     -- and this event's, SHA-256 as in audit_log.h
  PRIMARY KEY (hub_id, seq),
  UNIQUE (hub_id, event_id)
);
CREATE INDEX event_by_household ON event (hub_id, household_id, seq);
CREATE TABLE household (
  hub_id               text COLLATE "C" NOT NULL,
  household_id         text COLLATE "C" NOT NULL,
  village              text COLLATE "C" NOT NULL,
  head                 text,
  members              bigint,
  registered_seq       bigint NOT NULL,
  commitment_signed_on text,
  commitment_seq       bigint,
  status               text NOT NULL DEFAULT 'unevaluated',
  quarter              text,
  designations         text,
  status_seq           bigint,
  PRIMARY KEY (hub_id, household_id)
);
-- The events stored, by type, added to in the transaction that stores them: /metrics reads
-- three rows, not the whole log.
CREATE TABLE event_tally (
  hub_id text COLLATE "C" NOT NULL,
  type   text COLLATE "C" NOT NULL,
  n      bigint NOT NULL,
  PRIMARY KEY (hub_id, type)
);
)sql";

// Version 2: the status changes per minute of receipt, village and status (events.db's
// status_minute), added to in the transaction that stores them, and counted from the stored
// events of every hub by the upgrade. The timeline reads them instead of the log.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE status_minute (
  hub_id    text COLLATE "C" NOT NULL,
  minute_ms bigint NOT NULL,
  village   text COLLATE "C" NOT NULL,
  status    text COLLATE "C" NOT NULL,
  n         bigint NOT NULL,
  PRIMARY KEY (hub_id, minute_ms, village, status)
);
INSERT INTO status_minute
  SELECT hub_id, received_at_ms / 60000 * 60000, village, status, COUNT(*) FROM event  -- 60000: kActivityMinuteMs
  WHERE type = 'status_change' GROUP BY 1, 2, 3, 4;
)sql";

// The group's events, one statement: the six status columns are NULL unless the event is a
// status change (arrays carry no NULLs), as in events.db.
constexpr const char* kInsertEvents =
    "INSERT INTO event (hub_id, seq, event_id, type, household_id, village, status, previous_status, quarter, "
    "previous_quarter, effective_date, designations, correction, received_at_ms, digest, body, publisher, "
    "prev_hash, hash) "
    "SELECT $1, u.seq, u.event_id, u.type, u.household_id, u.village, "
    "CASE WHEN u.type = 'status_change' THEN u.status END, "
    "CASE WHEN u.type = 'status_change' THEN u.previous_status END, "
    "CASE WHEN u.type = 'status_change' THEN u.quarter END, "
    "CASE WHEN u.type = 'status_change' THEN u.previous_quarter END, "
    "CASE WHEN u.type = 'status_change' THEN u.effective_date END, "
    "CASE WHEN u.type = 'status_change' THEN u.designations END, "
    "u.correction, $2, u.digest, u.body, u.publisher, u.prev_hash, u.hash "
    "FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], "
    "$10::text[], $11::text[], $12::text[], $13::text[], $14::integer[], $15::text[], $16::text[], $17::text[], "
    "$18::bytea[], $19::bytea[]) "
    "AS u(seq, event_id, type, household_id, village, status, previous_status, quarter, previous_quarter, "
    "effective_date, designations, correction, digest, body, publisher, prev_hash, hash)";

// The households' derived state, each household at most once per statement (its last event of
// the kind in the group). An empty head or members is NULL, as events.db binds it.
//
// Every statement is an upsert, whose ON CONFLICT finds each row by its key: one index probe a
// row, whatever the planner believes of the table. (An UPDATE … FROM unnest(…) is planned as a
// join: measured, a hash join over all the hub's households, 12 ms for 500 rows at 25,000; with
// hash joins turned off and statistics from when the town was small, a walk of the hub's
// households for each element, 0.5 s a group at 15,000.) A
// commitment or evaluation changes only a household that is there, as events.db's UPDATE does:
// the LATERAL probe (its LIMIT keeps it a probe) drops the others, so the INSERT side with its
// placeholder village and registered_seq never runs.
constexpr const char* kUpsertHouseholds =
    "INSERT INTO household (hub_id, household_id, village, head, members, registered_seq) "
    "SELECT $1, u.household_id, u.village, NULLIF(u.head, ''), NULLIF(u.members, '')::bigint, u.seq "
    "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) "
    "AS u(household_id, village, head, members, seq) "
    "ON CONFLICT (hub_id, household_id) DO UPDATE SET village = excluded.village, head = excluded.head, "
    "members = excluded.members, registered_seq = excluded.registered_seq";
constexpr const char* kUpdateCommitments =
    "INSERT INTO household (hub_id, household_id, village, registered_seq, commitment_signed_on, commitment_seq) "
    "SELECT $1, u.household_id, '', 0, u.signed_on, u.seq "
    "FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(household_id, signed_on, seq), "
    "LATERAL (SELECT 1 FROM household k WHERE k.hub_id = $1 AND k.household_id = u.household_id LIMIT 1) known "
    "ON CONFLICT (hub_id, household_id) DO UPDATE SET commitment_signed_on = excluded.commitment_signed_on, "
    "commitment_seq = excluded.commitment_seq";
constexpr const char* kUpdateStatuses =
    "INSERT INTO household (hub_id, household_id, village, registered_seq, status, quarter, designations, "
    "status_seq) "
    "SELECT $1, u.household_id, '', 0, u.status, u.quarter, u.designations, u.seq "
    "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) "
    "AS u(household_id, status, quarter, designations, seq), "
    "LATERAL (SELECT 1 FROM household k WHERE k.hub_id = $1 AND k.household_id = u.household_id LIMIT 1) known "
    "ON CONFLICT (hub_id, household_id) DO UPDATE SET status = excluded.status, quarter = excluded.quarter, "
    "designations = excluded.designations, status_seq = excluded.status_seq";
constexpr const char* kAddMinutes =
    "INSERT INTO status_minute AS m (hub_id, minute_ms, village, status, n) SELECT $1, $2, u.village, u.status, u.n "
    "FROM unnest($3::text[], $4::text[], $5::bigint[]) AS u(village, status, n) "
    "ON CONFLICT (hub_id, minute_ms, village, status) DO UPDATE SET n = m.n + excluded.n";
constexpr const char* kAddTally =
    "INSERT INTO event_tally (hub_id, type, n) SELECT $1, u.type, u.n "
    "FROM unnest($2::text[], $3::bigint[]) AS u(type, n) "
    "ON CONFLICT (hub_id, type) DO UPDATE SET n = event_tally.n + excluded.n";

// One index probe per id asked (LATERAL … LIMIT 1 keeps it a probe: for `event_id = ANY(array)`
// the planner preferred to walk the whole log, 12 ms for 1,000 ids at 50,000 events).
constexpr const char* kFindIds =
    "SELECT e.event_id, e.seq, e.digest FROM unnest($2::text[]) AS u(event_id), "
    "LATERAL (SELECT event_id, seq, digest FROM event WHERE hub_id = $1 AND event_id = u.event_id LIMIT 1) e";

// The household's last evaluation of a quarter (a past quarter a ruling corrects): a walk of one
// household's events, newest first, on event_by_household.
constexpr const char* kStatusInQuarter =
    "SELECT status FROM event WHERE hub_id = $1 AND household_id = $2 AND quarter = $3 AND type = 'status_change' "
    "ORDER BY seq DESC LIMIT 1";

// The columns the verifier reads, in chain order (event_store.h).
constexpr const char* kChainedRows =
    "SELECT seq, received_at_ms, publisher, event_id, type, household_id, village, status, previous_status, "
    "quarter, previous_quarter, effective_date, designations, correction, digest, body, prev_hash, hash "
    "FROM event WHERE hub_id = $1 AND seq > $2 ORDER BY seq LIMIT 4096";

void keep_open(Connection& connection) {
  if (!connection.ok()) connection.reconnect();
}

// One read snapshot (REPEATABLE READ, read-only) around a request's event_id look-ups, on the
// writer's connection (the same thread; no append while it lives, as with SQLite's). Begun with
// the first read, in the same round trip; ended when the object goes.
class PgLookups final : public EventStore::Lookups {
 public:
  PgLookups(Connection& connection, const std::string& hub_id) : connection_(connection), hub_id_(hub_id) {}
  ~PgLookups() override {
    if (!open_) return;
    try {
      if (connection_.ok()) connection_.exec("COMMIT");
    } catch (const PgError&) {
      // Read-only: nothing is lost; a broken connection is opened again on the next call.
    }
  }

  void prefetch(const std::vector<std::string>& event_ids) override {
    guarded([&] { read(event_ids); });
  }

  std::optional<KnownEvent> find(const std::string& event_id) override {
    return guarded([&]() -> std::optional<KnownEvent> {
      if (asked_.count(event_id) == 0) read({event_id});
      const auto it = known_.find(event_id);
      if (it == known_.end()) return std::nullopt;
      return it->second;
    });
  }

  std::optional<HouseholdStatus> status_in_quarter(const std::string& household_id,
                                                   const std::string& quarter) override {
    return guarded([&]() -> std::optional<HouseholdStatus> {
      const Rows rows = in_snapshot(kStatusInQuarter, Params().text(hub_id_).text(household_id).text(quarter));
      if (rows.size() == 0) return std::nullopt;
      return hub::sdk::parse_household_status(std::string(rows.text(0, 0)));
    });
  }

 private:
  // Runs one query in the look-ups' snapshot, opening it (in the same round trip) on first use.
  Rows in_snapshot(const char* sql, const Params& params) {
    if (!open_) keep_open(connection_);
    Pipeline p(connection_);
    if (!open_) p.send("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    p.send(sql, params);
    std::vector<Rows> results = p.finish();
    open_ = true;
    return std::move(results.back());
  }

  void read(const std::vector<std::string>& event_ids) {
    const Rows rows = in_snapshot(kFindIds, Params().text(hub_id_).text_array(event_ids));
    for (int r = 0; r < rows.size(); ++r)
      known_[std::string(rows.text(r, 0))] =
          KnownEvent{static_cast<std::uint64_t>(rows.integer(r, 1)), std::string(rows.text(r, 2))};
    asked_.insert(event_ids.begin(), event_ids.end());
  }

  Connection& connection_;
  const std::string& hub_id_;
  bool open_ = false;
  std::unordered_set<std::string> asked_;
  std::unordered_map<std::string, KnownEvent> known_;
};

}  // namespace

// ---- PgEventStore ---------------------------------------------------------------------------

PgEventStore::PgEventStore(std::string dsn, std::string hub_id) try
    : hub_id_(std::move(hub_id)), conn_(dsn), lookup_conn_(dsn), chain_(hub_id_, kChain) {
  ensure_chain_schema(conn_);
  ensure_schema(conn_, "events", {kSchemaV1, kSchemaV2});
  chain_.load(conn_);
  const std::uint64_t last = read_last_seq();
  // Both are written in every commit; they differ only when someone changed the database.
  if (chain_.seq() != static_cast<std::int64_t>(last))
    spdlog::error("PostgreSQL hub {}: the event chain's head is at seq {} but the last event is seq {}: the database "
                  "was changed outside hubd; new events are chained onto the head (run 'hubctl audit verify')",
                  hub_id_, chain_.seq(), last);
} catch (const PgError& e) {
  throw StorageError(e.status());
}

PgEventStore::~PgEventStore() = default;

void PgEventStore::ready() {
  keep_open(conn_);
  if (stale_) {
    chain_.load(conn_);  // the head as stored: the failed commit may have happened
    stale_ = false;
  }
}

std::uint64_t PgEventStore::read_last_seq() {
  const Rows rows = conn_.exec("SELECT COALESCE(MAX(seq), 0) FROM event WHERE hub_id = $1", Params().text(hub_id_));
  return static_cast<std::uint64_t>(rows.integer(0, 0));
}

std::uint64_t PgEventStore::last_seq() {
  return guarded([&] {
    ready();
    return read_last_seq();
  });
}

std::vector<StoredHousehold> PgEventStore::load_households() {
  return guarded([&] {
    ready();
    const Rows rows = conn_.exec("SELECT household_id, village, status, COALESCE(quarter, '') FROM household "
                                 "WHERE hub_id = $1",
                                 Params().text(hub_id_));
    std::vector<StoredHousehold> out;
    out.reserve(static_cast<std::size_t>(rows.size()));
    for (int r = 0; r < rows.size(); ++r) {
      StoredHousehold h;
      h.household_id = rows.text(r, 0);
      h.village = rows.text(r, 1);
      h.status = hub::sdk::parse_household_status(std::string(rows.text(r, 2))).value_or(HouseholdStatus::kUnevaluated);
      h.quarter = rows.text(r, 3);
      out.push_back(std::move(h));
    }
    return out;
  });
}

std::unique_ptr<EventStore::Lookups> PgEventStore::lookups() {
  return std::make_unique<PgLookups>(lookup_conn_, hub_id_);
}

void PgEventStore::each_event_id(const std::function<void(std::string_view)>& visit) {
  guarded([&] {
    // Chunks of 100,000 by seq (the key), one statement each on the look-ups' connection.
    constexpr std::int64_t kChunk = 100000;
    keep_open(lookup_conn_);
    for (std::int64_t after = 0;;) {
      const Rows rows = lookup_conn_.exec(
          "SELECT seq, event_id FROM event WHERE hub_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
          Params().text(hub_id_).integer(after).integer(kChunk));
      for (int r = 0; r < rows.size(); ++r) visit(rows.text(r, 1));
      if (rows.size() < kChunk) return;
      after = rows.integer(rows.size() - 1, 0);
    }
  });
}

void PgEventStore::append(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) {
  if (group.empty()) return;
  guarded([&] { append_group(group, received_at_ms); });
}

void PgEventStore::append_group(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) {
  ready();
  // The statements' arrays, column by column.
  std::vector<std::int64_t> seqs, corrections;
  std::vector<std::string> ids, types, households, villages, statuses, previous_statuses, quarters, previous_quarters,
      effective_dates, designations, digests, bodies, publishers, previous_hashes, hashes;
  // Each household's last registration, commitment and evaluation in the group (by index):
  // later ones of a kind supersede earlier ones, as the rows applied in seq order would.
  std::unordered_map<std::string, std::size_t> last_registration, last_commitment, last_evaluation;
  std::array<std::int64_t, 3> stored_by_type{};  // by EventType
  std::map<std::pair<std::string_view, std::string_view>, std::int64_t> by_village_status;  // status changes
  try {
    for (std::size_t i = 0; i < group.size(); ++i) {
      const StagedEvent& s = group[i];
      EventRow row = event_row(s);
      const Hash& hash = chain_.link(row.seq, received_at_ms, event_chain_entry(row));
      previous_hashes.push_back(hash_bytes(chain_.previous()));
      hashes.push_back(hash_bytes(hash));
      seqs.push_back(row.seq);
      corrections.push_back(row.correction);
      ids.push_back(std::move(row.event_id));
      types.push_back(std::move(row.type));
      households.push_back(std::move(row.household_id));
      villages.push_back(std::move(row.village));
      statuses.push_back(row.status.value_or(""));
      previous_statuses.push_back(row.previous_status.value_or(""));
      quarters.push_back(row.quarter.value_or(""));
      previous_quarters.push_back(row.previous_quarter.value_or(""));
      effective_dates.push_back(row.effective_date.value_or(""));
      designations.push_back(row.designations.value_or(""));
      digests.push_back(std::move(row.digest));
      bodies.push_back(std::move(row.body));
      publishers.push_back(std::move(row.publisher));
      ++stored_by_type.at(static_cast<std::size_t>(s.event.type));
      switch (s.event.type) {
        case EventType::kHousehold: last_registration[s.event.household_id] = i; break;
        case EventType::kCommitment: last_commitment[s.event.household_id] = i; break;
        case EventType::kStatusChange:
          // A past quarter's correction leaves the household's evaluation now as it is.
          if (!s.past_quarter) last_evaluation[s.event.household_id] = i;
          ++by_village_status[{s.village, hub::sdk::to_string(s.event.status)}];
          break;
      }
    }

    Pipeline p(conn_);
    p.send("BEGIN");
    p.send(kInsertEvents, Params()
                              .text(hub_id_)
                              .integer(received_at_ms)
                              .integer_array(seqs)
                              .text_array(ids)
                              .text_array(types)
                              .text_array(households)
                              .text_array(villages)
                              .text_array(statuses)
                              .text_array(previous_statuses)
                              .text_array(quarters)
                              .text_array(previous_quarters)
                              .text_array(effective_dates)
                              .text_array(designations)
                              .integer_array(corrections)
                              .text_array(digests)
                              .text_array(bodies)
                              .text_array(publishers)
                              .bytes_array(previous_hashes)
                              .bytes_array(hashes));
    if (!last_registration.empty()) {
      std::vector<std::string> id, village, head, members;
      std::vector<std::int64_t> seq;
      for (const auto& [household, i] : last_registration) {
        const WireEvent& ev = group[i].event;
        id.push_back(household);
        village.push_back(ev.village);
        head.push_back(ev.head);
        members.push_back(ev.members ? std::to_string(*ev.members) : std::string());
        seq.push_back(static_cast<std::int64_t>(group[i].seq));
      }
      p.send(kUpsertHouseholds,
             Params().text(hub_id_).text_array(id).text_array(village).text_array(head).text_array(members).integer_array(seq));
    }
    if (!last_commitment.empty()) {
      std::vector<std::string> id, signed_on;
      std::vector<std::int64_t> seq;
      for (const auto& [household, i] : last_commitment) {
        id.push_back(household);
        signed_on.push_back(group[i].event.signed_on);
        seq.push_back(static_cast<std::int64_t>(group[i].seq));
      }
      p.send(kUpdateCommitments, Params().text(hub_id_).text_array(id).text_array(signed_on).integer_array(seq));
    }
    if (!last_evaluation.empty()) {
      std::vector<std::string> id, status, quarter, designation;
      std::vector<std::int64_t> seq;
      for (const auto& [household, i] : last_evaluation) {
        id.push_back(household);
        status.push_back(statuses[i]);
        quarter.push_back(quarters[i]);
        designation.push_back(designations[i]);
        seq.push_back(static_cast<std::int64_t>(group[i].seq));
      }
      p.send(kUpdateStatuses, Params()
                                  .text(hub_id_)
                                  .text_array(id)
                                  .text_array(status)
                                  .text_array(quarter)
                                  .text_array(designation)
                                  .integer_array(seq));
    }
    std::vector<std::string> tally_types;
    std::vector<std::int64_t> tally_counts;
    for (std::size_t type = 0; type < stored_by_type.size(); ++type) {
      if (stored_by_type[type] == 0) continue;
      tally_types.emplace_back(to_string(static_cast<EventType>(type)));
      tally_counts.push_back(stored_by_type[type]);
    }
    p.send(kAddTally, Params().text(hub_id_).text_array(tally_types).integer_array(tally_counts));
    if (!by_village_status.empty()) {
      std::vector<std::string> village, status;
      std::vector<std::int64_t> n;
      for (const auto& [key, count] : by_village_status) {
        village.emplace_back(key.first);
        status.emplace_back(key.second);
        n.push_back(count);
      }
      p.send(kAddMinutes, Params()
                              .text(hub_id_)
                              .integer(activity_minute(received_at_ms))
                              .text_array(village)
                              .text_array(status)
                              .integer_array(n));
    }
    chain_.send_head(p);
    p.send("COMMIT");
    p.finish();
  } catch (...) {
    chain_.rolled_back();
    stale_ = true;  // the commit may have happened: the head is read again before the next append
    throw;
  }
  chain_.committed();
}

// ---- PgEventReader --------------------------------------------------------------------------

PgEventReader::PgEventReader(std::string dsn, std::string hub_id) try : hub_id_(std::move(hub_id)), conn_(dsn) {
} catch (const PgError& e) {
  throw StorageError(e.status());
}

std::vector<LoggedEvent> PgEventReader::read(std::uint64_t from, std::uint64_t to) {
  return guarded([&] {
    keep_open(conn_);
    const Rows rows = conn_.exec(
        "SELECT seq, type, event_id, household_id, village, status, previous_status, quarter, previous_quarter, "
        "effective_date, designations, correction, received_at_ms, CASE WHEN correction <> 0 OR "
        "left(publisher, 10) = 'complaint:' THEN body END, (left(publisher, 7) = 'notice:')::int FROM event "
        "WHERE hub_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
        Params().text(hub_id_).integer(static_cast<std::int64_t>(from)).integer(static_cast<std::int64_t>(to)));
    std::vector<LoggedEvent> out;
    out.reserve(static_cast<std::size_t>(rows.size()));
    for (int r = 0; r < rows.size(); ++r) {
      LoggedEvent e;
      e.seq = static_cast<std::uint64_t>(rows.integer(r, 0));
      e.type = event_type_from(rows.text(r, 1));
      e.event_id = rows.text(r, 2);
      e.household_id = rows.text(r, 3);
      e.village = rows.text(r, 4);
      if (e.type == EventType::kStatusChange) {
        using hub::sdk::parse_household_status;
        e.status = parse_household_status(std::string(rows.text(r, 5))).value_or(HouseholdStatus::kUnevaluated);
        e.previous_status =
            parse_household_status(std::string(rows.text(r, 6))).value_or(HouseholdStatus::kUnevaluated);
        e.quarter = rows.text(r, 7);
        e.previous_quarter = rows.text(r, 8);
        e.effective_date = rows.text(r, 9);
        e.designations = designations_from(std::string(rows.text(r, 10)));
        read_correction(rows.integer(r, 11), std::string(rows.text(r, 13)), e);
        e.from_notice = rows.integer(r, 14) != 0;
      }
      e.received_at_ms = rows.integer(r, 12);
      out.push_back(std::move(e));
    }
    return out;
  });
}

std::int64_t PgEventReader::received_at(std::uint64_t seq) {
  return guarded([&]() -> std::int64_t {
    keep_open(conn_);
    const Rows rows = conn_.exec("SELECT received_at_ms FROM event WHERE hub_id = $1 AND seq = $2",
                                 Params().text(hub_id_).integer(static_cast<std::int64_t>(seq)));
    return rows.empty() ? 0 : rows.integer(0, 0);
  });
}

EventReaderOpener pg_event_reader_opener(std::string dsn, std::string hub_id) {
  return [dsn = std::move(dsn), hub_id = std::move(hub_id)]() -> std::unique_ptr<EventReader> {
    return std::make_unique<PgEventReader>(dsn, hub_id);
  };
}

// ---- verification ---------------------------------------------------------------------------

audit::VerifyResult verify_pg_event_chain(const std::string& dsn, const std::string& hub_id) {
  static const ChainedTable table{kChain, {"事件链", "event chain"}, {"事件日志", "event log"}, kChainedRows};
  return verify_pg_chain(dsn, hub_id, table, [](const Rows& rows, int row, audit::ChainRecord& r) {
    // The record from the stored values, as the writer built it from the values it sent.
    EventRow stored;
    stored.seq = rows.integer(row, 0);
    stored.publisher = rows.text(row, 2);
    stored.event_id = rows.text(row, 3);
    stored.type = rows.text(row, 4);
    stored.household_id = rows.text(row, 5);
    stored.village = rows.text(row, 6);
    stored.status = rows.optional_text(row, 7);
    stored.previous_status = rows.optional_text(row, 8);
    stored.quarter = rows.optional_text(row, 9);
    stored.previous_quarter = rows.optional_text(row, 10);
    stored.effective_date = rows.optional_text(row, 11);
    stored.designations = rows.optional_text(row, 12);
    stored.correction = rows.integer(row, 13);
    stored.digest = rows.text(row, 14);
    stored.body = rows.text(row, 15);
    r.seq = stored.seq;
    r.at_ms = rows.integer(row, 1);
    r.entry = event_chain_entry(stored);
    r.prev_hash = rows.is_null(row, 16) ? std::string() : audit::blob_to_hex(rows.bytes(row, 16));
    r.hash = rows.is_null(row, 17) ? std::string() : audit::blob_to_hex(rows.bytes(row, 17));
    r.signature.reset();
  });
}

}  // namespace hub::store::pg
