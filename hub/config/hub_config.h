// hubd's configuration (config/hub.json): where it listens, where its data lives, its limits,
// and which department plugins it runs.
//
// load_hub_config() validates everything before hubd starts anything: an unknown key, a wrong
// type or an impossible value stops start-up with a ConfigError that names the key (e.g.
// "plugins[2].id") and the problem. Relative paths are resolved against `base_dir` (the
// directory of the config file, or the working directory for the embedded defaults).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/connectors.h"

namespace hub {

// Where a department's plugin runs: in hubd's own process (one thread per plugin), or in a
// hub-plugin-host process on the department's server that connects to endpoints.plugin_hosts.
enum class Placement { kInProcess, kHost };

// Event fields a department may receive besides seq, type, household_id and status, which
// every department needs (data minimisation, docs/security.md). The head of household's name,
// the member count and the evaluation basis are never delivered to any department.
enum EventField : std::uint32_t {
  kFieldEventId = 1u << 0,
  kFieldVillage = 1u << 1,
  kFieldPreviousStatus = 1u << 2,
  kFieldQuarter = 1u << 3,
  kFieldPreviousQuarter = 1u << 4,
  kFieldEffectiveDate = 1u << 5,
  kFieldDesignations = 1u << 6,
  kFieldCorrection = 1u << 7,
  kAllEventFields = (1u << 8) - 1,
};
// The names used in the configuration's "fields", in bit order.
const std::vector<std::string>& event_field_names();

struct PluginConfig {
  std::string id;                 // department id, e.g. "schools"
  bool enabled = true;
  Placement placement = Placement::kInProcess;  // "placement": "in_process" (default) or "host"
  std::string library;            // absolute path of the .so (in_process only; a host has its own)
  std::string catalogue_json;     // the department's catalogue, as text
  hub::sdk::Catalogue catalogue;  // parsed
  std::string settings_json;      // the plugin's own "settings" object, as text
  std::vector<std::string> villages;  // subscription: only these villages (empty = all)
  std::vector<std::string> statuses;  // subscription: only these new statuses (empty = all)
  // "fields": what of each event it may receive (EventField bits); absent = every field, with
  // a warning at start-up. The hub strips the rest before the plugin (or its host) sees it.
  std::uint32_t fields = kAllEventFields;
  bool fields_listed = false;

  // Whether this department receives a status change to `status` in `village` (its
  // subscription). The dispatcher's workers and the reports use this one rule.
  bool subscribes(const std::string& village, const std::string& status) const;
  // Where the plugin's actions go after validation (docs/connectors.md). A spool without a
  // "dir" uses <data_dir>/spool/<id>; a relative dir is resolved like other paths.
  hub::sdk::ConnectorConfig connector;
  // Retries and parking for this department: "delivery": {"max_attempts", "call_timeout_ms",
  // "retry_initial_ms", "retry_max_ms"} in the plugin's entry, each defaulting to the hub-wide
  // value of the same name in "delivery" (docs/reliability.md).
  std::int64_t max_attempts = 5;       // failed attempts of one event before it is parked
  std::int64_t call_timeout_ms = 30000;  // one plugin call (handle, end of batch) longer than this fails
  std::int64_t retry_initial_ms = 500;
  std::int64_t retry_max_ms = 30000;
};

// Who may connect (issue 5, docs/security.md). "security": {"mode": "curve" | "insecure",
// "keys_dir": …, "clients_file": …}. CURVE is the default; "insecure" (no encryption, no
// authentication) is accepted only when every TCP endpoint is on loopback, and hubd logs it.
struct SecurityConfig {
  bool curve = true;
  std::string keys_dir;      // absolute; "" = DATA_DIR/keys (the hub's key pair lives here)
  std::string clients_file;  // absolute; "" = KEYS_DIR/clients.json (the keys let in, with roles)
  // The hub's Ed25519 key (NAME.sign.key from hubctl keygen): every audit record is signed
  // with it. "" = records are hash-chained but not signed.
  std::string audit_signing_key;
  std::string users_file;  // absolute; "" = KEYS_DIR/users.json (the web console's accounts)
};

// The dashboard's web server (issue 19, docs/operations.md "HTTPS"). "http" is either the
// address alone ("127.0.0.1:8080") or an object: {"address", "tls_cert", "tls_key",
// "request_timeout_ms", "max_connections", "max_connections_per_client"}. Plain HTTP is allowed
// on a loopback address only; any other address needs tls_cert and tls_key.
struct HttpConfig {
  std::string tls_cert;  // absolute path of the PEM certificate (chain); "" = plain HTTP
  std::string tls_key;   // absolute path of its PEM private key (unencrypted)
  // A client must send a whole request (head and body) within this from its connection, or
  // from the first byte of a request on a kept-alive connection; then it is cut off.
  std::int64_t request_timeout_ms = 10000;
  std::int64_t max_connections = 512;            // held at once, all clients together
  std::int64_t max_connections_per_client = 32;  // held at once by one client address
  // Accounts (issue 19, docs/security.md "Web console accounts"): every page's data and every
  // /api/ read needs a login as soon as the users file lists a user, or always with "login": true
  // (required on an address other machines can reach, besides TLS).
  bool login = false;
  std::int64_t session_idle_minutes = 30;  // a session unused this long ends
  std::int64_t session_max_hours = 12;     // a session this old ends, however busy
  bool tls() const { return !tls_cert.empty(); }
};

// Where the event log, the ledger and the audit log live (store/storage.h, docs/deployment.md):
//   "storage": {"backend": "sqlite"}   the default: files in data_dir
//   "storage": {"backend": "postgresql", "dsn": "host=pg1,pg2 dbname=chengxin user=hub
//               target_session_attrs=read-write", "hub_id": "town-a"}
// A PostgreSQL database may hold several hubs (a county's towns; the two hubd of a failover pair
// share one hub_id): every key starts with hub_id. Passwords belong in a passfile (~/.pgpass or
// `passfile=` in the dsn), not in this file.
enum class StorageBackend { kSqlite, kPostgresql };

struct StorageConfig {
  StorageBackend backend = StorageBackend::kSqlite;
  std::string dsn;     // postgresql: a libpq connection string
  std::string hub_id;  // postgresql: this hub's name in the database, 1-64 of a-z 0-9 _ . -
};

struct HubConfig {
  std::string data_dir;
  StorageConfig storage;
  std::string log_level = "info";
  std::string ingest_endpoint;
  std::string plugin_host_endpoint;
  std::string live_feed_endpoint;
  std::string admin_endpoint;
  std::string http_address;  // "127.0.0.1:8080"; port 0 picks a free port; empty turns HTTP off
  HttpConfig http;           // TLS and the limits on clients, when "http" is an object
  std::string admin_token;   // bearer token for admin-only HTTP actions; empty refuses them
  std::size_t max_message_bytes = 64u << 20;
  std::size_t max_batch_events = 100000;
  // Requests one ingest connection may send per second (a burst of as many is allowed); more
  // are answered rate_limited, unstored. 0 = no limit.
  std::uint32_t max_requests_per_second = 0;
  std::size_t delivery_batch_events = 512;
  std::size_t max_in_flight_batches = 2;
  std::int64_t retry_initial_ms = 500;
  std::int64_t retry_max_ms = 30000;
  std::int64_t max_attempts = 5;
  std::int64_t call_timeout_ms = 30000;
  std::vector<PluginConfig> plugins;
  SecurityConfig security;
  // "complaints": {"deadline_days": 15}: days from a complaint's received date to its deadline
  // (投诉办理期限, 1-365); a complaint not ruled by then is overdue (domain/complaint.h).
  int complaint_deadline_days = 15;
  // "notice": {"period_days": 7}: how long a village's proposed evaluations stay on its notice
  // list (公示期, 0-90 days) before its quarter may be confirmed without a reason
  // (complaints/notice_board.h).
  int notice_period_days = 7;
  // "notice": {"required": false}: true refuses status changes published straight to final (by
  // a publisher's key or the web console) with notice_required; evaluations then take effect
  // only through a confirmed notice or a complaint's ruling (eventlog/event_log.h).
  bool notice_required = false;

  std::string keys_dir() const;      // security.keys_dir or DATA_DIR/keys
  std::string clients_file() const;  // security.clients_file or KEYS_DIR/clients.json
  std::string users_file() const;    // security.users_file or KEYS_DIR/users.json
};

struct ConfigError {
  std::string key;      // e.g. "plugins[2].library"
  std::string message;  // what is wrong and what is expected
  std::string to_string() const { return key.empty() ? message : key + ": " + message; }
};

struct ConfigSources {
  std::string base_dir;     // for relative paths
  std::string exe_dir;      // hubd's own directory; the default plugin_dir is exe_dir/../plugins
};

// "127.0.0.1:8080" → {"127.0.0.1", 8080}; "[::1]:0" → {"::1", 0}. Nothing when malformed.
struct HttpAddress {
  std::string host;
  int port = 0;
};
std::optional<HttpAddress> parse_http_address(const std::string& text);

// True for ipc:// and for tcp:// on 127.0.0.1, localhost or ::1.
bool is_loopback_endpoint(const std::string& endpoint);
// True for a host that only this machine can reach: 127.0.0.0/8, localhost, ::1.
bool is_loopback_host(const std::string& host);

std::variant<HubConfig, ConfigError> load_hub_config(const std::string& json_text, const ConfigSources& sources);

}  // namespace hub
