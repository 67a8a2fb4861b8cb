// hub-plugin-host: runs department plugins on a department's own server and connects them to
// a hub's plugin-host endpoint (docs/plugin-host.md). Exit codes: 0 stopped by SIGTERM/SIGINT,
// 1 refused by the hub or cannot start, 2 usage or configuration error.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>

#include <zmq.hpp>

#include "common/command_line.h"
#include "config/config_fields.h"
#include "pluginhost/host_config.h"
#include "pluginhost/plugin_host.h"
#include "pluginhost/supervisor.h"
#include "runtime/daemon_main.h"

namespace {

namespace fs = std::filesystem;

constexpr const char* kDescription = R"(hub-plugin-host — 部门插件宿主 / Chengxin Hub plugin host

在部门自己的服务器上运行部门插件，并通过 TCP 连接到 hubd 的插件宿主端点。
Runs department plugins on the department's own server and connects them over TCP to
hubd's plugin-host endpoint (endpoints.plugin_hosts).)";

constexpr const char* kFooter = R"(配置文件示例 / a configuration file:
  {"hub": "tcp://10.0.0.5:7002", "plugins": ["police"], "data_dir": "/var/lib/chengxin-hub-host"}

配置键 / configuration keys:
  hub         hubd 的插件宿主端点（必需）/ the hub's plugin-host endpoint (required)
  plugins     本机运行的部门插件（必需）/ department plugins run here (required):
              ["police"] or [{"id": "police", "library": "/opt/x/libhub_plugin_police.so"}]
  plugin_dir  插件库目录 / where libhub_plugin_<id>.so are (default: ../plugins beside this program)
  data_dir    插件数据目录 / plugin data: data_dir/plugins/<id>/ (default: ./var)
  host_name   在 hub 中显示的名称 / name shown by the hub (default: this machine's host name)
  log_level   debug, info, warn, error (default: info)
  curve       加密与认证（hub 在另一台机器上时必需）/ encryption and authentication
              (required unless the hub is on this machine in insecure mode):
              {"hub_public_key": "hub.curve.pub", "secret_key_file": "police-server-1.curve.key"}
              密钥由 hubctl keygen 生成；公钥须登记在 hub 的 clients.json，角色
              department:<id> / make the key with hubctl keygen; the hub's clients file must
              list its public key with role department:<id> for each plugin here

政策目录和设置保存在 hub 的配置中，连接时由 hub 发送。
Catalogues and settings stay in the hub's configuration; the hub sends them when the host
connects. 断线后自动重连，从 hub 的游标继续，不丢失、不重复。 Reconnects by itself after
the hub or the network goes away and resumes from the hub's cursor.

插件使宿主崩溃时（段错误、abort、exit()……），守护进程以退避方式重启它（0.5 秒起，
每次加倍，最多 30 秒），hub 将该部门显示为 failing，并把崩溃计为该事件的一次失败尝试。
When a plugin crashes the host (segfault, abort, exit(), ...), its supervisor restarts it
with backoff (0.5 s, doubling, at most 30 s); the hub shows the department as failing and
counts the crash as a failed attempt of the event it was handling (parked after max_attempts).

退出码 / exit codes: 0 stopped (SIGTERM/Ctrl-C), 1 refused by the hub or cannot start,
2 usage or configuration error.)";

std::string machine_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "plugin-host";
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string hub_override;
  bool check_only = false;
  bool no_supervisor = false;
  CLI::App app(kDescription, "hub-plugin-host");
  app.footer(kFooter);
  hub::runtime::add_daemon_options(app, &config_path, "配置文件（必需）/ configuration file (required)")->required();
  app.add_option("--hub", hub_override, "覆盖配置中的 \"hub\" / overrides \"hub\" in the file")->type_name("ENDPOINT");
  app.add_flag("--check-config", check_only, "只检查配置并打印后退出 / check the configuration, print it, exit");
  app.add_flag("--no-supervisor", no_supervisor,
               "插件在本进程中运行，崩溃后不自动重启（调试用）/ run the plugins in this process, with no restart "
               "after a crash (for a debugger)");
  if (const auto exit_code = hub::command_line::parse_command_line(app, argc, argv)) return *exit_code;
  const bool supervised = !no_supervisor;

  const auto text = hub::runtime::read_file(config_path);
  if (!text) return hub::command_line::usage_error(app, "cannot read the configuration file " + config_path);
  nlohmann::json root = nlohmann::json::parse(*text, nullptr, false, true);
  if (!hub_override.empty() && root.is_object()) root["hub"] = hub_override;
  auto loaded = hub::pluginhost::load_host_config(root.is_discarded() ? *text : root.dump(),
                                                  fs::absolute(config_path).parent_path().string(), hub::config_fields::executable_dir(),
                                                  machine_name());
  if (auto* error = std::get_if<hub::ConfigError>(&loaded))
    return hub::command_line::usage_error(app, "invalid configuration in " + config_path + ": " + error->to_string());
  auto config = std::move(std::get<hub::pluginhost::HostConfig>(loaded));
  if (check_only) {
    nlohmann::json plugins = nlohmann::json::array();
    for (const auto& p : config.plugins) plugins.push_back({{"id", p.id}, {"library", p.library}});
    std::cout << nlohmann::json{{"hub", config.hub_endpoint},
                                {"host_name", config.host_name},
                                {"data_dir", config.data_dir},
                                {"curve", config.curve},
                                {"plugins", plugins}}
                     .dump(2)
              << "\n";
    return 0;
  }

  hub::runtime::start_logging("hub-plugin-host", config.log_level);
  if (const std::string error = hub::runtime::make_data_dir(config.data_dir); !error.empty())
    return hub::runtime::cannot_start("hub-plugin-host", error);
  // SIGTERM and SIGINT are blocked in every thread (the plugin threads inherit the mask, so no
  // blocking call there is interrupted) and collected by the main loop with sigtimedwait().
  const sigset_t signals = hub::runtime::block_signals({SIGTERM, SIGINT});
  // Runs the host in this process; `shared`/`restart` come from the supervisor, if any.
  auto serve = [&config, &signals](hub::pluginhost::SharedState* shared,
                                   std::optional<hub::pluginhost::Restart> restart) {
    try {
      zmq::context_t context(1);
      hub::pluginhost::PluginHost host(context, config, shared, std::move(restart));
      return host.run([&signals] {
        const timespec no_wait{0, 0};
        return sigtimedwait(&signals, nullptr, &no_wait) > 0;
      });
    } catch (const std::exception& e) {
      return hub::runtime::cannot_start("hub-plugin-host", e.what());
    }
  };
  if (!supervised) return serve(nullptr, std::nullopt);
  try {
    // No thread and no ZeroMQ context exist yet: the supervisor forks the host from here.
    return hub::pluginhost::supervise(
        config, [&serve](hub::pluginhost::SharedState& shared, const std::optional<hub::pluginhost::Restart>& restart) {
          return serve(&shared, restart);
        });
  } catch (const std::exception& e) {
    return hub::runtime::cannot_start("hub-plugin-host", e.what());
  }
}
