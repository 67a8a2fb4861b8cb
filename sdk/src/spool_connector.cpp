// The spool connector: one JSONL file per event in the department's drop folder.
//
// A department system must only ever see complete files, and a redelivered event must not
// become a second file. So: the lines are written to ".<name>.tmp" in the same folder (the
// department ignores dot files), fsync'd, renamed to "<name>" (atomic within a file system),
// and — in sync(), once for a run of files — the folder is fsync'd so the renames survive a
// power cut before the hub records the deliveries. <name> comes from the idempotency key: if it is already there, the event was
// handed over before and nothing is written again.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "connector_internal.h"

namespace hub::sdk::detail {
namespace {

namespace fs = std::filesystem;

std::string errno_text(const std::string& what, const fs::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

// Writes all of `data` and fsyncs; on failure returns why.
std::optional<std::string> write_synced(const fs::path& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text("cannot create", path);
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string error = errno_text("cannot write", path);
      ::close(fd);
      return error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string error = errno_text("cannot fsync", path);
    ::close(fd);
    return error;
  }
  if (::close(fd) != 0) return errno_text("cannot close", path);
  return std::nullopt;
}

std::optional<std::string> sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_text("cannot open", dir);
  const bool ok = ::fsync(fd) == 0;
  const std::string error = ok ? std::string() : errno_text("cannot fsync", dir);
  ::close(fd);
  return ok ? std::nullopt : std::optional<std::string>(error);
}

class SpoolConnector final : public Connector {
 public:
  explicit SpoolConnector(fs::path dir) : dir_(std::move(dir)) {}

  ConnectorConfig::Type type() const noexcept override { return ConnectorConfig::Type::kSpool; }

  HandoffResult deliver(const Event& event, const std::vector<PolicyAction>& actions) noexcept override {
    try {
      return write(event, actions);
    } catch (const std::exception& e) {
      return {false, std::string("spool ") + dir_.string() + ": " + e.what()};
    }
  }

  HandoffResult sync() noexcept override {
    if (!unsynced_) return {true, {}};
    if (auto error = sync_directory(dir_)) return {false, "spool: " + *error};
    unsynced_ = false;
    return {true, {}};
  }

 private:
  HandoffResult write(const Event& event, const std::vector<PolicyAction>& actions) {
    if (actions.empty()) return {true, "no actions to hand over"};
    const std::string name = spool_file_name(event);
    const fs::path target = dir_ / name;
    std::error_code ec;
    if (fs::exists(target, ec)) return {true, name + " (already in the drop folder)"};
    const fs::path temporary = dir_ / ("." + name + ".tmp");
    if (auto error = write_synced(temporary, actions_jsonl(event, actions))) return {false, "spool: " + *error};
    if (::rename(temporary.c_str(), target.c_str()) != 0) {
      const std::string error = errno_text("cannot rename into", target);
      fs::remove(temporary, ec);
      return {false, "spool: " + error};
    }
    unsynced_ = true;
    return {true, name};
  }

  fs::path dir_;
  bool unsynced_ = false;  // files renamed into place since the last folder fsync
};

// Temporary files left by a crash in the middle of a write: never renamed, so never seen by
// the department; the event is delivered again and written anew.
void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 10 && name.front() == '.' && name.ends_with(".jsonl.tmp")) fs::remove(entry.path(), ec);
  }
}

}  // namespace

std::unique_ptr<Connector> make_spool_connector(const SpoolOptions& options, std::string* error) {
  if (options.dir.empty()) {
    if (error) *error = "spool: the drop folder (dir) is not set";
    return nullptr;
  }
  const fs::path dir(options.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) {
    if (error) *error = "spool: cannot create the drop folder " + dir.string() + (ec ? ": " + ec.message() : "");
    return nullptr;
  }
  remove_stale_temporaries(dir);
  return std::make_unique<SpoolConnector>(dir);
}

}  // namespace hub::sdk::detail
