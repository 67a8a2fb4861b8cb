#include "store/sqlite/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "audit/audit_log.h"
#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"

namespace hub::store {
namespace {

// A backup's failure: its stable code, a message a clerk can act on, and the file.
StorageError backup_error(std::string code, const std::string& message, std::string file = "") {
  return StorageError(Status::error(std::move(code), message, std::move(file)));
}


namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "chengxin-hub-backup";
constexpr int kFormatVersion = 1;

// The three chained files, in the data folder and in a backup's data/ folder.
struct ChainFile {
  const char* name;
  const char* file;
};
constexpr ChainFile kChains[] = {{"events", "events.db"}, {"ledger", "ledger.db"}, {"audit", "audit.db"}};

void fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw backup_error("io_error", "无法打开 / cannot open " + path.string() + " to sync it", path.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw backup_error("io_error", "无法同步 / cannot fsync " + path.string(), path.string());
}

bool is_empty_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

bool is_sqlite_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char header[16] = {};
  in.read(header, sizeof header);
  return in.gcount() == 16 && std::string(header, 16) == std::string("SQLite format 3\0", 16);
}

// SQLite's side files, which a copy made with the backup API does not need.
bool is_sqlite_side_file(const fs::path& path) {
  const std::string name = path.filename().string();
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    if (name.size() > std::strlen(suffix) && name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
      return true;
  return false;
}

void copy_plain_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw backup_error("io_error", "无法复制 / cannot copy " + from.string() + ": " + ec.message(), from.string());
  // The keys' secret files are 0600: the copy keeps the mode.
  fs::permissions(to, fs::status(from).permissions(), ec);
  fsync_path(to, false);
}

std::int64_t query_int(Database& db, const char* sql) {
  Statement q(db, sql);
  return q.step() ? q.column_int(0) : 0;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

audit::VerifyResult verify_chain_file(const std::string& chain, const std::string& path,
                                      const std::optional<std::array<unsigned char, 32>>& public_key = std::nullopt) {
  if (chain == "events") return verify_event_chain(path);
  if (chain == "ledger") return verify_ledger_chain(path);
  return verify_audit_log(path, public_key);
}

// Writes into a backup folder, in the order the caller asks, and builds the manifest's list.
class BackupWriter {
 public:
  BackupWriter(fs::path dir, const BackupProgress& progress, const std::atomic<bool>& cancel)
      : dir_(std::move(dir)), progress_(progress), cancel_(cancel) {
    if (const char* delay = std::getenv("HUB_TEST_BACKUP_DELAY_MS")) {
      delay_ms_ = std::atoi(delay);
      spdlog::warn("TEST HOOK: the backup sleeps {} ms after each file (HUB_TEST_BACKUP_DELAY_MS)", delay_ms_);
    }
  }

  // A SQLite file, copied in one read snapshot on a connection of its own.
  json sqlite_file(const fs::path& from, const std::string& rel, const std::string& kind) {
    const fs::path to = target(rel);
    const fs::path partial = to.string() + ".partial";
    try {
      Database source(from.string(), Database::Mode::kReadOnly);
      copy_database(source, partial.string());
    } catch (const SqliteError& e) {
      throw backup_error("copy_failed", "无法复制数据库 / cannot copy the database " + from.string() + ": " + e.what(),
                        from.string());
    }
    fs::rename(partial, to);
    json entry = describe(to, rel, kind);
    Database copy(to.string(), Database::Mode::kReadOnly);
    entry["schema_version"] = user_version(copy);
    done(entry);
    return entry;
  }

  json plain_file(const fs::path& from, const std::string& rel, const std::string& kind) {
    // The signing key may sit in the keys folder, copied already.
    std::error_code ec;
    if (!copied_.insert(fs::weakly_canonical(from, ec).string()).second) return json();
    const fs::path to = target(rel);
    copy_plain_file(from, to);
    json entry = describe(to, rel, kind);
    done(entry);
    return entry;
  }

  json text_file(const std::string& text, const std::string& rel, const std::string& kind) {
    const fs::path to = target(rel);
    {
      std::ofstream out(to, std::ios::binary);
      out << text;
      if (!out) throw backup_error("io_error", "无法写入 / cannot write " + to.string(), to.string());
    }
    fsync_path(to, false);
    json entry = describe(to, rel, kind);
    done(entry);
    return entry;
  }

  void sync_dirs() {
    for (const auto& d : dirs_) fsync_path(d, true);
    fsync_path(dir_, true);
  }

  json& files() { return files_; }

 private:
  fs::path target(const std::string& rel) {
    if (cancel_.load()) throw backup_error("backup_cancelled", "hubd 正在停止，备份未完成 / hubd is stopping: the backup is incomplete");
    const fs::path to = dir_ / rel;
    fs::create_directories(to.parent_path());
    for (fs::path p = to.parent_path(); p != dir_ && p.has_relative_path(); p = p.parent_path()) dirs_.insert(p);
    return to;
  }

  json describe(const fs::path& path, const std::string& rel, const std::string& kind) {
    return json{{"path", rel}, {"kind", kind}, {"size", fs::file_size(path)}, {"sha256", file_sha256(path.string())}};
  }

  void done(const json& entry) {
    files_.push_back(entry);
    if (progress_)
      progress_(entry["path"].get<std::string>() + "  " + std::to_string(entry["size"].get<std::uint64_t>()) +
                " bytes  sha256 " + entry["sha256"].get<std::string>().substr(0, 16) + "…");
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
  }

  fs::path dir_;
  const BackupProgress& progress_;
  const std::atomic<bool>& cancel_;
  int delay_ms_ = 0;
  json files_ = json::array();
  std::set<fs::path> dirs_;
  std::set<std::string> copied_;  // plain files copied, by canonical source path
};

// The manifest, as read and checked for shape.
json read_manifest(const fs::path& dir) {
  const fs::path path = dir / kManifestName;
  if (!fs::exists(dir))
    throw backup_error("backup_not_found", "找不到备份 / no backup at " + dir.string(), dir.string());
  if (!fs::exists(path))
    throw backup_error("manifest_missing",
                      "没有 MANIFEST.json：备份不完整（备份时 hubd 已停止或出错）或不是备份 / no " +
                          std::string(kManifestName) + " in " + dir.string() +
                          ": the backup is incomplete (hubd stopped or failed during it) or this is not a backup",
                      path.string());
  std::ifstream in(path);
  json manifest = json::parse(in, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object() || manifest.value("format", "") != kFormat ||
      !manifest.contains("files") || !manifest["files"].is_array() || !manifest.contains("chains"))
    throw backup_error("manifest_invalid", "MANIFEST.json 格式不对 / " + path.string() + " is not a hub backup manifest",
                      path.string());
  if (manifest.value("format_version", 0) > kFormatVersion)
    throw backup_error("manifest_invalid",
                      path.string() + ": backup format version " + std::to_string(manifest.value("format_version", 0)) +
                          " is newer than this hubctl understands (" + std::to_string(kFormatVersion) + ")",
                      path.string());
  for (const auto& f : manifest["files"]) {
    const std::string rel = f.value("path", "");
    // Only plain relative paths below the backup folder.
    if (rel.empty() || fs::path(rel).is_absolute() || rel.find("..") != std::string::npos ||
        !f.contains("sha256") || !f.contains("size"))
      throw backup_error("manifest_invalid", path.string() + ": bad file entry " + f.dump(), path.string());
  }
  return manifest;
}

// Where a backup's file goes in the restored data folder: data/X → X, keys/X → keys/X,
// config/hub.json → config/hub.json.
fs::path restored_path(const fs::path& data_dir, const std::string& rel) {
  if (rel.rfind("data/", 0) == 0) return data_dir / rel.substr(5);
  return data_dir / rel;
}

}  // namespace

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw backup_error("file_missing", "找不到文件 / cannot read " + path, path);
  return audit::sha256_hex(in);
}

void copy_database(Database& source, const std::string& to) {
  std::error_code ec;
  fs::remove(to, ec);  // a leftover of an earlier attempt
  {
    Database dest(to, Database::Mode::kReadWrite);
    sqlite3_backup* backup = sqlite3_backup_init(dest.handle(), "main", source.handle(), "main");
    if (backup == nullptr)
      throw SqliteError(sqlite3_extended_errcode(dest.handle()),
                        "backup of " + source.path() + " to " + to + ": " + sqlite3_errmsg(dest.handle()));
    // -1: every page in one step, i.e. in one read transaction on the source: one snapshot,
    // whatever hubd's writers commit meanwhile (WAL readers do not block writers). A step
    // that finds the source locked (SQLITE_BUSY/LOCKED, e.g. a writer switching journal mode)
    // is tried again.
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 50; ++attempt) {
      rc = sqlite3_backup_step(backup, -1);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE)
      throw SqliteError(rc, "backup of " + source.path() + " to " + to + ": " + sqlite3_errstr(rc));
    // A standalone rollback-journal file: it can be read (verified, hashed) without a -wal or
    // -shm beside it, and hubd switches it back to WAL when it opens it.
    dest.exec("PRAGMA journal_mode=DELETE");
  }
  fsync_path(to, false);
}

void keep_before_upgrade(Database& db, std::int64_t version) {
  const std::string to = db.path() + ".before-v" + std::to_string(version);
  std::error_code ec;
  if (fs::exists(to, ec)) {
    spdlog::warn("{}: upgrading to schema version {}; the copy from before the first attempt stays in {}", db.path(),
                 version, to);
    return;
  }
  const std::string partial = to + ".partial";
  try {
    copy_database(db, partial);
  } catch (const StorageError& e) {
    throw SqliteError(SQLITE_IOERR, std::string("cannot keep a copy before the upgrade: ") + e.what());
  }
  fs::rename(partial, to);
  fsync_path(fs::path(to).parent_path(), true);
  spdlog::info("{}: upgrading to schema version {}; the file as it was is kept in {}", db.path(), version, to);
}

json make_backup(const BackupSources& sources, const std::string& dir_text, const BackupProgress& progress,
                 const std::atomic<bool>& cancel) {
  const fs::path dir(dir_text);
  if (dir_text.empty() || !dir.is_absolute())
    throw backup_error("backup_dir_invalid", "备份目录须为绝对路径 / the backup folder must be an absolute path: " + dir_text,
                      dir_text);
  std::error_code ec;
  if (fs::exists(dir, ec) && !is_empty_dir(dir))
    throw backup_error("backup_dir_not_empty",
                      "备份目录不是空的，未写入任何内容 / the backup folder " + dir_text +
                          " exists and is not empty; nothing was written (choose a new folder)",
                      dir_text);
  fs::create_directories(dir, ec);
  if (ec) throw backup_error("io_error", "无法创建 / cannot create " + dir_text + ": " + ec.message(), dir_text);
  fs::permissions(dir, fs::perms::owner_all, ec);  // it holds the keys

  const std::string started_at = now_utc();
  const fs::path data(sources.data_dir);
  BackupWriter writer(dir, progress, cancel);

  // 1. The ledger first: its cursors and deliveries then refer only to events that the later
  // copy of the event log has (the event log only grows).
  writer.sqlite_file(data / "ledger.db", "data/ledger.db", "ledger");
  // 2. The plugins' own stores (DATA_DIR/plugins/<id>/): after the ledger, so each holds at
  // least what the copied ledger says was delivered to it; what it holds beyond is delivered
  // again after a restore, at least once, as after a crash. SQLite files in one snapshot
  // each; other files (rosters) as they are.
  const fs::path plugins = data / "plugins";
  if (fs::is_directory(plugins, ec)) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::recursive_directory_iterator(plugins, ec))
      if (entry.is_regular_file() && !is_sqlite_side_file(entry.path())) found.push_back(entry.path());
    std::sort(found.begin(), found.end());
    for (const auto& path : found) {
      const std::string rel = "data/" + fs::relative(path, data).generic_string();
      if (is_sqlite_file(path)) writer.sqlite_file(path, rel, "plugin_store");
      else writer.plain_file(path, rel, "plugin_file");
    }
  }
  // 3. The event log, after the ledger.
  writer.sqlite_file(data / "events.db", "data/events.db", "events");
  // 4. The audit log (its own chain; it has the record of this backup's start).
  writer.sqlite_file(data / "audit.db", "data/audit.db", "audit");
  // 4b. The complaints register (no chain; audit.db has the record of every change to it).
  if (fs::exists(data / "complaints.db", ec)) writer.sqlite_file(data / "complaints.db", "data/complaints.db", "complaints");
  // 5. The keys: inside the data folder where they are by default, else in keys/.
  if (!sources.keys_dir.empty() && fs::is_directory(sources.keys_dir, ec)) {
    const fs::path keys = fs::path(sources.keys_dir).lexically_normal();
    const fs::path inside = keys.lexically_relative(data.lexically_normal());
    const bool in_data = !inside.empty() && *inside.begin() != "..";
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(keys, ec))
      if (entry.is_regular_file()) found.push_back(entry.path());
    std::sort(found.begin(), found.end());
    for (const auto& path : found)
      writer.plain_file(path, (in_data ? "data/" + inside.generic_string() + "/" : std::string("keys/")) +
                                  path.filename().string(), "key");
  }
  // The audit log's signing key, wherever the configuration keeps it.
  if (!sources.signing_key.empty() && fs::is_regular_file(sources.signing_key, ec))
    writer.plain_file(sources.signing_key, "keys/" + fs::path(sources.signing_key).filename().string(), "signing_key");
  // 6. The configuration in use (the embedded one when hubd was started without --config).
  writer.text_file(sources.config_text, "config/hub.json", sources.config_file.empty() ? "config_embedded" : "config");

  // The chains of the copies: their heads go into the manifest, and a copy whose chain does
  // not verify is not a backup.
  json chains = json::object();
  for (const ChainFile& c : kChains) {
    const std::string path = (dir / "data" / c.file).string();
    const auto result = verify_chain_file(c.name, path);
    if (!result.ok)
      throw backup_error("chain_broken", std::string("复制的链校验失败 / the copy's chain does not verify: ") + c.file +
                                            ": " + result.message, c.file);
    chains[c.name] = {{"file", std::string("data/") + c.file}, {"records", result.records}, {"head", result.head_hash_hex}};
  }
  std::int64_t last_seq = 0;
  json cursors = json::object();
  {
    Database events((dir / "data/events.db").string(), Database::Mode::kReadOnly);
    last_seq = query_int(events, "SELECT COALESCE(MAX(seq), 0) FROM event");
    Database ledger((dir / "data/ledger.db").string(), Database::Mode::kReadOnly);
    Statement q(ledger, "SELECT department, seq FROM cursor ORDER BY department");
    while (q.step()) cursors[q.column_text(0)] = q.column_int(1);
  }
  writer.sync_dirs();

  json manifest{{"format", kFormat},
                {"format_version", kFormatVersion},
                {"hub_version", sources.hub_version},
                {"started_at", started_at},
                {"completed_at", now_utc()},
                {"source_data_dir", sources.data_dir},
                {"config_source", sources.config_file.empty() ? "embedded" : sources.config_file},
                {"last_seq", last_seq},
                {"cursors", cursors},
                {"chains", chains},
                {"files", writer.files()}};
  // Last, and atomically: a folder without it is an incomplete backup.
  const fs::path tmp = dir / (std::string(kManifestName) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary);
    out << manifest.dump(2) << "\n";
    if (!out) throw backup_error("io_error", "无法写入 / cannot write " + tmp.string(), tmp.string());
  }
  fsync_path(tmp, false);
  fs::rename(tmp, dir / kManifestName);
  fsync_path(dir, true);
  if (progress) progress(std::string(kManifestName));
  return manifest;
}

json check_backup(const std::string& dir_text, const std::optional<std::array<unsigned char, 32>>& audit_public_key) {
  const fs::path dir(dir_text);
  json manifest = read_manifest(dir);
  std::set<std::string> listed{kManifestName};
  for (const auto& f : manifest["files"]) {
    const std::string rel = f["path"];
    listed.insert(rel);
    const fs::path path = dir / rel;
    if (!fs::is_regular_file(path))
      throw backup_error("file_missing", "备份缺少文件 / the backup lacks " + rel + " (listed in its manifest)", rel);
    if (fs::file_size(path) != f["size"].get<std::uint64_t>() || file_sha256(path.string()) != f["sha256"])
      throw backup_error("file_mismatch",
                        "文件与清单不符（已被改动或损坏）/ " + rel +
                            " does not match its size and SHA-256 in the manifest (changed or damaged)",
                        rel);
  }
  // Anything else in the folder (a leftover .partial, a file added) means it is not the
  // backup the manifest describes.
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), dir).generic_string();
    if (!listed.count(rel))
      throw backup_error("file_unlisted", "备份中有清单未列出的文件 / " + rel + " is in the backup but not in its manifest",
                        rel);
  }
  for (const ChainFile& c : kChains) {
    const std::string rel = std::string("data/") + c.file;
    if (!listed.count(rel))
      throw backup_error("file_missing", "备份缺少文件 / the backup lacks " + rel, rel);
    const auto result = verify_chain_file(c.name, (dir / rel).string(), audit_public_key);
    if (!result.ok) throw backup_error("chain_broken", rel + ": " + result.message, rel);
    const json& expected = manifest["chains"].value(c.name, json::object());
    if (expected.value("head", "") != result.head_hash_hex || expected.value("records", -1) != result.records)
      throw backup_error("chain_mismatch",
                        "链头与清单不符 / " + rel + ": chain head " + result.head_hash_hex + " (" +
                            std::to_string(result.records) + " records) is not the manifest's",
                        rel);
  }
  return manifest;
}

json restore_backup(const std::string& from, const std::string& data_dir_text, const BackupProgress& progress,
                    const std::optional<std::array<unsigned char, 32>>& audit_public_key) {
  const fs::path data_dir = fs::absolute(data_dir_text).lexically_normal();
  std::error_code ec;
  if (fs::exists(data_dir, ec) && !is_empty_dir(data_dir))
    throw backup_error("data_dir_not_empty",
                      "目标目录不是空的，未写入任何内容 / " + data_dir.string() +
                          " exists and is not empty; nothing was written (restore into a new folder)",
                      data_dir.string());
  json manifest = check_backup(from, audit_public_key);
  // Into a sibling folder first, renamed into place at the end (rename(2) replaces an empty
  // folder): a failed restore leaves no half-written data folder.
  const fs::path staging = data_dir.parent_path() / ("." + data_dir.filename().string() + ".restoring-" +
                                                     std::to_string(::getpid()));
  fs::remove_all(staging, ec);
  try {
    fs::create_directories(staging);
    fs::permissions(staging, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
    std::set<fs::path> dirs{staging};
    for (const auto& f : manifest["files"]) {
      const std::string rel = f["path"];
      const fs::path to = restored_path(staging, rel);
      fs::create_directories(to.parent_path());
      for (fs::path p = to.parent_path(); p != staging; p = p.parent_path()) dirs.insert(p);
      copy_plain_file(fs::path(from) / rel, to);
      if (file_sha256(to.string()) != f["sha256"])
        throw backup_error("io_error", "复制后校验失败 / " + to.string() + " differs from the backup after copying", rel);
      if (progress)
        progress(rel + " → " + restored_path(data_dir, rel).string() + "  " +
                 std::to_string(f["size"].get<std::uint64_t>()) + " bytes");
    }
    for (const auto& d : dirs) fsync_path(d, true);
    fs::rename(staging, data_dir);
    fsync_path(data_dir.parent_path(), true);
  } catch (const StorageError&) {
    fs::remove_all(staging, ec);
    throw;
  } catch (const std::exception& e) {
    fs::remove_all(staging, ec);
    throw backup_error("io_error", std::string("恢复失败，未写入目标目录 / the restore failed, nothing was written to ") +
                                      data_dir.string() + ": " + e.what(), data_dir.string());
  }
  return manifest;
}

}  // namespace hub::store
