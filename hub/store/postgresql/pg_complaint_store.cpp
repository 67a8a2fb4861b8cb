#include "store/postgresql/pg_complaint_store.h"

#include <nlohmann/json.hpp>

#include "store/postgresql/pg_schema.h"

namespace hub::store::pg {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE complaint (
  hub_id        text NOT NULL,
  number        bigint NOT NULL,   -- 1, 2, … per hub, never reused
  id            text NOT NULL,     -- TS-2026-000123
  household_id  text NOT NULL,
  village       text NOT NULL,
  quarter       text NOT NULL,
  channel       text NOT NULL,
  received_on   text NOT NULL,     -- YYYY-MM-DD, as on SQLite
  summary       text NOT NULL,
  lodged_by     text,              -- NULL: anonymous
  handler       text,
  deadline      text NOT NULL,
  state         text NOT NULL,
  ruling        text,
  ruled_on      text,
  lodged_at_ms  bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  PRIMARY KEY (hub_id, number),
  UNIQUE (hub_id, id)
);
CREATE INDEX complaint_household ON complaint (hub_id, household_id, number);
CREATE INDEX complaint_open ON complaint (hub_id, state, deadline);
)sql";

// Version 2: the 公示 proposals (domain/notice.h), complaints.db's `proposal` with hub_id leading
// every key. The keys compare byte by byte (COLLATE "C"), as SQLite compares them: the notice
// list in the same order on both backends.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE proposal (
  hub_id         text COLLATE "C" NOT NULL,
  household_id   text COLLATE "C" NOT NULL,
  village        text COLLATE "C" NOT NULL,
  quarter        text COLLATE "C" NOT NULL,  -- 2026Q4
  status         text NOT NULL,              -- credit | non_credit | breach
  designations   text NOT NULL,              -- JSON array of text: [] for none
  effective_date text,                       -- YYYY-MM-DD
  event_id       text NOT NULL,
  event          text NOT NULL,              -- the status change, JSON text exactly as the wire has it
  proposed_on    text NOT NULL,              -- YYYY-MM-DD
  state          text NOT NULL,              -- proposed | confirmed | superseded
  confirmed_on   text,
  superseded_by  text,                       -- the upheld complaint's id
  proposed_at_ms bigint NOT NULL,
  updated_at_ms  bigint NOT NULL,
  PRIMARY KEY (hub_id, household_id, quarter)
);
CREATE INDEX proposal_notice ON proposal (hub_id, village, quarter, household_id);
)sql";

constexpr const char* kColumns =
    "number, id, household_id, village, quarter, channel, received_on, summary, lodged_by, handler, deadline, state, "
    "ruling, ruled_on, lodged_at_ms, updated_at_ms";

constexpr const char* kOpenStates = "('received', 'investigating')";

Complaint read_row(const Rows& rows, int r) {
  Complaint c;
  c.number = rows.integer(r, 0);
  c.id = std::string(rows.text(r, 1));
  c.household_id = std::string(rows.text(r, 2));
  c.village = std::string(rows.text(r, 3));
  c.quarter = std::string(rows.text(r, 4));
  const auto channel = complaint_channel(rows.text(r, 5));
  const auto state = complaint_state(rows.text(r, 11));
  if (!channel || !state) throw PgError("XX000", "PostgreSQL: complaint " + c.id + " has an unknown channel or state");
  c.channel = *channel;
  c.received_on = std::string(rows.text(r, 6));
  c.summary = std::string(rows.text(r, 7));
  c.lodged_by = rows.optional_text(r, 8);
  c.handler = rows.optional_text(r, 9);
  c.deadline = std::string(rows.text(r, 10));
  c.state = *state;
  c.ruling = rows.optional_text(r, 12);
  c.ruled_on = rows.optional_text(r, 13);
  c.lodged_at_ms = rows.integer(r, 14);
  c.updated_at_ms = rows.integer(r, 15);
  return c;
}

constexpr const char* kProposalColumns =
    "household_id, village, quarter, status, designations, effective_date, event_id, event, proposed_on, state, "
    "confirmed_on, superseded_by, proposed_at_ms, updated_at_ms";

// Designations as a JSON array ("[]" for none): any text round-trips, ';' and all.
std::string designations_text(const std::vector<std::string>& designations) {
  try {
    return nlohmann::json(designations).dump();
  } catch (const nlohmann::json::exception&) {
    throw PgError("XX000", "PostgreSQL: a proposal's designation is not UTF-8 text");
  }
}

Proposal read_proposal(const Rows& rows, int r) {
  Proposal p;
  p.household_id = std::string(rows.text(r, 0));
  p.village = std::string(rows.text(r, 1));
  p.quarter = std::string(rows.text(r, 2));
  p.status = std::string(rows.text(r, 3));
  const auto designations = nlohmann::json::parse(std::string(rows.text(r, 4)), nullptr, false);
  const auto state = proposal_state(rows.text(r, 9));
  const auto unreadable = [&] {
    return PgError("XX000", "PostgreSQL: the proposal for " + p.household_id + " " + p.quarter +
                                " has unreadable designations or an unknown state");
  };
  if (!designations.is_array() || !state) throw unreadable();
  for (const auto& d : designations) {
    if (!d.is_string()) throw unreadable();
    p.designations.push_back(d.get<std::string>());
  }
  p.effective_date = rows.optional_text(r, 5);
  p.event_id = std::string(rows.text(r, 6));
  p.event = std::string(rows.text(r, 7));
  p.proposed_on = std::string(rows.text(r, 8));
  p.state = *state;
  p.confirmed_on = rows.optional_text(r, 10);
  p.superseded_by = rows.optional_text(r, 11);
  p.proposed_at_ms = rows.integer(r, 12);
  p.updated_at_ms = rows.integer(r, 13);
  return p;
}

}  // namespace

PgComplaintStore::PgComplaintStore(std::string dsn, std::string hub_id) try
    : hub_id_(hub_id), conn_(dsn) {
  ensure_schema(conn_, "complaints", {kSchemaV1, kSchemaV2});
} catch (const PgError& e) {
  Status s = e.status();
  s.message = "无法打开投诉登记 / cannot open the complaints register (PostgreSQL, hub " + hub_id + "): " + s.message;
  throw StorageError(std::move(s));
}

PgComplaintStore::~PgComplaintStore() = default;

Complaint PgComplaintStore::add(const NewComplaint& n, const std::string& village, const std::string& deadline,
                                std::int64_t at_ms) {
  return guarded([&] {
    Connection::Transaction tx(conn_);
    // One numberer per hub at a time (two hubd of a failover pair share a hub_id).
    conn_.exec("SELECT pg_advisory_xact_lock(hashtext('chengxin-hub complaint ' || $1))", Params().text(hub_id_));
    const Rows next =
        conn_.exec("SELECT COALESCE(MAX(number), 0) + 1 FROM complaint WHERE hub_id = $1", Params().text(hub_id_));
    const Complaint c = lodged_complaint(n, next.integer(0, 0), village, deadline, at_ms);
    conn_.exec(std::string("INSERT INTO complaint (hub_id, ") + kColumns +
                   ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, $14, $15)",
               Params()
                   .text(hub_id_)
                   .integer(c.number)
                   .text(c.id)
                   .text(c.household_id)
                   .text(c.village)
                   .text(c.quarter)
                   .text(to_string(c.channel))
                   .text(c.received_on)
                   .text(c.summary)
                   .optional_text(c.lodged_by)
                   .optional_text(c.handler)
                   .text(c.deadline)
                   .text(to_string(c.state))
                   .integer(c.lodged_at_ms)
                   .integer(c.updated_at_ms));
    tx.commit();
    return c;
  });
}

std::optional<Complaint> PgComplaintStore::find(std::int64_t number) {
  return guarded([&]() -> std::optional<Complaint> {
    const Rows rows = conn_.exec(std::string("SELECT ") + kColumns + " FROM complaint WHERE hub_id = $1 AND number = $2",
                                 Params().text(hub_id_).integer(number));
    if (rows.empty()) return std::nullopt;
    return read_row(rows, 0);
  });
}

bool PgComplaintStore::update(const Complaint& c, ComplaintState expected) {
  return guarded([&] {
    const Rows rows = conn_.exec(
        "UPDATE complaint SET state = $1, handler = $2, ruling = $3, ruled_on = $4, updated_at_ms = $5 "
        "WHERE hub_id = $6 AND number = $7 AND state = $8",
        Params()
            .text(to_string(c.state))
            .optional_text(c.handler)
            .optional_text(c.ruling)
            .optional_text(c.ruled_on)
            .integer(c.updated_at_ms)
            .text(hub_id_)
            .integer(c.number)
            .text(to_string(expected)));
    return rows.affected() == 1;
  });
}

complaints::ComplaintPage PgComplaintStore::list(const complaints::ComplaintQuery& query) {
  return guarded([&] {
    std::string sql = std::string("SELECT ") + kColumns + " FROM complaint WHERE hub_id = $1 AND number > $2";
    Params params;
    params.text(hub_id_).integer(query.after_number);
    int next = 3;
    const auto placeholder = [&next] { return "$" + std::to_string(next++); };
    if (query.state) {
      sql += " AND state = " + placeholder();
      params.text(to_string(*query.state));
    }
    if (query.household_id) {
      sql += " AND household_id = " + placeholder();
      params.text(*query.household_id);
    }
    if (query.village) {
      sql += " AND village = " + placeholder();
      params.text(*query.village);
    }
    if (query.overdue_on) {
      sql += std::string(" AND state IN ") + kOpenStates + " AND deadline < " + placeholder();
      params.text(*query.overdue_on);
    }
    sql += " ORDER BY number LIMIT " + placeholder();
    params.integer(static_cast<std::int64_t>(query.limit) + 1);
    const Rows rows = conn_.exec(sql, params);
    complaints::ComplaintPage page;
    for (int r = 0; r < rows.size(); ++r) {
      if (page.complaints.size() == query.limit) {
        page.more = true;
        break;
      }
      page.complaints.push_back(read_row(rows, r));
    }
    return page;
  });
}

complaints::ComplaintCounts PgComplaintStore::counts(const std::string& today,
                                                      const std::optional<std::string>& village) {
  return guarded([&] {
    std::string sql = std::string("SELECT state, COUNT(*), COUNT(*) FILTER (WHERE state IN ") + kOpenStates +
                      " AND deadline < $2) FROM complaint WHERE hub_id = $1";
    Params params;
    params.text(hub_id_).text(today);
    if (village) {
      sql += " AND village = $3";
      params.text(*village);
    }
    sql += " GROUP BY state";
    const Rows rows = conn_.exec(sql, params);
    complaints::ComplaintCounts counts;
    for (int r = 0; r < rows.size(); ++r) {
      const auto state = complaint_state(rows.text(r, 0));
      const std::int64_t n = rows.integer(r, 1);
      counts.overdue += rows.integer(r, 2);
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

std::optional<Proposal> PgComplaintStore::find_proposal(const std::string& household_id, const std::string& quarter) {
  return guarded([&]() -> std::optional<Proposal> {
    const Rows rows = conn_.exec(std::string("SELECT ") + kProposalColumns +
                                     " FROM proposal WHERE hub_id = $1 AND household_id = $2 AND quarter = $3",
                                 Params().text(hub_id_).text(household_id).text(quarter));
    if (rows.empty()) return std::nullopt;
    return read_proposal(rows, 0);
  });
}

void PgComplaintStore::save_proposals(const std::vector<Proposal>& proposals) {
  guarded([&] {
    Connection::Transaction tx(conn_);
    for (const Proposal& p : proposals)
      conn_.exec(std::string("INSERT INTO proposal (hub_id, ") + kProposalColumns +
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
                     "ON CONFLICT (hub_id, household_id, quarter) DO UPDATE SET village = excluded.village, "
                     "status = excluded.status, designations = excluded.designations, "
                     "effective_date = excluded.effective_date, event_id = excluded.event_id, "
                     "event = excluded.event, proposed_on = excluded.proposed_on, state = excluded.state, "
                     "confirmed_on = excluded.confirmed_on, superseded_by = excluded.superseded_by, "
                     "proposed_at_ms = excluded.proposed_at_ms, updated_at_ms = excluded.updated_at_ms",
                 Params()
                     .text(hub_id_)
                     .text(p.household_id)
                     .text(p.village)
                     .text(p.quarter)
                     .text(p.status)
                     .text(designations_text(p.designations))
                     .optional_text(p.effective_date)
                     .text(p.event_id)
                     .text(p.event)
                     .text(p.proposed_on)
                     .text(to_string(p.state))
                     .optional_text(p.confirmed_on)
                     .optional_text(p.superseded_by)
                     .integer(p.proposed_at_ms)
                     .integer(p.updated_at_ms));
    tx.commit();
  });
}

std::vector<Proposal> PgComplaintStore::proposals(const std::string& village, const std::string& quarter) {
  return guarded([&] {
    const Rows rows = conn_.exec(std::string("SELECT ") + kProposalColumns +
                                     " FROM proposal WHERE hub_id = $1 AND village = $2 AND quarter = $3 "
                                     "ORDER BY household_id",
                                 Params().text(hub_id_).text(village).text(quarter));
    std::vector<Proposal> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(read_proposal(rows, r));
    return out;
  });
}

bool PgComplaintStore::update_proposal(const Proposal& p, ProposalState expected) {
  return guarded([&] {
    const Rows rows = conn_.exec(
        "UPDATE proposal SET state = $1, confirmed_on = $2, superseded_by = $3, updated_at_ms = $4 "
        "WHERE hub_id = $5 AND household_id = $6 AND quarter = $7 AND state = $8",
        Params()
            .text(to_string(p.state))
            .optional_text(p.confirmed_on)
            .optional_text(p.superseded_by)
            .integer(p.updated_at_ms)
            .text(hub_id_)
            .text(p.household_id)
            .text(p.quarter)
            .text(to_string(expected)));
    return rows.affected() == 1;
  });
}

std::vector<complaints::NoticeCounts> PgComplaintStore::notices(const std::optional<std::string>& quarter) {
  return guarded([&] {
    std::string sql =
        "SELECT village, quarter, COUNT(*) FILTER (WHERE state = 'proposed'), "
        "COUNT(*) FILTER (WHERE state = 'confirmed'), COUNT(*) FILTER (WHERE state = 'superseded'), "
        "MAX(proposed_on) FROM proposal WHERE hub_id = $1";
    Params params;
    params.text(hub_id_);
    if (quarter) {
      sql += " AND quarter = $2";
      params.text(*quarter);
    }
    sql += " GROUP BY village, quarter ORDER BY quarter DESC, village";
    const Rows rows = conn_.exec(sql, params);
    std::vector<complaints::NoticeCounts> out;
    for (int r = 0; r < rows.size(); ++r) {
      complaints::NoticeCounts n;
      n.village = std::string(rows.text(r, 0));
      n.quarter = std::string(rows.text(r, 1));
      n.proposed = rows.integer(r, 2);
      n.confirmed = rows.integer(r, 3);
      n.superseded = rows.integer(r, 4);
      n.last_proposed_on = std::string(rows.text(r, 5));
      out.push_back(std::move(n));
    }
    return out;
  });
}

complaints::ComplaintStoreOpener pg_complaint_store_opener(std::string dsn, std::string hub_id) {
  return [dsn = std::move(dsn), hub_id = std::move(hub_id)]() -> std::unique_ptr<complaints::ComplaintStore> {
    return std::make_unique<PgComplaintStore>(dsn, hub_id);
  };
}

}  // namespace hub::store::pg
