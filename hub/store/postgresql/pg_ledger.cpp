#include "store/postgresql/pg_ledger.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "domain/activity_minute.h"
#include "store/ledger_records.h"
#include "store/postgresql/pg_schema.h"

namespace hub::store::pg {

using delivery::CursorState;
using delivery::FailureRecord;
using delivery::LedgerBatch;
using delivery::ParkedQuery;
using delivery::ParkedRecord;
using delivery::ParkedResolution;
using delivery::ParkedRow;
using delivery::PluginState;

namespace {

// Version 1: the ledger as SQLite's version 7 keeps it (sqlite_ledger.cpp), every key led by
// hub_id. Keys are COLLATE "C": byte order as in SQLite, and no locale in every index compare.
// A reason's text has no unique index (SQLite's UNIQUE): a B-tree entry cannot hold a long text,
// and a digest index cost more than the deliveries' own insert; ids come from the writer's
// map, read again after any failure, and a writer whose map is stale collides on the key
// (hub_id, id) instead. No index on chain_seq, as in SQLite: it would cost every delivery
// another insert, and verification sorts once.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE ledger_cursor (
  hub_id              text COLLATE "C" NOT NULL,
  department          text COLLATE "C" NOT NULL,
  seq                 bigint NOT NULL,
  delivered           bigint NOT NULL DEFAULT 0,
  failed              bigint NOT NULL DEFAULT 0,
  last_delivery_at_ms bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (hub_id, department)
);
CREATE TABLE ledger_reason (
  hub_id text COLLATE "C" NOT NULL,
  id     bigint NOT NULL,
  text   text NOT NULL,
  PRIMARY KEY (hub_id, id)
);
CREATE TABLE ledger_delivery (
  hub_id          text COLLATE "C" NOT NULL,
  department      text COLLATE "C" NOT NULL,
  seq             bigint NOT NULL,
  household_id    text NOT NULL,
  event_id        text NOT NULL,
  delivered_at_ms bigint NOT NULL,
  plugin_version  text NOT NULL,
  actions         text NOT NULL,  -- [[policy_id, action, amount_fen or null, reason id], ...], the chained bytes
  handoff         text NOT NULL DEFAULT 'none',
  handoff_detail  text NOT NULL DEFAULT '',
  chain_seq       bigint,
  prev_hash       bytea,
  hash            bytea,
  PRIMARY KEY (hub_id, department, seq)
);
CREATE VIEW ledger_action AS
  SELECT d.hub_id, d.department, d.seq, (j.idx - 1) AS idx, d.household_id, j.value ->> 0 AS policy_id,
         j.value ->> 1 AS action, (j.value ->> 2)::bigint AS amount_fen, r.text AS reason
  FROM ledger_delivery d
  CROSS JOIN LATERAL jsonb_array_elements(d.actions::jsonb) WITH ORDINALITY AS j(value, idx)
  JOIN ledger_reason r ON r.hub_id = d.hub_id AND r.id = (j.value ->> 3)::bigint;
CREATE TABLE ledger_failure (
  hub_id     text COLLATE "C" NOT NULL,
  department text COLLATE "C" NOT NULL,
  seq        bigint NOT NULL,
  attempt    bigint NOT NULL,
  at_ms      bigint NOT NULL,
  reason     text NOT NULL,
  PRIMARY KEY (hub_id, department, seq, attempt)
);
CREATE TABLE ledger_parked (
  hub_id         text COLLATE "C" NOT NULL,
  department     text COLLATE "C" NOT NULL,
  seq            bigint NOT NULL,
  household_id   text NOT NULL,
  event_id       text NOT NULL,
  reason         text NOT NULL,
  attempts       bigint NOT NULL,
  parked_at_ms   bigint NOT NULL,
  behind_seq     bigint NOT NULL,
  state          text NOT NULL DEFAULT 'parked',
  resolved_by    text,
  resolved_at_ms bigint,
  PRIMARY KEY (hub_id, department, seq)
);
CREATE INDEX ledger_parked_household ON ledger_parked (hub_id, department, household_id, seq);
CREATE TABLE ledger_parked_history (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hub_id       text COLLATE "C" NOT NULL,
  department   text COLLATE "C" NOT NULL,
  seq          bigint NOT NULL,
  household_id text NOT NULL,
  action       text NOT NULL,
  by_operator  text NOT NULL,
  at_ms        bigint NOT NULL,
  outcome      text NOT NULL
);
CREATE INDEX ledger_parked_history_event ON ledger_parked_history (hub_id, department, seq, id);
CREATE TABLE ledger_plugin_state (
  hub_id          text COLLATE "C" NOT NULL,
  department      text COLLATE "C" NOT NULL,
  disabled        boolean NOT NULL DEFAULT false,
  disabled_by     text,
  disabled_at_ms  bigint,
  disabled_reason text,
  library         text,
  library_version text,
  config_library  text,
  reloaded_by     text,
  reloaded_at_ms  bigint,
  PRIMARY KEY (hub_id, department)
);
CREATE TABLE ledger_plugin_action (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hub_id      text COLLATE "C" NOT NULL,
  department  text COLLATE "C" NOT NULL,
  action      text NOT NULL,
  by_operator text NOT NULL,
  at_ms       bigint NOT NULL,
  detail      text NOT NULL
);
CREATE INDEX ledger_plugin_action_hub ON ledger_plugin_action (hub_id, id);
CREATE TABLE ledger_tally (
  hub_id     text COLLATE "C" NOT NULL,
  department text COLLATE "C" NOT NULL,
  counter    text COLLATE "C" NOT NULL,
  n          bigint NOT NULL,
  PRIMARY KEY (hub_id, department, counter)
);
)sql";

// Version 2: the deliveries per department and minute recorded (the SQLite ledger's
// delivery_minute), added to in each commit and counted from the stored rows of every hub by the
// upgrade. The timeline reads them instead of the ledger.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE ledger_delivery_minute (
  hub_id     text COLLATE "C" NOT NULL,
  department text COLLATE "C" NOT NULL,
  minute_ms  bigint NOT NULL,
  n          bigint NOT NULL,
  PRIMARY KEY (hub_id, department, minute_ms)
);
INSERT INTO ledger_delivery_minute
  SELECT hub_id, department, delivered_at_ms / 60000 * 60000, COUNT(*) FROM ledger_delivery  -- 60000: kActivityMinuteMs
  GROUP BY 1, 2, 3;
)sql";

// Version 3: the two histories keyed by (hub_id, id) like every other table, not by their
// identity alone. Each database numbers its own ids, so two counties' rows gathered into one
// province database (logical replication, docs/deployment.md) would collide on id alone; and a
// publication of one hub's rows (WHERE hub_id = …) needs hub_id in the key that identifies a
// row. The (hub_id, id) index is the key now.
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE ledger_parked_history DROP CONSTRAINT ledger_parked_history_pkey, ADD PRIMARY KEY (hub_id, id);
ALTER TABLE ledger_plugin_action DROP CONSTRAINT ledger_plugin_action_pkey, ADD PRIMARY KEY (hub_id, id);
DROP INDEX ledger_plugin_action_hub;
)sql";

// The commit's statements: $1 is the hub, $2 the commit's time where a row needs it, the rest
// are arrays with one element per row.
// Version 4: ledger_parked.effective_on, for a confirmed notice's event that waits for its
// effective date (as the SQLite ledger's version 9).
constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE ledger_parked ADD COLUMN effective_on text;
)sql";

constexpr const char* kInsertReasons =
    "INSERT INTO ledger_reason (hub_id, id, text) SELECT $1, * FROM unnest($2::bigint[], $3::text[])";
constexpr const char* kInsertDeliveries =
    "INSERT INTO ledger_delivery (hub_id, department, seq, household_id, event_id, delivered_at_ms, plugin_version, "
    "actions, handoff, handoff_detail, chain_seq, prev_hash, hash) "
    "SELECT $1, u.d, u.s, u.h, u.e, $2, u.v, u.a, u.ho, u.hd, u.c, u.p, u.x FROM unnest($3::text[], $4::bigint[], "
    "$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bytea[], "
    "$13::bytea[]) AS u(d, s, h, e, v, a, ho, hd, c, p, x)";
// SQLite's INSERT OR REPLACE: an attempt recorded again (after a restart) replaces the row.
constexpr const char* kInsertFailures =
    "INSERT INTO ledger_failure (hub_id, department, seq, attempt, at_ms, reason) "
    "SELECT $1, u.d, u.s, u.a, $2, u.r FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS u(d, s, a, r) "
    "ON CONFLICT (hub_id, department, seq, attempt) DO UPDATE SET at_ms = excluded.at_ms, reason = excluded.reason";
constexpr const char* kInsertParked =
    "INSERT INTO ledger_parked (hub_id, department, seq, household_id, event_id, reason, attempts, parked_at_ms, "
    "behind_seq, effective_on) SELECT $1, u.d, u.s, u.h, u.e, u.r, u.a, $2, u.b, NULLIF(u.w, '') FROM unnest($3::text[], "
    "$4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[]) AS u(d, s, h, e, r, a, b, w)";
constexpr const char* kResolveParked =
    "UPDATE ledger_parked p SET state = u.st, attempts = u.a, reason = COALESCE(NULLIF(u.r, ''), p.reason), "
    "resolved_by = u.b, resolved_at_ms = $2, effective_on = NULL FROM unnest($3::text[], $4::bigint[], $5::text[], $6::bigint[], "
    "$7::text[], $8::text[]) AS u(d, s, st, a, r, b) WHERE p.hub_id = $1 AND p.department = u.d AND p.seq = u.s";
// The history in the order given (ids ascending, as SQLite's rowids).
constexpr const char* kInsertParkedHistory =
    "INSERT INTO ledger_parked_history (hub_id, department, seq, household_id, action, by_operator, at_ms, outcome) "
    "SELECT $1, u.d, u.s, u.h, u.a, u.b, $2, u.o FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], "
    "$7::text[], $8::text[]) WITH ORDINALITY AS u(d, s, h, a, b, o, n) ORDER BY u.n";
// A new cursor's last delivery is the commit's time even without deliveries, as in SQLite.
constexpr const char* kUpsertCursors =
    "INSERT INTO ledger_cursor AS c (hub_id, department, seq, delivered, failed, last_delivery_at_ms) "
    "SELECT $1, u.d, u.s, u.n, u.f, $2 FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) "
    "AS u(d, s, n, f) ON CONFLICT (hub_id, department) DO UPDATE SET seq = excluded.seq, "
    "delivered = c.delivered + excluded.delivered, failed = c.failed + excluded.failed, "
    "last_delivery_at_ms = CASE WHEN excluded.delivered > 0 THEN excluded.last_delivery_at_ms "
    "ELSE c.last_delivery_at_ms END";
constexpr const char* kAddTallies =
    "INSERT INTO ledger_tally AS t (hub_id, department, counter, n) "
    "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[]) "
    "ON CONFLICT (hub_id, department, counter) DO UPDATE SET n = t.n + excluded.n";

constexpr const char* kAddMinutes =
    "INSERT INTO ledger_delivery_minute AS m (hub_id, department, minute_ms, n) "
    "SELECT $1, u.d, $2, u.n FROM unnest($3::text[], $4::bigint[]) AS u(d, n) "
    "ON CONFLICT (hub_id, department, minute_ms) DO UPDATE SET n = m.n + excluded.n";

constexpr const char* kLedgerChain = "ledger";

std::int64_t as_int(std::uint64_t v) { return static_cast<std::int64_t>(v); }

std::string optional_text(const Rows& rows, int row, int column) {
  return rows.is_null(row, column) ? std::string() : std::string(rows.text(row, column));
}

std::int64_t optional_integer(const Rows& rows, int row, int column) {
  return rows.is_null(row, column) ? 0 : rows.integer(row, column);
}

// One commit's rows, column by column, as the statements above take them. Rows that SQLite
// would write to the same key one after another are folded here into the row it would leave
// (an upsert may not touch a row twice in one statement).
struct CommitRows {
  std::vector<std::int64_t> reason_ids;
  std::vector<std::string> reason_texts;

  struct {
    std::vector<std::string> department, household, event, plugin_version, actions, handoff, handoff_detail,
        prev_hash, hash;
    std::vector<std::int64_t> seq, chain_seq;
  } delivery;

  struct {
    std::vector<std::string> department, reason;
    std::vector<std::int64_t> seq, attempt;
    std::map<std::tuple<std::string, std::uint64_t, std::uint32_t>, std::size_t> index;
  } failure;

  struct {
    std::vector<std::string> department, household, event, reason, effective_on;
    std::vector<std::int64_t> seq, attempts, behind;
  } parked;

  struct {
    std::vector<std::string> department, state, reason, by;
    std::vector<std::int64_t> seq, attempts;
    std::map<std::pair<std::string, std::uint64_t>, std::size_t> index;
  } resolution;

  struct {
    std::vector<std::string> department, household, action, by, outcome;
    std::vector<std::int64_t> seq;
  } history;

  struct Cursor {
    std::int64_t seq = 0, delivered = 0, failed = 0;
  };
  std::map<std::string, Cursor> cursors;
  std::map<std::pair<std::string, std::string>, std::int64_t> tallies;

  void add_failure(const std::string& department, const FailureRecord& f) {
    const auto key = std::make_tuple(department, f.seq, f.attempt);
    if (const auto it = failure.index.find(key); it != failure.index.end()) {
      failure.reason[it->second] = f.reason;
      return;
    }
    failure.index.emplace(key, failure.department.size());
    failure.department.push_back(department);
    failure.seq.push_back(as_int(f.seq));
    failure.attempt.push_back(f.attempt);
    failure.reason.push_back(f.reason);
  }

  void add_resolution(const std::string& department, const ParkedResolution& r) {
    history.department.push_back(department);
    history.seq.push_back(as_int(r.seq));
    history.household.push_back(r.household_id);
    history.action.push_back(r.action);
    history.by.push_back(r.by);
    history.outcome.push_back(r.state == "parked" ? "parked: " + r.reason : r.state);
    const auto key = std::make_pair(department, r.seq);
    if (const auto it = resolution.index.find(key); it != resolution.index.end()) {
      const std::size_t i = it->second;
      resolution.state[i] = r.state;
      resolution.attempts[i] = r.attempts;
      if (!r.reason.empty()) resolution.reason[i] = r.reason;
      resolution.by[i] = r.by;
      return;
    }
    resolution.index.emplace(key, resolution.department.size());
    resolution.department.push_back(department);
    resolution.seq.push_back(as_int(r.seq));
    resolution.state.push_back(r.state);
    resolution.attempts.push_back(r.attempts);
    resolution.reason.push_back(r.reason);
    resolution.by.push_back(r.by);
  }
};

}  // namespace

PgLedger::PgLedger(std::string dsn, std::string hub_id) try
    : hub_id_(std::move(hub_id)), conn_(dsn), chain_(hub_id_, kLedgerChain) {
  ensure_chain_schema(conn_);
  ensure_schema(conn_, "ledger", {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4});
  reread();
} catch (const PgError& e) {
  throw StorageError(e.status());
}

PgLedger::~PgLedger() = default;

void PgLedger::ready() {
  if (!conn_.ok()) conn_.reconnect();
}

void PgLedger::reread() {
  ready();
  chain_.load(conn_);
  reason_ids_.clear();
  next_reason_id_ = 1;
  const Rows rows = conn_.exec("SELECT id, text FROM ledger_reason WHERE hub_id = $1", Params().text(hub_id_));
  for (int i = 0; i < rows.size(); ++i) {
    const std::int64_t id = rows.integer(i, 0);
    reason_ids_.emplace(std::string(rows.text(i, 1)), id);
    next_reason_id_ = std::max(next_reason_id_, id + 1);
  }
  stale_ = false;
}

std::map<std::string, CursorState> PgLedger::load_cursors() {
  return guarded([&] {
    ready();
    const Rows rows = conn_.exec(
        "SELECT department, seq, delivered, failed, last_delivery_at_ms FROM ledger_cursor WHERE hub_id = $1",
        Params().text(hub_id_));
    std::map<std::string, CursorState> out;
    for (int i = 0; i < rows.size(); ++i)
      out[std::string(rows.text(i, 0))] =
          CursorState{static_cast<std::uint64_t>(rows.integer(i, 1)), static_cast<std::uint64_t>(rows.integer(i, 2)),
                      static_cast<std::uint64_t>(rows.integer(i, 3)), rows.integer(i, 4)};
    return out;
  });
}

void PgLedger::commit(std::vector<LedgerBatch>& batches, std::int64_t now_ms) {
  return guarded([&] {
    // Key order: department, then seq (already ascending within a batch), as SQLite chains them.
    std::sort(batches.begin(), batches.end(),
              [](const LedgerBatch& a, const LedgerBatch& b) { return a.department < b.department; });
    if (stale_) reread();
    ready();
    try {
      CommitRows rows;
      const auto reason_of = [&](const std::string& text) {
        if (const auto it = reason_ids_.find(text); it != reason_ids_.end()) return it->second;
        const std::int64_t id = next_reason_id_++;
        reason_ids_.emplace(text, id);
        rows.reason_ids.push_back(id);
        rows.reason_texts.push_back(text);
        return id;
      };
      for (const LedgerBatch& b : batches) {
        LedgerCounts counts;
        counts.failures = static_cast<std::int64_t>(b.failures.size());
        auto& del = rows.delivery;
        for (const runtime::DeliveredEvent& d : b.delivered) {
          counts.add(d, now_ms);
          std::string actions = encode_actions(d.actions, reason_of);
          const audit::Hash& hash = chain_.link_next(now_ms, delivery_record(b.department, b.plugin_version, d, actions));
          del.department.push_back(b.department);
          del.seq.push_back(as_int(d.seq));
          del.household.push_back(d.household_id);
          del.event.push_back(d.event_id);
          del.plugin_version.push_back(b.plugin_version);
          del.actions.push_back(std::move(actions));
          del.handoff.push_back(d.handoff);
          del.handoff_detail.push_back(d.handoff_detail);
          del.chain_seq.push_back(chain_.seq());
          del.prev_hash.push_back(hash_bytes(chain_.previous()));
          del.hash.push_back(hash_bytes(hash));
        }
        for (const FailureRecord& f : b.failures) rows.add_failure(b.department, f);
        for (const ParkedRecord& p : b.parked) {
          rows.parked.department.push_back(b.department);
          rows.parked.seq.push_back(as_int(p.seq));
          rows.parked.household.push_back(p.household_id);
          rows.parked.event.push_back(p.event_id);
          rows.parked.reason.push_back(p.reason);
          rows.parked.attempts.push_back(p.attempts);
          rows.parked.behind.push_back(as_int(p.behind_seq));
          rows.parked.effective_on.push_back(p.effective_on);
        }
        for (const ParkedResolution& r : b.resolutions) rows.add_resolution(b.department, r);
        auto& cursor = rows.cursors[b.department];
        cursor.seq = as_int(b.new_cursor);
        cursor.delivered += static_cast<std::int64_t>(b.delivered.size());
        cursor.failed += static_cast<std::int64_t>(b.failures.size());
        counts.for_each([&](const std::string& counter, std::int64_t n) { rows.tallies[{b.department, counter}] += n; });
      }

      Pipeline p(conn_);
      p.send("BEGIN");
      const auto with_hub = [&] { return Params().text(hub_id_).integer(now_ms); };
      if (!rows.reason_ids.empty())
        p.send(kInsertReasons, Params().text(hub_id_).integer_array(rows.reason_ids).text_array(rows.reason_texts));
      if (const auto& d = rows.delivery; !d.seq.empty())
        p.send(kInsertDeliveries, with_hub()
                                      .text_array(d.department)
                                      .integer_array(d.seq)
                                      .text_array(d.household)
                                      .text_array(d.event)
                                      .text_array(d.plugin_version)
                                      .text_array(d.actions)
                                      .text_array(d.handoff)
                                      .text_array(d.handoff_detail)
                                      .integer_array(d.chain_seq)
                                      .bytes_array(d.prev_hash)
                                      .bytes_array(d.hash));
      if (const auto& f = rows.failure; !f.seq.empty())
        p.send(kInsertFailures,
               with_hub().text_array(f.department).integer_array(f.seq).integer_array(f.attempt).text_array(f.reason));
      if (const auto& k = rows.parked; !k.seq.empty())
        p.send(kInsertParked, with_hub()
                                  .text_array(k.department)
                                  .integer_array(k.seq)
                                  .text_array(k.household)
                                  .text_array(k.event)
                                  .text_array(k.reason)
                                  .integer_array(k.attempts)
                                  .integer_array(k.behind)
                                  .text_array(k.effective_on));
      if (const auto& r = rows.resolution; !r.seq.empty())
        p.send(kResolveParked, with_hub()
                                   .text_array(r.department)
                                   .integer_array(r.seq)
                                   .text_array(r.state)
                                   .integer_array(r.attempts)
                                   .text_array(r.reason)
                                   .text_array(r.by));
      if (const auto& h = rows.history; !h.seq.empty())
        p.send(kInsertParkedHistory, with_hub()
                                         .text_array(h.department)
                                         .integer_array(h.seq)
                                         .text_array(h.household)
                                         .text_array(h.action)
                                         .text_array(h.by)
                                         .text_array(h.outcome));
      if (!rows.cursors.empty()) {
        std::vector<std::string> department;
        std::vector<std::int64_t> seq, delivered, failed;
        for (const auto& [name, c] : rows.cursors) {
          department.push_back(name);
          seq.push_back(c.seq);
          delivered.push_back(c.delivered);
          failed.push_back(c.failed);
        }
        p.send(kUpsertCursors, with_hub()
                                   .text_array(department)
                                   .integer_array(seq)
                                   .integer_array(delivered)
                                   .integer_array(failed));
        std::vector<std::string> delivering;
        std::vector<std::int64_t> n;
        for (const auto& [name, c] : rows.cursors) {
          if (c.delivered == 0) continue;
          delivering.push_back(name);
          n.push_back(c.delivered);
        }
        if (!delivering.empty())
          p.send(kAddMinutes, Params()
                                  .text(hub_id_)
                                  .integer(activity_minute(now_ms))
                                  .text_array(delivering)
                                  .integer_array(n));
      }
      if (!rows.tallies.empty()) {
        std::vector<std::string> department, counter;
        std::vector<std::int64_t> n;
        for (const auto& [key, value] : rows.tallies) {
          department.push_back(key.first);
          counter.push_back(key.second);
          n.push_back(value);
        }
        p.send(kAddTallies, Params().text(hub_id_).text_array(department).text_array(counter).integer_array(n));
      }
      chain_.send_head(p);
      p.send("COMMIT");
      p.finish();
      chain_.committed();
    } catch (...) {
      // The commit may still have happened (outcome unknown), and the reasons it added are in
      // memory: the head and the reasons are read again from the database before the next write.
      stale_ = true;
      chain_.rolled_back();
      throw;
    }
  });
}

std::vector<ParkedRow> PgLedger::load_parked() {
  return guarded([&] {
    ready();
    const Rows rows = conn_.exec(
        "SELECT department, seq, household_id, attempts, COALESCE(effective_on, '') FROM ledger_parked "
        "WHERE hub_id = $1 AND state = 'parked' "
        "ORDER BY department COLLATE \"C\", seq",
        Params().text(hub_id_));
    std::vector<ParkedRow> out;
    for (int i = 0; i < rows.size(); ++i)
      out.push_back({std::string(rows.text(i, 0)), static_cast<std::uint64_t>(rows.integer(i, 1)),
                     std::string(rows.text(i, 2)), static_cast<std::uint32_t>(rows.integer(i, 3)),
                     std::string(rows.text(i, 4))});
    return out;
  });
}

nlohmann::json PgLedger::list_parked(const ParkedQuery& query) {
  return guarded([&] {
    using nlohmann::json;
    ready();
    const std::size_t limit = std::min<std::size_t>(query.limit, std::numeric_limits<std::int64_t>::max() - 1);
    const Rows rows = conn_.exec(
        "SELECT department, seq, household_id, event_id, reason, attempts, parked_at_ms, behind_seq, state, "
        "resolved_by, resolved_at_ms, effective_on FROM ledger_parked WHERE hub_id = $1 AND ($2 = '' OR department = $2) "
        "AND ($3 = '' OR household_id = $3) AND ($4::boolean OR state = 'parked') "
        "ORDER BY department COLLATE \"C\", seq LIMIT $5",
        Params()
            .text(hub_id_)
            .text(query.department)
            .text(query.household_id)
            .text(query.all ? "true" : "false")
            .integer(static_cast<std::int64_t>(limit + 1)));
    const int shown = static_cast<int>(std::min<std::size_t>(limit, static_cast<std::size_t>(rows.size())));
    // The history of every event shown, in one query.
    std::map<std::pair<std::string, std::int64_t>, json> history;
    if (query.all && shown > 0) {
      std::vector<std::string> department;
      std::vector<std::int64_t> seq;
      for (int i = 0; i < shown; ++i) {
        department.emplace_back(rows.text(i, 0));
        seq.push_back(rows.integer(i, 1));
        history[{department.back(), seq.back()}] = json::array();
      }
      const Rows h = conn_.exec(
          "SELECT h.department, h.seq, h.action, h.by_operator, h.at_ms, h.outcome FROM ledger_parked_history h "
          "JOIN unnest($2::text[], $3::bigint[]) AS u(d, s) ON h.department = u.d AND h.seq = u.s "
          "WHERE h.hub_id = $1 ORDER BY h.id",
          Params().text(hub_id_).text_array(department).integer_array(seq));
      for (int i = 0; i < h.size(); ++i)
        history[{std::string(h.text(i, 0)), h.integer(i, 1)}].push_back(parked_history_json(
            std::string(h.text(i, 2)), std::string(h.text(i, 3)), h.integer(i, 4), std::string(h.text(i, 5))));
    }
    json out = json::array();
    for (int i = 0; i < shown; ++i) {
      json row = parked_json(
          {std::string(rows.text(i, 0)), rows.integer(i, 1), std::string(rows.text(i, 2)), std::string(rows.text(i, 3)),
           std::string(rows.text(i, 4)), rows.integer(i, 5), rows.integer(i, 6), rows.integer(i, 7),
           std::string(rows.text(i, 8)),
           rows.is_null(i, 9) ? std::nullopt : std::optional<std::string>(rows.text(i, 9)),
           rows.is_null(i, 10) ? std::nullopt : std::optional<std::int64_t>(rows.integer(i, 10)),
           rows.is_null(i, 11) ? std::nullopt : std::optional<std::string>(rows.text(i, 11))});
      if (query.all) row["history"] = std::move(history[{std::string(rows.text(i, 0)), rows.integer(i, 1)}]);
      out.push_back(std::move(row));
    }
    return json{{"parked", std::move(out)}, {"truncated", static_cast<std::size_t>(rows.size()) > limit}};
  });
}

std::map<std::string, PluginState> PgLedger::load_plugin_states() {
  return guarded([&] {
    ready();
    const Rows rows = conn_.exec(
        "SELECT department, disabled, disabled_by, disabled_at_ms, disabled_reason, library, library_version, "
        "config_library, reloaded_by, reloaded_at_ms FROM ledger_plugin_state WHERE hub_id = $1",
        Params().text(hub_id_));
    std::map<std::string, PluginState> out;
    for (int i = 0; i < rows.size(); ++i) {
      PluginState s;
      s.disabled = rows.text(i, 1) == "t";
      s.disabled_by = optional_text(rows, i, 2);
      s.disabled_at_ms = optional_integer(rows, i, 3);
      s.disabled_reason = optional_text(rows, i, 4);
      s.library = optional_text(rows, i, 5);
      s.library_version = optional_text(rows, i, 6);
      s.config_library = optional_text(rows, i, 7);
      s.reloaded_by = optional_text(rows, i, 8);
      s.reloaded_at_ms = optional_integer(rows, i, 9);
      out.emplace(std::string(rows.text(i, 0)), std::move(s));
    }
    return out;
  });
}

void PgLedger::record_plugin_action(const std::string& change, const Params& params, const std::string& department,
                                    const std::string& action, const std::string& by, std::int64_t now_ms,
                                    const std::string& detail) {
  guarded([&] {
    ready();
    Pipeline p(conn_);
    p.send("BEGIN");
    p.send(change, params);
    p.send("INSERT INTO ledger_plugin_action (hub_id, department, action, by_operator, at_ms, detail) "
           "VALUES ($1, $2, $3, $4, $5, $6)",
           Params().text(hub_id_).text(department).text(action).text(by).integer(now_ms).text(detail));
    p.send("COMMIT");
    p.finish();
  });
}

void PgLedger::record_disabled(const std::string& department, const std::string& by, const std::string& reason,
                               std::int64_t now_ms) {
  record_plugin_action(
      "INSERT INTO ledger_plugin_state (hub_id, department, disabled, disabled_by, disabled_at_ms, disabled_reason) "
      "VALUES ($1, $2, true, $3, $4, $5) ON CONFLICT (hub_id, department) DO UPDATE SET disabled = true, "
      "disabled_by = $3, disabled_at_ms = $4, disabled_reason = $5",
      Params().text(hub_id_).text(department).text(by).integer(now_ms).optional_text(
          reason.empty() ? std::nullopt : std::optional<std::string>(reason)),
      department, "disable", by, now_ms, reason);
}

void PgLedger::record_enabled(const std::string& department, const std::string& by, std::int64_t now_ms) {
  record_plugin_action(
      "UPDATE ledger_plugin_state SET disabled = false, disabled_by = NULL, disabled_at_ms = NULL, "
      "disabled_reason = NULL WHERE hub_id = $1 AND department = $2",
      Params().text(hub_id_).text(department), department, "enable", by, now_ms, "");
}

void PgLedger::record_reload(const std::string& department, const std::string& library, const std::string& version,
                             const std::string& config_library, const std::string& by, std::int64_t now_ms) {
  record_plugin_action(
      "INSERT INTO ledger_plugin_state (hub_id, department, library, library_version, config_library, reloaded_by, "
      "reloaded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hub_id, department) DO UPDATE SET "
      "library = $3, library_version = $4, config_library = $5, reloaded_by = $6, reloaded_at_ms = $7",
      Params().text(hub_id_).text(department).text(library).text(version).text(config_library).text(by).integer(
          now_ms),
      department, "reload", by, now_ms, library + " (" + version + ")");
}

void PgLedger::forget_reload(const std::string& department, const std::string& why, std::int64_t now_ms) {
  record_plugin_action(
      "UPDATE ledger_plugin_state SET library = NULL, library_version = NULL, config_library = NULL, "
      "reloaded_by = NULL, reloaded_at_ms = NULL WHERE hub_id = $1 AND department = $2",
      Params().text(hub_id_).text(department), department, "config_wins", "hubd", now_ms, why);
}

// ---- Verification ---------------------------------------------------------------------------

audit::VerifyResult verify_pg_ledger_chain(const std::string& dsn, const std::string& hub_id) {
  const audit::ChainName name{"台账链", "ledger chain"};
  try {
    Connection c(dsn);
    // One snapshot for the head, the reasons and the rows.
    c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    ReasonTexts reasons;
    {
      const Rows rows = c.exec("SELECT id, text FROM ledger_reason WHERE hub_id = $1", Params().text(hub_id));
      for (int i = 0; i < rows.size(); ++i) reasons.emplace(rows.integer(i, 0), std::string(rows.text(i, 1)));
    }
    const std::optional<audit::ChainHead> head = read_chain_head(c, hub_id, kLedgerChain);
    // A cursor: a county's ledger has tens of millions of deliveries, read a chunk at a time.
    c.exec(
        "DECLARE ledger_chain NO SCROLL CURSOR FOR SELECT chain_seq, delivered_at_ms, department, seq, household_id, "
        "event_id, plugin_version, actions, handoff, handoff_detail, prev_hash, hash FROM ledger_delivery "
        "WHERE hub_id = $1 AND chain_seq IS NOT NULL ORDER BY chain_seq",
        Params().text(hub_id));
    Rows chunk(nullptr);
    int next = 0;
    const auto hex_or_empty = [](const Rows& rows, int row, int column) {
      return rows.is_null(row, column) ? std::string() : audit::blob_to_hex(rows.bytes(row, column));
    };
    audit::VerifyResult result = audit::verify_chain(name, head, [&](audit::ChainRecord& r) {
      if (next == chunk.size()) {
        chunk = c.exec("FETCH 4096 FROM ledger_chain");
        next = 0;
        if (chunk.empty()) return false;
      }
      const int i = next++;
      r.seq = chunk.integer(i, 0);
      r.at_ms = chunk.integer(i, 1);
      const std::string department(chunk.text(i, 2));
      r.entry.kind = "policy_action";
      r.entry.actor = department;
      r.entry.subject = department + ":" + std::string(chunk.text(i, 3));
      audit::RowDetail detail;
      for (int column = 4; column <= 9; ++column) {
        if (chunk.is_null(i, column))
          detail.null();
        else
          detail.text(chunk.text(i, column));
      }
      append_reasons(detail, std::string(chunk.text(i, 7)), reasons);
      r.entry.detail = detail.take();
      r.signature.reset();
      r.prev_hash = hex_or_empty(chunk, i, 10);
      r.hash = hex_or_empty(chunk, i, 11);
      return true;
    });
    if (!result.ok) return result;
    // A delivery outside the chain was put there by someone else.
    const Rows outside = c.exec(
        "SELECT department, seq FROM ledger_delivery WHERE hub_id = $1 AND chain_seq IS NULL "
        "ORDER BY department COLLATE \"C\", seq LIMIT 1",
        Params().text(hub_id));
    if (!outside.empty())
      name_delivery_outside_chain(result, std::string(outside.text(0, 0)) + ":" + std::string(outside.text(0, 1)));
    return result;
  } catch (const std::exception& e) {
    return audit::unreadable(name, "PostgreSQL (hub " + hub_id + ")", e.what());
  }
}

}  // namespace hub::store::pg
