// hubd: the Chengxin Hub daemon. Loads the configuration (a file, or the embedded defaults),
// opens the event log and the ledger in the data directory, starts the ingest, delivery,
// admin, live-feed and HTTP threads, and runs until SIGTERM or SIGINT, then stops them in
// order: HTTP first (it asks the admin thread), ingest (no new events), admin, delivery (in-
// flight deliveries drain into the ledger), and the live feed last (it hears from delivery).
// Departments placed on a plugin host are served through endpoints.plugin_hosts, which is bound
// only when at least one department has "placement": "host" (docs/plugin-host.md).
#include <fcntl.h>
#include <sys/file.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "admin/admin_server.h"
#include "audit/audit_trail.h"
#include "common/command_line.h"
#include "config/config_fields.h"
#include "config/embedded_config.h"
#include "config/hub_config.h"
#include "delivery/dispatcher.h"
#include "eventlog/event_log.h"
#include "http/http_server.h"
#include "http/tls_context.h"
#include "hub/sdk/version.h"
#include "ingest/ingest_server.h"
#include "livefeed/feed_notifier.h"
#include "livefeed/live_feed.h"
#include "pluginhost/host_transport.h"
#include "runtime/daemon_main.h"
#include "runtime/in_process_transport.h"
#include "security/gatekeeper.h"
#include "security/keys.h"
#include "store/sqlite/backup.h"
#include "store/sqlite/fault_vfs.h"
#include "store/storage.h"

namespace {

namespace fs = std::filesystem;

constexpr const char* kDescription = "hubd — 诚信枢纽守护进程 / Chengxin Hub daemon";

constexpr const char* kFooter =
    R"(Stops cleanly on SIGTERM or Ctrl-C; SIGHUP reloads the keys. Writes DATA_DIR/hubd.endpoints.json
once it is ready, and tells systemd so (READY=1) when started as a Type=notify service.
管理页面 / dashboard: the "http" address of the configuration (default http://127.0.0.1:8080/);
实时推送 / live feed: endpoints.live_feed (default tcp://127.0.0.1:7003).)";

int fail(const std::string& message) { return hub::runtime::cannot_start("hubd", message); }

// A mistake in the configuration: exit code 2, which systemd does not restart
// (RestartPreventExitStatus=2 in packaging/systemd/chengxin-hubd.service, docs/operations.md).
int config_fail(const std::string& message) {
  hub::runtime::cannot_start("hubd", message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string data_dir_override;
  bool print_config = false;
  CLI::App app(kDescription, "hubd");
  app.footer(kFooter);
  hub::runtime::add_daemon_options(app, &config_path,
                                   "configuration file (default: the embedded config/hub.json)");
  app.add_option("--data-dir", data_dir_override, "data directory (overrides \"data_dir\"; default ./var)")
      ->type_name("DIR");
  app.add_flag("--print-config", print_config, "print the configuration in use and exit");
  if (const auto exit_code = hub::command_line::parse_command_line(app, argc, argv)) return *exit_code;

  // Configuration: a bad one stops start-up here, naming the key.
  std::string text;
  hub::ConfigSources sources{fs::current_path().string(), hub::config_fields::executable_dir()};
  if (config_path.empty()) {
    text = hub::embedded_hub_json();
  } else {
    auto file = hub::runtime::read_file(config_path);
    if (!file) return fail("cannot read the configuration file " + config_path);
    text = std::move(*file);
    sources.base_dir = fs::absolute(config_path).parent_path().string();
  }
  auto loaded = hub::load_hub_config(text, sources);
  const std::string where = config_path.empty() ? std::string() : " in " + config_path;
  if (auto* error = std::get_if<hub::ConfigError>(&loaded))
    return config_fail("invalid configuration" + where + ": " + error->to_string());
  hub::HubConfig config = std::move(std::get<hub::HubConfig>(loaded));
  // The dashboard's certificate and key: that the files are there is the configuration's check;
  // that they hold a certificate and its key, the HTTP part's.
  if (!config.http_address.empty() && config.http.tls())
    if (const hub::Status tls = hub::http::check_tls_files(config.http); !tls.ok())
      return config_fail("invalid configuration" + where + ": " + tls.message + " [" + tls.code + "]");
  if (!data_dir_override.empty()) config.data_dir = fs::absolute(data_dir_override).lexically_normal().string();
  if (print_config) {
    nlohmann::json plugins = nlohmann::json::array();
    for (const auto& p : config.plugins)
      plugins.push_back({{"id", p.id},
                         {"enabled", p.enabled},
                         {"placement", p.placement == hub::Placement::kHost ? "host" : "in_process"},
                         {"library", p.library}});
    std::cout << nlohmann::json{{"data_dir", config.data_dir},
                                {"ingest", config.ingest_endpoint},
                                {"admin", config.admin_endpoint},
                                {"live_feed", config.live_feed_endpoint},
                                {"http", config.http_address},
                                {"plugin_hosts", config.plugin_host_endpoint},
                                {"plugins", plugins}}
                     .dump(2)
              << "\n";
    return 0;
  }

  hub::runtime::start_logging("hubd", config.log_level);
  if (const std::string error = hub::runtime::make_data_dir(config.data_dir); !error.empty()) return fail(error);
  // One hubd per data directory.
  const std::string lock_path = (fs::path(config.data_dir) / "hubd.lock").string();
  const int lock_fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0)
    return fail("another hubd is already using " + config.data_dir + " (" + lock_path + " is locked)");
  const fs::path endpoints_file = fs::path(config.data_dir) / "hubd.endpoints.json";
  std::error_code ec;
  fs::remove(endpoints_file, ec);

  // Signals are taken by sigwait() in this thread only. SIGHUP reloads the keys
  // (security.clients_file).
  const sigset_t signals = hub::runtime::block_signals({SIGTERM, SIGINT, SIGHUP});

  for (const auto& plugin : config.plugins)
    if (plugin.enabled && !plugin.fields_listed)
      spdlog::warn("plugin {}: no \"fields\" in its configuration, so it receives every event field; list only "
                   "the ones it needs (docs/security.md, data minimisation)",
                   plugin.id);

  // Test hook (docs/reliability.md): disk-full injection, only when HUB_TEST_DISK_FULL_FILE is set.
  if (hub::store::install_test_fault_vfs_from_env())
    spdlog::warn("TEST HOOK: SQLite writes fail with SQLITE_FULL (or syncs with SQLITE_IOERR_FSYNC) while {} exists",
                 std::getenv("HUB_TEST_DISK_FULL_FILE"));

  // Keys on first run (CURVE), before anything listens.
  std::string server_secret_key;
  if (config.security.curve) {
    try {
      for (const auto& created : hub::security::prepare_keys(config.keys_dir(), config.clients_file()))
        spdlog::info("security: first run, created {}", created);
      server_secret_key = hub::security::read_key_file((fs::path(config.keys_dir()) / "hub.curve.key").string());
    } catch (const std::exception& e) {
      return fail(std::string("cannot prepare the CURVE keys: ") + e.what());
    }
  } else {
    spdlog::warn("security: INSECURE mode (security.mode \"insecure\"): no encryption and no authentication on any "
                 "endpoint; anyone on this machine may publish, administer and receive every department's events. "
                 "For development on one machine only (docs/security.md) 不安全模式：仅限本机开发");
  }

  try {
    zmq::context_t context(1);
    std::optional<hub::audit::SigningKey> signing_key;
    if (!config.security.audit_signing_key.empty()) {
      try {
        signing_key = hub::audit::SigningKey::from_file(config.security.audit_signing_key);
      } catch (const std::exception& e) {
        return fail(std::string("security.audit_signing_key: ") + e.what());
      }
      spdlog::info("audit: every record is signed; public key {} (give it to the supervision group for "
                   "'hubctl audit verify --public-key')",
                   hub::audit::to_hex(signing_key->public_key.data(), signing_key->public_key.size()));
    }
    // The storage backend the configuration names (store/storage.h): it opens every store, and
    // each part is handed the ones it uses.
    const std::unique_ptr<hub::store::Storage> storage_backend = hub::store::open_storage(config);
    const hub::store::Storage& storage = *storage_backend;
    hub::audit::AuditTrail audit(storage.audit_logs(signing_key), storage.audit_location());
    audit.open();
    // The ZAP handler is bound before any server socket (Gatekeeper's constructor), and every
    // server socket is secured through it.
    std::unique_ptr<hub::security::Gatekeeper> gate;
    if (config.security.curve) {
      std::set<std::string> departments;
      for (const auto& p : config.plugins) departments.insert(p.id);
      gate = std::make_unique<hub::security::Gatekeeper>(context, server_secret_key, config.clients_file(),
                                                          departments, audit);
      hub::security::wipe(server_secret_key);
      const auto keys = gate->describe()["keys"];
      std::string names;
      for (const auto& k : keys)
        names += (names.empty() ? "" : ", ") + k["name"].get<std::string>() + " (" + k["roles"].dump() + ")";
      spdlog::info("security: CURVE on every TCP endpoint; hub public key {}; {} keys from {}: {}",
                   gate->server_public_key(), keys.size(), config.clients_file(), names);
    }
    // Declared first so that it stops last, after every writer.
    const std::unique_ptr<hub::store::Upkeep> upkeep = storage.start_upkeep();
    hub::EventLog event_log(storage.open_event_store());
    event_log.require_notice(config.notice_required);
    spdlog::info("hubd {} starting: data {}, {} households, last seq {}", HUB_SDK_VERSION_STRING, storage.describe(),
                 event_log.household_count(), event_log.last_seq());

    zmq::socket_t ingest_control(context, zmq::socket_type::pair);
    zmq::socket_t delivery_control(context, zmq::socket_type::pair);
    zmq::socket_t admin_control(context, zmq::socket_type::pair);
    zmq::socket_t feed_control(context, zmq::socket_type::pair);
    ingest_control.bind("inproc://control-ingest");
    delivery_control.bind("inproc://control-delivery");
    admin_control.bind("inproc://control-admin");
    feed_control.bind("inproc://control-feed");

    hub::livefeed::LiveFeed feed(context, config, "inproc://control-feed", "inproc://live-feed", event_log.last_seq(),
                                 storage.event_readers(), gate.get());
    // Delivery is given its transports and its live-feed observer; it owns none of them.
    hub::livefeed::FeedNotifier feed_notifier(context, "inproc://live-feed", feed);
    hub::runtime::InProcessTransport in_process(context, config.data_dir);
    hub::pluginhost::HostTransport hosts(context, config, gate.get());
    hub::delivery::Dispatcher dispatcher(context, config, "inproc://control-delivery", "inproc://committed",
                                         "inproc://delivery-status", event_log.last_seq(),
                                         {storage.open_ledger(), storage.event_readers()}, {&in_process, &hosts},
                                         &feed_notifier);
    hub::IngestServer ingest(context, config, event_log, "inproc://control-ingest", "inproc://committed", gate.get(),
                             "inproc://ingest-web");
    // The read views of the storage backend, opened per request on the reader's thread.
    const hub::report::ReportViewsOpener open_views = storage.report_views();
    // `hubctl backup`: the backend copies the files hubd knows of (docs/operations.md), on the
    // admin part's backup thread.
    const hub::store::BackupSources backup_sources{
        config.data_dir, config.security.curve ? config.keys_dir() : std::string(), config.security.audit_signing_key,
        config_path.empty() ? std::string() : fs::absolute(config_path).string(), text, HUB_SDK_VERSION_STRING};
    const bool data_in_files = config.storage.backend == hub::StorageBackend::kSqlite;
    auto make_backup = [backup_sources, data_in_files](const std::string& dir,
                                                       const std::function<void(const std::string&)>& progress,
                                                       const std::atomic<bool>& cancel) {
      // On PostgreSQL the data is the cluster's to back up (and to replicate): copying only the
      // keys and the configuration would look like a backup and restore to an empty hub.
      if (!data_in_files)
        throw hub::StorageError(hub::Status::error(
            "backup_unsupported",
            "数据在 PostgreSQL 中，请用数据库集群的备份 / the data is in PostgreSQL: back it up with the cluster's "
            "own tools (pg_basebackup, or the failover manager's backups; docs/deployment.md), and keep the keys "
            "directory and hub.json with it"));
      return hub::store::make_backup(backup_sources, dir, progress, cancel);
    };
    // The complaints register's store, created or upgraded now: one that cannot be opened stops
    // hubd at start rather than at the first complaint.
    const hub::complaints::ComplaintStoreOpener complaint_stores = storage.complaint_stores();
    (void)complaint_stores();
    hub::AdminServer admin(context, config, open_views, "inproc://control-admin", "inproc://delivery-status", audit,
                           "inproc://admin-internal", gate.get(), make_backup, complaint_stores,
                           "inproc://ingest-web");
    std::unique_ptr<hub::http::HttpServer> http;
    if (!config.http_address.empty())
      http = std::make_unique<hub::http::HttpServer>(context, config, open_views, "inproc://admin-internal", &audit,
                                                     "inproc://ingest-web");

    std::thread delivery_thread([&] {
      try {
        dispatcher.run();
      } catch (const std::exception& e) {
        spdlog::critical("delivery stopped: {}", e.what());
        std::_Exit(70);  // never keep acknowledging events that nobody will deliver
      }
    });
    std::thread ingest_thread([&] {
      try {
        ingest.run();
      } catch (const std::exception& e) {
        spdlog::critical("ingest stopped: {}", e.what());
        std::_Exit(70);
      }
    });
    std::thread admin_thread([&] { admin.run(); });
    std::thread feed_thread([&] { feed.run(); });
    std::thread http_thread;
    if (http) http_thread = std::thread([&] { http->run(); });

    const std::string http_url = http ? http->url() : std::string();
    {
      nlohmann::json endpoints{{"ingest", ingest.bound_endpoint()},
                               {"admin", admin.bound_endpoint()},
                               {"live_feed", feed.bound_endpoint()},
                               {"http", http_url},
                               {"security", gate ? "curve" : "insecure"},
                               {"pid", ::getpid()}};
      if (gate) {
        endpoints["server_public_key"] = gate->server_public_key();
        endpoints["keys_dir"] = config.keys_dir();
      }
      if (!hosts.bound_endpoint().empty()) endpoints["plugin_hosts"] = hosts.bound_endpoint();
      const fs::path tmp = endpoints_file.string() + ".tmp";
      std::ofstream(tmp) << endpoints.dump() << "\n";
      fs::rename(tmp, endpoints_file);
    }
    spdlog::info("hubd ready: ingest {}, admin {}, live feed {}, {} plugins{}", ingest.bound_endpoint(),
                 admin.bound_endpoint(), feed.bound_endpoint(), config.plugins.size(),
                 hosts.bound_endpoint().empty() ? "" : ", plugin hosts " + hosts.bound_endpoint());
    if (http) spdlog::info("hubd dashboard 管理页面: {}", http_url);
    // systemd (Type=notify): ready once the endpoints file is there, so that units ordered
    // after chengxin-hubd.service find it. A no-op without $NOTIFY_SOCKET.
    sd_notify(0, "READY=1");

    int signal_number = 0;
    for (;;) {
      sigwait(&signals, &signal_number);
      if (signal_number != SIGHUP) break;
      if (!gate) {
        spdlog::info("hubd: SIGHUP received; nothing to reload (security.mode \"insecure\": no keys)");
        continue;
      }
      // The same operator action as `hubctl keys reload`, with SIGHUP as its actor: audited
      // first, not done if it cannot be (the gatekeeper and the admin server log the outcome).
      // systemctl reload waits for READY=1 after RELOADING=1 (ExecReload sends the SIGHUP).
      sd_notify(0, "RELOADING=1");
      admin.reload_keys("SIGHUP");
      sd_notify(0, "READY=1");
    }
    spdlog::info("hubd: {} received, stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    sd_notify(0, "STOPPING=1");

    auto stop = [](zmq::socket_t& control, std::thread& thread) {
      control.send(zmq::buffer(std::string("$TERM")), zmq::send_flags::none);
      thread.join();
    };
    // Admin before delivery: its status requests are answered by the dispatcher, which stops
    // answering once it drains.
    if (http) {
      http->stop();
      http_thread.join();
    }
    stop(ingest_control, ingest_thread);
    stop(admin_control, admin_thread);
    stop(delivery_control, delivery_thread);
    stop(feed_control, feed_thread);
    fs::remove(endpoints_file, ec);
    spdlog::info("hubd stopped cleanly");
  } catch (const std::exception& e) {
    return fail(std::string("cannot start: ") + e.what());
  }
  return 0;
}
