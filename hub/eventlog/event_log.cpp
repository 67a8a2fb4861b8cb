#include "eventlog/event_log.h"

#include <nlohmann/json.hpp>

#include "store/checkpointer.h"

namespace hub {

using hub::sdk::HouseholdStatus;

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
  body             TEXT NOT NULL
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
)sql";
}

EventLog::EventLog(const std::string& path) : db_(path, store::Database::Mode::kReadWrite) {
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=FULL");
  store::disable_auto_checkpoint(db_);  // hubd's Checkpointer does it off the commit path
  db_.exec(event_log_schema());
  find_id_ = std::make_unique<store::Statement>(db_, "SELECT seq, digest FROM event WHERE event_id = ?");
  insert_event_ = std::make_unique<store::Statement>(
      db_,
      "INSERT INTO event (seq, event_id, type, household_id, village, status, previous_status, quarter, "
      "previous_quarter, effective_date, designations, correction, received_at_ms, digest, body) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  upsert_household_ = std::make_unique<store::Statement>(
      db_,
      "INSERT INTO household (household_id, village, head, members, registered_seq) VALUES (?,?,?,?,?) "
      "ON CONFLICT(household_id) DO UPDATE SET village=excluded.village, head=excluded.head, "
      "members=excluded.members, registered_seq=excluded.registered_seq");
  update_commitment_ = std::make_unique<store::Statement>(
      db_, "UPDATE household SET commitment_signed_on = ?, commitment_seq = ? WHERE household_id = ?");
  update_status_ = std::make_unique<store::Statement>(
      db_, "UPDATE household SET status = ?, quarter = ?, designations = ?, status_seq = ? WHERE household_id = ?");

  store::Statement load(db_, "SELECT household_id, village, status, quarter FROM household");
  while (load.step()) {
    HouseholdState s;
    s.village = load.column_text(1);
    s.status = hub::sdk::parse_household_status(load.column_text(2)).value_or(HouseholdStatus::kUnevaluated);
    s.quarter = load.column_text(3);
    s.quarter_index = quarter_index(s.quarter).value_or(-1);
    households_.emplace(load.column_text(0), std::move(s));
  }
  store::Statement last(db_, "SELECT COALESCE(MAX(seq), 0) FROM event");
  last.step();
  committed_last_seq_ = static_cast<std::uint64_t>(last.column_int(0));
}

EventLog::~EventLog() = default;

const EventLog::HouseholdState* EventLog::find_household(const StateMap& request_overlay,
                                                         const std::string& id) const {
  if (auto it = request_overlay.find(id); it != request_overlay.end()) return &it->second;
  if (auto it = group_households_.find(id); it != group_households_.end()) return &it->second;
  if (auto it = households_.find(id); it != households_.end()) return &it->second;
  return nullptr;
}

bool EventLog::find_event_id(const std::unordered_map<std::string, KnownId>& request_ids, const std::string& id,
                             KnownId* out) {
  if (auto it = request_ids.find(id); it != request_ids.end()) {
    *out = it->second;
    return true;
  }
  if (auto it = group_ids_.find(id); it != group_ids_.end()) {
    *out = it->second;
    return true;
  }
  find_id_->bind(1, id);
  const bool found = find_id_->step();
  if (found) *out = KnownId{static_cast<std::uint64_t>(find_id_->column_int(0)), find_id_->column_text(1)};
  find_id_->reset();
  return found;
}

StageResult EventLog::stage(const std::vector<WireEvent>& events, bool dry_run) {
  StageResult result;
  StateMap overlay;  // this request's changes on top of the group's
  std::unordered_map<std::string, KnownId> request_ids;
  std::vector<StagedEvent> staged;
  std::uint64_t next_seq = (group_events_.empty() ? committed_last_seq_ : group_events_.back().seq) + 1;
  staged.reserve(events.size());
  const store::ReadTransaction snapshot(db_);  // the event_id look-ups below share one read

  for (std::size_t i = 0; i < events.size(); ++i) {
    const WireEvent& ev = events[i];
    StagedEvent s;
    s.canonical = ev.canonical_json();
    s.digest = content_digest(s.canonical);

    KnownId known{};
    if (find_event_id(request_ids, ev.event_id, &known)) {
      if (known.digest == s.digest) {
        result.results.push_back({known.seq, true});
      } else {
        result.errors.push_back({i, {"conflict", "event_id '" + ev.event_id + "' was already used (seq " +
                                                     std::to_string(known.seq) + ") for an event with different content",
                                     "event_id"}});
      }
      continue;
    }

    const HouseholdState* current = find_household(overlay, ev.household_id);
    if (ev.type != EventType::kHousehold && current == nullptr) {
      result.errors.push_back({i, {"unknown_household", "household '" + ev.household_id +
                                                            "' is not registered; publish its household event first",
                                   "household_id"}});
      continue;
    }
    HouseholdState next = current != nullptr ? *current : HouseholdState{};
    switch (ev.type) {
      case EventType::kHousehold:
        next.village = ev.village;
        s.village = ev.village;
        break;
      case EventType::kCommitment:
        s.village = next.village;
        break;
      case EventType::kStatusChange: {
        const int q = *quarter_index(ev.quarter);
        if (q < next.quarter_index) {
          result.errors.push_back({i, {"stale_quarter", "household '" + ev.household_id + "' already has an evaluation for " +
                                                            next.quarter + "; " + ev.quarter + " is older",
                                       "quarter"}});
          continue;
        }
        s.village = next.village;
        s.previous_status = next.status;
        s.previous_quarter = next.quarter;
        s.correction = q == next.quarter_index;
        next.status = ev.status;
        next.quarter = ev.quarter;
        next.quarter_index = q;
        break;
      }
    }
    s.seq = next_seq++;
    s.event = ev;
    overlay[ev.household_id] = std::move(next);
    request_ids[ev.event_id] = KnownId{s.seq, s.digest};
    result.results.push_back({s.seq, false});
    staged.push_back(std::move(s));
  }

  if (!result.ok()) {
    result.results.clear();
    return result;
  }
  if (dry_run) return result;
  for (auto& [id, state] : overlay) group_households_[id] = std::move(state);
  for (auto& [id, known] : request_ids) group_ids_[id] = std::move(known);
  for (auto& s : staged) group_events_.push_back(std::move(s));
  return result;
}

bool EventLog::group_empty() const noexcept { return group_events_.empty(); }
std::size_t EventLog::group_size() const noexcept { return group_events_.size(); }

void EventLog::drop_group() noexcept {
  group_households_.clear();
  group_ids_.clear();
  group_events_.clear();
}

void EventLog::commit_group(std::int64_t received_at_ms) {
  if (group_events_.empty()) return;
  try {
    store::Transaction tx(db_);
    for (const StagedEvent& s : group_events_) {
      const WireEvent& ev = s.event;
      const bool is_status = ev.type == EventType::kStatusChange;
      const std::string designations = is_status ? nlohmann::json(ev.designations).dump() : std::string();
      auto& ins = *insert_event_;
      ins.bind(1, static_cast<std::int64_t>(s.seq))
          .bind(2, ev.event_id)
          .bind(3, to_string(ev.type))
          .bind(4, ev.household_id)
          .bind(5, s.village);
      if (is_status) {
        ins.bind(6, hub::sdk::to_string(ev.status))
            .bind(7, hub::sdk::to_string(s.previous_status))
            .bind(8, ev.quarter)
            .bind(9, s.previous_quarter)
            .bind(10, ev.effective_date)
            .bind(11, designations)
            .bind(12, std::int64_t{s.correction ? 1 : 0});
      } else {
        for (int c = 6; c <= 11; ++c) ins.bind_null(c);
        ins.bind(12, std::int64_t{0});
      }
      ins.bind(13, received_at_ms).bind(14, s.digest).bind(15, s.canonical);
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
          update_status_->bind(1, hub::sdk::to_string(ev.status))
              .bind(2, ev.quarter)
              .bind(3, designations)
              .bind(4, static_cast<std::int64_t>(s.seq))
              .bind(5, ev.household_id);
          update_status_->run();
          break;
      }
    }
    tx.commit();
  } catch (...) {
    insert_event_->reset();
    upsert_household_->reset();
    update_commitment_->reset();
    update_status_->reset();
    drop_group();
    throw;
  }
  committed_last_seq_ = group_events_.back().seq;
  for (auto& [id, state] : group_households_) households_[id] = std::move(state);
  drop_group();
}

}  // namespace hub
