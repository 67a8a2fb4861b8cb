#include "store/sqlite/sqlite_complaint_store.h"

#include <nlohmann/json.hpp>

#include "store/sqlite/database.h"

namespace hub::store {
namespace {

// Version 1: the complaints (kSchema). Version 2: the 公示 proposals beside them
// (kProposalSchema; 1 -> 2 only creates the table).
constexpr int kSchemaVersion = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS complaint (
  number        INTEGER PRIMARY KEY,   -- 1, 2, … never reused
  id            TEXT NOT NULL UNIQUE,  -- TS-2026-000123
  household_id  TEXT NOT NULL,
  village       TEXT NOT NULL,
  quarter       TEXT NOT NULL,
  channel       TEXT NOT NULL,
  received_on   TEXT NOT NULL,         -- YYYY-MM-DD
  summary       TEXT NOT NULL,
  lodged_by     TEXT,                  -- NULL: anonymous
  handler       TEXT,
  deadline      TEXT NOT NULL,         -- YYYY-MM-DD
  state         TEXT NOT NULL,
  ruling        TEXT,
  ruled_on      TEXT,
  lodged_at_ms  INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS complaint_household ON complaint (household_id, number);
CREATE INDEX IF NOT EXISTS complaint_open ON complaint (state, deadline);
)sql";

constexpr const char* kProposalSchema = R"sql(
CREATE TABLE IF NOT EXISTS proposal (
  household_id   TEXT NOT NULL,
  village        TEXT NOT NULL,
  quarter        TEXT NOT NULL,         -- 2026Q4
  status         TEXT NOT NULL,         -- credit | non_credit | breach
  designations   TEXT NOT NULL,         -- JSON array of text: [] for none
  effective_date TEXT,                  -- YYYY-MM-DD
  event_id       TEXT NOT NULL,
  event          TEXT NOT NULL,         -- the status change, JSON text exactly as the wire has it
  proposed_on    TEXT NOT NULL,         -- YYYY-MM-DD
  state          TEXT NOT NULL,         -- proposed | confirmed | superseded
  confirmed_on   TEXT,
  superseded_by  TEXT,                  -- the upheld complaint's id
  proposed_at_ms INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL,
  PRIMARY KEY (household_id, quarter)
);
CREATE INDEX IF NOT EXISTS proposal_notice ON proposal (village, quarter, household_id);
)sql";

constexpr const char* kColumns =
    "number, id, household_id, village, quarter, channel, received_on, summary, lodged_by, handler, deadline, state, "
    "ruling, ruled_on, lodged_at_ms, updated_at_ms";

std::optional<std::string> optional_text(const Statement& q, int column) {
  if (q.column_is_null(column)) return std::nullopt;
  return q.column_text(column);
}

Complaint read_row(const Statement& q) {
  Complaint c;
  c.number = q.column_int(0);
  c.id = q.column_text(1);
  c.household_id = q.column_text(2);
  c.village = q.column_text(3);
  c.quarter = q.column_text(4);
  const auto channel = complaint_channel(q.column_text(5));
  const auto state = complaint_state(q.column_text(11));
  if (!channel || !state)
    throw SqliteError(0, "complaints.db: complaint " + c.id + " has an unknown channel or state");
  c.channel = *channel;
  c.received_on = q.column_text(6);
  c.summary = q.column_text(7);
  c.lodged_by = optional_text(q, 8);
  c.handler = optional_text(q, 9);
  c.deadline = q.column_text(10);
  c.state = *state;
  c.ruling = optional_text(q, 12);
  c.ruled_on = optional_text(q, 13);
  c.lodged_at_ms = q.column_int(14);
  c.updated_at_ms = q.column_int(15);
  return c;
}

Statement& bind_optional(Statement& q, int index, const std::optional<std::string>& value) {
  return value ? q.bind(index, *value) : q.bind_null(index);
}

constexpr const char* kProposalColumns =
    "household_id, village, quarter, status, designations, effective_date, event_id, event, proposed_on, state, "
    "confirmed_on, superseded_by, proposed_at_ms, updated_at_ms";

// Designations as a JSON array ("[]" for none): any text round-trips, ';' and all.
std::string designations_text(const std::vector<std::string>& designations) {
  try {
    return nlohmann::json(designations).dump();
  } catch (const nlohmann::json::exception&) {
    throw SqliteError(0, "complaints.db: a proposal's designation is not UTF-8 text");
  }
}

Proposal read_proposal(const Statement& q) {
  Proposal p;
  p.household_id = q.column_text(0);
  p.village = q.column_text(1);
  p.quarter = q.column_text(2);
  p.status = q.column_text(3);
  const auto designations = nlohmann::json::parse(q.column_text(4), nullptr, false);
  const auto state = proposal_state(q.column_view(9));
  if (!designations.is_array() || !state)
    throw SqliteError(0, "complaints.db: the proposal for " + p.household_id + " " + p.quarter +
                             " has unreadable designations or an unknown state");
  for (const auto& d : designations) {
    if (!d.is_string())
      throw SqliteError(0, "complaints.db: the proposal for " + p.household_id + " " + p.quarter +
                               " has unreadable designations or an unknown state");
    p.designations.push_back(d.get<std::string>());
  }
  p.effective_date = optional_text(q, 5);
  p.event_id = q.column_text(6);
  p.event = q.column_text(7);
  p.proposed_on = q.column_text(8);
  p.state = *state;
  p.confirmed_on = optional_text(q, 10);
  p.superseded_by = optional_text(q, 11);
  p.proposed_at_ms = q.column_int(12);
  p.updated_at_ms = q.column_int(13);
  return p;
}

// The open states, as SQL text literals: what "not ruled" means in a WHERE clause.
constexpr const char* kOpenStates = "('received', 'investigating')";

}  // namespace

SqliteComplaintStore::SqliteComplaintStore(const std::string& path) {
  try {
    db_ = std::make_unique<Database>(path, Database::Mode::kReadWrite);
    db_->exec("PRAGMA journal_mode=WAL");
    db_->exec("PRAGMA synchronous=FULL");
    const std::int64_t found = user_version(*db_);
    if (found > kSchemaVersion)
      throw SqliteError(0, path + ": complaints schema version " + std::to_string(found) +
                               " is newer than this hubd understands (" + std::to_string(kSchemaVersion) +
                               "); upgrade hubd / 数据文件版本比本程序新，请升级 hubd");
    if (found < kSchemaVersion) {
      Transaction tx(*db_);
      db_->exec(kSchema);
      db_->exec(kProposalSchema);  // version 1 -> 2
      db_->exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
      tx.commit();
    }
  } catch (const SqliteError& e) {
    Status s = e.status();
    s.message = "无法打开投诉登记 / cannot open the complaints register " + path + ": " + s.message;
    throw StorageError(std::move(s));
  }
}

SqliteComplaintStore::~SqliteComplaintStore() = default;

Complaint SqliteComplaintStore::add(const NewComplaint& n, const std::string& village, const std::string& deadline,
                                    std::int64_t at_ms) {
  return guarded([&] {
    Transaction tx(*db_);
    Statement next(*db_, "SELECT COALESCE(MAX(number), 0) + 1 FROM complaint");
    next.step();
    const Complaint c = lodged_complaint(n, next.column_int(0), village, deadline, at_ms);
    next.reset();
    Statement insert(*db_, (std::string("INSERT INTO complaint (") + kColumns +
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                               .c_str());
    insert.bind(1, c.number).bind(2, c.id).bind(3, c.household_id).bind(4, c.village).bind(5, c.quarter);
    insert.bind(6, to_string(c.channel)).bind(7, c.received_on).bind(8, c.summary);
    bind_optional(insert, 9, c.lodged_by);
    bind_optional(insert, 10, c.handler);
    insert.bind(11, c.deadline).bind(12, to_string(c.state)).bind_null(13).bind_null(14);
    insert.bind(15, c.lodged_at_ms).bind(16, c.updated_at_ms);
    insert.run();
    tx.commit();
    return c;
  });
}

std::optional<Complaint> SqliteComplaintStore::find(std::int64_t number) {
  return guarded([&]() -> std::optional<Complaint> {
    Statement q(*db_, (std::string("SELECT ") + kColumns + " FROM complaint WHERE number = ?").c_str());
    q.bind(1, number);
    if (!q.step()) return std::nullopt;
    return read_row(q);
  });
}

bool SqliteComplaintStore::update(const Complaint& c, ComplaintState expected) {
  return guarded([&] {
    Transaction tx(*db_);
    Statement q(*db_,
                "UPDATE complaint SET state = ?, handler = ?, ruling = ?, ruled_on = ?, updated_at_ms = ? "
                "WHERE number = ? AND state = ?");
    q.bind(1, to_string(c.state));
    bind_optional(q, 2, c.handler);
    bind_optional(q, 3, c.ruling);
    bind_optional(q, 4, c.ruled_on);
    q.bind(5, c.updated_at_ms).bind(6, c.number).bind(7, to_string(expected));
    q.run();
    const bool changed = db_->changes() == 1;
    tx.commit();
    return changed;
  });
}

complaints::ComplaintPage SqliteComplaintStore::list(const complaints::ComplaintQuery& query) {
  return guarded([&] {
    std::string sql = std::string("SELECT ") + kColumns + " FROM complaint WHERE number > ?";
    if (query.state) sql += " AND state = ?";
    if (query.household_id) sql += " AND household_id = ?";
    if (query.village) sql += " AND village = ?";
    if (query.overdue_on) sql += std::string(" AND state IN ") + kOpenStates + " AND deadline < ?";
    sql += " ORDER BY number LIMIT ?";
    Statement q(*db_, sql.c_str());
    int i = 1;
    q.bind(i++, query.after_number);
    if (query.state) q.bind(i++, to_string(*query.state));
    if (query.household_id) q.bind(i++, *query.household_id);
    if (query.village) q.bind(i++, *query.village);
    if (query.overdue_on) q.bind(i++, *query.overdue_on);
    q.bind(i++, static_cast<std::int64_t>(query.limit) + 1);
    complaints::ComplaintPage page;
    while (q.step()) {
      if (page.complaints.size() == query.limit) {
        page.more = true;
        break;
      }
      page.complaints.push_back(read_row(q));
    }
    return page;
  });
}

complaints::ComplaintCounts SqliteComplaintStore::counts(const std::string& today,
                                                          const std::optional<std::string>& village) {
  return guarded([&] {
    std::string sql = std::string("SELECT state, COUNT(*), SUM(CASE WHEN state IN ") + kOpenStates +
                      " AND deadline < ? THEN 1 ELSE 0 END) FROM complaint";
    if (village) sql += " WHERE village = ?";
    sql += " GROUP BY state";
    Statement q(*db_, sql.c_str());
    q.bind(1, today);
    if (village) q.bind(2, *village);
    complaints::ComplaintCounts counts;
    while (q.step()) {
      const auto state = complaint_state(q.column_text(0));
      const std::int64_t n = q.column_int(1);
      counts.overdue += q.column_int(2);
      if (!state) continue;
      switch (*state) {
        case ComplaintState::kReceived: counts.received = n; break;
        case ComplaintState::kInvestigating: counts.investigating = n; break;
        case ComplaintState::kUpheld: counts.upheld = n; break;
        case ComplaintState::kDismissed: counts.dismissed = n; break;
      }
    }
    counts.open = counts.received + counts.investigating;
    return counts;
  });
}

std::optional<Proposal> SqliteComplaintStore::find_proposal(const std::string& household_id,
                                                            const std::string& quarter) {
  return guarded([&]() -> std::optional<Proposal> {
    Statement q(*db_, (std::string("SELECT ") + kProposalColumns +
                       " FROM proposal WHERE household_id = ? AND quarter = ?")
                          .c_str());
    q.bind(1, household_id).bind(2, quarter);
    if (!q.step()) return std::nullopt;
    return read_proposal(q);
  });
}

void SqliteComplaintStore::save_proposals(const std::vector<Proposal>& proposals) {
  guarded([&] {
    Transaction tx(*db_);
    Statement q(*db_, (std::string("INSERT INTO proposal (") + kProposalColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (household_id, quarter) DO UPDATE SET village = excluded.village, "
                       "status = excluded.status, designations = excluded.designations, "
                       "effective_date = excluded.effective_date, event_id = excluded.event_id, "
                       "event = excluded.event, proposed_on = excluded.proposed_on, state = excluded.state, "
                       "confirmed_on = excluded.confirmed_on, superseded_by = excluded.superseded_by, "
                       "proposed_at_ms = excluded.proposed_at_ms, updated_at_ms = excluded.updated_at_ms")
                          .c_str());
    for (const Proposal& p : proposals) {
      q.bind(1, p.household_id).bind(2, p.village).bind(3, p.quarter).bind(4, p.status);
      q.bind(5, designations_text(p.designations));
      bind_optional(q, 6, p.effective_date);
      q.bind(7, p.event_id).bind(8, p.event).bind(9, p.proposed_on).bind(10, to_string(p.state));
      bind_optional(q, 11, p.confirmed_on);
      bind_optional(q, 12, p.superseded_by);
      q.bind(13, p.proposed_at_ms).bind(14, p.updated_at_ms);
      q.run();
    }
    tx.commit();
  });
}

std::vector<Proposal> SqliteComplaintStore::proposals(const std::string& village, const std::string& quarter) {
  return guarded([&] {
    Statement q(*db_, (std::string("SELECT ") + kProposalColumns +
                       " FROM proposal WHERE village = ? AND quarter = ? ORDER BY household_id")
                          .c_str());
    q.bind(1, village).bind(2, quarter);
    std::vector<Proposal> out;
    while (q.step()) out.push_back(read_proposal(q));
    return out;
  });
}

bool SqliteComplaintStore::update_proposal(const Proposal& p, ProposalState expected) {
  return guarded([&] {
    Transaction tx(*db_);
    Statement q(*db_,
                "UPDATE proposal SET state = ?, confirmed_on = ?, superseded_by = ?, updated_at_ms = ? "
                "WHERE household_id = ? AND quarter = ? AND state = ?");
    q.bind(1, to_string(p.state));
    bind_optional(q, 2, p.confirmed_on);
    bind_optional(q, 3, p.superseded_by);
    q.bind(4, p.updated_at_ms).bind(5, p.household_id).bind(6, p.quarter).bind(7, to_string(expected));
    q.run();
    const bool changed = db_->changes() == 1;
    tx.commit();
    return changed;
  });
}

std::vector<complaints::NoticeCounts> SqliteComplaintStore::notices(const std::optional<std::string>& quarter) {
  return guarded([&] {
    std::string sql =
        "SELECT village, quarter, SUM(state = 'proposed'), SUM(state = 'confirmed'), SUM(state = 'superseded'), "
        "MAX(proposed_on) FROM proposal";
    if (quarter) sql += " WHERE quarter = ?";
    sql += " GROUP BY village, quarter ORDER BY quarter DESC, village";
    Statement q(*db_, sql.c_str());
    if (quarter) q.bind(1, *quarter);
    std::vector<complaints::NoticeCounts> out;
    while (q.step()) {
      complaints::NoticeCounts n;
      n.village = q.column_text(0);
      n.quarter = q.column_text(1);
      n.proposed = q.column_int(2);
      n.confirmed = q.column_int(3);
      n.superseded = q.column_int(4);
      n.last_proposed_on = q.column_text(5);
      out.push_back(std::move(n));
    }
    return out;
  });
}

complaints::ComplaintStoreOpener sqlite_complaint_store_opener(std::string path) {
  return [path = std::move(path)]() -> std::unique_ptr<complaints::ComplaintStore> {
    return std::make_unique<SqliteComplaintStore>(path);
  };
}

}  // namespace hub::store
