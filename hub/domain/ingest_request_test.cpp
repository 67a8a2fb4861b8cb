// Differential tests of parse_request() (no DOM, ingest_request.cpp) against the DOM parser it
// replaced (testing/wire_event_dom_oracle.h): the same bytes must give the same request — every
// event's every field, the items' indexes and errors — or the same error, code, message and
// field. Inputs: every key of every event type set to every kind of value, as a single event
// and as a batch item; batch framing; duplicate keys; malformed JSON, deep nesting, bytes that
// are not UTF-8, numbers out of range; big batches of mixed items; and seeded random mutations
// of all of these. parse_event() (the DOM adapter over the same validator) is checked the same way.
#include "domain/wire_event.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/wire_event_dom_oracle.h"

namespace hub {
namespace {

using nlohmann::json;

json status_change() {
  return json{{"type", "status_change"}, {"event_id", "ev-2020Q3-V03-00417"}, {"household_id", "V03-00417"},
              {"status", "non_credit"},  {"designations", {"assistance"}},    {"quarter", "2020Q3"},
              {"effective_date", "2020-10-01"}, {"basis", "2020-09-28 village evaluation meeting, minutes 3"}};
}
json household() {
  return json{{"type", "household"}, {"event_id", "reg-V03-00417"}, {"household_id", "V03-00417"},
              {"village", "V03"},    {"head", "张三"},             {"members", 4}};
}
json commitment() {
  return json{{"type", "commitment"}, {"event_id", "com-V03-00417"}, {"household_id", "V03-00417"},
              {"signed_on", "2020-04-15"}};
}

const std::vector<std::string>& keys() {
  static const std::vector<std::string> k{"type",    "event_id",       "household_id", "village", "head",
                                          "members", "signed_on",      "status",       "designations",
                                          "quarter", "effective_date", "basis",        "events",  "dry_run",
                                          "complaint_id",
                                          "",        "aaa",            "zzz",          "键",      "Type"};
  return k;
}

// Values of every kind the rules tell apart, and the edge of each rule.
std::vector<json> values() {
  std::vector<json> v{nullptr, "", "x", "household", "commitment", "status_change", "batch", "credit", "non_credit",
                      "breach", "unevaluated", "2020Q3", "1899Q1", "2020Q5", "2020-02-29", "2021-02-29", "2020-13-01",
                      "V03", "_bad", "a b", "TS-2026-000123", "TS-2026-123", std::string(64, 'a'), std::string(65, 'a'), std::string(201, 'h'),
                      std::string(2001, 'b'), "状态状态状态状态状态状态状态状态", "assistance", 0, 1, 4, 100, 101, -1,
                      1.5, 4.0, std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::int64_t>::min(),
                      true, false, json::array(), json::object(), json{{"a", 1}}};
  v.push_back(json::array({"assistance"}));
  v.push_back(json::array({"assistance", "assistance"}));
  v.push_back(json::array({"x"}));
  v.push_back(json::array({1}));
  v.push_back(json::array({json::array({"assistance"})}));
  v.push_back(json::array({"assistance", nullptr}));
  v.push_back(json::array({json::object()}));
  return v;
}

void expect_same(const std::string& body, RequestLimits limits = {}) {
  const auto expected = dom_oracle::describe(dom_oracle::parse_request(body, limits));
  const auto actual = dom_oracle::describe(parse_request(body, limits));
  EXPECT_EQ(actual, expected) << "for " << (body.size() < 2000 ? body : body.substr(0, 2000) + "…");
}

void expect_same_event(const json& event) {
  EXPECT_EQ(dom_oracle::describe(parse_event(event)), dom_oracle::describe(dom_oracle::parse_event(event)))
      << "for " << event.dump();
}

std::vector<json> mutated_events() {
  std::vector<json> out;
  for (const json& base : {status_change(), household(), commitment()}) {
    out.push_back(base);
    for (const auto& key : keys()) {
      json without = base;
      without.erase(key);
      out.push_back(without);
      for (const auto& value : values()) {
        json changed = base;
        changed[key] = value;
        out.push_back(changed);
      }
    }
  }
  return out;
}

TEST(ParseRequestDifferential, EveryKeyWithEveryKindOfValueAsASingleEvent) {
  const auto events = mutated_events();
  ASSERT_GT(events.size(), 2000u);
  for (const json& e : events) {
    expect_same(e.dump());
    expect_same_event(e);
  }
  for (const json& v : values()) {
    expect_same(v.dump());
    expect_same_event(v);
  }
}

TEST(ParseRequestDifferential, EveryMutatedEventAsABatchItemKeepsItsIndex) {
  const auto events = mutated_events();
  json batch_items = json::array();
  for (std::size_t i = 0; i < events.size(); ++i) {
    batch_items.push_back(events[i]);
    if (i % 7 == 0) batch_items.push_back(i % 2 == 0 ? json(42) : json::array({status_change()}));  // not objects
  }
  expect_same(json{{"type", "batch"}, {"events", batch_items}}.dump());
  expect_same(json{{"type", "batch"}, {"events", batch_items}, {"dry_run", true}}.dump());
  for (std::size_t i = 0; i < events.size(); i += 97) {  // small batches too
    expect_same(json{{"type", "batch"}, {"events", {household(), events[i], commitment()}}}.dump());
  }
}

TEST(ParseRequestDifferential, BatchFraming) {
  const json items = json::array({household(), commitment(), status_change()});
  for (const auto& key : keys()) {
    for (const auto& value : values()) {
      json batch{{"type", "batch"}, {"events", items}};
      batch[key] = value;
      expect_same(batch.dump());
      expect_same(batch.dump(), {1 << 20, 2});
    }
    json without{{"type", "batch"}, {"events", items}, {"dry_run", false}};
    without.erase(key);
    expect_same(without.dump());
  }
  expect_same(R"({"type":"batch"})");
  expect_same(R"({"type":"batch","events":[]})");
  expect_same(R"({"events":[],"type":"batch"})");
  expect_same(R"({"events":[{"type":"household"}],"type":"batch","dry_run":true})");
  expect_same(R"({"events":[{"type":"household"}],"type":"household"})");
  expect_same(json{{"type", "batch"}, {"events", items}}.dump(), {1 << 20, 3});
  expect_same(json{{"type", "batch"}, {"events", items}}.dump(), {1 << 20, 0});
  expect_same(json{{"type", "batch"}, {"events", items}}.dump(), {10, 5});
  const std::string exact = json{{"type", "batch"}, {"events", items}}.dump();
  expect_same(exact, {exact.size(), 5});
  expect_same(exact, {exact.size() - 1, 5});
}

TEST(ParseRequestDifferential, DuplicateKeysTheLastCounts) {
  const std::vector<std::string> bodies{
      R"({"type":"household","type":"commitment","event_id":"c1","household_id":"H1","signed_on":"2020-03-01"})",
      R"({"type":"commitment","event_id":"c1","household_id":"H1","signed_on":"2020-03-01","type":"household"})",
      R"({"type":"household","event_id":"r1","household_id":"H1","village":"V1","members":4,"members":"4"})",
      R"({"type":"household","event_id":"r1","household_id":"H1","village":"V1","members":"4","members":4})",
      R"({"type":"status_change","event_id":"s","household_id":"H","status":"credit","quarter":"2021Q2","designations":["x"],"designations":["assistance"]})",
      R"({"type":"status_change","event_id":"s","household_id":"H","status":"credit","quarter":"2021Q2","designations":["assistance"],"designations":5})",
      R"({"type":"status_change","event_id":"s","household_id":"H","status":"credit","quarter":"2021Q2","designations":5,"designations":[]})",
      R"({"type":"status_change","event_id":"s","household_id":"H","status":"credit","quarter":"2021Q2","designations":{"a":["x"]},"designations":null})",
      R"({"type":"batch","events":[{"type":"household"}],"events":[{"type":"commitment","event_id":"c1","household_id":"H1","signed_on":"2020-03-01"}]})",
      R"({"type":"batch","events":[{"type":"household"}],"events":5})",
      R"({"type":"batch","events":5,"events":[{"type":"household"},7]})",
      R"({"type":"batch","events":[{}],"dry_run":true,"dry_run":"x"})",
      R"({"type":"batch","events":[{}],"dry_run":"x","dry_run":false})",
      R"({"type":"batch","events":[{}],"dry_run":true,"dry_run":false})",
      R"({"type":"batch","events":[{}],"dry_run":[true],"dry_run":true})",
      R"({"type":"batch","type":"status_change","events":[{}]})",
      R"({"type":"status_change","type":"batch","events":[{}]})",
      R"({"type":"batch","events":[{"type":"household","event_id":"r1","event_id":"r2","household_id":"H1","village":"V1"}]})",
      R"({"zz":1,"type":"household","aa":2,"zz":3})",
      R"({"type":"household","signed_on":null,"basis":1,"event_id":"r"})",
      R"({"type":"batch","quarter":1,"aa":2,"events":[{}]})",
      R"({"type":"batch","zz":1,"basis":2,"events":[{}]})",
  };
  for (const auto& b : bodies) expect_same(b);
}

TEST(ParseRequestDifferential, MalformedJsonDeepNestingUtf8AndNumbers) {
  std::vector<std::string> bodies{
      "",       " ",     "{",      "}",       "[1]",    "\"x\"",      "5",     "null",  "true",  "{}",
      "{} ",    "{}x",   "{}{}",   "{,}",     "{\"a\"}", "{\"a\":}", "[",     "[1,]",  "{\"type\":",
      R"({"type":"household",})", R"({"type":"household" "event_id":"x"})", "\xEF\xBB\xBF{}", "{}\n\n",
      R"({"type":"household","members":1e400})", R"({"type":"household","members":-1e400})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","members":18446744073709551616})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","members":18446744073709551615})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","members":-9223372036854775809})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","members":4.0})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","members":4e0})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","members":-0})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","members":01})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","head":"\u0000\ud83d\ude00"})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","head":"\ud800"})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","head":"a\u00e9\n\t\"\\"})",
      R"({"type":"household","event_id":"r","household_id":"H","village":"V","head":"ab/* c */"}/* c */)",
      R"({"ty\u0070e":"household","event_id":"r","household_id":"H","village":"V"})",
      "{\"type\":\"household\",\"event_id\":\"r\",\"household_id\":\"H\",\"village\":\"V\",\"head\":\"\xCD\xF5\xB7\xBC\"}",
      "{\"type\":\"household\",\"event_id\":\"r\",\"household_id\":\"H\",\"village\":\"V\",\"head\":\"\xE7\x8E\"}",
      "{\"type\":\"household\",\"event_id\":\"r\",\"household_id\":\"H\",\"village\":\"V\",\"head\":\"\xC0\xAF\"}",
      "{\"type\":\"household\",\"event_id\":\"r\",\"household_id\":\"H\",\"village\":\"V\",\"head\":\"\xED\xA0\x80\"}",
      "{\"type\":\"household\",\"event_id\":\"r\",\"household_id\":\"H\",\"village\":\"V\",\"\xFF\":1}",
      "{\"type\":\"household\",\"event_id\":\"r\",\"household_id\":\"H\",\"village\":\"V\"}\xFF",
      "{\"type\":\"household\",\"event_id\":\"r\",\"household_id\":\"H\",\"village\":\"V\",\"head\":\"a\x01\"}",
      std::string("{\"type\":\"household\",\"event_id\":\"r\",\"household_id\":\"H\",\"village\":\"V\"}") +
          std::string(1, '\0'),
  };
  for (const std::size_t depth : {10u, 1000u, 20000u}) {
    bodies.push_back(std::string(depth, '[') + std::string(depth, ']'));
    std::string nested_value = R"({"type":"household","event_id":"r","household_id":"H","village":"V","head":)";
    nested_value += std::string(depth, '[') + std::string(depth, ']') + "}";
    bodies.push_back(nested_value);
    std::string nested_objects = R"({"type":"batch","events":[{"type":"household","zz":)";
    for (std::size_t i = 0; i < depth; ++i) nested_objects += R"({"a":)";
    nested_objects += "1" + std::string(depth, '}') + "}]}";
    bodies.push_back(nested_objects);
    bodies.push_back(std::string(depth, '[') + std::string(depth - 1, ']'));  // unterminated
  }
  for (const auto& b : bodies) expect_same(b);
}

TEST(ParseRequestDifferential, BigBatchesOfMixedItems) {
  std::mt19937 random(15);
  const auto events = mutated_events();
  for (const std::size_t size : {1000u, 5000u}) {
    json items = json::array();
    for (std::size_t i = 0; i < size; ++i) {
      const std::uint32_t r = random() % 10;
      if (r < 6) {
        json ev = status_change();
        ev["event_id"] = "ev-" + std::to_string(i);
        ev["household_id"] = "H" + std::to_string(i % 97);
        items.push_back(ev);
      } else if (r < 9) {
        items.push_back(events[random() % events.size()]);
      } else {
        items.push_back(i);
      }
    }
    const std::string body = json{{"type", "batch"}, {"events", items}}.dump();
    expect_same(body);
    expect_same(body, {1 << 26, size});
    expect_same(body, {1 << 26, size - 1});
  }
}

// Seeded random edits of valid and invalid requests: bytes flipped, inserted, removed, and
// pieces of JSON syntax put in; every result compared with the oracle's.
TEST(ParseRequestDifferential, RandomMutations) {
  std::mt19937 random(2026);
  std::vector<std::string> seeds{
      status_change().dump(), household().dump(), commitment().dump(),
      json{{"type", "batch"}, {"dry_run", true}, {"events", {household(), commitment(), status_change(), 5}}}.dump()};
  const std::vector<std::string> pieces{"{", "}", "[", "]", ",", ":", "\"", "null", "true", "1", "-1.5e3", "\"type\"",
                                        "\"batch\"", "\"events\"", "\"dry_run\"", "\\u00e9", "\xE7\x8E\x8B", "\xFF",
                                        "\"designations\":[\"assistance\"],", "\"members\":", " "};
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string body = seeds[random() % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const std::size_t at = random() % body.size();
      switch (random() % 4) {
        case 0: body[at] = static_cast<char>(random() % 256); break;
        case 1: body.erase(at, 1 + random() % 8); break;
        case 2: body.insert(at, pieces[random() % pieces.size()]); break;
        default: {  // copy a slice elsewhere: duplicate keys and items
          const std::size_t from = random() % body.size();
          body.insert(at, body.substr(from, 1 + random() % 40));
        }
      }
    }
    const auto expected = dom_oracle::parse_request(body, {1 << 20, 3});
    accepted += expected.ok() ? 1 : 0;
    expect_same(body, {1 << 20, 3});
    if (::testing::Test::HasFailure()) break;  // one counterexample is enough to read
  }
  EXPECT_GT(accepted, 100u) << "the mutations should leave some requests valid";
}

}  // namespace
}  // namespace hub
