// Ingest over real ZeroMQ against a real hubd: every §4 error code, duplicates and
// conflicts, stale quarters and corrections, atomic batches. After every rejection the hub is
// still serving and nothing was stored.
#include <gtest/gtest.h>

#include <functional>

#include <thread>

#include <zmq.hpp>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

using nlohmann::json;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HubOptions options;
    options.departments = {"police"};
    options.max_message_bytes = 64 * 1024;
    options.max_batch_events = 50;
    hub_ = std::make_unique<HubProcess>(options);
    hub_->start();
    ASSERT_EQ(hub_->ingest(household_event("V01-00001"))["ok"], true);
  }

  std::int64_t stored_events() { return hub_->query_int("events.db", "SELECT COUNT(*) FROM event"); }

  // Sends `request`, expects the error `code` (and `field` if given), and checks that nothing
  // was stored and the hub still answers.
  void expect_rejected(const json& request, const std::string& code, const std::string& field = "") {
    const std::int64_t before = stored_events();
    const json reply = hub_->ingest(request);
    EXPECT_EQ(reply["ok"], false) << reply.dump();
    EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
    if (!field.empty()) {
      EXPECT_EQ(reply["error"].value("field", ""), field) << reply.dump();
    }
    EXPECT_FALSE(reply["error"]["message"].get<std::string>().empty());
    EXPECT_EQ(stored_events(), before) << "a rejected request stored something";
    EXPECT_EQ(hub_->admin({{"cmd", "ping"}})["ok"], true);
  }

  std::unique_ptr<HubProcess> hub_;
};

TEST_F(IngestTest, AcceptsAnEventAndRepliesWithItsSequenceAfterStoringIt) {
  const json reply = hub_->ingest(commitment_event("V01-00001"));
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(reply["seq"], 2);
  EXPECT_EQ(reply["duplicate"], false);
  EXPECT_EQ(hub_->query_int("events.db", "SELECT seq FROM event WHERE event_id='com-V01-00001'"), 2);
  EXPECT_EQ(hub_->query_rows("events.db", "SELECT commitment_signed_on FROM household WHERE household_id='V01-00001'")[0][0],
            "2020-04-15");
}

TEST_F(IngestTest, RejectsMalformedMessagesWithStableCodes) {
  EXPECT_EQ(json::parse(hub_->ingest_raw("{not json"))["error"]["code"], "invalid_json");
  EXPECT_EQ(json::parse(hub_->ingest_raw("[1,2]"))["error"]["code"], "invalid_request");
  EXPECT_EQ(json::parse(hub_->ingest_raw(std::string(70 * 1024, ' ')))["error"]["code"], "too_large");
  EXPECT_EQ(stored_events(), 1);

  json e = status_event("V01-00001", "credit", "2020Q3");
  json no_type = e;
  no_type.erase("type");
  expect_rejected(no_type, "missing_field", "type");
  json unknown_type = e;
  unknown_type["type"] = "rumour";
  expect_rejected(unknown_type, "unknown_type", "type");
  json no_household = e;
  no_household.erase("household_id");
  expect_rejected(no_household, "missing_field", "household_id");
  json wrong_type = e;
  wrong_type["quarter"] = 2020;
  expect_rejected(wrong_type, "invalid_field", "quarter");
  json extra = e;
  extra["hobby"] = "fishing";
  expect_rejected(extra, "unknown_field", "hobby");
  json bad_status = e;
  bad_status["status"] = "excellent";
  expect_rejected(bad_status, "invalid_status", "status");
  json bad_quarter = e;
  bad_quarter["quarter"] = "2020Q5";
  expect_rejected(bad_quarter, "invalid_quarter", "quarter");
  json bad_date = e;
  bad_date["effective_date"] = "2021-02-29";
  expect_rejected(bad_date, "invalid_date", "effective_date");
  json bad_designation = e;
  bad_designation["designations"] = {"vip"};
  expect_rejected(bad_designation, "invalid_designation", "designations");
  json bad_id = e;
  bad_id["household_id"] = "V01 00001; DROP TABLE";
  expect_rejected(bad_id, "invalid_field", "household_id");
  expect_rejected(status_event("V09-99999", "credit", "2020Q3"), "unknown_household", "household_id");
  expect_rejected(commitment_event("V09-99999"), "unknown_household", "household_id");
}

// Regression (found writing fuzz_ingest, confirmed with it): an error quoting a long non-ASCII field name used to cut
// a character in two; serialising the reply threw and stopped hubd's ingest thread.
TEST_F(IngestTest, ErrorQuotingALongNonAsciiFieldNameIsAnsweredAndHubdKeepsServing) {
  json event = household_event("V01-00077");
  event["键键键键键键键键键键键键键键"] = 1;
  json reply = json::parse(hub_->ingest_raw(event.dump()));
  EXPECT_EQ(reply["error"]["code"], "unknown_field") << reply.dump();
  json next = hub_->ingest(household_event("V01-00077"));
  EXPECT_EQ(next["ok"], true) << next.dump();
}

TEST_F(IngestTest, DuplicateEventIdReturnsTheOriginalSequenceAndDifferentContentConflicts) {
  const json first = hub_->ingest(status_event("V01-00001", "credit", "2020Q3", "ev-1"));
  ASSERT_EQ(first["ok"], true);
  const json again = hub_->ingest(status_event("V01-00001", "credit", "2020Q3", "ev-1"));
  EXPECT_EQ(again["ok"], true);
  EXPECT_EQ(again["seq"], first["seq"]);
  EXPECT_EQ(again["duplicate"], true);
  expect_rejected(status_event("V01-00001", "breach", "2020Q3", "ev-1"), "conflict", "event_id");
  EXPECT_EQ(hub_->query_int("events.db", "SELECT COUNT(*) FROM event WHERE event_id='ev-1'"), 1);
}

TEST_F(IngestTest, StaleQuarterIsRejectedAndTheSameQuarterIsACorrection) {
  ASSERT_EQ(hub_->ingest(status_event("V01-00001", "non_credit", "2020Q4"))["ok"], true);
  expect_rejected(status_event("V01-00001", "credit", "2020Q3"), "stale_quarter", "quarter");
  const json correction = hub_->ingest(status_event("V01-00001", "credit", "2020Q4"));
  ASSERT_EQ(correction["ok"], true) << correction.dump();
  const auto row = hub_->query_rows(
      "events.db", "SELECT correction, previous_status, status FROM event WHERE seq=" + correction["seq"].dump());
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0], "1");
  EXPECT_EQ(row[0][1], "non_credit");
  EXPECT_EQ(row[0][2], "credit");
  EXPECT_EQ(hub_->query_rows("events.db", "SELECT status, quarter FROM household WHERE household_id='V01-00001'")[0],
            (std::vector<std::string>{"credit", "2020Q4"}));
}

TEST_F(IngestTest, ABatchIsAtomicAndListsEveryInvalidItem) {
  json events = json::array({household_event("V02-00001", "V02"), commitment_event("V02-00001"),
                             status_event("V02-00001", "credit", "2020Q3"),
                             status_event("V07-00404", "credit", "2020Q3"),  // unknown household
                             status_event("V02-00001", "credit", "2020Q2")});  // stale after item 2
  json bad_status = status_event("V02-00001", "great", "2020Q3");
  events.push_back(bad_status);
  const std::int64_t before = stored_events();
  json reply = hub_->ingest({{"type", "batch"}, {"events", events}});
  EXPECT_EQ(reply["ok"], false);
  EXPECT_EQ(reply["error"]["code"], "invalid_batch");
  // Every invalid item is listed: field errors and the state rules alike.
  ASSERT_EQ(reply["errors"].size(), 3u) << reply.dump();
  EXPECT_EQ(reply["errors"][0]["index"], 3);
  EXPECT_EQ(reply["errors"][0]["code"], "unknown_household");
  EXPECT_EQ(reply["errors"][1]["index"], 4);
  EXPECT_EQ(reply["errors"][1]["code"], "stale_quarter");
  EXPECT_EQ(reply["errors"][2]["index"], 5);
  EXPECT_EQ(reply["errors"][2]["code"], "invalid_status");
  EXPECT_EQ(stored_events(), before);

  events.erase(5);
  reply = hub_->ingest({{"type", "batch"}, {"events", events}});
  EXPECT_EQ(reply["ok"], false);
  ASSERT_EQ(reply["errors"].size(), 2u) << reply.dump();
  EXPECT_EQ(reply["errors"][0]["index"], 3);
  EXPECT_EQ(reply["errors"][0]["code"], "unknown_household");
  EXPECT_EQ(reply["errors"][1]["index"], 4);
  EXPECT_EQ(reply["errors"][1]["code"], "stale_quarter");
  EXPECT_EQ(stored_events(), before);
  EXPECT_EQ(hub_->query_int("events.db", "SELECT COUNT(*) FROM household WHERE household_id='V02-00001'"), 0);

  events.erase(4);
  events.erase(3);
  reply = hub_->ingest({{"type", "batch"}, {"events", events}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(reply["stored"], 3);
  EXPECT_EQ(stored_events(), before + 3);
}

// A flood from one connection: past limits.max_requests_per_second its requests are refused
// (rate_limited, nothing stored or done) while another connection is served as usual, and after
// a pause the flooding connection is served again.
struct Flood {
  int served = 0;
  int limited = 0;
};

// Sends request(0..199) at once on one new connection to `endpoint`, runs `meanwhile`, collects
// every reply, pauses, and checks that request(200) is then served.
Flood flood(const std::string& endpoint, const std::function<std::string(int)>& request,
            const std::function<void()>& meanwhile) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::rcvtimeo, 20000);
  socket.connect(endpoint);
  constexpr int kSent = 200;
  for (int i = 0; i < kSent; ++i) socket.send(zmq::buffer(request(i)), zmq::send_flags::none);
  meanwhile();
  Flood f;
  for (int i = 0; i < kSent; ++i) {
    zmq::message_t frame;
    if (!socket.recv(frame)) {
      ADD_FAILURE() << "a flooded request got no reply";
      return f;
    }
    const json reply = json::parse(frame.to_string());
    if (reply["ok"] == true) {
      ++f.served;
    } else {
      EXPECT_EQ(reply["error"]["code"], "rate_limited") << reply.dump();
      ++f.limited;
    }
  }
  // The burst and the refill let through at most what the limit allows over the time it took.
  EXPECT_GT(f.limited, 0);
  EXPECT_GE(f.served, 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  socket.send(zmq::buffer(request(kSent)), zmq::send_flags::none);
  zmq::message_t frame;
  EXPECT_TRUE(socket.recv(frame));
  EXPECT_EQ(json::parse(frame.to_string())["ok"], true) << frame.to_string();
  return f;
}

HubOptions limited_to_20_per_second() {
  HubOptions options;
  options.departments = {"police"};
  options.max_requests_per_second = 20;
  return options;
}

TEST(IngestRateLimit, AFloodingConnectionIsRefusedRateLimitedAndOthersAreServed) {
  HubProcess hub(limited_to_20_per_second());
  hub.start();
  const auto registration = [](int i) {
    char id[16];
    std::snprintf(id, sizeof id, "V01-%05d", i + 1);
    return household_event(id).dump();
  };
  const Flood f = flood(hub.endpoints()["ingest"], registration,
                        [&] { EXPECT_EQ(hub.ingest(household_event("V02-00001", "V02"))["ok"], true); });
  // The refused registrations stored nothing: the served ones, the other publisher's, the last.
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), f.served + 2);
  hub.stop();
}

TEST(AdminRateLimit, AFloodingAdminConnectionIsRefusedRateLimitedAndOthersAreServed) {
  HubProcess hub(limited_to_20_per_second());
  hub.start();
  flood(hub.endpoints()["admin"], [](int) { return std::string(R"({"cmd":"ping"})"); },
        [&] { EXPECT_EQ(hub.admin({{"cmd", "ping"}})["ok"], true); });
  hub.stop();
}

TEST_F(IngestTest, BatchLimitsAndDryRun) {
  json many = json::array();
  for (int i = 0; i < 51; ++i) many.push_back(household_event("V03-" + std::to_string(10000 + i), "V03"));
  expect_rejected({{"type", "batch"}, {"events", many}}, "batch_too_large", "events");
  expect_rejected({{"type", "batch"}, {"events", json::array()}}, "empty_batch", "events");
  expect_rejected({{"type", "batch"}}, "missing_field", "events");
  many.erase(50);
  const std::int64_t before = stored_events();
  const json dry = hub_->ingest({{"type", "batch"}, {"events", many}, {"dry_run", true}});
  EXPECT_EQ(dry["ok"], true);
  EXPECT_EQ(dry["would_store"], 50);
  EXPECT_EQ(stored_events(), before);
}

}  // namespace
}  // namespace hub::test
