// The complaints register (投诉举报, issue 17): what one complaint is, the rules every field must
// keep, and the states a complaint goes through. Plain values and pure functions: the admin
// endpoint checks a request with them before anything is stored, and both storage backends keep
// the same fields (complaints/complaint_store.h).
//
//   received ──investigate──▶ investigating ──rule──▶ upheld | dismissed
//      └──────────────────────rule──────────────────────┘
//
// A complaint is ruled (upheld or dismissed) with a ruling text and a ruling date; a ruled
// complaint is final: nothing moves it again. A complaint that is not ruled by its deadline
// (received date + the configured days, default 15) is overdue.
//
// Dates are calendar days written YYYY-MM-DD ("today" is the hub's local date, passed in by the
// caller so that the rules stay pure and testable). Every check returns a Status whose code is
// stable (docs/protocol.md, 投诉举报 / Complaints) and whose field names the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace hub {

enum class ComplaintChannel { kTownBox, kVillageBox, kPhone, kVisit, kOnline };
enum class ComplaintState { kReceived, kInvestigating, kUpheld, kDismissed };

// The wire's names ("town_box", …, "received", …) and the clerk's (镇投诉箱, …, 已受理, …).
std::string_view to_string(ComplaintChannel channel) noexcept;
std::string_view chinese_name(ComplaintChannel channel) noexcept;
std::optional<ComplaintChannel> complaint_channel(std::string_view name) noexcept;
std::string_view to_string(ComplaintState state) noexcept;
std::string_view chinese_name(ComplaintState state) noexcept;
std::optional<ComplaintState> complaint_state(std::string_view name) noexcept;
const std::vector<std::string>& complaint_channel_names();
const std::vector<std::string>& complaint_state_names();

inline bool is_final(ComplaintState state) noexcept {
  return state == ComplaintState::kUpheld || state == ComplaintState::kDismissed;
}

// Bounds of the free-text fields, in characters (code points), and of the deadline setting.
constexpr std::size_t kComplaintSummaryMaxChars = 1000;
constexpr std::size_t kComplaintRulingMaxChars = 2000;
constexpr std::size_t kComplaintPersonMaxChars = 64;  // lodged_by, handler
constexpr int kComplaintDeadlineDaysDefault = 15;
constexpr int kComplaintDeadlineDaysMax = 365;

// What the office writes down when a complaint comes in.
struct NewComplaint {
  std::string household_id;
  std::string quarter;      // the quarter whose evaluation is challenged, "2020Q3"
  ComplaintChannel channel = ComplaintChannel::kTownBox;
  std::string received_on;  // YYYY-MM-DD
  std::string summary;
  std::optional<std::string> lodged_by;  // none: anonymous (匿名)
  std::optional<std::string> handler;    // may be named later, at investigate
};

// A complaint as the register keeps it.
struct Complaint {
  std::int64_t number = 0;  // assigned by the store: 1, 2, … per hub, never reused
  std::string id;           // complaint_id(received_on, number): "TS-2026-000123"
  std::string household_id;
  std::string village;      // the household's village when it was lodged
  std::string quarter;
  ComplaintChannel channel = ComplaintChannel::kTownBox;
  std::string received_on;
  std::string summary;
  std::optional<std::string> lodged_by;
  std::optional<std::string> handler;
  std::string deadline;     // received_on + the deadline days
  ComplaintState state = ComplaintState::kReceived;
  std::optional<std::string> ruling;    // upheld/dismissed only
  std::optional<std::string> ruled_on;  // upheld/dismissed only
  std::int64_t lodged_at_ms = 0;        // when the hub stored it
  std::int64_t updated_at_ms = 0;       // the last change
};

// The id shown to people: "TS-" + the year received + "-" + the number, six digits or more.
// The number alone identifies the complaint; the year is there for the clerk.
std::string complaint_id(std::string_view received_on, std::int64_t number);
// A new complaint as stored with `number` (state received, lodged and updated at `at_ms`):
// what each store's add() writes and returns.
Complaint lodged_complaint(const NewComplaint& complaint, std::int64_t number, const std::string& village,
                           const std::string& deadline, std::int64_t at_ms);
// The number inside an id written either way ("TS-2026-000123" or "123"); none when malformed.
std::optional<std::int64_t> complaint_number(std::string_view id) noexcept;
// True for an id exactly as complaint_id() writes it ("TS-2026-000123"; not "123", not
// "TS-2026-123"): how a status change names the complaint whose ruling it carries out.
bool is_complaint_id(std::string_view id) noexcept;
// The publisher recorded for the correction a complaint's ruling makes: "complaint:TS-2026-000123".
// Only hubd's admin thread publishes as it, through ingest's in-process endpoint; the event log
// refuses a complaint_id from any other publisher (eventlog/event_log.h).
std::string ruling_publisher(std::string_view complaint_id);
// The event id of that correction: "ruling-TS-2026-000123". One per complaint, so a ruling sent
// again after a failure finds its correction stored (a duplicate) instead of storing a second.
std::string ruling_event_id(std::string_view complaint_id);

// Days since 1970-01-01 of a valid date, and back.
std::int64_t days_from_civil(std::string_view date);
std::string civil_from_days(std::int64_t days);
std::string add_days(std::string_view date, std::int64_t days);
// The quarter a date falls in: "2026-05-04" -> "2026Q2".
std::string quarter_of(std::string_view date);

// Free text: valid UTF-8, not blank, at most `max_chars` characters, no control characters
// other than line breaks and tabs. `field` names it in the Status.
Status check_text(std::string_view field, std::string_view text, std::size_t max_chars);

// Every field of a new complaint: household_id (an id), quarter (2020Q3, not after the quarter
// it was received in), received_on (a date, not after `today`), summary, lodged_by and handler
// (bounded text when given).
Status validate_new_complaint(const NewComplaint& complaint, std::string_view today);

// The deadline days from the configuration: 1 to kComplaintDeadlineDaysMax.
bool valid_deadline_days(std::int64_t days) noexcept;

// Whether `from` may move to `to`: received → investigating; received or investigating →
// upheld or dismissed. Anything else is refused: "complaint_final" out of a final state,
// "invalid_transition" otherwise (field "state").
Status check_transition(ComplaintState from, ComplaintState to);

// A ruling: `outcome` upheld or dismissed, ruling text, ruled_on a date not before the complaint
// was received and not after `today`. Includes check_transition.
Status validate_ruling(const Complaint& complaint, ComplaintState outcome, std::string_view ruling,
                       std::string_view ruled_on, std::string_view today);

// Not ruled and its deadline has passed (deadline < today).
bool is_overdue(const Complaint& complaint, std::string_view today);

}  // namespace hub
