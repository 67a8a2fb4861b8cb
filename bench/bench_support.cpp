#include "bench_support.h"

#include "testing/spawn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hub::bench {

namespace fs = std::filesystem;
using nlohmann::json;

Range summarize(std::vector<double> samples) {
  Range r;
  if (samples.empty()) return r;
  std::sort(samples.begin(), samples.end());
  r.runs = samples.size();
  r.min = samples.front();
  r.max = samples.back();
  const std::size_t n = samples.size();
  r.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  return r;
}

double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(samples.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return samples[std::min(index, samples.size() - 1)];
}

Percentiles percentiles(std::vector<double> samples) {
  Percentiles p;
  p.p50 = percentile(samples, 50);
  p.p99 = percentile(samples, 99);
  p.p999 = percentile(samples, 99.9);
  return p;
}

Range repeat(std::size_t runs, const std::function<double()>& measure) {
  std::vector<double> samples;
  for (std::size_t i = 0; i < runs; ++i) samples.push_back(measure());
  return summarize(std::move(samples));
}

void Report::add(Figure figure) {
  auto it = std::find_if(figures_.begin(), figures_.end(), [&](const Figure& f) { return f.id == figure.id; });
  if (it != figures_.end())
    *it = std::move(figure);
  else
    figures_.push_back(std::move(figure));
}

const Figure* Report::jetstream_of(const std::string& id) const {
  const auto it = jetstream_of_.find(id);
  return it == jetstream_of_.end() ? nullptr : find(it->second);
}

const Figure* Report::find(const std::string& id) const {
  for (const auto& f : figures_) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

namespace {

// How the hub figure compares with a reference: for rates hub/reference, for times and
// latencies reference/hub, so that > 1 always means "the hub is better".
std::string ratio_text(const Figure& f, const Figure* reference) {
  if (reference == nullptr || reference->value.median <= 0 || f.value.median <= 0) return "";
  const double ratio =
      f.higher_is_better ? f.value.median / reference->value.median : reference->value.median / f.value.median;
  char text[32];
  std::snprintf(text, sizeof text, ratio >= 10 ? "%.1fx" : ratio >= 0.1 ? "%.2fx" : "%.2gx", ratio);
  return text;
}

std::optional<double> ratio_value(const Figure& f, const Figure* reference) {
  if (reference == nullptr || reference->value.median <= 0 || f.value.median <= 0) return std::nullopt;
  return f.higher_is_better ? f.value.median / reference->value.median : reference->value.median / f.value.median;
}

int decimals_for(double v) { return v >= 100 ? 0 : v >= 10 ? 1 : v >= 1 ? 2 : 3; }

// `text` padded with spaces to `width` columns, counting characters, not bytes (≥ and × are
// three bytes of UTF-8 each).
std::string padded(const std::string& text, std::size_t width) {
  std::size_t columns = 0;
  for (const unsigned char c : text) columns += (c & 0xC0) != 0x80;
  return columns >= width ? text + " " : text + std::string(width - columns, ' ');
}

// "met", "missed: 0.42x Redis", "not judged: no Redis figure in this run", or "" without a target.
std::string verdict_text(const Verdict& v) {
  switch (v.kind) {
    case Verdict::Kind::kNone: return "";
    case Verdict::Kind::kMet: return "met";
    case Verdict::Kind::kMissed: return v.why.empty() ? "missed" : "missed: " + v.why;
    case Verdict::Kind::kNotJudged: return v.why.empty() ? "not judged" : "not judged: " + v.why;
  }
  return "";
}

}  // namespace

std::string Report::target_text(const Figure& f) const {
  const Target& t = f.target;
  std::string text;
  const auto add = [&](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
  const auto times = [](double r) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", r);
    return std::string(buffer);
  };
  const std::string peer = f.section == "postgresql" ? "SQLite" : "Redis";
  if (t.bound) {
    const int decimals = *t.bound == std::floor(*t.bound) ? 0 : decimals_for(*t.bound);
    add(std::string(f.higher_is_better ? "≥ " : "≤ ") + format_number(*t.bound, decimals) + " " + f.unit);
  }
  if (t.least_vs_limit) add(*t.least_vs_limit == 1 ? "≥ limit" : "≥ " + times(*t.least_vs_limit) + "× limit");
  if (t.least_vs_redis) add(*t.least_vs_redis == 1 ? (f.higher_is_better ? "≥ " : "≤ ") + peer : "≥ " + times(*t.least_vs_redis) + "× " + peer);
  if (!t.note.empty()) add(t.note);
  return text;
}

Verdict Report::verdict(const Figure& f) const {
  const Target& t = f.target;
  if (t.empty()) return {};
  if (!t.bound && !t.least_vs_limit && !t.least_vs_redis) return {Verdict::Kind::kNotJudged, t.note};
  std::string missed, unknown;
  const auto add = [](std::string& list, const std::string& part) { list += (list.empty() ? "" : ", ") + part; };
  if (f.value.runs == 0) return {Verdict::Kind::kNotJudged, "not measured"};
  if (t.bound && !(f.higher_is_better ? f.value.median >= *t.bound : f.value.median <= *t.bound))
    add(missed, format_number(f.value.median, decimals_for(f.value.median)) + " " + f.unit);
  const std::string peer = f.section == "postgresql" ? "SQLite" : "Redis";
  const auto against = [&](const std::optional<double>& least, const std::string& id, const std::string& name) {
    if (!least) return;
    const std::optional<double> ratio = ratio_value(f, id.empty() ? nullptr : find(id));
    if (!ratio)
      add(unknown, "no " + name + " figure in this run");
    else if (*ratio < *least)
      add(missed, ratio_text(f, find(id)) + " " + name);
  };
  against(t.least_vs_limit, f.limit_id, "limit");
  against(t.least_vs_redis, f.redis_id, peer);
  if (!missed.empty()) return {Verdict::Kind::kMissed, missed};
  if (!unknown.empty()) return {Verdict::Kind::kNotJudged, unknown};
  return {Verdict::Kind::kMet, ""};
}

json Report::disk() const {
  const Figure* fsync = find("limits.fsync");
  if (fsync == nullptr || fsync->value.runs == 0) return nullptr;
  const double rate = fsync->value.median;
  json d{{"fdatasync_per_s", rate},
         {"class", rate < 1000 ? "slow" : rate < 50000 ? "normal" : "fast"},
         {"meaning", rate < 1000    ? "under 1,000 fdatasync/s, a network or throttled disk: durable writes wait for "
                                      "the disk, which group commits amortise"
                     : rate < 50000 ? "1,000-50,000 fdatasync/s, an SSD: the hub is CPU-bound, as Redis is"
                                    : "50,000 fdatasync/s or more, NVMe with power-loss protection or a cache that "
                                      "acknowledges flushes: CPU-bound"}};
  if (const Figure* append = find("limits.sqlite.append"); append != nullptr && append->value.runs > 0)
    d["sqlite_append_rows_per_s"] = append->value.median;
  return d;
}

void Report::print(std::ostream& out) const {
  if (const json d = disk(); !d.is_null()) {
    out << "disk: " << format_number(d["fdatasync_per_s"].get<double>(), 0) << " fdatasync/s";
    if (d.contains("sqlite_append_rows_per_s"))
      out << ", SQLite append " << format_number(d["sqlite_append_rows_per_s"].get<double>(), 0) << " rows/s";
    out << ": " << d["class"].get<std::string>() << " (" << d["meaning"].get<std::string>() << ")\n";
  }
  std::string section;
  for (const auto& f : figures_) {
    if (f.section != section) {
      section = f.section;
      out << "\n== " << section << " ==\n";
      out << std::left << std::setw(58) << "figure" << std::right << std::setw(14) << "median" << std::setw(14) << "min"
          << std::setw(14) << "max"
          << "  " << std::left << std::setw(14) << "unit"
          << "vs limit   " << (section == "postgresql" ? "vs SQLite  " : "vs Redis   ") << "vs JetStream  "
          << std::setw(30) << "target" << "this run\n";
    }
    std::string label = f.label;
    if (label.size() > 57) label = label.substr(0, 57);
    out << std::left << std::setw(58) << label << std::right << std::setw(14)
        << format_number(f.value.median, decimals_for(f.value.median)) << std::setw(14)
        << format_number(f.value.min, decimals_for(f.value.min)) << std::setw(14)
        << format_number(f.value.max, decimals_for(f.value.max)) << "  " << std::left << std::setw(14) << f.unit
        << std::setw(11) << ratio_text(f, f.limit_id.empty() ? nullptr : find(f.limit_id)) << std::setw(11)
        << ratio_text(f, f.redis_id.empty() ? nullptr : find(f.redis_id)) << std::setw(14)
        << ratio_text(f, jetstream_of(f.id)) << padded(target_text(f), 30) << verdict_text(verdict(f)) << "\n";
  }
  out << "\nratios: > 1 means the hub is better (faster rate, or shorter time/latency) than the reference;\n"
         "in the jetstream section, that JetStream is better than Redis\n";
  std::size_t met = 0, missed = 0, unjudged = 0;
  std::string missed_lines;
  for (const auto& f : figures_) {
    const Verdict v = verdict(f);
    met += v.kind == Verdict::Kind::kMet;
    unjudged += v.kind == Verdict::Kind::kNotJudged;
    if (v.kind == Verdict::Kind::kMissed) {
      ++missed;
      missed_lines += "  " + f.id + ": " + v.why + " (target " + target_text(f) + ")\n";
    }
  }
  if (met + missed + unjudged > 0)
    out << "targets: " << met << " met, " << missed << " missed, " << unjudged << " not judged in this run\n"
        << missed_lines;
}

json Report::to_json() const {
  json figures = json::array();
  for (const auto& f : figures_) {
    json j{{"id", f.id},
           {"section", f.section},
           {"label", f.label},
           {"unit", f.unit},
           {"higher_is_better", f.higher_is_better},
           {"median", f.value.median},
           {"min", f.value.min},
           {"max", f.value.max},
           {"runs", f.value.runs}};
    if (!f.limit_id.empty()) {
      j["limit"] = {{"id", f.limit_id}};
      if (auto r = ratio_value(f, find(f.limit_id))) j["limit"]["ratio"] = *r;
    }
    if (!f.redis_id.empty()) {
      const char* key = f.section == "postgresql" ? "sqlite" : "redis";
      j[key] = {{"id", f.redis_id}};
      if (auto r = ratio_value(f, find(f.redis_id))) j[key]["ratio"] = *r;
    }
    if (const Figure* peer = jetstream_of(f.id)) {
      j["jetstream"] = {{"id", peer->id}};
      if (auto r = ratio_value(f, peer)) j["jetstream"]["ratio"] = *r;
    }
    if (!f.target.empty()) {
      const Verdict v = verdict(f);
      j["target"] = {{"text", target_text(f)}, {"verdict", verdict_text(Verdict{v.kind, ""})}};
      if (!v.why.empty()) j["target"]["why"] = v.why;
    }
    figures.push_back(std::move(j));
  }
  json out = info_;
  if (json d = disk(); !d.is_null()) out["disk"] = std::move(d);
  out["figures"] = std::move(figures);
  return out;
}

Child::Child(const std::vector<std::string>& argv, const std::string& log_path)
    : pid_(hub::testing::spawn_process(argv, log_path, "", /*search_path=*/true)) {}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool Child::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

double process_cpu_seconds(pid_t pid, bool waited_children) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  // Fields after the command name (which may hold spaces), from field 3 on: utime is field 14.
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x && f.size() < 15;) f.push_back(x);
  if (f.size() < 15) return 0;
  double ticks = std::stod(f[11]) + std::stod(f[12]);
  if (waited_children) ticks += std::stod(f[13]) + std::stod(f[14]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long Child::peak_rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

int Child::stop(std::chrono::seconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TempDir::TempDir(const std::string& prefix) {
  std::random_device rd;
  const char* base = std::getenv("TMPDIR");
  path_ = (fs::path(base != nullptr ? base : "/tmp") /
           (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd())))
              .string();
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  if (std::getenv("HUB_BENCH_KEEP") == nullptr) fs::remove_all(path_, ec);
}

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free TCP port");
  }
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

json machine_info(const std::string& dir) {
  json m;
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      m["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  m["cores"] = std::thread::hardware_concurrency();
  std::ifstream mem("/proc/meminfo");
  while (std::getline(mem, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      m["memory_gib"] = std::round(std::stod(line.substr(9)) / 1024.0 / 1024.0 * 10) / 10;
      break;
    }
  }
  utsname u{};
  if (::uname(&u) == 0) m["kernel"] = std::string(u.sysname) + " " + u.release;
  std::ifstream mounts("/proc/mounts");
  std::string best_mount, best_type;
  const std::string abs = fs::absolute(dir).string();
  while (std::getline(mounts, line)) {
    std::istringstream in(line);
    std::string device, mount, type;
    in >> device >> mount >> type;
    if (abs.rfind(mount, 0) == 0 && mount.size() >= best_mount.size()) {
      best_mount = mount;
      best_type = type;
    }
  }
  m["data_filesystem"] = best_type + " at " + best_mount;
  return m;
}

std::string format_number(double value, int decimals) {
  std::ostringstream raw;
  raw << std::fixed << std::setprecision(decimals) << std::abs(value);
  std::string s = raw.str();
  const auto dot = s.find('.');
  std::string integer = s.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : s.substr(dot);
  std::string grouped;
  for (std::size_t i = 0; i < integer.size(); ++i) {
    if (i > 0 && (integer.size() - i) % 3 == 0) grouped += ',';
    grouped += integer[i];
  }
  return (value < 0 ? "-" : "") + grouped + fraction;
}

void progress(const std::string& text) { std::cerr << "hub-bench: " << text << std::endl; }

}  // namespace hub::bench

namespace hub::bench {

PacedRun paced_publish(std::size_t count, double rate, std::size_t threads,
                       const std::function<Publisher()>& make_publisher) {
  PacedRun run;
  run.due_s.resize(count);
  run.acked_s.resize(count);
  for (std::size_t i = 0; i < count; ++i) run.due_s[i] = static_cast<double>(i) / rate;
  std::vector<Publisher> publishers(threads);
  {
    std::vector<std::thread> setup;
    for (std::size_t t = 0; t < threads; ++t) setup.emplace_back([&, t] { publishers[t] = make_publisher(); });
    for (auto& s : setup) s.join();
  }
  run.start = Clock::now() + std::chrono::milliseconds(20);
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t i = t; i < count; i += threads) {
        const auto due =
            run.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(run.due_s[i]));
        std::this_thread::sleep_until(due);
        publishers[t](i);
        run.acked_s[i] = seconds_between(run.start, Clock::now());
      }
    });
  }
  for (auto& w : workers) w.join();
  return run;
}

}  // namespace hub::bench
