#include "store/sqlite/checkpointer.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include <spdlog/spdlog.h>

#include "store/sqlite/database.h"

namespace hub::store {

void disable_auto_checkpoint(Database& db) {
  db.exec("PRAGMA wal_autocheckpoint=0");
  db.exec("PRAGMA journal_size_limit=67108864");
}

Checkpointer::Checkpointer(std::vector<std::string> paths, std::chrono::milliseconds interval, int restart_frames)
    : paths_(std::move(paths)), interval_(interval), restart_frames_(restart_frames), thread_([this] { run(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Checkpointer::run() {
  std::vector<std::unique_ptr<Database>> connections(paths_.size());
  auto checkpoint_all = [&] {
    for (std::size_t i = 0; i < paths_.size(); ++i) {
      try {
        if (!connections[i]) {
          if (!std::filesystem::exists(paths_[i])) continue;
          connections[i] = std::make_unique<Database>(paths_[i], Database::Mode::kReadWrite);
          // PASSIVE never waits; this bounds how long RESTART holds the writers back.
          sqlite3_busy_timeout(connections[i]->handle(), static_cast<int>(kRestartWait.count()));
        }
        int wal_frames = 0, copied = 0;
        const auto checkpoint = [&](int mode = SQLITE_CHECKPOINT_PASSIVE) {
          return sqlite3_wal_checkpoint_v2(connections[i]->handle(), nullptr, mode, &wal_frames, &copied);
        };
        int rc = checkpoint();
        if (rc == SQLITE_OK && wal_frames < 0) {
          // -1: this connection has not read the database since it was opened, so it does not
          // know the file is in WAL mode and the checkpoint did nothing. One read opens the WAL
          // (and sees a change of journal mode by another connection); then checkpoint.
          connections[i]->exec("SELECT 1 FROM sqlite_schema LIMIT 1");
          rc = checkpoint();
        }
        // A steady stream of commits: start the WAL from the beginning (checkpointer.h).
        if (rc == SQLITE_OK && wal_frames > restart_frames_) rc = checkpoint(SQLITE_CHECKPOINT_RESTART);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
          spdlog::warn("checkpoint of {} failed: {}", paths_[i], sqlite3_errstr(rc));
        }
      } catch (const std::exception& e) {
        spdlog::warn("checkpoint of {}: {}", paths_[i], e.what());
        connections[i].reset();  // try again with a fresh connection next time
      }
    }
  };
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    lock.unlock();
    checkpoint_all();
    lock.lock();
  }
}

}  // namespace hub::store
