// libFuzzer target: one ingest request frame (§4), as hubd's ingest thread handles it.
//
// The bytes go through parse_request() (request framing, batch rules, every event's field
// validation) and then, like IngestServer::run(), through the EventLog's stateful rules in a
// dry run against a small registered town. Properties checked on every input:
//  - nothing throws (an exception escaping the ingest thread would stop hubd);
//  - every error, request-level or per item, has a stable code and its reply can be
//    serialised (the reply is JSON, so its text must be valid UTF-8);
//  - every accepted event's canonical form (what is stored and digested) parses back to the
//    same event with the same canonical form;
//  - parse_request() (no DOM) gives exactly what the DOM parser it replaced gives
//    (testing/wire_event_dom_oracle.h): the same error, or the same events, indexes and item
//    errors, field by field — so fuzzing also checks the two parsers' equivalence.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "eventlog/event_log.h"
#include "store/sqlite/sqlite_event_store.h"
#include "fuzz_check.h"
#include "domain/wire_event.h"
#include "testing/wire_event_dom_oracle.h"

namespace {

using nlohmann::json;

void check_error(const hub::FieldError& e) {
  FUZZ_CHECK(!e.code.empty(), "an error has a code");
  json reply{{"ok", false}, {"error", {{"code", e.code}, {"message", e.message}, {"field", e.field}}}};
  (void)reply.dump();  // throws (and so crashes the target) on text that is not UTF-8
}

hub::EventLog& event_log() {
  static std::unique_ptr<hub::EventLog> log = [] {
    char dir_template[] = "/tmp/hub-fuzz-ingest-XXXXXX";
    const char* dir = mkdtemp(dir_template);
    FUZZ_CHECK(dir != nullptr, "a temporary directory");
    auto l = std::make_unique<hub::EventLog>(std::make_unique<hub::store::SqliteEventStore>(std::string(dir) + "/events.db"));
    // A small town: households H1..H3 in V1, H2 evaluated for 2021Q2.
    auto request = hub::parse_request(
        R"({"type":"batch","events":[
          {"type":"household","event_id":"r1","household_id":"H1","village":"V1"},
          {"type":"household","event_id":"r2","household_id":"H2","village":"V1","head":"Li","members":4},
          {"type":"household","event_id":"r3","household_id":"H3","village":"V2"},
          {"type":"commitment","event_id":"c1","household_id":"H1","signed_on":"2020-03-01"},
          {"type":"status_change","event_id":"s1","household_id":"H2","status":"credit","quarter":"2021Q2"}]})",
        {});
    auto& events = request.value().events;
    FUZZ_CHECK(l->stage(events, false).ok(), "the seed town stages");
    l->commit_group(0);
    std::filesystem::remove_all(dir);  // the open connection keeps the files alive
    return l;
  }();
  return *log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const hub::RequestLimits limits{1 << 20, 1000};
  auto parsed = hub::parse_request(body, limits);
  FUZZ_CHECK(hub::dom_oracle::describe(parsed) == hub::dom_oracle::describe(hub::dom_oracle::parse_request(body, limits)),
             "parse_request gives what the DOM parser gave");
  if (const hub::Status* e = parsed.error()) {
    check_error(*e);
    return 0;
  }
  auto& request = parsed.value();
  FUZZ_CHECK(request.events.size() == request.original_index.size(), "one index per event");
  FUZZ_CHECK(request.is_batch || request.events.size() == 1, "a single request is one event");
  for (const auto& [index, e] : request.item_errors) check_error(e);

  for (const hub::WireEvent& ev : request.events) {
    const std::string canonical = ev.canonical_json();
    const json again = json::parse(canonical, nullptr, false);
    FUZZ_CHECK(!again.is_discarded(), "the canonical form is JSON");
    auto reparsed = hub::parse_event(again);
    FUZZ_CHECK(reparsed.ok(), "the canonical form is a valid event");
    FUZZ_CHECK(reparsed.value().canonical_json() == canonical, "the canonical form is stable");
    FUZZ_CHECK(hub::content_digest(canonical).size() == 16, "a digest is 16 hex digits");
  }

  const hub::StageResult staged = event_log().stage(request.events, /*dry_run=*/true);
  FUZZ_CHECK(staged.ok() ? staged.results.size() == request.events.size() : staged.results.empty(),
             "a result per event, or none");
  for (const auto& item : staged.errors) {
    FUZZ_CHECK(item.index < request.events.size(), "an error names an event of the request");
    check_error(item.error);
  }
  FUZZ_CHECK(event_log().group_empty(), "a dry run stages nothing");
  return 0;
}
