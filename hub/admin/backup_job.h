// The backup that an operator starts with `hubctl backup --to DIR` (docs/operations.md): the
// admin endpoint's {"cmd":"backup","action":"start","to":DIR} starts it and
// {"cmd":"backup","action":"status"} reports its progress and outcome; hubctl polls the second.
//
// The copy itself is the storage backend's (store/sqlite/backup.h); hubd hands it in as a
// Runner, so that admin, below the backend, names no file of it. It runs on a thread of its own
// so that the admin thread keeps answering (status, the dashboard) and neither ingest nor
// delivery waits for it. One backup at a time.
//
// Threads: start() and status() are called by the admin thread; the backup thread writes the
// progress and the outcome. mutex_ guards state_ (the only state the two share). The destructor
// asks a running backup to stop at its next file (hubd stopping) and joins it.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace hub::admin {

class BackupJob {
 public:
  // Makes the backup into `dir`, reporting lines through `progress`; returns the manifest or
  // throws (StorageError, domain/status.h, for an error with a code; any exception otherwise).
  using Runner = std::function<nlohmann::json(const std::string& dir,
                                              const std::function<void(const std::string&)>& progress,
                                              const std::atomic<bool>& cancel)>;

  explicit BackupJob(Runner runner) : runner_(std::move(runner)) {}
  ~BackupJob();
  BackupJob(const BackupJob&) = delete;
  BackupJob& operator=(const BackupJob&) = delete;

  bool supported() const { return static_cast<bool>(runner_); }
  // {"ok":true,"id":N} once started; backup_running while another one runs.
  nlohmann::json start(const std::string& dir);
  // {"ok":true,"state":"none"|"running"|"done"|"failed","id":N,"to":DIR,"progress":[…],
  //  "manifest":{…} (done) | "failure":{"code","message","file"} (failed)}
  nlohmann::json status();

 private:
  Runner runner_;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
  std::mutex mutex_;  // guards state_
  nlohmann::json state_ = nlohmann::json{{"state", "none"}, {"id", 0}};
};

}  // namespace hub::admin
