#include "eventlog/event_log.h"

#include <algorithm>
#include <stdexcept>

namespace hub {

using hub::sdk::HouseholdStatus;


EventLog::EventLog(std::unique_ptr<EventStore> store, std::size_t min_filter_capacity)
    : store_(std::move(store)), min_filter_capacity_(min_filter_capacity) {
  load();
}

EventLog::~EventLog() = default;

void EventLog::load() {
  StateMap households;
  for (StoredHousehold& h : store_->load_households()) {
    HouseholdState s;
    s.village = std::move(h.village);
    s.status = h.status;
    s.quarter = std::move(h.quarter);
    s.quarter_index = quarter_index(s.quarter).value_or(-1);
    households.emplace(std::move(h.household_id), std::move(s));
  }
  committed_last_seq_ = store_->last_seq();
  households_ = std::move(households);
  rebuild_filter(2 * committed_last_seq_);
  stale_ = false;
}

void EventLog::rebuild_filter(std::size_t capacity) {
  EventIdFilter filter(std::max(capacity, min_filter_capacity_));
  store_->each_event_id([&](std::string_view id) { filter.add(id); });
  for (const auto& [id, known] : flight_ids_) filter.add(id);
  for (const auto& [id, known] : group_ids_) filter.add(id);
  id_filter_ = std::move(filter);
}

const EventLog::HouseholdState* EventLog::find_household(const StateMap& request_overlay,
                                                         const std::string& id) const {
  if (auto it = request_overlay.find(id); it != request_overlay.end()) return &it->second;
  if (auto it = group_households_.find(id); it != group_households_.end()) return &it->second;
  if (auto it = flight_households_.find(id); it != flight_households_.end()) return &it->second;
  if (auto it = households_.find(id); it != households_.end()) return &it->second;
  return nullptr;
}

bool EventLog::find_event_id(EventStore::Lookups& stored, const std::unordered_map<std::string, KnownId>& request_ids,
                             const std::string& id, KnownId* out) {
  if (auto it = request_ids.find(id); it != request_ids.end()) {
    *out = it->second;
    return true;
  }
  if (auto it = group_ids_.find(id); it != group_ids_.end()) {
    *out = it->second;
    return true;
  }
  if (auto it = flight_ids_.find(id); it != flight_ids_.end()) {
    *out = it->second;
    return true;
  }
  if (!id_filter_.may_contain(id)) return false;  // never held: no need to ask the store
  auto known = stored.find(id);
  if (known) *out = std::move(*known);
  return known.has_value();
}

HouseholdStatus EventLog::status_in_quarter(EventStore::Lookups& stored, const std::vector<StagedEvent>& request,
                                            const std::string& household_id, const std::string& quarter) const {
  // The latest evaluation first: this request's, the group's, the one in flight, then the store.
  for (const auto* events : {&request, &group_events_, &flight_events_}) {
    for (auto it = events->rbegin(); it != events->rend(); ++it) {
      const WireEvent& e = it->event;
      if (e.type == EventType::kStatusChange && e.household_id == household_id && e.quarter == quarter) return e.status;
    }
  }
  return stored.status_in_quarter(household_id, quarter).value_or(HouseholdStatus::kUnevaluated);
}

bool EventLog::known_in_memory(const std::string& id) const {
  return group_ids_.find(id) != group_ids_.end() || flight_ids_.find(id) != flight_ids_.end();
}

StageResult EventLog::stage(const std::vector<WireEvent>& events, bool dry_run, const std::string& publisher) {
  if (stale_) load();  // a commit's outcome was unknown: what is stored decides
  if (id_filter_.full()) rebuild_filter(2 * id_filter_.capacity());
  StageResult result;
  StateMap overlay;  // this request's changes on top of the group's
  std::unordered_map<std::string, KnownId> request_ids;
  std::vector<StagedEvent> staged;
  std::uint64_t next_seq = (!group_events_.empty()    ? group_events_.back().seq
                            : !flight_events_.empty() ? flight_events_.back().seq
                                                      : committed_last_seq_) +
                           1;
  staged.reserve(events.size());
  const auto stored = store_->lookups();  // the event_id look-ups below share one read
  {
    std::vector<std::string> ids;  // the ids not answered from memory, fetched together
    ids.reserve(events.size());
    for (const WireEvent& ev : events)
      if (!known_in_memory(ev.event_id) && id_filter_.may_contain(ev.event_id)) ids.push_back(ev.event_id);
    if (!ids.empty()) stored->prefetch(ids);
  }

  for (std::size_t i = 0; i < events.size(); ++i) {
    const WireEvent& ev = events[i];
    StagedEvent s;
    s.canonical = ev.canonical_json();
    s.digest = content_digest(s.canonical);

    KnownId known{};
    if (find_event_id(*stored, request_ids, ev.event_id, &known)) {
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
        if (notice_required_ && !is_notice_or_ruling_publisher(publisher)) {
          result.errors.push_back(
              {i, {"notice_required",
                   "this hub posts evaluations as a notice before they take effect (公示): propose them with "
                   "hubctl notice propose and confirm the village's quarter / 本枢纽的评议结果须先公示，"
                   "请用 hubctl notice propose 提交",
                   "type"}});
          continue;
        }
        if (!ev.complaint_id.empty() && publisher != ruling_publisher(ev.complaint_id)) {
          result.errors.push_back(
              {i, {"complaint_correction_reserved",
                   "a correction naming complaint " + ev.complaint_id +
                       " is published by the hub itself when the complaint is ruled upheld with it "
                       "(hubctl complaints rule); publish the office's own evaluations without complaint_id",
                   "complaint_id"}});
          continue;
        }
        const int q = *quarter_index(ev.quarter);
        if (q < next.quarter_index && !ev.complaint_id.empty()) {
          // A ruling puts a past quarter right: that quarter's last evaluation is what it
          // corrects; the household's current evaluation stays.
          s.village = next.village;
          s.previous_status = status_in_quarter(*stored, staged, ev.household_id, ev.quarter);
          s.previous_quarter = s.previous_status == HouseholdStatus::kUnevaluated ? std::string() : ev.quarter;
          s.correction = true;
          s.past_quarter = true;
          break;
        }
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
    s.publisher = publisher;
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
  for (auto& [id, known] : request_ids) {
    id_filter_.add(id);  // stays if the group is dropped: a false positive costs one look-up
    group_ids_[id] = std::move(known);
  }
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

void EventLog::drop_flight() noexcept {
  flight_households_.clear();
  flight_ids_.clear();
  flight_events_.clear();
}

void EventLog::commit_group(std::int64_t received_at_ms) {
  if (in_flight()) throw std::logic_error("EventLog::commit_group while a group is in flight");
  if (!begin_commit()) return;
  try {
    write_in_flight(received_at_ms);
  } catch (const StorageError& e) {
    end_commit(&e);
    throw;
  }
  end_commit(nullptr);
}

bool EventLog::begin_commit() {
  if (group_events_.empty() || in_flight()) return false;
  flight_households_ = std::move(group_households_);
  flight_ids_ = std::move(group_ids_);
  flight_events_ = std::move(group_events_);
  drop_group();  // the moved-from maps and vector, cleared
  return true;
}

void EventLog::write_in_flight(std::int64_t received_at_ms) { store_->append(flight_events_, received_at_ms); }

void EventLog::end_commit(const StorageError* failure) {
  if (!in_flight()) return;
  if (failure != nullptr) {
    drop_flight();
    drop_group();  // staged on top of the lost group: its seqs and states followed it
    if (failure->outcome_unknown()) stale_ = true;
    return;
  }
  committed_last_seq_ = flight_events_.back().seq;
  for (auto& [id, state] : flight_households_) households_[id] = std::move(state);
  drop_flight();
}

}  // namespace hub
