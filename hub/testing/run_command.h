// run_command: runs a shell command line to its end and returns its exit code and what it
// printed. Used by the unit tests that run the real executables (hubctl, hubd, the plugin host)
// to check their command lines, output and exit codes.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace hub::testing {

struct CommandResult {
  int exit_code;       // -1 when the command did not exit normally
  std::string output;  // stdout, and stderr too unless it was left out
};

// Runs `command` with /bin/sh. `with_stderr` false: stderr is dropped, so that a test can tell
// what went to stdout (help, --version) from what went to stderr (errors).
inline CommandResult run_command(const std::string& command, bool with_stderr = true) {
  CommandResult r{-1, ""};
  FILE* pipe = ::popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace hub::testing
