#include "admin/backup_job.h"

#include <spdlog/spdlog.h>

#include "domain/status.h"
#include "domain/status_json.h"

namespace hub::admin {

using nlohmann::json;

BackupJob::~BackupJob() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

json BackupJob::start(const std::string& dir) {
  if (!runner_) return error_reply("not_supported", "this hub cannot make backups");
  {
    std::lock_guard lock(mutex_);
    if (state_["state"] == "running")
      return error_reply("backup_running", "已有备份在进行 / a backup is already running (to " +
                                               state_.value("to", std::string()) + "); wait for it to finish");
  }
  if (thread_.joinable()) thread_.join();  // the last one, finished
  std::int64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = state_.value("id", 0) + 1;
    state_ = json{{"state", "running"}, {"id", id}, {"to", dir}, {"progress", json::array()}};
  }
  spdlog::info("backup {}: started, to {}", id, dir);
  thread_ = std::thread([this, dir, id] {
    json outcome;
    try {
      json manifest = runner_(
          dir,
          [this](const std::string& line) {
            std::lock_guard lock(mutex_);
            state_["progress"].push_back(line);
          },
          cancel_);
      outcome = json{{"state", "done"}, {"manifest", std::move(manifest)}};
      spdlog::info("backup {}: complete, {}", id, dir);
    } catch (const StorageError& e) {
      const Status& s = e.status();
      outcome = json{{"state", "failed"}, {"failure", {{"code", s.code}, {"message", s.message}, {"file", s.field}}}};
      spdlog::error("backup {}: failed ({}): {}", id, s.code, s.message);
    } catch (const std::exception& e) {
      outcome = json{{"state", "failed"}, {"failure", {{"code", "backup_failed"}, {"message", e.what()}, {"file", ""}}}};
      spdlog::error("backup {}: failed: {}", id, e.what());
    }
    std::lock_guard lock(mutex_);
    state_.update(outcome);
  });
  return json{{"ok", true}, {"id", id}, {"to", dir}};
}

json BackupJob::status() {
  std::lock_guard lock(mutex_);
  json reply = state_;
  reply["ok"] = true;
  return reply;
}

}  // namespace hub::admin
