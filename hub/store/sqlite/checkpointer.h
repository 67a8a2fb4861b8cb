// Background WAL checkpoints for the hub's own SQLite files (events.db, ledger.db).
//
// SQLite's automatic checkpoint runs inside whichever COMMIT pushes the WAL past 1,000 pages:
// that commit then also copies pages into the database file and fsyncs it, which is what made
// an ingest acknowledgment or a ledger commit occasionally several milliseconds slower than
// the rest. The writers turn the automatic checkpoint off (disable_auto_checkpoint) and this
// thread, with its own connections, runs PASSIVE checkpoints instead: they never block a
// writer or a reader, and when one has copied the whole WAL the next writer starts the WAL
// from the beginning again. journal_size_limit keeps the file from staying large afterwards.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/storage.h"

namespace hub::store {

class Database;

// For a writer connection: no checkpoints inside its commits; the WAL file is cut back to
// 64 MiB whenever it restarts.
void disable_auto_checkpoint(Database& db);

class Checkpointer : public Upkeep {
 public:
  // Starts the thread; `paths` are opened lazily (a file may not exist yet).
  Checkpointer(std::vector<std::string> paths, std::chrono::milliseconds interval);
  ~Checkpointer() override;  // stops the thread after one last checkpoint of every file
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  void run();

  std::vector<std::string> paths_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hub::store
