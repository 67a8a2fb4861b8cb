// Backup and restore (docs/operations.md): `hubctl backup --to DIR` while four publishers send
// and the departments deliver, `hubctl restore --from DIR --data-dir D` into a new folder, and
// a hubd started on D; a backup cut short by kill -9 of hubd; and the inputs restore and backup
// refuse. Real hubd and hubctl processes, real files.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kDepartments{"schools", "land", "finance", "civil_affairs"};

HubOptions backup_options() {
  HubOptions options;
  options.departments = kDepartments;
  return options;
}

std::string household_id(int n) {
  char id[16];
  std::snprintf(id, sizeof id, "V%02d-%05d", 1 + n % 14, n);
  return id;
}

void register_households(HubProcess& hub, int count) {
  json events = json::array();
  for (int n = 1; n <= count; ++n) {
    events.push_back(household_event(household_id(n), household_id(n).substr(0, 3)));
    events.push_back(commitment_event(household_id(n)));
  }
  const json reply = hub.ingest({{"type", "batch"}, {"events", events}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
}

// hubd's test hook: it sleeps this long after each file of a backup.
struct BackupDelay {
  explicit BackupDelay(int ms) { ::setenv("HUB_TEST_BACKUP_DELAY_MS", std::to_string(ms).c_str(), 1); }
  ~BackupDelay() { ::unsetenv("HUB_TEST_BACKUP_DELAY_MS"); }
};

CommandResult hubctl(const std::string& args) { return run_command(std::string(HUBCTL_PATH) + " " + args); }

json json_of(const CommandResult& r) {
  const auto at = r.output.find('{');
  if (at == std::string::npos) return json::object();
  return json::parse(r.output.substr(at), nullptr, false);
}

std::string error_code(const CommandResult& r) {
  const json j = json_of(r);
  return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
}

bool exists_in(const std::string& dir, const std::string& fragment) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename().string().find(fragment) != std::string::npos) return true;
  return false;
}

// Publishers on their own sockets (as four offices would be), each sending status changes one
// at a time for its share of the households, recording what the hub acknowledged.
class Publishers {
 public:
  Publishers(const std::string& endpoint, int households, int count) {
    for (int p = 0; p < count; ++p)
      threads_.emplace_back([this, endpoint, households, count, p] { run(endpoint, households, count, p); });
  }
  ~Publishers() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  std::set<std::string> acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }
  std::size_t sent() const { return sent_; }
  std::string failure() {
    std::lock_guard lock(mutex_);
    return failure_;
  }

 private:
  void run(const std::string& endpoint, int households, int count, int p) {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(endpoint);
    const char* statuses[] = {"credit", "non_credit", "breach"};
    const char* quarters[] = {"2020Q3", "2020Q4", "2021Q1", "2021Q2", "2021Q3", "2021Q4"};
    for (int q = 0; q < 6 && !stop_; ++q)
      for (int n = 1 + p; n <= households && !stop_; n += count) {
        const json event = status_event(household_id(n), statuses[(n + q) % 3], quarters[q]);
        socket.send(zmq::buffer(event.dump()), zmq::send_flags::none);
        zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(10000)) == 0) {
          std::lock_guard lock(mutex_);
          failure_ = "no reply from the hub";
          return;
        }
        zmq::message_t reply;
        (void)socket.recv(reply);
        const json r = json::parse(reply.to_string());
        std::lock_guard lock(mutex_);
        if (r.value("ok", false)) {
          acknowledged_.insert(event["event_id"].get<std::string>());
          ++sent_;
        } else {
          failure_ = r.dump();
          return;
        }
      }
  }

  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> sent_{0};
  std::mutex mutex_;  // guards acknowledged_ and failure_
  std::set<std::string> acknowledged_;
  std::string failure_;
  std::vector<std::thread> threads_;
};

TEST(Backup, TakenWhileFourPublishersSendRestoresIntoAHubThatCarriesOn) {
  const BackupDelay delay(60);  // the copy spans a few hundred ms of publishing
  HubProcess hub(backup_options());
  hub.start();
  const int kHouseholds = 300;
  register_households(hub, kHouseholds);
  // A complaint in the register (complaints.db), to be found in the restored folder, about the
  // household's 2020Q3 evaluation (the very event its publisher below sends first: a duplicate then).
  ASSERT_EQ(hub.ingest(status_event(household_id(1), "non_credit", "2020Q3"))["ok"], true);
  const json lodged = hub.admin({{"cmd", "complaints"}, {"action", "lodge"}, {"household_id", household_id(1)},
                                 {"quarter", "2020Q3"}, {"channel", "visit"}, {"received_on", "2021-01-05"},
                                 {"summary", "来访投诉"}, {"by", "test"}});
  ASSERT_EQ(lodged["ok"], true) << lodged.dump();
  const std::string backup = make_temp_dir("hub-backup-");
  fs::remove(backup);  // hubctl creates it

  Publishers publishers(hub.endpoints()["ingest"].get<std::string>(), kHouseholds, 4);
  while (publishers.sent() < 200 && publishers.failure().empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // Every event acknowledged before the backup begins must be in it.
  const std::set<std::string> before = publishers.acknowledged();
  const auto made = hubctl("--json --data-dir " + hub.data_dir() + " backup --to " + backup);
  const std::size_t sent_during = publishers.sent() - before.size();
  publishers.stop();
  ASSERT_EQ(publishers.failure(), "");
  ASSERT_EQ(made.exit_code, 0) << made.output << hub.log();
  const json result = json_of(made);
  ASSERT_EQ(result["ok"], true) << made.output;
  EXPECT_GT(sent_during, 0u) << "the publishers were not sending during the backup";
  EXPECT_TRUE(fs::exists(backup + "/MANIFEST.json"));
  EXPECT_TRUE(fs::exists(backup + "/data/plugins/finance/finance.db"));
  EXPECT_TRUE(fs::exists(backup + "/config/hub.json"));
  hub.wait_for_delivery();

  // Restore into the data folder of a second hub (its own configuration and ports).
  HubProcess restored(backup_options());
  fs::remove_all(restored.data_dir());
  const auto r = hubctl("--json restore --from " + backup + " --data-dir " + restored.data_dir());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(json_of(r)["last_seq"], result["manifest"]["last_seq"]);

  const auto verified = hubctl("--data-dir " + restored.data_dir() + " audit verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  std::set<std::string> stored;
  for (const auto& row : restored.query_rows("events.db", "SELECT event_id FROM event")) stored.insert(row[0]);
  for (const auto& id : before) EXPECT_TRUE(stored.count(id)) << "acknowledged before the backup, not in it: " << id;

  // The cursors in the copy are at most the copy's last event: nothing delivered is unknown.
  const std::int64_t last_seq = restored.query_int("events.db", "SELECT MAX(seq) FROM event");
  EXPECT_EQ(restored.query_int("ledger.db", "SELECT COUNT(*) FROM cursor WHERE seq > " + std::to_string(last_seq)), 0);
  EXPECT_EQ(restored.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE seq > " + std::to_string(last_seq)), 0);
  // The backup is an audited operator action, in the copy of the audit log too.
  EXPECT_EQ(restored.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'admin_backup_start'"), 1);
  EXPECT_EQ(restored.query_rows("complaints.db", "SELECT id, household_id FROM complaint"),
            (std::vector<std::vector<std::string>>{{"TS-2021-000001", household_id(1)}}));

  restored.start();
  restored.wait_for_delivery();
  const auto reconciled = hubctl("--data-dir " + restored.data_dir() + " reconcile");
  EXPECT_EQ(reconciled.exit_code, 0) << reconciled.output;
  // Each status change recorded once per department, none twice; finance releases nothing it
  // did not defer.
  const std::int64_t changes = restored.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'");
  for (const std::string& department : kDepartments)
    EXPECT_EQ(restored.query_int("ledger.db", "SELECT COUNT(DISTINCT seq) FROM delivery WHERE department='" +
                                                  department + "'"),
              restored.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='" + department + "'"))
        << department;
  EXPECT_EQ(restored.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='schools'"), changes);
  EXPECT_EQ(finance_overpayments(restored), 0);
  const auto verified_after = hubctl("--data-dir " + restored.data_dir() + " audit verify");
  EXPECT_EQ(verified_after.exit_code, 0) << verified_after.output;
  restored.stop();
  hub.stop();
  fs::remove_all(backup);
}

// Starts `hubctl backup --to backup` in the background (output in `log`) and returns its pid
// once the backup is under way: the ledger is copied first, so its file is there (or 20 s
// passed: the caller asserts it).
pid_t start_backup(HubProcess& hub, const std::string& backup, const std::string& log) {
  const pid_t pid = spawn(hub.dir(), log,
                          {HUBCTL_PATH, "--timeout", "700", "--data-dir", hub.data_dir(), "backup", "--to", backup});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(backup + "/data/ledger.db") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pid;
}

TEST(Backup, KillNineInTheMiddleIsReportedIncompleteAndRestoreRefusesIt) {
  const BackupDelay delay(400);
  HubProcess hub(backup_options());
  hub.start();
  register_households(hub, 50);
  const std::string backup = make_temp_dir("hub-backup-killed-");
  const std::string log = hub.dir() + "/hubctl-backup.log";
  const pid_t pid = start_backup(hub, backup, log);
  ASSERT_TRUE(fs::exists(backup + "/data/ledger.db")) << read_text(log) << hub.log();
  hub.kill9();
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << read_text(log);
  EXPECT_NE(read_text(log).find("backup_incomplete"), std::string::npos) << read_text(log);
  EXPECT_FALSE(fs::exists(backup + "/MANIFEST.json"));

  const std::string target = hub.dir() + "/restored";
  const auto r = hubctl("--json restore --from " + backup + " --data-dir " + target);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(error_code(r), "manifest_missing") << r.output;
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(exists_in(hub.dir(), ".restoring-"));

  // hubd starts again on its data folder, and the next backup is whole.
  ::unsetenv("HUB_TEST_BACKUP_DELAY_MS");
  hub.start();
  const std::string again = backup + "-again";
  const auto made = hubctl("--json --data-dir " + hub.data_dir() + " backup --to " + again);
  EXPECT_EQ(made.exit_code, 0) << made.output;
  const auto restored = hubctl("--json restore --from " + again + " --data-dir " + target);
  EXPECT_EQ(restored.exit_code, 0) << restored.output;
  hub.stop();
  fs::remove_all(backup);
  fs::remove_all(again);
}

TEST(Backup, HubdStoppedDuringABackupStopsCleanlyAndTheBackupIsIncomplete) {
  const BackupDelay delay(400);
  HubProcess hub(backup_options());
  hub.start();
  register_households(hub, 20);
  const std::string backup = make_temp_dir("hub-backup-stopped-");
  const std::string log = hub.dir() + "/hubctl-backup.log";
  const pid_t pid = start_backup(hub, backup, log);
  ASSERT_TRUE(fs::exists(backup + "/data/ledger.db")) << read_text(log) << hub.log();
  hub.stop();  // SIGTERM: the backup stops at its next file, and hubd exits 0
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << read_text(log);
  EXPECT_NE(read_text(log).find("backup_incomplete"), std::string::npos) << read_text(log);
  EXPECT_FALSE(fs::exists(backup + "/MANIFEST.json"));
  EXPECT_NE(hub.log().find("backup_cancelled"), std::string::npos) << hub.log();
  fs::remove_all(backup);
}

// The admin endpoint's backup command, asked directly as any client could: a request without
// an absolute "to" or with an unknown action is refused naming the field, and no backup starts.
TEST(Backup, TheAdminCommandRefusesABadRequestAndStartsNothing) {
  HubProcess hub(backup_options());
  hub.start();
  const std::string relative = "relative-backup-dir";
  for (const json& request : {json{{"cmd", "backup"}, {"action", "start"}},
                              json{{"cmd", "backup"}, {"action", "start"}, {"to", ""}},
                              json{{"cmd", "backup"}, {"action", "start"}, {"to", 42}},
                              json{{"cmd", "backup"}, {"action", "start"}, {"to", relative}}}) {
    const json reply = hub.admin(request);
    EXPECT_FALSE(reply.value("ok", true)) << reply.dump();
    EXPECT_EQ(reply["error"]["code"], "invalid_request") << reply.dump();
    EXPECT_EQ(reply["error"]["field"], "to") << reply.dump();
  }
  // A path of the test's own (a fixed one such as /tmp/x may exist for other reasons).
  const std::string unused = hub.dir() + "/backup-never-started";
  const json bad_action = hub.admin({{"cmd", "backup"}, {"action", "begin"}, {"to", unused}});
  EXPECT_EQ(bad_action["error"]["code"], "invalid_request") << bad_action.dump();
  const json status = hub.admin({{"cmd", "backup"}, {"action", "status"}});
  EXPECT_EQ(status["state"], "none") << status.dump();
  EXPECT_FALSE(fs::exists(hub.dir() + "/" + relative));
  EXPECT_FALSE(fs::exists(unused));
  hub.stop();
}

TEST(Backup, RefusesNonEmptyFoldersAlteredAndIncompleteBackupsAndWritesNothing) {
  const std::string work = make_temp_dir("hub-backup-bad-");
  for (const char* name : {"hub-audit", "other"})
    ASSERT_EQ(hubctl(std::string("keygen ") + name + " --dir " + work + "/signing").exit_code, 0);
  HubOptions options = backup_options();
  options.curve = true;  // as shipped: hubd's keys are part of the backup
  options.audit_signing_key = work + "/signing/hub-audit.sign.key";
  HubProcess hub(options);
  hub.start();
  register_households(hub, 20);
  const std::string backup = work + "/good";
  const auto made = hubctl("--json --data-dir " + hub.data_dir() + " backup --to " + backup);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  // The keys, secrets still 0600, in the backup and in a restored folder.
  const auto owner_only = [](const std::string& path) {
    return (fs::status(path).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none;
  };
  ASSERT_TRUE(fs::exists(backup + "/data/keys/hub.curve.key"));
  EXPECT_TRUE(owner_only(backup + "/data/keys/hub.curve.key"));
  EXPECT_TRUE(owner_only(backup));
  // The audit log's signing key too, and its signatures check against its public key, not
  // against another.
  EXPECT_TRUE(owner_only(backup + "/keys/hub-audit.sign.key"));
  const auto signed_ok = hubctl("restore --check --from " + backup + " --public-key " + work + "/signing/hub-audit.sign.pub");
  EXPECT_EQ(signed_ok.exit_code, 0) << signed_ok.output;
  const auto signed_other =
      hubctl("--json restore --check --from " + backup + " --public-key " + work + "/signing/other.sign.pub");
  EXPECT_EQ(signed_other.exit_code, 1) << signed_other.output;
  EXPECT_EQ(error_code(signed_other), "chain_broken") << signed_other.output;
  const auto good = hubctl("--json restore --from " + backup + " --data-dir " + work + "/ok");
  ASSERT_EQ(good.exit_code, 0) << good.output;
  EXPECT_EQ(read_text(work + "/ok/keys/hub.curve.key"), read_text(hub.data_dir() + "/keys/hub.curve.key"));
  EXPECT_TRUE(owner_only(work + "/ok/keys/hub.curve.key"));
  // A hubd on the restored folder serves with the restored keys: hubctl, with the admin key of
  // the backup, is let in.
  {
    HubProcess again(options);
    fs::remove_all(again.data_dir());
    fs::rename(work + "/ok", again.data_dir());
    again.start();
    const auto status = hubctl("--json --data-dir " + again.data_dir() + " status");
    EXPECT_EQ(status.exit_code, 0) << status.output;
    EXPECT_EQ(again.query_int("events.db", "SELECT COUNT(*) FROM event"), 40);
    again.stop();
  }

  // backup into a folder that holds something: refused, the folder untouched.
  fs::create_directories(work + "/occupied");
  std::ofstream(work + "/occupied/notes.txt") << "mine\n";
  const auto occupied = hubctl("--json --data-dir " + hub.data_dir() + " backup --to " + work + "/occupied");
  EXPECT_EQ(occupied.exit_code, 1) << occupied.output;
  EXPECT_EQ(error_code(occupied), "backup_dir_not_empty") << occupied.output;
  EXPECT_EQ(std::distance(fs::directory_iterator(work + "/occupied"), fs::directory_iterator()), 1);

  // restore into a folder that holds something: refused, the folder untouched.
  const auto into_occupied = hubctl("--json restore --from " + backup + " --data-dir " + work + "/occupied");
  EXPECT_EQ(into_occupied.exit_code, 1) << into_occupied.output;
  EXPECT_EQ(error_code(into_occupied), "data_dir_not_empty") << into_occupied.output;
  EXPECT_EQ(std::distance(fs::directory_iterator(work + "/occupied"), fs::directory_iterator()), 1);

  // One byte of the event log changed: refused, naming the file.
  fs::copy(backup, work + "/tampered", fs::copy_options::recursive);
  {
    std::fstream f(work + "/tampered/data/events.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(5000);
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x01);
    f.seekp(5000);
    f.write(&byte, 1);
  }
  const auto checked = hubctl("--json restore --check --from " + work + "/tampered");
  EXPECT_EQ(checked.exit_code, 1) << checked.output;
  EXPECT_EQ(error_code(checked), "file_mismatch") << checked.output;
  EXPECT_EQ(hubctl("restore --check --from " + backup).exit_code, 0);
  const auto tampered = hubctl("--json restore --from " + work + "/tampered --data-dir " + work + "/t1");
  EXPECT_EQ(tampered.exit_code, 1) << tampered.output;
  EXPECT_EQ(error_code(tampered), "file_mismatch") << tampered.output;
  EXPECT_EQ(json_of(tampered)["error"].value("file", ""), "data/events.db") << tampered.output;
  EXPECT_FALSE(fs::exists(work + "/t1"));

  // No manifest: an incomplete backup, refused.
  fs::copy(backup, work + "/no-manifest", fs::copy_options::recursive);
  fs::remove(work + "/no-manifest/MANIFEST.json");
  const auto incomplete = hubctl("--json restore --from " + work + "/no-manifest --data-dir " + work + "/t2");
  EXPECT_EQ(incomplete.exit_code, 1) << incomplete.output;
  EXPECT_EQ(error_code(incomplete), "manifest_missing") << incomplete.output;
  EXPECT_FALSE(fs::exists(work + "/t2"));
  EXPECT_FALSE(exists_in(work, ".restoring-"));

  // The text for people names the code too, in both languages.
  const auto text = hubctl("restore --from " + work + "/no-manifest --data-dir " + work + "/t3");
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.output.find("manifest_missing"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("恢复被拒绝"), std::string::npos) << text.output;
  hub.stop();
  fs::remove_all(work);
}

}  // namespace
}  // namespace hub::test
