// Shared pieces of hub-bench: timing and statistics, the figure table (text and JSON), child
// processes (hubd, redis-server) and temporary directories.
//
// Every figure is measured `runs` times and reported as median, min and max. A figure may name
// the machine limit and the Redis figure it is compared with, and the report may set its NATS
// JetStream counterpart; the report then prints the ratios, and for a figure with a target
// (an issue's), whether this run met it. Nothing here asserts a speed: the bench reports, it
// never fails on a slow figure.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace hub::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}
inline double seconds_since(Clock::time_point from) { return seconds_between(from, Clock::now()); }

// Median, min and max of repeated measurements.
struct Range {
  double median = 0;
  double min = 0;
  double max = 0;
  std::size_t runs = 0;
};
Range summarize(std::vector<double> samples);

// The p-th percentile (0..100) of samples, nearest rank; samples are sorted in place.
double percentile(std::vector<double>& samples, double p);

struct Percentiles {
  double p50 = 0, p99 = 0, p999 = 0;
};
Percentiles percentiles(std::vector<double> samples);

// What an issue asks of a figure: a bound in the figure's unit (at least it when higher is
// better, at most it otherwise) and the least ratios to the figure's machine limit and to its
// Redis figure, as the report's ratio columns compute them (> 1 = the hub better; 1.0 against
// Redis = "not behind Redis"). `note`: a target that is no number ("keep"), printed, never
// judged. The report judges each target against the figures of the same run (Report::verdict).
struct Target {
  std::optional<double> bound;
  std::optional<double> least_vs_limit;
  std::optional<double> least_vs_redis;
  std::string note;
  bool empty() const { return !bound && !least_vs_limit && !least_vs_redis && note.empty(); }

  // Target().bounded(2).vs_redis_at_least(1): "≤ 2 ms, ≤ Redis" for a latency.
  Target& bounded(double value) { bound = value; return *this; }
  Target& vs_limit_at_least(double ratio) { least_vs_limit = ratio; return *this; }
  Target& vs_redis_at_least(double ratio) { least_vs_redis = ratio; return *this; }
  Target& noted(std::string text) { note = std::move(text); return *this; }
};

// A target met, missed (with what missed it: "0.42× Redis"), or not judged (a reference not
// measured in this run, or a note).
struct Verdict {
  enum class Kind { kNone, kMet, kMissed, kNotJudged } kind = Kind::kNone;
  std::string why;
};

// One line of the report.
struct Figure {
  std::string id;       // stable key, e.g. "hub.ingest.batch"
  std::string section;  // "limits", "redis", "hub", "scaling"
  std::string label;    // what was measured, for people
  std::string unit;     // "events/s", "ms", "s", "MiB", ...
  bool higher_is_better = true;
  Range value;
  std::string limit_id;  // the machine-limit figure this one is compared with, if any
  // The Redis Streams figure this one is compared with, if any; in the "postgresql" section, the
  // same figure on SQLite (the column reads "vs SQLite", the JSON key "sqlite").
  std::string redis_id;
  Target target;  // the target, if any
};

class Report {
 public:
  void add(Figure figure);
  const Figure* find(const std::string& id) const;
  // Prints and writes figure `id` beside `jetstream_id` (the column "vs JetStream", the JSON key
  // "jetstream"), when both were measured.
  void compare_with_jetstream(const std::string& id, const std::string& jetstream_id) {
    jetstream_of_[id] = jetstream_id;
  }
  void set_info(const std::string& key, nlohmann::json value) { info_[key] = std::move(value); }
  // The target as text ("≥ 0.5× limit, ≥ 1.2× Redis"; "SQLite" for Redis in the postgresql
  // section), and whether this run met it.
  std::string target_text(const Figure& f) const;
  Verdict verdict(const Figure& f) const;
  // The disk the run's data lived on, from its limits: fdatasync/s and SQLite's in-order append
  // rows/s, and a class ("slow", "normal", "fast"); null when the limits were not measured.
  nlohmann::json disk() const;
  void print(std::ostream& out) const;
  nlohmann::json to_json() const;

 private:
  const Figure* jetstream_of(const std::string& id) const;  // nullptr: none, or not measured
  std::vector<Figure> figures_;
  std::map<std::string, std::string> jetstream_of_;  // figure id -> its NATS JetStream counterpart
  nlohmann::json info_ = nlohmann::json::object();
};

// Runs `measure` `runs` times (a failure propagates) and summarises the results.
Range repeat(std::size_t runs, const std::function<double()>& measure);

// CPU seconds (user + system) process `pid` used so far, with `waited_children` also those of
// its children that exited and were waited for (a server's finished sessions); 0 when gone.
double process_cpu_seconds(pid_t pid, bool waited_children);

// A child process with its stdout and stderr in `log_path`.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log_path);
  ~Child();  // kills the child if it is still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const noexcept { return pid_; }
  bool running();
  // Peak resident set (VmHWM) in KiB; read it before the child exits.
  long peak_rss_kib() const;
  // CPU seconds (user + system, all threads) used so far; read it before the child exits.
  double cpu_seconds() const { return process_cpu_seconds(pid_, false); }
  // SIGTERM, then waits (SIGKILL after `grace`). Returns the exit status (-1 if killed).
  int stop(std::chrono::seconds grace = std::chrono::seconds(60));

 private:
  pid_t pid_ = -1;
};

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot bind port 0).
int free_tcp_port();

// Machine description for the report: CPU model, cores, memory, kernel, file system of `dir`.
nlohmann::json machine_info(const std::string& dir);

// Thousands separators for the table: 1234567.8 -> "1,234,568".
std::string format_number(double value, int decimals = 0);

// Progress line on stderr (the table goes to stdout).
void progress(const std::string& text);

}  // namespace hub::bench

namespace hub::bench {

// Open-loop publishing at a fixed rate: event i is due at start + i/rate and is sent by thread
// i % threads, each with its own connection made by `make_publisher` (called on that thread);
// the publisher function sends event i and returns when it is acknowledged. Latencies are
// measured from the time an event was due, so a stalled publisher does not hide them.
struct PacedRun {
  Clock::time_point start;
  std::vector<double> due_s;    // per event: when it was due, seconds after start
  std::vector<double> acked_s;  // per event: when its acknowledgment arrived, seconds after start
};
using Publisher = std::function<void(std::size_t index)>;
PacedRun paced_publish(std::size_t count, double rate, std::size_t threads,
                       const std::function<Publisher()>& make_publisher);

}  // namespace hub::bench
