// The chains in SQLite files (the chain keeper, and audit.db's writer and verifier): the audit
// chain against a real SQLite file: for many random trials, one record is modified,
// deleted, inserted or swapped directly in the file (as someone with the file and sqlite3
// would), and verification must fail and name exactly that record.
#include "store/sqlite/chain_keeper.h"

#include <sodium.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "audit/audit_log.h"
#include "eventlog/event_log.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "store/sqlite/sqlite_event_store.h"
#include "store/sqlite/sqlite_ledger.h"
#include "testing/run_command.h"
#include "testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using hub::audit::AuditEntry;
using AuditLog = hub::store::SqliteAuditLog;
using hub::store::verify_audit_log;

constexpr std::int64_t kRecords = 40;

std::vector<AuditEntry> entries(int n, int offset = 0) {
  std::vector<AuditEntry> out;
  for (int i = 0; i < n; ++i) {
    const int k = i + offset;
    out.push_back({k % 3 == 0 ? "event_accepted" : "policy_actions", k % 2 ? "fp-office" : "finance",
                   "ev-2020Q4-V01-" + std::to_string(10000 + k), R"({"status":"credit","n":)" + std::to_string(k) + "}"});
  }
  return out;
}

// A chain of kRecords records, appended in a few batches as the hub would.
void make_chain(const std::string& path, const std::optional<hub::audit::SigningKey>& key = std::nullopt) {
  AuditLog log(path, key);
  log.append(entries(10), 1'600'000'000'000);
  log.append(entries(1, 10)[0], 1'600'000'000'100);
  log.append(entries(kRecords - 11, 11), 1'600'000'000'200);
  ASSERT_EQ(log.last_seq(), kRecords);
}

void sql(const std::string& path, const std::string& statement) {
  hub::store::Database db(path, hub::store::Database::Mode::kReadWrite);
  db.exec(statement.c_str());
}

std::string text_of(const std::string& path, const std::string& query) {
  hub::store::Database db(path, hub::store::Database::Mode::kReadOnly);
  hub::store::Statement q(db, query.c_str());
  EXPECT_TRUE(q.step()) << query;
  return q.column_text(0);
}

// Moves records seq >= from by `by` (±1) without tripping over the primary key.
void renumber(const std::string& path, std::int64_t from, int by) {
  sql(path, "UPDATE audit SET seq = -seq WHERE seq >= " + std::to_string(from));
  sql(path, "UPDATE audit SET seq = -seq + (" + std::to_string(by) + ") WHERE seq < 0");
}

TEST(AuditLog, AnIntactChainVerifiesAndSurvivesReopening) {
  hub::testing::TempDir dir;
  const std::string path = dir.file("audit.db");
  make_chain(path);
  {
    AuditLog reopened(path);
    EXPECT_EQ(reopened.last_seq(), kRecords);
    reopened.append({"admin_retry", "admin", "finance:1201", "{}"}, 1'600'000'001'000);
  }
  const auto result = verify_audit_log(path);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kRecords + 1);
  EXPECT_EQ(result.head_hash_hex, text_of(path, "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1"));
}

TEST(AuditLog, TheHashIsTheDocumentedOne) {
  // SHA-256(zeros || seq || at_ms || len-prefixed kind, actor, subject, detail), by hand.
  const AuditEntry e{"k", "a", "s", "d"};
  std::vector<unsigned char> bytes(32, 0);
  for (std::uint64_t v : {std::uint64_t{1}, std::uint64_t{2}})
    for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<unsigned char>(v >> (8 * i)));
  for (const char* t : {"k", "a", "s", "d"}) {
    for (unsigned char b : {0, 0, 0, 1}) bytes.push_back(b);
    bytes.push_back(static_cast<unsigned char>(t[0]));
  }
  std::array<unsigned char, 32> expected{};
  crypto_hash_sha256(expected.data(), bytes.data(), bytes.size());
  EXPECT_EQ(hub::audit::record_hash({}, 1, 2, e), expected);
}

TEST(AuditLog, TheHashIsSha256OfTheDocumentedBytesForLongRecordsToo) {
  // record_hash() uses OpenSSL's SHA-256; libsodium's must agree over many blocks.
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::string detail(static_cast<std::size_t>(rng() % 3000), '\0');
    for (auto& c : detail) c = static_cast<char>(rng());
    const AuditEntry e{"policy_action", "finance", "finance:" + std::to_string(round), detail};
    std::vector<unsigned char> bytes(32, static_cast<unsigned char>(round));
    for (std::uint64_t v : {std::uint64_t(round + 1), std::uint64_t{1'600'000'000'000}})
      for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<unsigned char>(v >> (8 * i)));
    for (const std::string* t : {&e.kind, &e.actor, &e.subject, &e.detail}) {
      for (int i = 3; i >= 0; --i) bytes.push_back(static_cast<unsigned char>(t->size() >> (8 * i)));
      bytes.insert(bytes.end(), t->begin(), t->end());
    }
    std::array<unsigned char, 32> expected{};
    crypto_hash_sha256(expected.data(), bytes.data(), bytes.size());
    hub::audit::Hash previous;
    previous.fill(static_cast<unsigned char>(round));
    ASSERT_EQ(hub::audit::record_hash(previous, round + 1, 1'600'000'000'000, e), expected) << "round " << round;
  }
}

struct Trial {
  std::string what;
  std::int64_t named;  // the record verification must name
};

// One random tampering of the file at `path`; returns what was done and the record to name.
Trial tamper(const std::string& path, std::mt19937& rng) {
  auto pick = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  const std::int64_t k = pick(1, kRecords);
  const std::string where = " WHERE seq = " + std::to_string(k);
  switch (pick(0, 10)) {
    case 0: sql(path, "UPDATE audit SET at_ms = at_ms + 1" + where); return {"modify at_ms", k};
    case 1: sql(path, "UPDATE audit SET kind = 'event_rejected'" + where); return {"modify kind", k};
    case 2: sql(path, "UPDATE audit SET actor = actor || ' '" + where); return {"modify actor", k};
    case 3: sql(path, "UPDATE audit SET detail = replace(detail, 'credit', 'breach')" + where); return {"modify detail", k};
    case 4:
      sql(path, "UPDATE audit SET hash = substr(hash, 1, 10) || (CASE substr(hash, 11, 1) WHEN '0' THEN '1' ELSE '0' END) || "
                "substr(hash, 12)" + where);
      return {"modify hash", k};
    case 5:
      sql(path, "UPDATE audit SET prev_hash = substr(prev_hash, 1, 63) || (CASE substr(prev_hash, 64, 1) WHEN 'a' THEN 'b' "
                "ELSE 'a' END)" + where);
      return {"modify prev_hash", k};
    case 6: sql(path, "DELETE FROM audit" + where); return {"delete", k};
    case 7:
      sql(path, "DELETE FROM audit" + where);
      renumber(path, k + 1, -1);
      return {"delete and renumber", k};
    case 8: {
      // A careful forger: the inserted record chains onto its predecessor with a valid hash.
      std::array<unsigned char, 32> previous{};
      if (k > 1) {
        const auto bytes = hub::audit::from_hex(text_of(path, "SELECT hash FROM audit WHERE seq = " + std::to_string(k - 1)), 32);
        std::copy(bytes->begin(), bytes->end(), previous.begin());
      }
      const AuditEntry forged{"admin_skip", "admin", "finance:77", "{}"};
      const auto hash = hub::audit::record_hash(previous, k, 1'600'000'000'150, forged);
      renumber(path, k, +1);
      sql(path, "INSERT INTO audit VALUES (" + std::to_string(k) + ", 1600000000150, 'admin_skip', 'admin', 'finance:77', "
                "'{}', '" + hub::audit::to_hex(previous.data(), 32) + "', '" + hub::audit::to_hex(hash.data(), 32) + "', NULL)");
      return {"insert (chained) and renumber", k};
    }
    case 9: {
      // Appended after the head, chained onto the last record.
      const auto last = hub::audit::from_hex(text_of(path, "SELECT hash FROM audit WHERE seq = " + std::to_string(kRecords)), 32);
      std::array<unsigned char, 32> previous{};
      std::copy(last->begin(), last->end(), previous.begin());
      const AuditEntry forged{"event_accepted", "fp-office", "ev-forged", "{}"};
      const auto hash = hub::audit::record_hash(previous, kRecords + 1, 1'600'000'000'300, forged);
      sql(path, "INSERT INTO audit VALUES (" + std::to_string(kRecords + 1) + ", 1600000000300, 'event_accepted', "
                "'fp-office', 'ev-forged', '{}', '" + hub::audit::to_hex(previous.data(), 32) + "', '" +
                hub::audit::to_hex(hash.data(), 32) + "', NULL)");
      return {"append after the head", kRecords + 1};
    }
    default: {
      std::int64_t j = pick(1, kRecords - 1);
      if (j >= k) ++j;
      const std::string a = std::to_string(std::min(k, j)), b = std::to_string(std::max(k, j));
      // Swap everything but the seq: the two records trade places.
      sql(path, "UPDATE audit SET seq = -seq WHERE seq IN (" + a + ", " + b + ")");
      sql(path, "UPDATE audit SET seq = CASE seq WHEN -" + a + " THEN " + b + " ELSE " + a + " END WHERE seq < 0");
      return {"swap " + a + " and " + b, std::min(k, j)};
    }
  }
}

TEST(AuditLog, EveryRandomTamperingIsFoundAtExactlyThatRecord) {
  hub::testing::TempDir dir;
  const std::string pristine = dir.file("pristine.db");
  make_chain(pristine);
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  std::map<std::string, int> kinds;
  for (int trial = 0; trial < 300; ++trial) {
    const std::string path = (fs::path(dir.path()) / ("trial-" + std::to_string(trial) + ".db")).string();
    fs::copy_file(pristine, path);
    const Trial t = tamper(path, rng);
    ++kinds[t.what.substr(0, t.what.find(' '))];
    const auto result = verify_audit_log(path);
    ASSERT_FALSE(result.ok) << "seed " << seed << " trial " << trial << ": " << t.what << " was not found";
    ASSERT_EQ(result.first_bad_seq, t.named) << "seed " << seed << " trial " << trial << ": " << t.what << " → "
                                             << result.message;
    fs::remove(path);
  }
  for (const char* kind : {"modify", "delete", "insert", "append", "swap"}) EXPECT_GT(kinds[kind], 0) << kind;
}

TEST(AuditLog, ARewrittenChainIsCaughtByTheSignatures) {
  hub::testing::TempDir dir;
  const std::string path = dir.file("audit.db");
  const auto key = hub::audit::SigningKey::generate();
  make_chain(path, key);
  auto result = verify_audit_log(path, key.public_key);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.signatures_checked, kRecords);

  // Someone with the file but not the key rewrites record 17 and re-chains everything after it
  // and the head: the hashes are consistent again, the signatures are not.
  {
    hub::store::Database db(path, hub::store::Database::Mode::kReadWrite);
    db.exec("UPDATE audit SET detail = '{\"status\":\"breach\"}' WHERE seq = 17");
    hub::store::Statement rows(db, "SELECT seq, at_ms, kind, actor, subject, detail FROM audit WHERE seq >= 17 ORDER BY seq");
    std::vector<std::pair<std::int64_t, std::string>> rehashed;
    auto previous = *hub::audit::from_hex(text_of(path, "SELECT hash FROM audit WHERE seq = 16"), 32);
    std::array<unsigned char, 32> prev{};
    std::copy(previous.begin(), previous.end(), prev.begin());
    std::vector<std::tuple<std::int64_t, std::string, std::string>> updates;
    while (rows.step()) {
      const auto h = hub::audit::record_hash(prev, rows.column_int(0), rows.column_int(1),
                                             {rows.column_text(2), rows.column_text(3), rows.column_text(4), rows.column_text(5)});
      updates.emplace_back(rows.column_int(0), hub::audit::to_hex(prev.data(), 32), hub::audit::to_hex(h.data(), 32));
      prev = h;
    }
    for (const auto& [seq, p, h] : updates)
      db.exec(("UPDATE audit SET prev_hash = '" + p + "', hash = '" + h + "' WHERE seq = " + std::to_string(seq)).c_str());
    db.exec(("UPDATE head SET hash = '" + hub::audit::to_hex(prev.data(), 32) + "'").c_str());
  }
  EXPECT_TRUE(verify_audit_log(path).ok) << "without the key the rewrite is consistent";
  result = verify_audit_log(path, key.public_key);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.first_bad_seq, 17);
  EXPECT_EQ(result.problem, "bad_signature");
}

TEST(AuditLog, AppendFailsClosedWhenTheFileCannotBeWritten) {
  hub::testing::TempDir dir;
  const std::string path = dir.file("audit.db");
  AuditLog log(path);
  log.append(entries(3), 1);
  // Another connection holds the write lock: the append cannot commit and must say so.
  hub::store::Database other(path, hub::store::Database::Mode::kReadWrite);
  other.exec("PRAGMA busy_timeout=0");
  other.exec("BEGIN IMMEDIATE");
  EXPECT_THROW(log.append(entries(1), 2), hub::StorageError);
  other.exec("ROLLBACK");
  EXPECT_EQ(log.last_seq(), 3);
  EXPECT_EQ(log.append(entries(1), 3), 4);
  EXPECT_TRUE(verify_audit_log(path).ok);
}

// The keeper links exactly record_hash() onto the committed head, writes the head only in the
// writer's transaction, and goes back to the committed head when that transaction fails.
TEST(ChainKeeper, LinksOntoTheHeadAndForgetsWhatARolledBackTransactionLinked) {
  hub::testing::TempDir dir;
  const std::string path = dir.file("audit.db");
  make_chain(path);
  const auto head = verify_audit_log(path);
  ASSERT_TRUE(head.ok);
  hub::store::Database db(path, hub::store::Database::Mode::kReadWrite);
  hub::store::ChainKeeper keeper(db, hub::store::ChainedFile::kAudit);
  EXPECT_EQ(keeper.seq(), kRecords);
  EXPECT_EQ(hub::audit::to_hex(keeper.hash().data(), keeper.hash().size()), head.head_hash_hex);
  const hub::audit::Hash committed = keeper.hash();
  const AuditEntry entry = entries(1)[0];
  const hub::audit::Hash linked = keeper.link_next(7, entry);
  EXPECT_EQ(keeper.seq(), kRecords + 1);
  EXPECT_EQ(keeper.previous(), committed);
  EXPECT_EQ(linked, hub::audit::record_hash(committed, kRecords + 1, 7, entry));
  {
    hub::store::Transaction tx(db);
    keeper.write_head();
    // no commit: the transaction rolls back
  }
  keeper.rolled_back();
  EXPECT_EQ(keeper.seq(), kRecords);
  EXPECT_EQ(keeper.hash(), committed);
  EXPECT_TRUE(verify_audit_log(path).ok) << "the head was not moved";
  EXPECT_EQ(keeper.link_next(7, entry), linked) << "linked again onto the same head";
}

// Each verifier names its own file when the file is not a readable SQLite database.
TEST(ChainKeeper, TheVerifiersNameAnUnreadableFile) {
  hub::testing::TempDir dir;
  const std::string path = dir.file("not-a-database.db");
  std::ofstream(path) << "this is not an SQLite file, it is long enough to have a header of one though.";
  const auto audit = verify_audit_log(path), events = hub::store::verify_event_chain(path),
             ledger = hub::store::verify_ledger_chain(path);
  for (const auto* r : {&audit, &events, &ledger}) {
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->problem, "unreadable");
  }
  EXPECT_NE(audit.message.find("cannot read the audit log " + path), std::string::npos) << audit.message;
  EXPECT_NE(events.message.find("cannot read the event log " + path), std::string::npos) << events.message;
  EXPECT_NE(ledger.message.find("cannot read the ledger " + path), std::string::npos) << ledger.message;
}

}  // namespace

// hubctl, as an administrator runs it.
namespace cli {

hub::testing::CommandResult hubctl(const std::string& args) {
  return hub::testing::run_command(std::string(HUBCTL_PATH) + " " + args);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

TEST(HubctlAudit, VerifyNamesTheTamperedRecordAndChecksSignaturesWithAKeyFromKeygen) {
  hub::testing::TempDir dir;
  const auto keygen = hubctl("keygen hub --dir " + dir.str());
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  for (const char* secret : {"hub.curve.key", "hub.sign.key"}) {
    EXPECT_EQ(fs::status(dir.file(secret)).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write)
        << secret;
    EXPECT_EQ(keygen.output.find(read_file(dir.file(secret))), std::string::npos) << "a secret key was printed";
  }
  EXPECT_EQ(read_file(dir.file("hub.curve.pub")).size(), 40u);  // Z85
  EXPECT_NE(hubctl("keygen hub --dir " + dir.str()).exit_code, 0) << "an existing key must not be overwritten";

  // The hub signs with hub.sign.key (64 bytes, hex); hubctl checks with hub.sign.pub.
  hub::audit::SigningKey key;
  const auto secret = hub::audit::from_hex(read_file(dir.file("hub.sign.key")), 64);
  const auto pub = hub::audit::from_hex(read_file(dir.file("hub.sign.pub")), 32);
  ASSERT_TRUE(secret && pub);
  std::copy(secret->begin(), secret->end(), key.secret_key.begin());
  std::copy(pub->begin(), pub->end(), key.public_key.begin());
  const std::string path = dir.file("audit.db");
  make_chain(path, key);

  auto ok = hubctl("audit verify --file " + path + " --public-key " + dir.file("hub.sign.pub"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find(std::to_string(kRecords) + " checked"), std::string::npos) << ok.output;

  sql(path, "UPDATE audit SET actor = 'someone else' WHERE seq = 23");
  auto bad = hubctl("--json audit verify --file " + path);
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  const auto reply = nlohmann::json::parse(bad.output);
  EXPECT_EQ(reply["first_bad_seq"], 23);
  EXPECT_EQ(reply["problem"], "modified");
  EXPECT_EQ(hubctl("audit verify --file " + dir.file("missing.db")).exit_code, 1);
  EXPECT_EQ(hubctl("audit verify --file " + path + " --public-key " + dir.file("hub.curve.pub")).exit_code, 2)
      << "a CURVE key is not a signing key";
}

// A data directory as hubd leaves it: the three chains are walked, and a tampered event or
// delivery is named with its file. (Each chain's random tamper trials are in
// eventlog/event_chain_test.cpp and delivery/ledger_chain_test.cpp.)
TEST(HubctlAudit, VerifyWalksTheThreeChainsOfTheDataDirectory) {
  hub::testing::TempDir dir;
  const std::string data = dir.file("var");
  fs::create_directories(data);
  {
    hub::EventLog events(std::make_unique<hub::store::SqliteEventStore>(data + "/events.db"));
    std::vector<hub::WireEvent> regs;
    for (int n = 1; n <= 5; ++n) {
      auto parsed = hub::parse_event(nlohmann::json{{"type", "household"}, {"event_id", "reg-" + std::to_string(n)},
                                                    {"household_id", "V01-1000" + std::to_string(n)}, {"village", "V01"}});
      regs.push_back(parsed.value());
    }
    ASSERT_TRUE(events.stage(regs, false, "fp-office").ok());
    events.commit_group(1'600'000'000'000);
    hub::store::SqliteLedger ledger(data + "/ledger.db");
    std::vector<hub::delivery::LedgerBatch> batches(1);
    batches[0].department = "land";
    batches[0].plugin_version = "1.0.0";
    batches[0].new_cursor = 5;
    for (std::uint64_t seq = 1; seq <= 5; ++seq) {
      hub::runtime::DeliveredEvent d;
      d.seq = seq;
      d.household_id = "V01-1000" + std::to_string(seq);
      d.event_id = "reg-" + std::to_string(seq);
      batches[0].delivered.push_back(d);
    }
    ledger.commit(batches, 1'600'000'000'100);
  }

  // No audit.db: hubd creates it at its start, so a data directory without it lost it.
  auto no_audit = hubctl("--data-dir " + data + " audit verify");
  EXPECT_EQ(no_audit.exit_code, 1) << no_audit.output;
  EXPECT_NE(no_audit.output.find("missing: " + data + "/audit.db"), std::string::npos) << no_audit.output;
  EXPECT_NE(no_audit.output.find("event chain intact: 5 records"), std::string::npos) << no_audit.output;
  EXPECT_NE(no_audit.output.find("ledger chain intact: 5 records"), std::string::npos) << no_audit.output;

  make_chain(data + "/audit.db");
  auto json_ok = hubctl("--json --data-dir " + data + " audit verify");
  ASSERT_EQ(json_ok.exit_code, 0) << json_ok.output;
  auto reply = nlohmann::json::parse(json_ok.output);
  EXPECT_TRUE(reply["ok"].get<bool>());
  ASSERT_EQ(reply["chains"].size(), 3u);
  EXPECT_EQ(reply["chains"][0]["chain"], "audit");
  EXPECT_EQ(reply["chains"][0]["records"], kRecords);
  EXPECT_EQ(reply["chains"][1]["chain"], "events");
  EXPECT_EQ(reply["chains"][1]["file"], data + "/events.db");
  EXPECT_EQ(reply["chains"][1]["records"], 5);
  EXPECT_EQ(reply["chains"][2]["chain"], "ledger");
  EXPECT_EQ(reply["chains"][2]["records"], 5);

  sql(data + "/events.db", "UPDATE event SET village = 'V02' WHERE seq = 3");
  sql(data + "/ledger.db", "UPDATE delivery SET plugin_version = '6.6.6' WHERE department = 'land' AND seq = 4");
  auto bad = hubctl("--json --data-dir " + data + " audit verify");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  reply = nlohmann::json::parse(bad.output);
  EXPECT_FALSE(reply["ok"].get<bool>());
  EXPECT_TRUE(reply["chains"][0]["ok"].get<bool>());
  EXPECT_EQ(reply["chains"][1]["first_bad_seq"], 3);
  EXPECT_EQ(reply["chains"][1]["first_bad_subject"], "reg-3");
  EXPECT_EQ(reply["chains"][1]["problem"], "modified");
  EXPECT_EQ(reply["chains"][2]["first_bad_seq"], 4);
  EXPECT_EQ(reply["chains"][2]["first_bad_subject"], "land:4");
  auto text = hubctl("--data-dir " + data + " audit verify");
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.output.find("events.db: "), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("record 3 (reg-3) was modified"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("record 4 (land:4) was modified"), std::string::npos) << text.output;

  // --file still verifies only that audit.db.
  EXPECT_EQ(hubctl("audit verify --file " + data + "/audit.db").exit_code, 0);
  // A missing event log is a failure.
  fs::remove(data + "/events.db");
  auto missing = hubctl("--data-dir " + data + " audit verify");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("missing"), std::string::npos) << missing.output;
}

}  // namespace cli
