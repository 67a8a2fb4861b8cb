#include "cli/hubctl_backup.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "common/command_line.h"
#include "store/sqlite/backup.h"

namespace hub::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kOk = 0, kRejected = 1, kUnreachable = 3;

int failed(bool json_output, const std::string& what, const std::string& code, const std::string& message,
           const std::string& file = "") {
  if (json_output) {
    json error{{"code", code}, {"message", message}};
    if (!file.empty()) error["file"] = file;
    std::cout << json{{"ok", false}, {"error", error}}.dump() << "\n";
  } else {
    std::cerr << "hubctl: " << what << ": " << code << ": " << message << (file.empty() ? "" : " [" + file + "]")
              << "\n";
  }
  return kRejected;
}

void print_summary(const json& manifest) {
  std::cout << "  last seq 最后事件序号: " << manifest.value("last_seq", 0) << "\n";
  const json chains = manifest.value("chains", json::object());
  const json cursors = manifest.value("cursors", json::object());
  for (const auto& [name, chain] : chains.items())
    std::cout << "  chain 链 " << name << ": " << chain.value("records", 0) << " records, head "
              << chain.value("head", std::string("-")) << "\n";
  for (const auto& [department, seq] : cursors.items())
    std::cout << "  cursor 游标 " << department << ": " << seq << "\n";
}

}  // namespace

BackupVerbs add_backup_verbs(CLI::App& hubctl, VerbArgs& v, bool* json_output) {
  BackupVerbs verbs;
  verbs.backup = add_verb(hubctl, "backup",
                          "备份 / ask the running hubd for a consistent copy of its event log, ledger, audit log, "
                          "plugin stores, keys and configuration in DIR (new or empty, on the hub's machine), with "
                          "a manifest written last; hubd keeps taking and delivering events meanwhile (audited)",
                          json_output);
  add_text_options(*verbs.backup,
                   {{"--to", &v.backup_to, "DIR", "备份目录 / the folder to write (required; new or empty)"}});
  add_by_option(*verbs.backup, v);
  verbs.restore = add_verb(hubctl, "restore",
                           "恢复 / check a backup (manifest, SHA-256 of every file, the hash chains) and copy it "
                           "into a new data folder D that hubd starts from; offline, no hubd needed; refuses a "
                           "non-empty D and an incomplete or altered backup",
                           json_output);
  add_text_options(*verbs.restore,
                   {{"--from", &v.backup_from, "DIR", "备份目录 / the backup folder (required)"},
                    {"--data-dir", &v.restore_to, "D", "目标数据目录 / the new data folder (required; new or empty)"}});
  add_text_options(*verbs.restore,
                   {{"--public-key", &v.public_key, "FILE",
                     "the hub's signing public key (NAME.sign.pub): checks the audit log's signatures too"}});
  verbs.restore->add_flag("--check", v.check_only,
                          "只校验 / only check the backup (manifest, SHA-256, chains), write nothing; no --data-dir");
  return verbs;
}

int run_backup(const CLI::App& verb, const VerbArgs& v, bool json_output, HubClient& client) {
  if (v.backup_to.empty()) return command_line::usage_error(verb, "backup needs --to DIR");
  const std::string dir = fs::absolute(v.backup_to).lexically_normal().string();
  auto reply = client.request(json{{"cmd", "backup"}, {"action", "start"}, {"to", dir}, {"by", operator_name(v.by)}});
  if (!reply) {
    std::cerr << "hubctl: 无法连接枢纽 / the hub is unreachable at " << client.endpoint()
              << " (is hubd running? see --admin/--data-dir); no backup was started\n";
    return kUnreachable;
  }
  if (!reply->value("ok", false)) {
    const json& e = reply->value("error", json::object());
    return failed(json_output, "备份被拒绝 / backup refused", e.value("code", "error"), e.value("message", ""));
  }
  const std::int64_t id = reply->value("id", 0);
  if (!json_output) std::cout << "备份开始 / backup started: " << dir << "\n";
  std::size_t printed = 0;
  // A hub busy with something long (a large report on the same admin thread) may miss one
  // poll; three missed in a row mean it is gone.
  constexpr int kMissesAllowed = 3;
  int missed = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto status = client.request(json{{"cmd", "backup"}, {"action", "status"}});
    if (status && !status->value("ok", false) && (*status)["error"].value("code", "") == "rate_limited") continue;
    if (!status && ++missed < kMissesAllowed) {
      if (!json_output) std::cerr << "hubctl: 枢纽未应答，重试 / hubd did not answer, asking again\n";
      continue;
    }
    if (!status || !status->value("ok", false) || status->value("id", 0) != id) {
      // hubd died or restarted during the backup (another id: a new hubd): the manifest,
      // written last, is not there.
      return failed(json_output, "备份未完成 / backup incomplete", "backup_incomplete",
                    "hubd 在备份过程中停止应答，备份不完整，不能用于恢复 / hubd stopped answering during the "
                    "backup: " + dir + " has no complete backup (no MANIFEST.json) and restore refuses it; "
                    "delete it and run the backup again (if hubd is in fact still running, it may still "
                    "finish the copy: a backup is whole only with its MANIFEST.json, and restore checks that)",
                    dir);
    }
    missed = 0;
    const json& progress = (*status)["progress"];
    if (!json_output)
      for (; progress.is_array() && printed < progress.size(); ++printed)
        std::cout << "  " << progress[printed].get<std::string>() << "\n";
    const std::string state = status->value("state", "");
    if (state == "running") continue;
    if (state == "done") {
      const json& manifest = (*status)["manifest"];
      if (json_output) {
        std::cout << json{{"ok", true}, {"to", dir}, {"manifest", manifest}}.dump() << "\n";
      } else {
        std::cout << "备份完成 / backup complete: " << dir << " (" << manifest["files"].size() << " files)\n";
        print_summary(manifest);
      }
      return kOk;
    }
    const json& f = status->value("failure", json::object());
    return failed(json_output, "备份失败，备份不完整 / backup failed, incomplete", f.value("code", "backup_failed"),
                  f.value("message", ""), f.value("file", ""));
  }
}

int run_restore(const CLI::App& verb, const VerbArgs& v, bool json_output, const std::string& global_data_dir) {
  const std::string target = !v.restore_to.empty() ? v.restore_to : global_data_dir;
  if (v.backup_from.empty()) return command_line::usage_error(verb, "restore needs --from DIR");
  std::optional<std::array<unsigned char, 32>> public_key;
  if (!v.public_key.empty()) {
    std::ifstream in(v.public_key);
    std::string text;
    in >> text;
    const auto bytes = audit::from_hex(text, 32);
    if (!bytes)
      return command_line::usage_error(verb, "--public-key " + v.public_key +
                                                 " must hold an Ed25519 public key as 64 hex digits (NAME.sign.pub "
                                                 "from hubctl keygen)");
    public_key.emplace();
    std::copy(bytes->begin(), bytes->end(), public_key->begin());
  }
  if (v.check_only) {
    json manifest;
    try {
      manifest = store::check_backup(v.backup_from, public_key);
    } catch (const StorageError& e) {
      return failed(json_output, "备份校验失败 / the backup does not check", e.status().code, e.what(),
                    e.status().field);
    }
    if (json_output) {
      std::cout << json{{"ok", true}, {"from", v.backup_from}, {"manifest", manifest}}.dump() << "\n";
    } else {
      std::cout << "备份完好 / the backup checks: " << v.backup_from << " (" << manifest["files"].size()
                << " files, SHA-256 and chains verified; taken " << manifest.value("completed_at", std::string("?"))
                << ")\n";
      print_summary(manifest);
    }
    return kOk;
  }
  if (target.empty()) return command_line::usage_error(verb, "restore needs --data-dir D (a new or empty folder)");
  const std::string data_dir = fs::absolute(target).lexically_normal().string();
  json manifest;
  try {
    manifest = store::restore_backup(v.backup_from, data_dir, [&](const std::string& line) {
      if (!json_output) std::cout << "  " << line << "\n";
    }, public_key);
  } catch (const StorageError& e) {
    return failed(json_output, "恢复被拒绝 / restore refused", e.status().code, e.what(), e.status().field);
  }
  if (json_output) {
    std::cout << json{{"ok", true},
                      {"data_dir", data_dir},
                      {"from", v.backup_from},
                      {"last_seq", manifest.value("last_seq", 0)},
                      {"chains", manifest["chains"]},
                      {"cursors", manifest.value("cursors", json::object())},
                      {"files", manifest["files"].size()}}
                     .dump()
              << "\n";
    return kOk;
  }
  std::cout << "已恢复 / restored: " << manifest["files"].size() << " files from " << v.backup_from << " (taken "
            << manifest.value("completed_at", std::string("?")) << ", hub " << manifest.value("hub_version", std::string("?"))
            << ") into " << data_dir << "\n";
  print_summary(manifest);
  std::cout << "下一步 / next: hubd --config " << data_dir << "/config/hub.json --data-dir " << data_dir
            << "   (or your own configuration with --data-dir " << data_dir << ")\n";
  return kOk;
}

}  // namespace hub::cli
