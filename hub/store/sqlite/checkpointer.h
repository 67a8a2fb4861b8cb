// Background WAL checkpoints for the hub's own SQLite files (events.db, ledger.db).
//
// SQLite's automatic checkpoint runs inside whichever COMMIT pushes the WAL past 1,000 pages:
// that commit then also copies pages into the database file and fsyncs it, which is what made
// an ingest acknowledgment or a ledger commit occasionally several milliseconds slower than
// the rest. The writers turn the automatic checkpoint off (disable_auto_checkpoint) and this
// thread, with its own connections, runs PASSIVE checkpoints instead: they never block a
// writer or a reader, and when one has copied the whole WAL the next writer starts the WAL
// from the beginning again. journal_size_limit keeps the file from staying large afterwards.
//
// Under a steady stream of commits that moment never comes: each PASSIVE checkpoint copies the
// frames that were there when it began, the writer has appended more by the time it ends, and
// the WAL grows for as long as the stream lasts (635 MB for ledger.db and 247 MB for events.db
// in the county bench at 100,000 households; every commit then extends the file and every read
// searches a longer WAL index). So once a WAL holds more than `restart_frames` frames, the
// thread runs a RESTART checkpoint: it takes the writer lock, copies what is left (little: a
// PASSIVE one just ran), and waits until no reader uses the WAL, so that the next writer starts
// it from the beginning. Writers wait for it (their busy timeout); it waits for readers at most
// kRestartWait and gives up (SQLITE_BUSY, tried again later) rather than hold writers behind a
// long report.
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
  // 16,384 frames: 64 MiB at SQLite's default page size, journal_size_limit's size.
  static constexpr int kDefaultRestartFrames = 16384;
  // How long a RESTART checkpoint waits for the writer lock and for readers to leave the WAL.
  static constexpr std::chrono::milliseconds kRestartWait{20};

  // Starts the thread; `paths` are opened lazily (a file may not exist yet).
  Checkpointer(std::vector<std::string> paths, std::chrono::milliseconds interval,
               int restart_frames = kDefaultRestartFrames);
  ~Checkpointer() override;  // stops the thread after one last checkpoint of every file
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  void run();

  std::vector<std::string> paths_;
  std::chrono::milliseconds interval_;
  int restart_frames_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hub::store
