// TempDir: a fresh, uniquely named directory under the system temp directory, removed with
// everything in it when the TempDir is destroyed. Plugin tests use it as the plugin's data
// directory (rosters, the department's own databases).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace hub::sdk_testing {

class TempDir {
 public:
  // The directory is named "hub-<prefix>-<pid>-<n>"; throws std::runtime_error if it cannot
  // be created.
  explicit TempDir(std::string_view prefix = "plugin-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

  // Writes `content` to path()/relative_path, creating parent directories and replacing the
  // file. Throws std::runtime_error naming the file on failure.
  void write(const std::string& relative_path, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

// Writes a whole file (creating parent directories); throws std::runtime_error naming it.
void write_file(const std::filesystem::path& path, std::string_view content);

// Reads a whole file; throws std::runtime_error naming it.
std::string read_file(const std::filesystem::path& path);

}  // namespace hub::sdk_testing
