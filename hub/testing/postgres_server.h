// PostgresServer: a real PostgreSQL server of the test's own (issue 16), started by the test in
// a temporary directory with the Debian packages' initdb and pg_ctl, stopped and removed when the
// object goes. Tests of the PostgreSQL backend share one per test binary (shared(), started on
// first use) and give each test its own database (fresh_database()), which keeps CI's time.
//
// Unprivileged: PostgreSQL refuses to run as root, and CI runs as root; then the server runs as
// `nobody` (setpriv), its directory owned by it. Connections go through the Unix socket in that
// directory (and TCP on a reserved loopback port, for tests that put a proxy in between), as the
// superuser `hubtest`, trusted: the directory is the test's own.
//
// Settings for tests: fsync off (the tests kill processes, never the machine, and the page cache
// survives a process), a small shared_buffers, and enough connections for several hubd.
// Durability::kFsync is for hub-bench: fsync and full_page_writes on, as a production server
// runs, so that its figures compare with SQLite's synchronous=FULL.
// HUB_TEST_PG_BINDIR overrides where initdb and pg_ctl are looked up (default: the newest
// /usr/lib/postgresql/*/bin).
#pragma once

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "testing/reserved_port.h"
#include "testing/run_command.h"
#include "testing/temp_dir.h"

namespace hub::testing {

class PostgresServer {
 public:
  enum class Durability { kTestsOnly, kFsync };

  // `settings`: more lines for postgresql.conf (e.g. "wal_level = logical\n").
  explicit PostgresServer(Durability durability = Durability::kTestsOnly, const std::string& settings = {})
      : bin_(find_bindir()) {
    namespace fs = std::filesystem;
    data_ = dir_.file("data");
    as_user_ = ::geteuid() == 0 ? "setpriv --reuid=nobody --regid=nogroup --clear-groups " : "";
    give_directory_to_server_user();
    run("initdb", bin_ + "/initdb -D " + data_ + " -U hubtest --auth=trust --encoding=UTF8 --locale=C.UTF-8 -N");
    std::ofstream(data_ + "/postgresql.conf", std::ios::app)
        << "\n# hub tests\nlisten_addresses = '127.0.0.1'\nport = " << port_.number()
        << "\nunix_socket_directories = '" << dir_.str() << "'\nsynchronous_commit = on\nmax_connections = 200\n"
        << "log_min_messages = warning\n"
        << (durability == Durability::kFsync ? "fsync = on\nfull_page_writes = on\nshared_buffers = 128MB\n"
                                             : "fsync = off\nfull_page_writes = off\nshared_buffers = 32MB\n")
        << settings;
    start();
  }

  // A streaming-replication standby of `primary` (which needs wal_level = replica or above):
  // a base backup taken with pg_basebackup, started in standby mode with its own port and
  // socket directory, connecting as `application_name` (the name synchronous_standby_names
  // lists for a synchronous standby).
  struct StandbyOf {
    const PostgresServer& primary;
    std::string application_name = "hub_standby";
  };
  explicit PostgresServer(const StandbyOf& standby) : bin_(standby.primary.bin_) {
    data_ = dir_.file("data");
    as_user_ = standby.primary.as_user_;
    give_directory_to_server_user();
    run("pg_basebackup", bin_ + "/pg_basebackup -D " + data_ + " -X stream -c fast -d \"" + standby.primary.dsn() +
                             "\"");
    std::ofstream(data_ + "/postgresql.conf", std::ios::app)
        << "\n# hub tests: the standby's own\nport = " << port_.number() << "\nunix_socket_directories = '"
        << dir_.str() << "'\nhot_standby = on\nprimary_conninfo = '" << standby.primary.dsn()
        << " application_name=" << standby.application_name
        << "'\n# promoted, it has no standby of its own to wait for\nsynchronous_standby_names = ''\n";
    std::ofstream(data_ + "/standby.signal");
    start();
  }

  ~PostgresServer() {
    try {
      stop();
    } catch (...) {
    }
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // One server per test binary, started on first use and stopped at exit.
  static PostgresServer& shared() {
    static PostgresServer server;
    return server;
  }

  int port() const { return port_.number(); }
  // A connection string for `database` through the Unix socket.
  std::string dsn(const std::string& database = "postgres") const {
    return "host=" + dir_.str() + " port=" + std::to_string(port_.number()) + " user=hubtest dbname=" + database;
  }
  // Over TCP to `port` (the server's own, or a proxy's in front of it).
  std::string tcp_dsn(const std::string& database, int port) const {
    return "host=127.0.0.1 port=" + std::to_string(port) + " user=hubtest dbname=" + database;
  }

  // A new, empty database for one test; returns its name.
  std::string fresh_database(const std::string& prefix = "hub_test") {
    static std::atomic<int> counter{0};
    const std::string name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    psql("CREATE DATABASE " + name);
    return name;
  }

  // Runs SQL through psql against `database`; throws with psql's output when it fails.
  std::string psql(const std::string& sql, const std::string& database = "postgres") const {
    const CommandResult r = run_command(bin_ + "/psql -X -q -A -t -v ON_ERROR_STOP=1 \"" + dsn(database) + "\" -c " +
                                        shell_quote(sql));
    if (r.exit_code != 0) throw std::runtime_error("psql failed (" + sql + "): " + r.output);
    return r.output;
  }

  // Runs the SQL file at `path` through psql against `database`, with psql variables
  // (`-v name=value`), as a user runs a script; throws with psql's output when it fails.
  std::string psql_file(const std::string& path, const std::string& database,
                        const std::vector<std::pair<std::string, std::string>>& variables = {}) const {
    std::string command = bin_ + "/psql -X -q -A -t -v ON_ERROR_STOP=1";
    for (const auto& [name, value] : variables) command += " -v " + shell_quote(name + "=" + value);
    const CommandResult r = run_command(command + " -f " + shell_quote(path) + " \"" + dsn(database) + "\"");
    if (r.exit_code != 0) throw std::runtime_error("psql -f " + path + " failed: " + r.output);
    return r.output;
  }

  // The server's programs (psql, pg_dump, …), for tests that run them as a user would.
  const std::string& bindir() const { return bin_; }
  // The directory of its Unix socket (a DSN's host) and its data directory.
  std::string socket_dir() const { return dir_.str(); }
  const std::string& data_dir() const { return data_; }

  // A standby becomes a primary (pg_ctl promote, waiting until it accepts writes).
  void promote() { run("pg_ctl promote", bin_ + "/pg_ctl -D " + data_ + " -w -t 60 promote"); }

  // The server dies as in a power cut of its machine, for failover tests: SIGKILL to the
  // postmaster and then to every process it had started (a backend whose postmaster is gone
  // would otherwise go on serving its connection).
  void kill9() {
    const pid_t postmaster = postmaster_pid();
    std::vector<pid_t> children;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state = 0;
      pid_t parent = 0;
      rest >> state >> parent;
      if (parent == postmaster) children.push_back(static_cast<pid_t>(std::stol(name)));
    }
    ::kill(postmaster, SIGKILL);
    for (const pid_t child : children) ::kill(child, SIGKILL);
    running_ = false;
  }

  void start() {
    run("pg_ctl start", bin_ + "/pg_ctl -D " + data_ + " -l " + dir_.str() + "/server.log -w -t 60 start");
    running_ = true;
  }
  // A clean, fast stop (the server's connections are cut).
  void stop() {
    if (!running_) return;
    running_ = false;
    run("pg_ctl stop", bin_ + "/pg_ctl -D " + data_ + " -m immediate -w -t 60 stop");
  }
  // The postmaster's pid (from postmaster.pid), for kill -9 tests.
  pid_t postmaster_pid() const {
    std::ifstream in(data_ + "/postmaster.pid");
    pid_t pid = 0;
    in >> pid;
    return pid;
  }
  std::string log() const {
    std::ifstream in(dir_.str() + "/server.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  static std::string find_bindir() {
    if (const char* env = std::getenv("HUB_TEST_PG_BINDIR")) return env;
    std::string best;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const std::string bin = (entry.path() / "bin").string();
      if (std::filesystem::exists(bin + "/initdb") && bin > best) best = bin;
    }
    if (best.empty())
      throw std::runtime_error(
          "PostgresServer: no /usr/lib/postgresql/*/bin/initdb (install the Debian package postgresql: "
          "bash scripts/install-deps.sh)");
    return best;
  }

  static std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  // PostgreSQL refuses to run as root: the directory goes to `nobody` when the tests are root.
  void give_directory_to_server_user() {
    if (as_user_.empty()) return;
    const passwd* nobody = ::getpwnam("nobody");
    if (nobody == nullptr) throw std::runtime_error("PostgresServer: no user 'nobody' to run PostgreSQL as");
    ::chmod(dir_.path().c_str(), 0755);
    if (::chown(dir_.path().c_str(), nobody->pw_uid, nobody->pw_gid) != 0)
      throw std::runtime_error("PostgresServer: cannot give " + dir_.str() + " to nobody");
  }

  void run(const std::string& what, const std::string& command) const {
    const CommandResult r = run_command("cd / && " + as_user_ + command);
    if (r.exit_code != 0)
      throw std::runtime_error("PostgresServer: " + what + " failed (exit " + std::to_string(r.exit_code) +
                               "): " + r.output + "\n" + log());
  }

  TempDir dir_;
  ReservedPort port_;
  std::string bin_;
  std::string data_;
  std::string as_user_;
  bool running_ = false;
};

}  // namespace hub::testing
