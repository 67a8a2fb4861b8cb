#include "store/sqlite/sqlite_report_views.h"

#include <filesystem>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "domain/wire_event.h"
#include "store/event_row.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_ledger.h"
#include "store/view_records.h"

namespace hub::store {
namespace {

using namespace hub::report;

// A quarter's status changes, read in one pass of the event log. Village and status names are
// kept once each (`names`); an evaluation is 24 bytes, so a county's quarter is a few tens of MB.
struct Evaluation {
  std::int64_t seq = 0, received_at_ms = 0;
  std::uint32_t village = 0, status = 0;  // indexes into QuarterEvaluations::names
};

struct QuarterEvaluations {
  std::vector<std::string> names;
  std::vector<Evaluation> effective;                // each household's last for the quarter, by seq
  std::map<std::string, std::int64_t> corrections;  // village → corrections in the quarter

  std::uint32_t name(std::string_view text) {
    const auto found = index_.find(text);
    if (found != index_.end()) return found->second;
    names.emplace_back(text);
    const auto id = static_cast<std::uint32_t>(names.size() - 1);
    index_.emplace(names.back(), id);
    return id;
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> index_;  // name → its place in names
};

// Where the next wanted seq is further ahead than this, a department's read starts again there
// rather than stepping over the rows between (a look-up costs about as much as stepping over
// some tens of rows).
constexpr std::int64_t kReseekGap = 64;

std::optional<std::string> optional_text(const Statement& s, int index) {
  if (s.column_is_null(index)) return std::nullopt;
  return s.column_text(index);
}

// designations are stored as a JSON array of ids, or NULL for none.
std::vector<std::string> designations(const Statement& s, int index) {
  if (s.column_is_null(index)) return {};
  return stored_designations(s.column_text(index));
}

class SqliteReportViews final : public ReportViews {
 public:
  explicit SqliteReportViews(const std::string& data_dir)
      : connection_(open(data_dir)), db_(*connection_), snapshot_(db_) {}

  std::optional<HouseholdView> household(const std::string& household_id,
                                         const std::vector<std::string>& departments) override {
    return guarded([&]() -> std::optional<HouseholdView> {
      Statement hh(db_,
                   "SELECT village, head, members, commitment_signed_on, status, quarter, designations "
                   "FROM ev.household WHERE household_id = ?");
      hh.bind(1, household_id);
      if (!hh.step()) return std::nullopt;
      HouseholdView out;
      out.household = {hh.column_text(0), optional_text(hh, 1), hh.column_optional_int(2), optional_text(hh, 3),
                       hh.column_text(4), optional_text(hh, 5), designations(hh, 6)};

      Statement ev(db_,
                   "SELECT seq, event_id, type, status, previous_status, quarter, effective_date, correction, "
                   "received_at_ms, CASE WHEN correction != 0 OR substr(publisher, 1, 10) = 'complaint:' THEN body END "
                   "FROM ev.event WHERE household_id = ? "
                   "ORDER BY seq");
      ev.bind(1, household_id);
      while (ev.step())
        out.history.push_back({ev.column_int(0), ev.column_text(1), ev.column_text(2), ev.column_text(3),
                               ev.column_text(4), ev.column_text(5), ev.column_text(6), ev.column_int(7) != 0,
                               ev.column_int(8), ev.column_int(7) == kPastQuarter, complaint_id_in(ev.column_text(9))});

      // Per department: the actions recorded for the household's events, in order.
      Statement actions(db_,
                        // CROSS JOIN fixes the order: the household's events (index), then each
                        // one's delivery row (primary key), then its packed actions — never a
                        // scan of the department's whole ledger.
                        "SELECT d.seq, j.value ->> 0, j.value ->> 1, j.value ->> 2, r.text, d.delivered_at_ms, "
                        "d.event_id, d.handoff "
                        "FROM ev.event e CROSS JOIN delivery d ON d.department = ?1 AND d.seq = e.seq "
                        "CROSS JOIN json_each(d.actions) j JOIN reason r ON r.id = j.value ->> 3 "
                        "WHERE e.household_id = ?2 ORDER BY d.seq, CAST(j.key AS INTEGER)");
      for (const auto& department : departments) {
        auto& list = out.actions[department];
        actions.bind(1, department).bind(2, household_id);
        while (actions.step())
          list.push_back({actions.column_text(1), actions.column_text(2), actions.column_optional_int(3),
                          actions.column_text(4), actions.column_int(0), actions.column_int(5),
                          actions.column_text(6), actions.column_text(7)});
        actions.reset();
      }
      out.cursors = read_cursors();
      Statement last_status(db_, "SELECT MAX(seq) FROM ev.event WHERE household_id = ? AND type = 'status_change'");
      last_status.bind(1, household_id);
      last_status.step();
      out.latest_status_seq = last_status.column_optional_int(0);
      return out;
    });
  }

  QuarterRecords quarter(const std::string& quarter, const std::optional<std::string>& village) override {
    return guarded([&] {
      QuarterRecords out;
      Statement hh(db_,
                   "SELECT village, COUNT(*), SUM(commitment_signed_on IS NOT NULL AND commitment_signed_on < ?1) "
                   "FROM ev.household GROUP BY village");
      hh.bind(1, first_day_after_quarter(quarter));
      while (hh.step()) out.households.push_back({hh.column_text(0), hh.column_int(1), hh.column_int(2)});

      QuarterEvaluations evaluations = read_evaluations(quarter);
      std::map<std::pair<std::uint32_t, std::uint32_t>, std::int64_t> statuses;  // the whole town
      for (const auto& e : evaluations.effective) ++statuses[{e.village, e.status}];
      for (const auto& [key, n] : statuses)
        out.statuses.push_back({evaluations.names[key.first], evaluations.names[key.second], n});
      out.corrections = std::move(evaluations.corrections);

      out.deliveries = scan_deliveries(evaluations, village);
      return out;
    });
  }

  HouseholdPage search_households(const HouseholdQuery& query) override {
    return guarded([&] {
      // ?1 id prefix (household ids are ASCII below '~', so the range is the prefix's), ?2 a
      // part of the head's name, ?3 village, ?4 status, ?5 a designation, ?6 the page's start.
      const std::string where =
          "WHERE (?1 IS NULL OR (household_id >= ?1 AND household_id < ?1 || '~')) "
          "AND (?2 IS NULL OR instr(head, ?2) > 0) AND (?3 IS NULL OR village = ?3) "
          "AND (?4 IS NULL OR status = ?4) "
          "AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(designations) WHERE value = ?5)) ";
      auto bind = [&](Statement& st) {
        int i = 1;
        for (const auto* v : {&query.id_prefix, &query.head, &query.village, &query.status, &query.designation}) {
          if (*v) st.bind(i, **v); else st.bind_null(i);
          ++i;
        }
      };
      HouseholdPage page;
      Statement count(db_, ("SELECT COUNT(*) FROM ev.household " + where).c_str());
      bind(count);
      if (count.step()) page.total = count.column_int(0);
      Statement rows(db_, ("SELECT household_id, village, head, members, commitment_signed_on, status, quarter, "
                           "designations FROM ev.household " + where +
                           "AND (?6 IS NULL OR household_id > ?6) ORDER BY household_id LIMIT ?7")
                              .c_str());
      bind(rows);
      if (query.after) rows.bind(6, *query.after); else rows.bind_null(6);
      rows.bind(7, static_cast<std::int64_t>(query.limit) + 1);
      while (rows.step()) {
        if (page.rows.size() == query.limit) {
          page.more = true;
          break;
        }
        page.rows.push_back({rows.column_text(0),
                             {rows.column_text(1), optional_text(rows, 2), rows.column_optional_int(3),
                              optional_text(rows, 4), rows.column_text(5), optional_text(rows, 6),
                              designations(rows, 7)}});
      }
      return page;
    });
  }

  std::vector<std::string> quarters() override {
    return guarded([&] {
      std::vector<std::string> out;
      Statement q(db_, "SELECT DISTINCT quarter FROM ev.event WHERE type = 'status_change' ORDER BY quarter");
      while (q.step()) out.push_back(q.column_text(0));
      return out;
    });
  }

  // One pass in household_id order (the household table's key): each evaluated household's
  // current event by its key, then each department with a cursor and that department's row at
  // the event's seq by the delivery table's key. CROSS JOIN and LEFT JOIN fix that order, so no
  // sort and no result held: one household's rows at a time. (LEFT JOIN cursor: a household is
  // visited even before any department has a cursor, to be counted pending.)
  void each_current_evaluation(const std::function<void(const EvaluationRecords&)>& visit) override {
    guarded([&] {
      Statement q(db_,
                  "SELECT h.household_id, h.village, h.status, h.designations, h.status_seq, e.event_id, "
                  "e.effective_date, e.quarter, c.department, d.seq, d.delivered_at_ms, d.actions "
                  "FROM ev.household h CROSS JOIN ev.event e ON e.seq = h.status_seq LEFT JOIN cursor c ON TRUE "
                  "LEFT JOIN delivery d ON d.department = c.department AND d.seq = h.status_seq "
                  "WHERE h.status != 'unevaluated'");
      EvaluationRecords current;
      bool any = false;
      while (q.step()) {
        const std::string household = q.column_text(0);
        if (!any || household != current.evaluation.household_id) {
          if (any) visit(current);
          current = EvaluationRecords{};
          current.evaluation = {household,         q.column_text(1), q.column_text(2), q.column_text(5),
                                q.column_text(6),  q.column_text(7), designations(q, 3), q.column_int(4)};
          any = true;
        }
        if (q.column_is_null(9)) continue;  // no department yet, or no row of this one for the event
        current.rows[q.column_text(8)] = recorded_row(q, 9, 10, 11);
      }
      if (any) visit(current);
    });
  }

  std::map<std::string, LatestAction> earlier_actions(const std::string& department, const std::string& household_id,
                                                      std::int64_t before_seq) override {
    return guarded([&] {
      // The household's events (index), then each one's row (key), in seq order: a later row
      // replaces an earlier one.
      Statement q(db_,
                  "SELECT d.seq, d.delivered_at_ms, d.actions FROM ev.event e CROSS JOIN delivery d "
                  "ON d.department = ?1 AND d.seq = e.seq WHERE e.household_id = ?2 AND e.seq < ?3 ORDER BY e.seq");
      q.bind(1, department).bind(2, household_id).bind(3, before_seq);
      std::map<std::string, LatestAction> out;
      while (q.step()) keep_latest(out, recorded_row(q, 0, 1, 2));
      return out;
    });
  }

  std::map<std::string, std::int64_t> cursors() override {
    return guarded([&] { return read_cursors(); });
  }

  // The running counts (sqlite_ledger.h's `tally`, events.db's `event_tally`): a few rows per
  // department, whatever the size of the ledger and the log.
  MetricsCounts metrics() override {
    return guarded([&] {
      MetricsCounts out;
      Statement events(db_, "SELECT type, n FROM ev.event_tally");
      while (events.step()) out.events[events.column_text(0)] = events.column_int(1);
      Statement last(db_, "SELECT COALESCE(MAX(seq), 0) FROM ev.event");
      last.step();
      out.last_seq = last.column_int(0);

      Statement tallies(db_, "SELECT department, counter, n FROM tally");
      while (tallies.step()) add_tally(out, tallies.column_text(0), tallies.column_text(1), tallies.column_int(2));
      return out;
    });
  }

  // The running counts per minute (events.db's `status_minute`, the ledger's `delivery_minute`),
  // kept as the rows are stored: a few rows per minute of activity, not the log and the ledger.
  TimelineCounts timeline(std::int64_t start_ms, std::int64_t end_ms) override {
    return guarded([&] {
      TimelineCounts out;
      Statement received(db_,
                         "SELECT village, status, MAX(?1 - 1, minute_ms), SUM(n) FROM ev.status_minute "
                         "WHERE minute_ms < ?2 GROUP BY 1, 2, 3");
      received.bind(1, start_ms).bind(2, end_ms);
      while (received.step())
        out.received.push_back({received.column_text(0), received.column_text(1), received.column_int(2),
                                received.column_int(3)});
      Statement delivered(db_,
                          "SELECT department, MAX(?1 - 1, minute_ms), SUM(n) FROM delivery_minute "
                          "WHERE minute_ms < ?2 GROUP BY 1, 2");
      delivered.bind(1, start_ms).bind(2, end_ms);
      while (delivered.step())
        out.delivered.push_back({delivered.column_text(0), delivered.column_int(1), delivered.column_int(2)});
      return out;
    });
  }

 private:
  static std::unique_ptr<Database> open(const std::string& data_dir);

  static RecordedRow recorded_row(const Statement& q, int seq, int delivered_at, int actions) {
    return store::recorded_row(q.column_int(seq), q.column_int(delivered_at), q.column_text(actions));
  }

  std::map<std::string, std::int64_t> read_cursors() {
    std::map<std::string, std::int64_t> out;
    Statement q(db_, "SELECT department, seq FROM cursor");
    while (q.step()) out[q.column_text(0)] = q.column_int(1);
    return out;
  }

  // One pass of the event log in seq order: every status change for the quarter. A household
  // has more than one only after corrections (a status change for the household's current
  // quarter is stored with correction = 1), so only the households with a correction are looked
  // up again (by the event_by_household index) to drop all but their last.
  QuarterEvaluations read_evaluations(const std::string& quarter) {
    QuarterEvaluations out;
    std::vector<Evaluation> all;
    std::set<std::string> corrected;
    Statement q(db_,
                "SELECT seq, received_at_ms, village, status, correction, household_id FROM ev.event "
                "WHERE type = 'status_change' AND quarter = ?1 ORDER BY seq");
    q.bind(1, quarter);
    while (q.step()) {
      const Evaluation e{q.column_int(0), q.column_int(1), out.name(q.column_view(2)), out.name(q.column_view(3))};
      all.push_back(e);
      if (q.column_int(4) == 0) continue;
      ++out.corrections[out.names[e.village]];
      corrected.emplace(q.column_view(5));
    }
    std::set<std::int64_t> superseded;
    Statement earlier(db_,
                      "SELECT seq FROM ev.event WHERE household_id = ?1 AND type = 'status_change' AND quarter = ?2 "
                      "ORDER BY seq");
    for (const auto& household : corrected) {
      earlier.bind(1, household).bind(2, quarter);
      std::optional<std::int64_t> previous;
      while (earlier.step()) {
        if (previous) superseded.insert(*previous);
        previous = earlier.column_int(0);
      }
      earlier.reset();
    }
    out.effective.reserve(all.size() - superseded.size());
    for (const auto& e : all)
      if (!superseded.count(e.seq)) out.effective.push_back(e);
    return out;
  }

  // For each department (the ledger's cursors), its rows at the scope's effective evaluations,
  // read in key order beside them: a merge, one step per row, where the rows are dense (a
  // county's quarter: nine million rows in a few seconds, where a look-up per row took 25 s);
  // where the next wanted seq is far ahead, the read starts again there (kReseekGap), so a
  // sparse quarter costs one look-up per evaluation.
  std::map<std::string, QuarterDeliveries> scan_deliveries(const QuarterEvaluations& evaluations,
                                                            const std::optional<std::string>& village) {
    std::vector<Evaluation> wanted;
    for (const auto& e : evaluations.effective)
      if (!village || evaluations.names[e.village] == *village) wanted.push_back(e);
    std::map<std::string, QuarterDeliveries> out;
    if (wanted.empty()) return out;
    Statement rows(db_,
                   "SELECT seq, delivered_at_ms, household_id, actions FROM delivery "
                   "WHERE department = ?1 AND seq >= ?2 AND seq <= ?3 ORDER BY seq");
    for (const auto& [department, cursor] : read_cursors()) {
      QuarterDeliveries& figures = out[department];
      std::size_t next = 0;  // the first wanted evaluation not yet passed
      bool again = true;
      while (again && next < wanted.size()) {
        again = false;
        rows.bind(1, department).bind(2, wanted[next].seq).bind(3, wanted.back().seq);
        while (rows.step()) {
          const std::int64_t seq = rows.column_int(0);
          while (next < wanted.size() && wanted[next].seq < seq) ++next;  // wanted, but no row
          if (next == wanted.size()) break;
          if (wanted[next].seq == seq) {
            add_delivery(figures, seq, rows.column_int(1) - wanted[next].received_at_ms, rows.column_view(3),
                         [&] { return rows.column_text(2); });
            ++next;
          } else if (wanted[next].seq - seq > kReseekGap) {
            again = true;  // a row of an event not wanted, and the next wanted one is far ahead
            break;
          }
        }
        rows.reset();
      }
      if (figures.delivered == 0) out.erase(department);
    }
    return out;
  }

  std::unique_ptr<Database> connection_;
  Database& db_;
  ReadTransaction snapshot_;  // after the connection: ends before it closes
};

std::unique_ptr<Database> SqliteReportViews::open(const std::string& data_dir) {
  namespace fs = std::filesystem;
  // Read-write mode only so that ATTACH works on a ledger that hubd has not created yet;
  // query_only then refuses every write through this connection.
  auto db = std::make_unique<Database>((fs::path(data_dir) / "ledger.db").string(), Database::Mode::kReadWrite);
  Statement attach(*db, "ATTACH DATABASE ? AS ev");
  attach.bind(1, (fs::path(data_dir) / "events.db").string());
  attach.run();
  db->exec("PRAGMA query_only=1");
  return db;
}

}  // namespace

std::unique_ptr<report::ReportViews> open_sqlite_report_views(const std::string& data_dir) {
  return guarded([&] { return std::make_unique<SqliteReportViews>(data_dir); });
}

}  // namespace hub::store
