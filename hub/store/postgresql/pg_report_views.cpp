#include "store/postgresql/pg_report_views.h"

#include <optional>
#include <string_view>

#include "domain/wire_event.h"
#include "store/event_row.h"
#include "store/postgresql/pg_connection.h"
#include "store/view_records.h"

namespace hub::store::pg {
namespace {

using namespace hub::report;

// Each household's effective evaluation for the quarter: its latest status_change for it, with
// the time the hub received it. The hub, the quarter and the village (text, or NULL for every
// village) as SQL: parameters ("$1", "$2", "$3::text") or, in a cursor, literals.
std::string effective(const std::string& hub, const std::string& quarter, const std::string& village) {
  return "WITH eff AS MATERIALIZED (SELECT DISTINCT ON (household_id) seq, received_at_ms FROM event "
         "WHERE hub_id = " + hub + " AND type = 'status_change' AND quarter = " + quarter + " AND (" + village +
         " IS NULL OR village = " + village + ") ORDER BY household_id, seq DESC) ";
}

// Rows a cursor (reconciliation's, the report's deliveries) fetches at a time.
constexpr int kFetchRows = 5000;

std::vector<std::string> designations(const Rows& r, int row, int column) {
  if (r.is_null(row, column)) return {};
  return stored_designations(r.text(row, column));
}

class PgReportViews final : public ReportViews {
 public:
  PgReportViews(const std::string& dsn, std::string hub_id) : connection_(dsn), hub_id_(std::move(hub_id)) {
    connection_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }

  std::optional<HouseholdView> household(const std::string& household_id,
                                         const std::vector<std::string>& departments) override {
    return guarded([&]() -> std::optional<HouseholdView> {
      const Rows hh = connection_.exec(
          "SELECT village, head, members, commitment_signed_on, status, quarter, designations FROM household "
          "WHERE hub_id = $1 AND household_id = $2",
          hub().text(household_id));
      if (hh.empty()) return std::nullopt;
      HouseholdView out;
      out.household = {std::string(hh.text(0, 0)), hh.optional_text(0, 1), hh.optional_integer(0, 2),
                       hh.optional_text(0, 3),      std::string(hh.text(0, 4)), hh.optional_text(0, 5),
                       designations(hh, 0, 6)};

      const Rows ev = connection_.exec(
          "SELECT seq, event_id, type, status, previous_status, quarter, effective_date, correction, received_at_ms, "
          "CASE WHEN correction <> 0 OR left(publisher, 10) = 'complaint:' THEN body END FROM event "
          "WHERE hub_id = $1 AND household_id = $2 ORDER BY seq",
          hub().text(household_id));
      for (int i = 0; i < ev.size(); ++i)
        out.history.push_back({ev.integer(i, 0), std::string(ev.text(i, 1)), std::string(ev.text(i, 2)),
                               std::string(ev.text(i, 3)), std::string(ev.text(i, 4)), std::string(ev.text(i, 5)),
                               std::string(ev.text(i, 6)), ev.integer(i, 7) != 0, ev.integer(i, 8),
                               ev.integer(i, 7) == kPastQuarter, complaint_id_in(std::string(ev.text(i, 9)))});

      // Every asked department's actions for the household's events, in one statement: the
      // household's events (index), each one's delivery rows (key), their packed actions.
      const Rows actions = connection_.exec(
          "SELECT d.department, d.seq, j.value ->> 0, j.value ->> 1, (j.value ->> 2)::bigint, r.text, "
          "d.delivered_at_ms, d.event_id, d.handoff "
          "FROM event e JOIN ledger_delivery d ON d.hub_id = e.hub_id AND d.seq = e.seq "
          "AND d.department = ANY($3::text[]) "
          "CROSS JOIN LATERAL jsonb_array_elements(d.actions::jsonb) WITH ORDINALITY AS j(value, idx) "
          "JOIN ledger_reason r ON r.hub_id = d.hub_id AND r.id = (j.value ->> 3)::bigint "
          "WHERE e.hub_id = $1 AND e.household_id = $2 ORDER BY d.department, d.seq, j.idx",
          hub().text(household_id).text_array(departments));
      for (const auto& department : departments) out.actions[department];  // every asked one, even empty
      for (int i = 0; i < actions.size(); ++i)
        out.actions[std::string(actions.text(i, 0))].push_back(
            {std::string(actions.text(i, 2)), std::string(actions.text(i, 3)), actions.optional_integer(i, 4),
             std::string(actions.text(i, 5)), actions.integer(i, 1), actions.integer(i, 6),
             std::string(actions.text(i, 7)), std::string(actions.text(i, 8))});
      out.cursors = read_cursors();
      const Rows last = connection_.exec(
          "SELECT MAX(seq) FROM event WHERE hub_id = $1 AND household_id = $2 AND type = 'status_change'",
          hub().text(household_id));
      out.latest_status_seq = last.optional_integer(0, 0);
      return out;
    });
  }

  QuarterRecords quarter(const std::string& quarter, const std::optional<std::string>& village) override {
    return guarded([&] {
      QuarterRecords out;
      const Rows hh = connection_.exec(
          "SELECT village, COUNT(*), COUNT(*) FILTER (WHERE commitment_signed_on < $2) FROM household "
          "WHERE hub_id = $1 GROUP BY village ORDER BY village COLLATE \"C\"",
          hub().text(first_day_after_quarter(quarter)));
      for (int i = 0; i < hh.size(); ++i)
        out.households.push_back({std::string(hh.text(i, 0)), hh.integer(i, 1), hh.integer(i, 2)});

      // The town: every village's share is compared with it.
      const Rows st = connection_.exec(
          effective("$1", "$2", "$3::text") +
              "SELECT e.village, e.status, COUNT(*) FROM eff JOIN event e ON e.hub_id = $1 AND e.seq = eff.seq "
              "GROUP BY e.village, e.status ORDER BY e.village COLLATE \"C\", e.status COLLATE \"C\"",
          hub().text(quarter).null());
      for (int i = 0; i < st.size(); ++i)
        out.statuses.push_back({std::string(st.text(i, 0)), std::string(st.text(i, 1)), st.integer(i, 2)});

      const Rows c = connection_.exec(
          "SELECT village, COUNT(*) FROM event WHERE hub_id = $1 AND type = 'status_change' AND quarter = $2 "
          "AND correction <> 0 GROUP BY village",
          hub().text(quarter));
      for (int i = 0; i < c.size(); ++i) out.corrections[std::string(c.text(i, 0))] = c.integer(i, 1);

      // For each department (the ledger's cursors) and each effective evaluation, the delivery
      // row by its key, through a cursor: a county's quarter is nine million rows, never held at
      // once. DECLARE takes no parameters, hence the literals.
      const std::string cursor = "deliveries_" + std::to_string(++passes_);
      connection_.exec("DECLARE " + cursor + " NO SCROLL CURSOR FOR " +
                       effective(connection_.literal(hub_id_), connection_.literal(quarter),
                                 village ? connection_.literal(*village) + "::text" : "NULL::text") +
                       "SELECT d.department, d.seq, d.household_id, d.delivered_at_ms - eff.received_at_ms, d.actions "
                       "FROM ledger_cursor c CROSS JOIN eff JOIN ledger_delivery d ON d.hub_id = c.hub_id "
                       "AND d.department = c.department AND d.seq = eff.seq WHERE c.hub_id = " +
                       connection_.literal(hub_id_));
      for (;;) {
        const Rows d = connection_.exec("FETCH FORWARD " + std::to_string(kFetchRows) + " FROM " + cursor);
        for (int i = 0; i < d.size(); ++i)
          add_delivery(out.deliveries[std::string(d.text(i, 0))], d.integer(i, 1), d.integer(i, 3), d.text(i, 4),
                       [&] { return std::string(d.text(i, 2)); });
        if (d.size() < kFetchRows) break;
      }
      connection_.exec("CLOSE " + cursor);
      return out;
    });
  }

  HouseholdPage search_households(const HouseholdQuery& query) override {
    return guarded([&] {
      // $2 id prefix (household ids are ASCII below '~': the range is the prefix's, in byte
      // order as in SQLite), $3 a part of the head's name, $4 village, $5 status, $6 a designation.
      const std::string where =
          "WHERE hub_id = $1 "
          "AND ($2::text IS NULL OR (household_id COLLATE \"C\" >= $2 AND household_id COLLATE \"C\" < $2 || '~')) "
          "AND ($3::text IS NULL OR strpos(head, $3) > 0) AND ($4::text IS NULL OR village = $4) "
          "AND ($5::text IS NULL OR status = $5) "
          "AND ($6::text IS NULL OR designations::jsonb @> jsonb_build_array($6::text)) ";
      auto criteria = [&] {
        return hub()
            .optional_text(query.id_prefix)
            .optional_text(query.head)
            .optional_text(query.village)
            .optional_text(query.status)
            .optional_text(query.designation);
      };
      HouseholdPage page;
      page.total = connection_.exec("SELECT COUNT(*) FROM household " + where, criteria()).integer(0, 0);
      const Rows rows = connection_.exec(
          "SELECT household_id, village, head, members, commitment_signed_on, status, quarter, designations "
          "FROM household " + where +
              "AND ($7::text IS NULL OR household_id COLLATE \"C\" > $7) ORDER BY household_id COLLATE \"C\" "
              "LIMIT $8",
          criteria().optional_text(query.after).integer(static_cast<std::int64_t>(query.limit) + 1));
      for (int i = 0; i < rows.size(); ++i) {
        if (page.rows.size() == query.limit) {
          page.more = true;
          break;
        }
        page.rows.push_back({std::string(rows.text(i, 0)),
                             {std::string(rows.text(i, 1)), rows.optional_text(i, 2), rows.optional_integer(i, 3),
                              rows.optional_text(i, 4), std::string(rows.text(i, 5)), rows.optional_text(i, 6),
                              designations(rows, i, 7)}});
      }
      return page;
    });
  }

  std::vector<std::string> quarters() override {
    return guarded([&] {
      const Rows q = connection_.exec(
          "SELECT quarter FROM event WHERE hub_id = $1 AND type = 'status_change' GROUP BY quarter "
          "ORDER BY quarter COLLATE \"C\"",
          hub());
      std::vector<std::string> out;
      for (int i = 0; i < q.size(); ++i) out.emplace_back(q.text(i, 0));
      return out;
    });
  }

  // One pass in household_id order through a cursor: each evaluated household's current event,
  // each department with a cursor, and that department's row at the event's seq (LEFT JOIN
  // cursor: a household is visited before any department has a cursor, to be counted pending).
  void each_current_evaluation(const std::function<void(const EvaluationRecords&)>& visit) override {
    guarded([&] {
      // A cursor of its own per pass (one left open by a visit that threw is not reused); DECLARE
      // takes no parameters, hence the literal.
      const std::string cursor = "evaluations_" + std::to_string(++passes_);
      connection_.exec(
          "DECLARE " + cursor + " NO SCROLL CURSOR FOR "
          "SELECT h.household_id, h.village, h.status, h.designations, h.status_seq, e.event_id, e.effective_date, "
          "e.quarter, c.department, d.seq, d.delivered_at_ms, d.actions "
          "FROM household h JOIN event e ON e.hub_id = h.hub_id AND e.seq = h.status_seq "
          "LEFT JOIN ledger_cursor c ON c.hub_id = h.hub_id "
          "LEFT JOIN ledger_delivery d ON d.hub_id = h.hub_id AND d.department = c.department "
          "AND d.seq = h.status_seq "
          "WHERE h.hub_id = " + connection_.literal(hub_id_) +
          " AND h.status != 'unevaluated' ORDER BY h.household_id COLLATE \"C\"");
      EvaluationRecords current;
      bool any = false;
      for (;;) {
        const Rows q = connection_.exec("FETCH FORWARD " + std::to_string(kFetchRows) + " FROM " + cursor);
        for (int i = 0; i < q.size(); ++i) {
          const std::string_view household = q.text(i, 0);
          if (!any || household != current.evaluation.household_id) {
            if (any) visit(current);
            current = EvaluationRecords{};
            current.evaluation = {std::string(household),    std::string(q.text(i, 1)), std::string(q.text(i, 2)),
                                  std::string(q.text(i, 5)), std::string(q.text(i, 6)), std::string(q.text(i, 7)),
                                  designations(q, i, 3),     q.integer(i, 4)};
            any = true;
          }
          if (q.is_null(i, 9)) continue;  // no department yet, or no row of this one for the event
          current.rows[std::string(q.text(i, 8))] = recorded_row(q.integer(i, 9), q.integer(i, 10), q.text(i, 11));
        }
        if (q.size() < kFetchRows) break;
      }
      connection_.exec("CLOSE " + cursor);
      if (any) visit(current);
    });
  }

  std::map<std::string, LatestAction> earlier_actions(const std::string& department, const std::string& household_id,
                                                      std::int64_t before_seq) override {
    return guarded([&] {
      const Rows q = connection_.exec(
          "SELECT d.seq, d.delivered_at_ms, d.actions FROM event e JOIN ledger_delivery d ON d.hub_id = e.hub_id "
          "AND d.department = $2 AND d.seq = e.seq WHERE e.hub_id = $1 AND e.household_id = $3 AND e.seq < $4 "
          "ORDER BY e.seq",
          hub().text(department).text(household_id).integer(before_seq));
      std::map<std::string, LatestAction> out;
      for (int i = 0; i < q.size(); ++i) keep_latest(out, recorded_row(q.integer(i, 0), q.integer(i, 1), q.text(i, 2)));
      return out;
    });
  }

  std::map<std::string, std::int64_t> cursors() override {
    return guarded([&] { return read_cursors(); });
  }

  MetricsCounts metrics() override {
    return guarded([&] {
      MetricsCounts out;
      const Rows events = connection_.exec("SELECT type, n FROM event_tally WHERE hub_id = $1", hub());
      for (int i = 0; i < events.size(); ++i) out.events[std::string(events.text(i, 0))] = events.integer(i, 1);
      out.last_seq =
          connection_.exec("SELECT COALESCE(MAX(seq), 0) FROM event WHERE hub_id = $1", hub()).integer(0, 0);
      const Rows tallies =
          connection_.exec("SELECT department, counter, n FROM ledger_tally WHERE hub_id = $1", hub());
      for (int i = 0; i < tallies.size(); ++i)
        add_tally(out, std::string(tallies.text(i, 0)), std::string(tallies.text(i, 1)), tallies.integer(i, 2));
      return out;
    });
  }

  // The running counts per minute (status_minute, ledger_delivery_minute), kept as the rows are
  // stored: a few rows per minute of activity, not the log and the ledger.
  TimelineCounts timeline(std::int64_t start_ms, std::int64_t end_ms) override {
    return guarded([&] {
      TimelineCounts out;
      const Rows received = connection_.exec(
          "SELECT village, status, GREATEST($2::bigint - 1, minute_ms), SUM(n)::bigint FROM status_minute "
          "WHERE hub_id = $1 AND minute_ms < $3 GROUP BY 1, 2, 3",
          hub().integer(start_ms).integer(end_ms));
      for (int i = 0; i < received.size(); ++i)
        out.received.push_back({std::string(received.text(i, 0)), std::string(received.text(i, 1)),
                                received.integer(i, 2), received.integer(i, 3)});
      const Rows delivered = connection_.exec(
          "SELECT department, GREATEST($2::bigint - 1, minute_ms), SUM(n)::bigint FROM ledger_delivery_minute "
          "WHERE hub_id = $1 AND minute_ms < $3 GROUP BY 1, 2",
          hub().integer(start_ms).integer(end_ms));
      for (int i = 0; i < delivered.size(); ++i)
        out.delivered.push_back({std::string(delivered.text(i, 0)), delivered.integer(i, 1), delivered.integer(i, 2)});
      return out;
    });
  }

 private:
  // Parameters starting with the hub ($1).
  Params hub() const { return Params().text(hub_id_); }

  std::map<std::string, std::int64_t> read_cursors() {
    const Rows q = connection_.exec("SELECT department, seq FROM ledger_cursor WHERE hub_id = $1", hub());
    std::map<std::string, std::int64_t> out;
    for (int i = 0; i < q.size(); ++i) out[std::string(q.text(i, 0))] = q.integer(i, 1);
    return out;
  }

  Connection connection_;
  std::string hub_id_;
  int passes_ = 0;
};

}  // namespace

std::unique_ptr<report::ReportViews> open_pg_report_views(const std::string& dsn, const std::string& hub_id) {
  return guarded([&] { return std::make_unique<PgReportViews>(dsn, hub_id); });
}

}  // namespace hub::store::pg
