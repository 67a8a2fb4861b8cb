#include "report/metrics.h"

#include "domain/delivery_latency.h"

#include <cstdio>
#include <sstream>
#include <vector>

namespace hub::report {
namespace {

using nlohmann::json;

json& department(json& snapshot, const std::string& id) {
  json& d = snapshot["departments"][id];
  if (d.is_null())
    d = {{"deliveries", 0}, {"failures", 0}, {"actions", json::object()},
         {"latency", {{"buckets", json::array()}, {"count", 0}, {"sum_ms", 0}}}};
  return d;
}

// Label values are ids from the configuration, but escape them as the format requires.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}

std::string seconds(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms) / 1000.0);
  return buf;
}

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

}  // namespace

json metrics_snapshot(ReportViews& views, const json& status) {
  json snapshot{{"events", json::object()}, {"last_seq", 0}, {"departments", json::object()}, {"status", status}};
  // Every configured department appears, even before its first delivery.
  for (const auto& d : status.value("departments", json::array())) department(snapshot, d.value("id", ""));
  const MetricsCounts counts = views.metrics();
  for (const auto& [type, n] : counts.events) snapshot["events"][type] = n;
  snapshot["last_seq"] = counts.last_seq;
  for (const auto& [id, c] : counts.departments) {
    json& d = department(snapshot, id);
    d["deliveries"] = c.deliveries;
    d["failures"] = c.failures;
    for (const auto& [action, n] : c.actions) d["actions"][action] = n;
    if (c.latency)
      d["latency"] = {{"buckets", c.latency->buckets}, {"count", c.latency->count}, {"sum_ms", c.latency->sum_ms}};
  }
  return snapshot;
}

std::string prometheus_text(const json& snapshot) {
  std::ostringstream out;
  const json& departments = snapshot["departments"];
  family(out, "hub_events_total", "counter", "Events in the event log, by type.");
  for (const auto& [type, n] : snapshot["events"].items())
    out << "hub_events_total{type=\"" << label(type) << "\"} " << n << "\n";
  family(out, "hub_last_seq", "gauge", "The last sequence number in the event log.");
  out << "hub_last_seq " << snapshot["last_seq"] << "\n";

  family(out, "hub_deliveries_total", "counter", "Events recorded in the ledger as delivered, by department.");
  for (const auto& [id, d] : departments.items())
    out << "hub_deliveries_total{department=\"" << label(id) << "\"} " << d["deliveries"] << "\n";
  family(out, "hub_delivery_failures_total", "counter", "Failed delivery attempts recorded, by department.");
  for (const auto& [id, d] : departments.items())
    out << "hub_delivery_failures_total{department=\"" << label(id) << "\"} " << d["failures"] << "\n";
  family(out, "hub_policy_actions_total", "counter", "Policy actions recorded, by department and action.");
  for (const auto& [id, d] : departments.items())
    for (const auto& [action, n] : d["actions"].items())
      out << "hub_policy_actions_total{department=\"" << label(id) << "\",action=\"" << label(action) << "\"} " << n
          << "\n";

  const json status_departments = snapshot["status"].value("departments", json::array());
  family(out, "hub_parked_events", "gauge", "Events parked for a department (dead letters).");
  for (const auto& s : status_departments)
    out << "hub_parked_events{department=\"" << label(s.value("id", "")) << "\"} " << s.value("parked", 0) << "\n";
  family(out, "hub_waiting_effective_events", "gauge",
         "Events of confirmed notices waiting for their effective date for a department (not failures).");
  for (const auto& s : status_departments)
    out << "hub_waiting_effective_events{department=\"" << label(s.value("id", "")) << "\"} "
        << s.value("waiting_effective", 0) << "\n";
  family(out, "hub_delivery_lag_events", "gauge", "Events not yet delivered to a department.");
  for (const auto& s : status_departments)
    out << "hub_delivery_lag_events{department=\"" << label(s.value("id", "")) << "\"} " << s.value("lag", 0) << "\n";
  family(out, "hub_oldest_undelivered_seconds", "gauge", "Age of the oldest event not yet delivered to a department.");
  for (const auto& s : status_departments)
    out << "hub_oldest_undelivered_seconds{department=\"" << label(s.value("id", "")) << "\"} "
        << seconds(s.value("oldest_undelivered_ms", std::int64_t{0})) << "\n";
  family(out, "hub_plugin_up", "gauge", "1 when the department's plugin is running.");
  for (const auto& s : status_departments)
    out << "hub_plugin_up{department=\"" << label(s.value("id", "")) << "\",version=\""
        << label(s.value("plugin_version", "")) << "\"} " << (s.value("state", "") == "running" ? 1 : 0) << "\n";

  // Which state each department is in, one series per department (its current state, value 1),
  // with its placement, so that an alert can tell a plugin host gone (placement "host", state
  // "waiting_for_host" or "failing") from an in-process plugin that failed.
  family(out, "hub_department_state", "gauge",
         "1 for the department's current state (running, retrying, refused, disabled, starting, stopped, "
         "waiting_for_host, failing) and placement (in_process, host).");
  for (const auto& s : status_departments)
    out << "hub_department_state{department=\"" << label(s.value("id", "")) << "\",placement=\""
        << label(s.value("placement", "in_process")) << "\",state=\"" << label(s.value("state", "")) << "\"} 1\n";

  if (snapshot.contains("data_dir")) {
    // The file system holding the data directory (statvfs, where the HTTP server answers).
    const json& disk = snapshot["data_dir"];
    family(out, "hub_data_dir_size_bytes", "gauge", "Size of the file system that holds the hub's data directory.");
    out << "hub_data_dir_size_bytes " << disk.value("size_bytes", std::uint64_t{0}) << "\n";
    family(out, "hub_data_dir_free_bytes", "gauge",
           "Bytes free for the hub on the file system that holds its data directory.");
    out << "hub_data_dir_free_bytes " << disk.value("free_bytes", std::uint64_t{0}) << "\n";
  }

  if (snapshot.contains("security")) {
    // CURVE on: the gatekeeper's counts (docs/security.md §4).
    const json& sec = snapshot["security"];
    family(out, "hub_handshakes_total", "counter", "CURVE handshakes on the hub's TCP endpoints, by result.");
    out << "hub_handshakes_total{result=\"accepted\"} " << sec.value("accepted", 0) << "\n";
    out << "hub_handshakes_total{result=\"refused\"} " << sec.value("refused", 0) << "\n";
    family(out, "hub_handshakes_refused_total", "counter",
           "Refused handshakes by reason: unknown_key, role (not allowed on that endpoint), not_curve (NULL or "
           "PLAIN), wrong_hub_key (encrypted for another hub key), malformed, incomplete (closed mid-handshake).");
    const json by_reason = sec.value("refused_by_reason", json::object());
    for (const auto& [reason, n] : by_reason.items())
      out << "hub_handshakes_refused_total{reason=\"" << label(reason) << "\"} " << n.get<std::uint64_t>() << "\n";
    family(out, "hub_requests_unauthorized_total", "counter",
           "Requests refused because the sender's key lacks the role they need.");
    out << "hub_requests_unauthorized_total " << sec.value("refused_messages", 0) << "\n";
  }

  if (snapshot.contains("complaints")) {
    // The complaints register (投诉举报), as the admin thread counts it (admin/complaint_requests.h).
    const json& c = snapshot["complaints"];
    family(out, "hub_complaints", "gauge", "Complaints in the register, by state.");
    for (const char* state : {"received", "investigating", "upheld", "dismissed"})
      out << "hub_complaints{state=\"" << state << "\"} " << c.value(state, std::int64_t{0}) << "\n";
    family(out, "hub_complaints_open", "gauge", "Complaints not yet ruled (received or investigating).");
    out << "hub_complaints_open " << c.value("open", std::int64_t{0}) << "\n";
    family(out, "hub_complaints_overdue", "gauge", "Complaints not ruled by their deadline.");
    out << "hub_complaints_overdue " << c.value("overdue", std::int64_t{0}) << "\n";
  }

  family(out, "hub_delivery_latency_seconds", "histogram",
         "Time from the hub receiving an event to the department's actions being recorded.");
  for (const auto& [id, d] : departments.items()) {
    const json& h = d["latency"];
    const std::string l = "department=\"" + label(id) + "\"";
    for (std::size_t i = 0; i < std::size(kDeliveryLatencyBoundsMs); ++i) {
      const std::int64_t n = i < h["buckets"].size() ? h["buckets"][i].get<std::int64_t>() : 0;
      out << "hub_delivery_latency_seconds_bucket{" << l << ",le=\"" << seconds(kDeliveryLatencyBoundsMs[i]) << "\"} " << n
          << "\n";
    }
    out << "hub_delivery_latency_seconds_bucket{" << l << ",le=\"+Inf\"} " << h["count"] << "\n";
    out << "hub_delivery_latency_seconds_sum{" << l << "} " << seconds(h["sum_ms"].get<std::int64_t>()) << "\n";
    out << "hub_delivery_latency_seconds_count{" << l << "} " << h["count"] << "\n";
  }
  return out.str();
}

}  // namespace hub::report
