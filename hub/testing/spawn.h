// spawn_process: starts a program in a child process with its output appended to a log file.
// Used by the integration tests, the crash driver and the bench to run hubd and plugin hosts.
//
// The callers are multi-threaded (ZeroMQ I/O threads, test threads), so between fork() and
// exec() the child may only make async-signal-safe calls: another thread may have held the
// allocator's lock at the moment of the fork, and a malloc in the child (std::fopen, building
// argv in a std::vector) would then wait for it forever. Under ASan, whose allocator is busier,
// this hung a hubd restart in CI. Everything that allocates is therefore done before fork().
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace hub::testing {

// Starts argv[0] (a path, or a name looked up in PATH when `search_path`) in `dir` (the
// current directory when empty). Returns the child's pid; throws when it cannot be started.
inline pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path,
                           const std::string& dir = "", bool search_path = false) {
  if (argv.empty()) throw std::invalid_argument("spawn_process: empty command");
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));

  const pid_t pid = ::fork();
  if (pid == 0) {
    // Async-signal-safe calls only from here on.
    ::dup2(log, 1);  // dup2 clears O_CLOEXEC on the copies
    ::dup2(log, 2);
    if (!dir.empty() && ::chdir(dir.c_str()) != 0) ::_exit(127);
    if (search_path)
      ::execvp(args[0], args.data());
    else
      ::execv(args[0], args.data());
    static const char kFailed[] = "spawn_process: exec failed\n";
    [[maybe_unused]] const auto written = ::write(2, kFailed, sizeof kFailed - 1);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(log);
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(fork_errno));
  return pid;
}

}  // namespace hub::testing
