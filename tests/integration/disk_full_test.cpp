// Disk full, for real: hubd runs with its test hook HUB_TEST_DISK_FULL_FILE (hub/store/
// fault_vfs.h), an SQLite VFS that makes every write fail with SQLITE_FULL — what SQLite
// reports when the disk is full — while a control file exists. The test creates and removes
// that file under a running hubd and checks what the publisher and the departments see:
// refusals with storage_unavailable, nothing half-stored, hubd still serving, and recovery
// without a restart once "space" returns.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

using nlohmann::json;

// A hubd whose SQLite writes fail while `control` exists (optionally only for files whose path
// contains `only`). The hook must be live: the test fails, rather than passing vacuously, if
// hubd did not announce it.
class DiskFullHub {
 public:
  explicit DiskFullHub(HubOptions options) : hub(std::move(options)), control(hub.dir() + "/disk-full") {
    ::setenv("HUB_TEST_DISK_FULL_FILE", control.c_str(), 1);
    hub.start();
    ::unsetenv("HUB_TEST_DISK_FULL_FILE");
    EXPECT_NE(hub.log().find("TEST HOOK: SQLite writes fail with SQLITE_FULL"), std::string::npos)
        << "hubd did not install the disk-full hook; log:\n" << hub.log();
  }
  void fill(const std::string& only = "") {
    {
      std::ofstream out(control + ".tmp");  // whole, then renamed: hubd never reads it half-written
      out << only;
    }
    std::rename((control + ".tmp").c_str(), control.c_str());
  }
  void free_space() { std::remove(control.c_str()); }

  HubProcess hub;
  std::string control;
};

bool wait_for_log(HubProcess& hub, const std::string& fragment, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (hub.log().find(fragment) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(DiskFull, IngestRefusesWithStorageUnavailableStoresNothingAndRecoversWithoutRestart) {
  HubOptions options;
  options.departments = {"schools", "police"};
  DiskFullHub d(options);
  HubProcess& hub = d.hub;

  json first = hub.ingest(household_event("V01-00001"));
  ASSERT_EQ(first["ok"], true) << first.dump();
  ASSERT_EQ(first["seq"], 1);

  d.fill();
  // A single event and an atomic batch: both refused, with the stable code, naming the event log.
  json single = hub.ingest(household_event("V01-00002"));
  ASSERT_EQ(single["ok"], false) << single.dump();
  EXPECT_EQ(single["error"]["code"], "storage_unavailable");
  const std::string message = single["error"]["message"];
  EXPECT_NE(message.find("event log"), std::string::npos) << message;
  EXPECT_NE(message.find("full"), std::string::npos) << message;
  json batch = hub.ingest({{"type", "batch"},
                           {"events", json::array({household_event("V01-00003"), commitment_event("V01-00001"),
                                                   status_event("V01-00001", "breach", "2021Q1")})}});
  ASSERT_EQ(batch["ok"], false) << batch.dump();
  EXPECT_EQ(batch["error"]["code"], "storage_unavailable");
  // Validation still answers as usual (it needs no write).
  json invalid = hub.ingest(commitment_event("V09-99999"));
  EXPECT_EQ(invalid["error"]["code"], "unknown_household") << invalid.dump();
  // hubd keeps serving: the admin endpoint answers, the process is alive.
  EXPECT_TRUE(hub.running());
  EXPECT_EQ(hub.admin({{"cmd", "ping"}})["ok"], true);
  // Nothing half-stored: only the first event is in the log, and no household row for the others.
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 1);
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM household"), 1);

  // Space returns: the very next request is stored, with the next sequence number (no gap), and
  // the refused batch, published again, is stored whole.
  d.free_space();
  json again = hub.ingest(household_event("V01-00002"));
  ASSERT_EQ(again["ok"], true) << again.dump();
  EXPECT_EQ(again["duplicate"], false);
  EXPECT_EQ(again["seq"], 2);
  json batch_again = hub.ingest({{"type", "batch"},
                                 {"events", json::array({household_event("V01-00003"), commitment_event("V01-00001"),
                                                         status_event("V01-00001", "breach", "2021Q1")})}});
  ASSERT_EQ(batch_again["ok"], true) << batch_again.dump();
  EXPECT_EQ(batch_again["stored"], 3);
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 5);
  EXPECT_EQ(hub.query_int("events.db", "SELECT MAX(seq) FROM event"), 5);

  hub.wait_for_delivery();
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=5"), 1);
  hub.stop();
}

// `n` households are registered and delivered; then, while the ledger's writes fail as `fault`
// says (DiskFullHub::fill), `n` evaluations are published. Ingest acknowledges them (events.db
// is fine); delivery records none of them, logs `logged` and keeps running; once the fault is
// gone every department has every evaluation exactly once and its cursor at the end.
void ledger_fault_then_every_event_exactly_once(const std::string& fault, const std::string& logged, int n) {
  HubOptions options;
  options.departments = {"schools", "police", "finance"};
  DiskFullHub d(options);
  HubProcess& hub = d.hub;

  json registry = json::array();
  for (int i = 1; i <= n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "V01-%05d", i);
    registry.push_back(household_event(id));
  }
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", registry}})["ok"], true);
  hub.wait_for_delivery();

  d.fill(fault);
  json evaluations = json::array();
  for (const auto& r : registry) evaluations.push_back(status_event(r["household_id"], "breach", "2021Q1"));
  json reply = hub.ingest({{"type", "batch"}, {"events", evaluations}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  ASSERT_TRUE(wait_for_log(hub, logged, std::chrono::seconds(60))) << hub.log();
  // The tries back off (this fixture: 100 ms doubling up to 1 s), so that an outage costs few
  // log lines: 13 failed commits in these 3 s when measured, 70 with the fixed pause it had.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::string during = hub.log();
  std::size_t failed_commits = 0;
  for (auto at = during.find(logged); at != std::string::npos; at = during.find(logged, at + 1)) ++failed_commits;
  EXPECT_LE(failed_commits, 25u) << during;
  EXPECT_TRUE(hub.running());
  const std::string evaluated = " AND seq > " + std::to_string(n);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE 1" + evaluated), 0);
  EXPECT_GT(hub.department_status("police")["lag"].get<std::int64_t>(), 0);

  d.free_space();
  hub.wait_for_delivery(std::chrono::seconds(120));
  for (const std::string department : {"schools", "police", "finance"}) {
    const std::string where = " FROM delivery WHERE department='" + department + "'" + evaluated;
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*)" + where), n) << department;
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(DISTINCT seq)" + where), n) << department;
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT seq FROM cursor WHERE department='" + department + "'"), 2 * n)
        << department;
  }
  EXPECT_EQ(finance_overpayments(hub), 0);
  EXPECT_NE(hub.log().find("the ledger is written again"), std::string::npos) << hub.log();
  const auto verify = hub::test::run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " audit verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  hub.stop();
}

TEST(DiskFull, LedgerWriteFailureDeliversEveryEventExactlyOnceWhenSpaceReturns) {
  ledger_fault_then_every_event_exactly_once("ledger.db", "cannot write the ledger", 40);
}

// A commit whose outcome is unknown: the event log's fsync fails at COMMIT (the frames are
// written, whether they are durable is not known). The publisher is refused, hubd keeps
// serving, and the event log reads what it holds again before it stages anything, so the event
// sent again is stored once, with the next seq, and every chain still verifies.
TEST(DiskFull, AnEventLogCommitWithAnUnknownOutcomeIsReadAgainAndNothingIsStoredTwice) {
  HubOptions options;
  options.departments = {"schools", "police"};
  DiskFullHub d(options);
  HubProcess& hub = d.hub;
  ASSERT_EQ(hub.ingest(household_event("V01-00001"))["ok"], true);

  d.fill("fsync:events.db");
  json refused = hub.ingest(status_event("V01-00001", "breach", "2021Q1"));
  ASSERT_EQ(refused["ok"], false) << refused.dump();
  EXPECT_EQ(refused["error"]["code"], "storage_unavailable");
  EXPECT_TRUE(wait_for_log(hub, "they may be stored", std::chrono::seconds(10))) << hub.log();
  EXPECT_TRUE(hub.running());

  d.free_space();
  json again = hub.ingest(status_event("V01-00001", "breach", "2021Q1"));
  ASSERT_EQ(again["ok"], true) << again.dump();
  EXPECT_EQ(again["seq"], 2);
  json next = hub.ingest(status_event("V01-00001", "credit", "2021Q2"));
  ASSERT_EQ(next["ok"], true) << next.dump();
  EXPECT_EQ(next["seq"], 3);
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE quarter = '2021Q1'"), 1);
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 3);

  hub.wait_for_delivery();
  for (const std::string department : {"schools", "police"}) {
    const std::string where = " FROM delivery WHERE department='" + department + "'";
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*)" + where), 2) << department << ": seqs 2 and 3";
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(DISTINCT seq)" + where), 2) << department;
  }
  const auto verify = hub::test::run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " audit verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  hub.stop();
}

// Pipelined ingest (ingest_server.h) under a disk that fails and recovers again and again
// (`fault`, as DiskFullHub::fill takes it): several publishers each keep batches in flight, so
// a group is often being written while the next is staged on top of it. Whatever was
// acknowledged is stored with the seq its reply gave, the seqs have no gaps, every reply answers
// its own request, in order, and a refusal means "not stored" unless the failure's outcome was
// unknown (`refused_may_be_stored`). Returns hubd's log.
std::string pipelined_publishers_under(const std::string& fault, bool refused_may_be_stored) {
  HubOptions options;
  options.departments = {"schools"};
  DiskFullHub d(options);
  HubProcess& hub = d.hub;
  const std::string endpoint = hub.endpoints()["ingest"].get<std::string>();

  constexpr int kPublishers = 4, kBatches = 30, kPerBatch = 500, kWindow = 16;  // 32,000 events in flight: more than hubd holds at once (20,000)
  struct Outcome {
    std::vector<std::pair<std::string, std::int64_t>> acked;  // event id, seq
    std::vector<std::string> refused;
    std::vector<std::string> problems;
  };
  std::vector<Outcome> outcomes(kPublishers);
  std::atomic<bool> publishing{true};
  std::thread toggler([&] {
    for (bool full = false; publishing.load(); full = !full) {
      if (full)
        d.fill(fault);
      else
        d.free_space();
      std::this_thread::sleep_for(std::chrono::milliseconds(full ? 15 : 25));
    }
    d.free_space();
  });
  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&, p] {
      zmq::context_t context;
      zmq::socket_t dealer(context, zmq::socket_type::dealer);
      dealer.set(zmq::sockopt::linger, 0);
      dealer.set(zmq::sockopt::rcvtimeo, 30000);
      dealer.connect(endpoint);
      std::vector<std::vector<std::string>> sent;  // the ids of each batch, in order
      auto send_batch = [&](int b) {
        json events = json::array();
        std::vector<std::string> ids;
        for (int i = 0; i < kPerBatch; ++i) {
          char id[32];
          std::snprintf(id, sizeof id, "V%02d-%05d", p + 1, b * kPerBatch + i);
          events.push_back(household_event(id, "V01"));
          ids.push_back(events.back()["event_id"]);
        }
        dealer.send(zmq::buffer(json{{"type", "batch"}, {"events", events}}.dump()), zmq::send_flags::none);
        sent.push_back(std::move(ids));
      };
      int next = 0;
      for (; next < kWindow; ++next) send_batch(next);
      for (int answered = 0; answered < kBatches; ++answered) {
        zmq::message_t reply_frame;
        if (!dealer.recv(reply_frame)) {
          outcomes[p].problems.push_back("no reply to batch " + std::to_string(answered));
          return;
        }
        const json reply = json::parse(reply_frame.to_string());
        const std::vector<std::string>& ids = sent.at(static_cast<std::size_t>(answered));
        if (reply["ok"] == true) {
          if (reply["results"].size() != ids.size()) outcomes[p].problems.push_back("short reply " + reply.dump());
          for (std::size_t i = 0; i < ids.size() && i < reply["results"].size(); ++i)
            outcomes[p].acked.emplace_back(ids[i], reply["results"][i]["seq"].get<std::int64_t>());
        } else if (reply["error"]["code"] == "storage_unavailable") {
          outcomes[p].refused.insert(outcomes[p].refused.end(), ids.begin(), ids.end());
        } else {
          outcomes[p].problems.push_back("unexpected reply " + reply.dump());
        }
        if (next < kBatches) send_batch(next++);
      }
    });
  }
  for (auto& t : publishers) t.join();
  publishing = false;
  toggler.join();

  std::map<std::string, std::int64_t> stored;
  for (const auto& row : hub.query_rows("events.db", "SELECT event_id, seq FROM event"))
    stored[row.at(0)] = std::stoll(row.at(1));
  std::size_t acked = 0, refused = 0, refused_but_stored = 0;
  for (const Outcome& o : outcomes) {
    for (const auto& problem : o.problems) ADD_FAILURE() << problem;
    for (const auto& [id, seq] : o.acked) {
      ++acked;
      const auto it = stored.find(id);
      if (it == stored.end()) {
        ADD_FAILURE() << id << " was acknowledged with seq " << seq << " but is not stored";
        continue;
      }
      EXPECT_EQ(it->second, seq) << id;
    }
    for (const auto& id : o.refused) {
      ++refused;
      refused_but_stored += stored.count(id);
    }
  }
  EXPECT_EQ(acked + refused, std::size_t{kPublishers * kBatches * kPerBatch});
  EXPECT_GT(acked, 0u) << "the disk was never free long enough: the test checked nothing";
  EXPECT_GT(refused, 0u) << "the disk was never full when a group was written: the test checked nothing";
  if (!refused_may_be_stored) {
    EXPECT_EQ(refused_but_stored, 0u);
  }
  EXPECT_EQ(stored.size(), acked + refused_but_stored);
  EXPECT_EQ(hub.query_int("events.db", "SELECT MAX(seq) FROM event"), static_cast<std::int64_t>(stored.size()))
      << "the seqs have a gap";
  EXPECT_TRUE(hub.running());
  hub.wait_for_delivery();
  const auto verify = hub::test::run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " audit verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  hub.stop();
  return hub.log();
}

// Writes fail at once (SQLITE_FULL before the commit): a refusal means not stored.
TEST(DiskFull, PipelinedPublishersAreAcknowledgedOnlyForWhatIsStored) {
  pipelined_publishers_under("events.db", /*refused_may_be_stored=*/false);
}

// Syncs fail after 30 ms (the commit's outcome unknown), long enough for the next group to be
// staged on top of the failing one: that group is refused too, the log is read again, and
// nothing acknowledged is missing. Refused events may be stored (the outcome was unknown).
TEST(DiskFull, PipelinedGroupStagedOnAFailingCommitIsRefusedWithIt) {
  const std::string log = pipelined_publishers_under("slow-fsync:events.db", /*refused_may_be_stored=*/true);
  bool dropped_on_top = false;
  for (auto at = log.find(" staged after them"); at != std::string::npos && !dropped_on_top;
       at = log.find(" staged after them", at + 1)) {
    const std::size_t number_end = at;
    std::size_t number_start = log.rfind(' ', number_end - 1) + 1;
    dropped_on_top = std::stoul(log.substr(number_start, number_end - number_start)) > 0;
  }
  EXPECT_TRUE(dropped_on_top) << "no group was staged on a failing one: the test did not reach that path\n" << log;
}

// hubctl import keeps four batches in flight. Refused while storing (its check passes: a dry
// run writes nothing), it stops sending, reads the answers of the batches already sent, exits 1
// and says that nothing was stored — and nothing is. Once space returns the same file is
// imported whole, with no gap in the seqs.
TEST(DiskFull, HubctlImportRefusedWhileStoringSaysSoStoresNothingAndImportsLater) {
  HubOptions options;
  options.departments = {"schools"};
  DiskFullHub d(options);
  HubProcess& hub = d.hub;
  const std::string file = hub.dir() + "/households.csv";
  {
    std::ofstream out(file);
    out << "household_id,village\n";
    for (int i = 1; i <= 3000; ++i) {
      char row[32];
      std::snprintf(row, sizeof row, "V01-%05d,V01\n", i);
      out << row;
    }
  }
  const std::string import =
      std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " import --batch 250 " + file;

  d.fill("events.db");
  auto refused = hub::test::run_command(import);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("storage_unavailable"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("nothing was stored"), std::string::npos) << refused.output;
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 0);
  EXPECT_TRUE(hub.running());

  d.free_space();
  auto imported = hub::test::run_command(import);
  EXPECT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_NE(imported.output.find("3000 stored"), std::string::npos) << imported.output;
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 3000);
  EXPECT_EQ(hub.query_int("events.db", "SELECT MAX(seq) FROM event"), 3000);
  hub.stop();
}

// The same for the ledger: the round's commit fails with its outcome unknown (its fsync), delivery
// reads the cursors again from the ledger, and once syncs work again every department has every
// event exactly once.
TEST(DiskFull, ALedgerCommitWithAnUnknownOutcomeContinuesFromTheCursorsTheLedgerKept) {
  ledger_fault_then_every_event_exactly_once("fsync:ledger.db", "may have happened", 20);
}

// With one event delivered and writes to `file` failing, an operator's disable of police is
// refused with `code` and changes nothing; once space is back, the same request is done.
void disable_refused_then_done(DiskFullHub& d, const std::string& file, const std::string& code) {
  HubProcess& hub = d.hub;
  ASSERT_EQ(hub.ingest(household_event("V01-00001"))["ok"], true);
  hub.wait_for_delivery();
  d.fill(file);
  json reply = hub.admin({{"cmd", "plugins"}, {"action", "disable"}, {"department", "police"}, {"by", "ann"}});
  EXPECT_EQ(reply["ok"], false) << reply.dump();
  EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
  EXPECT_EQ(hub.department_state("police"), "running");
  d.free_space();
  reply = hub.admin({{"cmd", "plugins"}, {"action", "disable"}, {"department", "police"}, {"by", "ann"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
}

// An operator's disable or enable is durable before it is answered ok: when the ledger cannot
// be written the request is refused with storage_unavailable and nothing changes.
TEST(DiskFull, APluginLifecycleDecisionThatCannotBeRecordedIsRefusedAndChangesNothing) {
  HubOptions options;
  options.departments = {"schools", "police"};
  DiskFullHub d(options);
  HubProcess& hub = d.hub;
  disable_refused_then_done(d, "ledger.db", "storage_unavailable");

  d.fill("ledger.db");
  json reply = hub.admin({{"cmd", "plugins"}, {"action", "enable"}, {"department", "police"}, {"by", "bo"}});
  EXPECT_EQ(reply["ok"], false) << reply.dump();
  EXPECT_EQ(reply["error"]["code"], "storage_unavailable") << reply.dump();
  EXPECT_EQ(hub.department_state("police"), "disabled");
  d.free_space();

  // What was answered ok is what a restarted hubd does.
  hub.stop();
  hub.start();
  EXPECT_EQ(hub.department_state("police"), "disabled");
  EXPECT_EQ(hub.query_rows("ledger.db", "SELECT action, by_operator FROM plugin_action WHERE department='police'"),
            (std::vector<std::vector<std::string>>{{"disable", "ann"}}));
  hub.stop();
}

// Fail closed: an operator's action is written to the audit log (audit.db, hash-chained) before
// it is carried out; when that cannot be written, it is not carried out.
TEST(DiskFull, AnOperatorActionThatCannotBeAuditedIsNotCarriedOut) {
  HubOptions options;
  options.departments = {"schools", "police"};
  options.curve = true;  // so that the records name the admin key that asked
  DiskFullHub d(options);
  HubProcess& hub = d.hub;
  disable_refused_then_done(d, "audit.db", "audit_unavailable");
  EXPECT_EQ(hub.department_state("police"), "disabled");
  json reply = hub.admin({{"cmd", "plugins"}, {"action", "enable"}, {"department", "nobody"}, {"by", "bo"}});
  EXPECT_EQ(reply["error"]["code"], "unknown_department") << reply.dump();
  reply = hub.admin({{"cmd", "plugins"}, {"action", "enable"}, {"department", "police"}, {"by", "bo"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  hub.stop();

  // The log holds what was asked and how it ended (the refused attempt is not in it: it could
  // not be written), and its chain verifies.
  EXPECT_EQ(hub.query_rows("audit.db", "SELECT kind, actor, subject FROM audit ORDER BY seq"),
            (std::vector<std::vector<std::string>>{{"admin_plugins_disable", "admin (by ann)", "police"},
                                                   {"admin_plugins_disable_result", "admin (by ann)", "police"},
                                                   {"admin_plugins_enable", "admin (by bo)", "nobody"},
                                                   {"admin_plugins_enable_result", "admin (by bo)", "nobody"},
                                                   {"admin_plugins_enable", "admin (by bo)", "police"},
                                                   {"admin_plugins_enable_result", "admin (by bo)", "police"}}));
  EXPECT_EQ(hub.query_rows("audit.db", "SELECT detail FROM audit WHERE seq = 4"),
            (std::vector<std::vector<std::string>>{{R"({"error":"unknown_department","ok":false})"}}));
  const auto verify = run_command(std::string(HUBCTL_PATH) + " audit verify --file " + hub.data_dir() + "/audit.db");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

}  // namespace
}  // namespace hub::test
