// libFuzzer target: the plugin-host wire (pluginhost/host_protocol.h), one frame as either side
// receives it. The frame goes through parse_message() and then through every decoder the hub
// and the host run on a message's parts, whatever its "type" says (a hostile peer need not be
// consistent): "restart" (hello), "departments" (welcome), "events" (deliver), the report
// against a fixed request of three events (seq 10..12, department police), the started
// message and the "error" object (refused, error, started).
//
// Properties checked on every input:
//  - nothing but ProtocolError leaves a decoder (hubd and the host catch only that one; anything
//    else ends the process), and a ProtocolError names its field unless the frame is not a JSON
//    object;
//  - what decodes, encoded again, decodes to the same encoding (event, actions, department,
//    restart, report, started): the two sides cannot read a value differently from how it was
//    written;
//  - decode_report() never throws, and what it returns is within the request: done_upto in
//    first-1..last, delivered seqs ascending status changes up to done_upto with the event's
//    household, a failure right after done_upto with a bounded reason.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "config/embedded_config.h"
#include "fuzz_check.h"
#include "pluginhost/host_protocol.h"

namespace {

using nlohmann::json;
namespace hp = hub::pluginhost;

struct Fixture {
  hub::PluginConfig plugin;
  hub::runtime::Request request;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    x.plugin.id = "police";
    x.plugin.catalogue_json = hub::embedded_catalogues().at("police");
    x.plugin.settings_json = "{}";
    std::string error;
    auto catalogue = hub::sdk::Catalogue::parse(x.plugin.catalogue_json, &error);
    FUZZ_CHECK(catalogue.has_value(), "the police catalogue parses");
    x.plugin.catalogue = std::move(*catalogue);
    auto chunk = std::make_shared<hub::EventChunk>();
    chunk->first_seq = 10;
    for (std::uint64_t seq = 10; seq <= 12; ++seq) {
      hub::LoggedEvent e;
      e.seq = seq;
      e.type = seq == 10 ? hub::EventType::kHousehold : hub::EventType::kStatusChange;
      e.household_id = "V01-0000" + std::to_string(seq - 9);
      e.event_id = "ev-" + std::to_string(seq);
      e.status = hub::sdk::HouseholdStatus::kNonCredit;
      chunk->events.push_back(e);
    }
    x.request.chunk = chunk;
    x.request.begin = 0;
    x.request.end = 3;
    x.request.generation = 7;
    return x;
  }();
  return f;
}

// Runs one decoder: a ProtocolError must name its field; any other exception escapes (a crash).
template <class F>
void decoding(F&& decode) {
  try {
    decode();
  } catch (const hp::ProtocolError& e) {
    FUZZ_CHECK(!e.field.empty(), "a protocol error names its field");
    FUZZ_CHECK(std::string(e.what()).size() > e.field.size(), "a protocol error says what is wrong");
  }
}

void check_event(const json& j) {
  decoding([&] {
    const hub::LoggedEvent e = hp::decode_event(j, "events[0].");
    if (e.withheld) return;  // only a seq: nothing to write back
    const json once = hp::encode_event(e);
    const json twice = hp::encode_event(hp::decode_event(json::parse(once.dump()), "events[0]."));
    FUZZ_CHECK(once == twice, "an event reads back as it was written");
  });
}

void check_actions(const json& j) {
  decoding([&] {
    const json once = hp::encode_actions(hp::decode_actions(j, "actions."));
    FUZZ_CHECK(hp::encode_actions(hp::decode_actions(json::parse(once.dump()), "actions.")) == once,
               "actions read back as they were written");
  });
}

void check_department(const json& j) {
  decoding([&] {
    const hub::PluginConfig p = hp::decode_department(j, "departments[0].", "lib.so");
    const json once = hp::encode_department(p);
    const json twice = hp::encode_department(hp::decode_department(json::parse(once.dump()), "departments[0].", "lib.so"));
    FUZZ_CHECK(once == twice, "a department reads back as it was written");
    FUZZ_CHECK(p.call_timeout_ms > 0 && static_cast<std::uint64_t>(p.call_timeout_ms) <= hp::kMaxCallTimeoutMs,
               "a call timeout the hub could have sent");
  });
}

void check_restart(const json& j) {
  decoding([&] {
    const hp::Restart r = hp::decode_restart(j);
    FUZZ_CHECK(r.count >= 1 && r.start_delay_ms >= 0, "a restart the supervisor could have sent");
    const json once = hp::encode_restart(r);
    FUZZ_CHECK(hp::encode_restart(hp::decode_restart(json::parse(once.dump()))) == once,
               "a restart reads back as it was written");
  });
}

void check_report(const json& message) {
  const Fixture& f = fixture();
  const hub::EventChunk& chunk = *f.request.chunk;
  const std::uint64_t first = chunk.first_seq + f.request.begin, last = chunk.first_seq + f.request.end - 1;
  const hub::runtime::Report r = hp::decode_report(message, f.request, f.plugin);  // never throws
  FUZZ_CHECK(r.generation == f.request.generation, "the request's generation");
  FUZZ_CHECK(r.done_upto + 1 >= first && r.done_upto <= last, "done_upto within the request");
  std::uint64_t previous = first - 1;
  for (const auto& d : r.delivered) {
    FUZZ_CHECK(d.seq > previous && d.seq <= r.done_upto, "delivered seqs ascending, up to done_upto");
    previous = d.seq;
    const hub::LoggedEvent& e = chunk.events[d.seq - chunk.first_seq];
    FUZZ_CHECK(e.type == hub::EventType::kStatusChange, "only status changes carry actions");
    FUZZ_CHECK(d.household_id == e.household_id && d.event_id == e.event_id, "the hub's own event, not the host's");
    for (const auto& a : d.actions) FUZZ_CHECK(a.household_id == e.household_id, "actions for the event's household");
  }
  if (r.failed) {
    FUZZ_CHECK(r.failed_seq == r.done_upto + 1 && r.failed_seq <= last, "the failure is the next event");
    FUZZ_CHECK(r.culprit_seq == 0 || (r.culprit_seq >= r.failed_seq && r.culprit_seq <= last), "culprit in range");
    FUZZ_CHECK(!r.failure.empty() && r.failure.size() <= 4000, "a bounded reason");
  }
  if (r.skipped || (r.failed && r.failure.rfind("plugin host sent an invalid report", 0) == 0)) return;
  // A valid report, written by the host's encoder, reads back the same.
  json again = hp::encode_report(r);
  FUZZ_CHECK(hp::encode_report(hp::decode_report(json::parse(again.dump()), f.request, f.plugin)) == again,
             "a report reads back as it was written");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string frame(reinterpret_cast<const char*>(data), size);
  json message;
  try {
    message = hp::parse_message(frame);
  } catch (const hp::ProtocolError& e) {
    FUZZ_CHECK(std::string(e.what()).size() > e.field.size(), "a refused frame says why");
    return 0;
  }
  FUZZ_CHECK(message.is_object() && message["type"].is_string(), "a message is an object with a type");
  decoding([&] { (void)hp::string_field(message, "", "host"); });
  decoding([&] { (void)hp::uint_field(message, "", "request"); });
  if (auto it = message.find("restart"); it != message.end()) check_restart(*it);
  if (auto it = message.find("departments"); it != message.end() && it->is_array())
    for (const auto& d : *it) check_department(d);
  if (auto it = message.find("events"); it != message.end() && it->is_array())
    for (const auto& e : *it) check_event(e);
  if (auto it = message.find("delivered"); it != message.end() && it->is_array())
    for (const auto& d : *it)
      if (d.is_object() && d.contains("actions")) check_actions(d["actions"]);
  check_report(message);
  decoding([&] {
    const hub::runtime::Started started = hp::decode_started(message);
    FUZZ_CHECK(started.ok || !started.error_code.empty(), "a failed start has a code");
    const json once = hp::encode_started(started);
    FUZZ_CHECK(hp::encode_started(hp::decode_started(json::parse(once.dump()))) == once,
               "a start reads back as it was written");
  });
  const hp::WireError error = hp::decode_error(message, "unspecified");  // never throws
  FUZZ_CHECK(!error.code.empty() && error.code.size() <= 2000 && error.message.size() <= 2000, "a bounded error");
  return 0;
}
