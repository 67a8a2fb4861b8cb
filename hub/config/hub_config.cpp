#include "config/hub_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/config_fields.h"
#include "config/embedded_config.h"
#include "domain/wire_event.h"

namespace hub {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace config_fields;

// A catalogue file: only a regular file of a sensible size is read, so that a path such as
// /dev/zero, a FIFO or a huge file named by mistake gives an error instead of a hang.
// Opens `path` for reading, or stops with an error naming `key` and the file.
std::ifstream open_regular_file(const std::string& key, const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) invalid(key, "cannot read " + path + ": no such file");
  if (!fs::is_regular_file(status)) invalid(key, "cannot read " + path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) invalid(key, "cannot read " + path + ": permission denied? (hubd runs as its own user)");
  return in;
}

std::string read_file(const std::string& key, const std::string& path) {
  constexpr std::size_t kMaxBytes = 4u << 20;
  std::ifstream in = open_regular_file(key, path);
  std::string text(kMaxBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxBytes)
    invalid(key, "cannot read " + path + ": larger than " + std::to_string(kMaxBytes >> 20) + " MiB (a catalogue is a few kB)");
  return text;
}

// A plugin's "connector": the SDK validates it (the same rules a plugin author gets); the
// hub adds the key path and resolves the spool folder.
hub::sdk::ConnectorConfig parse_connector(const json& value, const std::string& key, const std::string& base_dir,
                                          const std::string& data_dir, const std::string& department) {
  std::string error_key, error;
  auto connector = hub::sdk::parse_connector_config(value.dump(), &error_key, &error);
  if (!connector) invalid(error_key.empty() ? key : key + "." + error_key, error);
  if (connector->type == hub::sdk::ConnectorConfig::Type::kSpool)
    connector->spool.dir = connector->spool.dir.empty()
                               ? (fs::path(data_dir) / "spool" / department).lexically_normal().string()
                               : resolve(base_dir, connector->spool.dir);
  return *connector;
}

// "http": the address alone, or an object with the address, the TLS files and the limits on
// clients (HttpConfig). The files are checked here (there, a regular file, readable); that
// they hold a certificate and its key is checked by the HTTP part (http/tls_context.h).
void parse_http(const json& root, const ConfigSources& src, HubConfig& c) {
  const json http = root.value("http", json("127.0.0.1:8080"));
  std::string address_key = "http";
  if (http.is_object()) {
    check_keys(http, "http.", {"address", "tls_cert", "tls_key", "request_timeout_ms", "max_connections",
                               "max_connections_per_client", "login", "session_idle_minutes", "session_max_hours"});
    address_key = "http.address";
    c.http_address = get_string(http, "http.", "address", "127.0.0.1:8080");
    c.http.tls_cert = resolve(src.base_dir, get_string(http, "http.", "tls_cert", ""));
    c.http.tls_key = resolve(src.base_dir, get_string(http, "http.", "tls_key", ""));
    c.http.request_timeout_ms = get_int(http, "http.", "request_timeout_ms", c.http.request_timeout_ms, 100, 600000);
    c.http.max_connections = get_int(http, "http.", "max_connections", c.http.max_connections, 1, 4096);
    c.http.max_connections_per_client =
        get_int(http, "http.", "max_connections_per_client", c.http.max_connections_per_client, 1, c.http.max_connections);
    if (const auto login = http.find("login"); login != http.end()) {
      if (!login->is_boolean())
        invalid("http.login", "must be true (every page needs a login) or false (a login once the users file lists "
                              "a user) / 须为 true 或 false");
      c.http.login = login->get<bool>();
    }
    c.http.session_idle_minutes = get_int(http, "http.", "session_idle_minutes", c.http.session_idle_minutes, 1, 1440);
    c.http.session_max_hours = get_int(http, "http.", "session_max_hours", c.http.session_max_hours, 1, 168);
  } else if (http.is_string()) {
    c.http_address = http.get<std::string>();
  } else {
    invalid("http", "must be a string (HOST:PORT) or an object {\"address\", \"tls_cert\", \"tls_key\", …}");
  }
  if (c.http_address.empty()) return;  // HTTP off
  const auto address = parse_http_address(c.http_address);
  if (!address)
    invalid(address_key, "must be HOST:PORT such as 127.0.0.1:8080 (port 0 picks a free port; \"\" turns HTTP off), got '" +
                             c.http_address + "'");
  if (c.http.tls_cert.empty() != c.http.tls_key.empty())
    invalid(c.http.tls_cert.empty() ? "http.tls_cert" : "http.tls_key",
            "HTTPS needs both http.tls_cert (the certificate) and http.tls_key (its private key) / 证书和私钥须同时配置");
  if (c.http.tls()) {
    open_regular_file("http.tls_cert", c.http.tls_cert);
    open_regular_file("http.tls_key", c.http.tls_key);
  } else if (!is_loopback_host(address->host)) {
    // Issue 19: household names must not cross a network in clear text.
    invalid("http.tls_cert",
            "the dashboard on " + c.http_address + " would be reachable from other machines without encryption: set "
            "http.tls_cert and http.tls_key (docs/operations.md, HTTPS), or bind it to 127.0.0.1 / 未配置 HTTPS "
            "证书时，管理页面只能监听本机地址（127.0.0.1）");
  }
  // …nor be open to anyone who reaches the address: a network address needs accounts as well.
  if (!is_loopback_host(address->host) && !c.http.login)
    invalid("http.login",
            "the dashboard on " + c.http_address + " would be reachable from other machines without a login: set "
            "\"login\": true in \"http\" and add users with hubctl users add (docs/security.md), or bind it to "
            "127.0.0.1 / 管理页面监听非本机地址时须开启登录（http.login 设为 true，并用 hubctl users add 添加用户）");
}

StorageConfig parse_storage(const json& root) {
  StorageConfig storage;
  const json section = root.value("storage", json::object());
  if (!section.is_object()) invalid("storage", "must be an object such as {\"backend\": \"sqlite\"}");
  check_keys(section, "storage.", {"backend", "dsn", "hub_id"});
  const std::string backend = get_string(section, "storage.", "backend", "sqlite");
  if (backend == "sqlite") {
    for (const char* key : {"dsn", "hub_id"})
      if (section.contains(key))
        invalid(std::string("storage.") + key, "only with \"backend\": \"postgresql\" (SQLite keeps its files in data_dir)");
    return storage;
  }
  if (backend != "postgresql")
    invalid("storage.backend", "must be \"sqlite\" (the default: files in data_dir) or \"postgresql\", got '" +
                                   backend + "'");
  storage.backend = StorageBackend::kPostgresql;
  storage.dsn = get_string(section, "storage.", "dsn", "");
  if (storage.dsn.empty())
    invalid("storage.dsn", "required with \"backend\": \"postgresql\": a libpq connection string such as "
                           "\"host=pg1,pg2 dbname=chengxin user=hub target_session_attrs=read-write\"");
  storage.hub_id = get_string(section, "storage.", "hub_id", "");
  const bool valid_id = !storage.hub_id.empty() && storage.hub_id.size() <= 64 &&
                        std::all_of(storage.hub_id.begin(), storage.hub_id.end(), [](char ch) {
                          return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
                                 ch == '-';
                        });
  if (!valid_id)
    invalid("storage.hub_id", "required with \"backend\": \"postgresql\": this hub's name in the database, 1-64 of "
                              "a-z, 0-9, '_', '.', '-' (e.g. \"town-xinhe\"; both hubd of a failover pair use the same), "
                              "got '" + storage.hub_id + "'");
  return storage;
}

HubConfig parse(const json& root, const ConfigSources& src) {
  if (!root.is_object()) invalid("", "the configuration must be a JSON object");
  check_keys(root, "", {"data_dir", "log_level", "endpoints", "http", "admin_token", "limits", "delivery",
                        "plugin_dir", "departments_dir", "plugins", "security", "storage", "complaints",
                        "notice"});
  HubConfig c;
  c.data_dir = resolve(src.base_dir, get_string(root, "", "data_dir", "var"));
  if (c.data_dir.empty()) invalid("data_dir", "must not be empty");
  c.log_level = get_string(root, "", "log_level", "info");
  check_log_level("log_level", c.log_level);
  c.storage = parse_storage(root);

  const json endpoints = root.value("endpoints", json::object());
  if (!endpoints.is_object()) invalid("endpoints", "must be an object");
  check_keys(endpoints, "endpoints.", {"ingest", "plugin_hosts", "live_feed", "admin"});
  c.ingest_endpoint = get_string(endpoints, "endpoints.", "ingest", "tcp://127.0.0.1:7001");
  c.plugin_host_endpoint = get_string(endpoints, "endpoints.", "plugin_hosts", "tcp://127.0.0.1:7002");
  c.live_feed_endpoint = get_string(endpoints, "endpoints.", "live_feed", "tcp://127.0.0.1:7003");
  c.admin_endpoint = get_string(endpoints, "endpoints.", "admin", "tcp://127.0.0.1:7004");
  check_endpoint("endpoints.ingest", c.ingest_endpoint);
  check_endpoint("endpoints.plugin_hosts", c.plugin_host_endpoint);
  check_endpoint("endpoints.live_feed", c.live_feed_endpoint);
  check_endpoint("endpoints.admin", c.admin_endpoint);
  parse_http(root, src, c);
  c.admin_token = get_string(root, "", "admin_token", "");
  if (!c.admin_token.empty() && c.admin_token.size() < 16)
    invalid("admin_token", "must be at least 16 characters (or empty: admin actions over HTTP refused)");

  const json limits = root.value("limits", json::object());
  if (!limits.is_object()) invalid("limits", "must be an object");
  check_keys(limits, "limits.", {"max_message_bytes", "max_batch_events", "max_requests_per_second"});
  c.max_message_bytes = static_cast<std::size_t>(get_int(limits, "limits.", "max_message_bytes", 64 << 20, 1024, 1ll << 31));
  c.max_batch_events = static_cast<std::size_t>(get_int(limits, "limits.", "max_batch_events", 100000, 1, 10000000));
  c.max_requests_per_second =
      static_cast<std::uint32_t>(get_int(limits, "limits.", "max_requests_per_second", 0, 0, 1000000));

  const json complaints = root.value("complaints", json::object());
  if (!complaints.is_object()) invalid("complaints", "must be an object, e.g. {\"deadline_days\": 15}");
  check_keys(complaints, "complaints.", {"deadline_days"});
  c.complaint_deadline_days = static_cast<int>(get_int(complaints, "complaints.", "deadline_days", 15, 1, 365));
  const json notice = root.value("notice", json::object());
  if (!notice.is_object()) invalid("notice", "must be an object, e.g. {\"period_days\": 7}");
  check_keys(notice, "notice.", {"period_days", "required"});
  c.notice_period_days = static_cast<int>(get_int(notice, "notice.", "period_days", 7, 0, 90));
  if (notice.contains("required") && !notice["required"].is_boolean())
    invalid("notice.required", "must be true (evaluations only through a confirmed notice) or false");
  c.notice_required = notice.value("required", false);

  const json delivery = root.value("delivery", json::object());
  if (!delivery.is_object()) invalid("delivery", "must be an object");
  check_keys(delivery, "delivery.",
             {"batch_events", "max_in_flight_batches", "retry_initial_ms", "retry_max_ms", "max_attempts", "call_timeout_ms"});
  c.delivery_batch_events = static_cast<std::size_t>(get_int(delivery, "delivery.", "batch_events", 512, 1, 100000));
  c.max_in_flight_batches = static_cast<std::size_t>(get_int(delivery, "delivery.", "max_in_flight_batches", 2, 1, 64));
  c.retry_initial_ms = get_int(delivery, "delivery.", "retry_initial_ms", 500, 1, 3600000);
  c.retry_max_ms = get_int(delivery, "delivery.", "retry_max_ms", 30000, c.retry_initial_ms, 86400000);
  c.max_attempts = get_int(delivery, "delivery.", "max_attempts", 5, 1, 1000);
  c.call_timeout_ms = get_int(delivery, "delivery.", "call_timeout_ms", 30000, 10, 86400000);

  const json security = root.value("security", json::object());
  if (!security.is_object()) invalid("security", "must be an object");
  check_keys(security, "security.", {"mode", "keys_dir", "clients_file", "audit_signing_key", "users_file"});
  const std::string mode = get_string(security, "security.", "mode", "curve");
  if (mode != "curve" && mode != "insecure")
    invalid("security.mode", "must be \"curve\" (the default) or \"insecure\" (loopback-only development), got '" +
                                 mode + "'");
  c.security.curve = mode == "curve";
  c.security.keys_dir = resolve(src.base_dir, get_string(security, "security.", "keys_dir", ""));
  c.security.clients_file = resolve(src.base_dir, get_string(security, "security.", "clients_file", ""));
  c.security.audit_signing_key = resolve(src.base_dir, get_string(security, "security.", "audit_signing_key", ""));
  c.security.users_file = resolve(src.base_dir, get_string(security, "security.", "users_file", ""));
  if (!c.security.curve) {
    for (const auto& [key, endpoint] : {std::pair{"endpoints.ingest", c.ingest_endpoint},
                                        std::pair{"endpoints.plugin_hosts", c.plugin_host_endpoint},
                                        std::pair{"endpoints.live_feed", c.live_feed_endpoint},
                                        std::pair{"endpoints.admin", c.admin_endpoint}})
      if (!is_loopback_endpoint(endpoint))
        invalid("security.mode", std::string("\"insecure\" is for development on one machine only, but ") + key +
                                     " is " + endpoint + ", which other machines can reach; use \"curve\" or bind "
                                     "it to 127.0.0.1");
  }

  std::string plugin_dir = get_string(root, "", "plugin_dir", "");
  plugin_dir = plugin_dir.empty() ? (fs::path(src.exe_dir) / ".." / "plugins").lexically_normal().string()
                                  : resolve(src.base_dir, plugin_dir);
  const std::string departments_dir = resolve(src.base_dir, get_string(root, "", "departments_dir", ""));

  auto plugins = root.find("plugins");
  if (plugins == root.end()) invalid("plugins", "required: the list of department plugins");
  if (!plugins->is_array()) invalid("plugins", "must be an array");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < plugins->size(); ++i) {
    const json& p = (*plugins)[i];
    const std::string where = "plugins[" + std::to_string(i) + "].";
    if (!p.is_object()) invalid(where.substr(0, where.size() - 1), "must be an object");
    check_keys(p, where,
               {"id", "enabled", "placement", "library", "catalogue", "settings", "villages", "statuses", "fields",
                "connector", "delivery"});
    PluginConfig pc;
    pc.id = get_string(p, where, "id", "");
    if (pc.id.empty()) invalid(where + "id", "required: the department id, e.g. \"schools\"");
    if (!is_valid_id(pc.id)) invalid(where + "id", "must be 1-64 letters, digits, '_', '.', ':' or '-' (got '" + pc.id + "')");
    if (!seen.insert(pc.id).second) invalid(where + "id", "department '" + pc.id + "' is listed twice");
    if (auto e = p.find("enabled"); e != p.end()) {
      if (!e->is_boolean()) invalid(where + "enabled", "must be true or false");
      pc.enabled = e->get<bool>();
    }
    const std::string placement = get_string(p, where, "placement", "in_process");
    if (placement == "host") {
      pc.placement = Placement::kHost;
    } else if (placement != "in_process") {
      invalid(where + "placement", "must be \"in_process\" (run inside hubd) or \"host\" (run in a hub-plugin-host "
                                   "that connects to endpoints.plugin_hosts); got '" + placement + "'");
    }
    const std::string library = get_string(p, where, "library", "");
    pc.library = library.empty() ? (fs::path(plugin_dir) / ("libhub_plugin_" + pc.id + ".so")).string()
                                 : resolve(src.base_dir, library);
    const std::string catalogue_path = get_string(p, where, "catalogue", "");
    if (!catalogue_path.empty()) {
      pc.catalogue_json = read_file(where + "catalogue", resolve(src.base_dir, catalogue_path));
    } else if (!departments_dir.empty()) {
      pc.catalogue_json = read_file(where + "catalogue", (fs::path(departments_dir) / (pc.id + ".json")).string());
    } else {
      auto it = embedded_catalogues().find(pc.id);
      if (it == embedded_catalogues().end())
        invalid(where + "catalogue", "no catalogue for department '" + pc.id +
                                         "': give \"catalogue\": \"path/to/" + pc.id + ".json\" or set departments_dir");
      pc.catalogue_json = it->second;
    }
    std::string catalogue_error;
    auto catalogue = hub::sdk::Catalogue::parse(pc.catalogue_json, &catalogue_error);
    if (!catalogue) invalid(where + "catalogue", "invalid catalogue: " + catalogue_error);
    if (catalogue->department() != pc.id)
      invalid(where + "catalogue", "the catalogue is for department '" + catalogue->department() + "', not '" + pc.id + "'");
    pc.catalogue = *catalogue;
    const json settings = p.value("settings", json::object());
    if (!settings.is_object()) invalid(where + "settings", "must be an object");
    pc.settings_json = settings.dump();
    pc.villages = get_string_list(p, where, "villages");
    pc.statuses = get_string_list(p, where, "statuses");
    for (const auto& s : pc.statuses) {
      auto st = hub::sdk::parse_household_status(s);
      if (!st || *st == hub::sdk::HouseholdStatus::kUnevaluated)
        invalid(where + "statuses", "unknown status '" + s + "' (credit, non_credit or breach)");
    }
    if (p.contains("fields")) {
      pc.fields_listed = true;
      pc.fields = 0;
      const std::vector<std::string> fields = get_string_list(p, where, "fields");
      const auto& names = event_field_names();
      for (std::size_t k = 0; k < fields.size(); ++k) {
        const std::string& f = fields[k];
        const std::string at = where + "fields[" + std::to_string(k) + "]";
        if (f == "seq" || f == "type" || f == "household_id" || f == "status") continue;  // always delivered
        const auto found = std::find(names.begin(), names.end(), f);
        if (found == names.end()) {
          std::string allowed;
          for (const auto& n : names) allowed += (allowed.empty() ? "" : ", ") + n;
          invalid(at, "unknown event field '" + f + "' (allowed: " + allowed +
                          "; seq, type, household_id and status are always delivered; the head of household, the "
                          "member count and the evaluation basis never are)");
        }
        const std::uint32_t bit = 1u << (found - names.begin());
        if (pc.fields & bit) invalid(at, "'" + f + "' is listed twice");
        pc.fields |= bit;
      }
    }
    if (!pc.villages.empty() && !(pc.fields & kFieldVillage))
      invalid(where + "fields", "must include \"village\": the department subscribes by village");
    if (auto it = p.find("connector"); it != p.end()) {
      pc.connector = parse_connector(*it, where + "connector", src.base_dir, c.data_dir, pc.id);
      // The plugin-host protocol carries neither the connector nor the hand-off back yet.
      if (pc.placement == Placement::kHost && pc.connector.type != hub::sdk::ConnectorConfig::Type::kNone)
        invalid(where + "connector",
                "a connector needs \"placement\": \"in_process\" for now (plugins in a hub-plugin-host cannot "
                "use one yet) / 连接器目前只能用于 hubd 内运行的插件");
    }
    const json pd = p.value("delivery", json::object());
    if (!pd.is_object()) invalid(where + "delivery", "must be an object");
    const std::string dwhere = where + "delivery.";
    check_keys(pd, dwhere, {"max_attempts", "call_timeout_ms", "retry_initial_ms", "retry_max_ms"});
    pc.max_attempts = get_int(pd, dwhere, "max_attempts", c.max_attempts, 1, 1000);
    pc.call_timeout_ms = get_int(pd, dwhere, "call_timeout_ms", c.call_timeout_ms, 10, 86400000);
    pc.retry_initial_ms = get_int(pd, dwhere, "retry_initial_ms", c.retry_initial_ms, 1, 3600000);
    pc.retry_max_ms = get_int(pd, dwhere, "retry_max_ms", std::max(c.retry_max_ms, pc.retry_initial_ms),
                              pc.retry_initial_ms, 86400000);
    c.plugins.push_back(std::move(pc));
  }
  return c;
}

}  // namespace

std::string HubConfig::keys_dir() const {
  return security.keys_dir.empty() ? (fs::path(data_dir) / "keys").string() : security.keys_dir;
}

std::string HubConfig::users_file() const {
  return security.users_file.empty() ? (fs::path(keys_dir()) / "users.json").string() : security.users_file;
}

std::string HubConfig::clients_file() const {
  return security.clients_file.empty() ? (fs::path(keys_dir()) / "clients.json").string() : security.clients_file;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

bool is_loopback_endpoint(const std::string& endpoint) {
  if (endpoint.rfind("tcp://", 0) != 0) return true;  // ipc:// and inproc:// never leave the machine
  std::string host = endpoint.substr(6, endpoint.rfind(':') == std::string::npos || endpoint.rfind(':') < 6
                                            ? std::string::npos
                                            : endpoint.rfind(':') - 6);
  return is_loopback_host(host);
}

std::variant<HubConfig, ConfigError> load_hub_config(const std::string& json_text, const ConfigSources& sources) {
  json root = json::parse(json_text, nullptr, false, /*ignore_comments=*/true);
  if (root.is_discarded()) return ConfigError{"", "the configuration is not valid JSON"};
  try {
    return parse(root, sources);
  } catch (const InvalidConfig& e) {
    return e.error;
  }
}

std::optional<HttpAddress> parse_http_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  HttpAddress out{text.substr(0, colon), 0};
  if (out.host.front() == '[' && out.host.back() == ']') out.host = out.host.substr(1, out.host.size() - 2);
  for (std::size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    out.port = out.port * 10 + (text[i] - '0');
    if (out.port > 65535) return std::nullopt;
  }
  if (out.host.empty() || out.host.find_first_of(" /") != std::string::npos) return std::nullopt;
  return out;
}

const std::vector<std::string>& event_field_names() {
  static const std::vector<std::string> names{"event_id",         "village",        "previous_status",
                                              "quarter",          "previous_quarter", "effective_date",
                                              "designations",     "correction"};
  return names;
}

bool PluginConfig::subscribes(const std::string& village, const std::string& status) const {
  auto listed = [](const std::vector<std::string>& list, const std::string& value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  return listed(villages, village) && listed(statuses, status);
}

}  // namespace hub
