// Connectors: how a department's policy actions reach the department's own system.
//
// After a plugin has decided the actions for one event, a connector hands them over:
//   - spool:   one JSONL file per event in a drop folder, written atomically (temporary file,
//              fsync, rename; the folder is fsync'd by sync()), named so that `ls` lists them in
//              delivery order: "<department>-<seq, 20 digits>.jsonl".
//   - webhook: one HTTP POST per event (a JSON batch of that event's actions) with the header
//              `Idempotency-Key: <department>:<seq>`; 2xx is delivered, anything else (or a
//              timeout) is retried with exponential backoff, and fails after `attempts` tries.
// Both carry the event's idempotency key, stable across redeliveries, so the department's
// system can apply each event once (docs/connectors.md says how).
//
// hubd runs the connector chosen in a plugin's configuration ("connector": {...}) on the
// plugin's delivery thread, after the actions were validated; a failed hand-off makes the
// event fail for that department, so it is retried from that event. A plugin may also make
// and use a connector itself. A Connector is not thread-safe: use each from one thread.
// deliver() never throws.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/sdk/types.h"

namespace hub::sdk {

struct SpoolOptions {
  std::string dir;  // the drop folder; created if missing
};

struct WebhookOptions {
  std::string url;                 // http://host[:port][/path] or https://…
  std::int64_t timeout_ms = 5000;  // per attempt: connecting, sending and reading the reply
  int attempts = 3;                // tries per deliver() call, >= 1
  std::int64_t backoff_initial_ms = 200;  // pause after the first failed try; doubles each time
  std::int64_t backoff_max_ms = 5000;     // … up to this
  std::map<std::string, std::string> headers;  // extra request headers, e.g. Authorization
};

// A connector chosen in configuration. kNone: actions stay in the hub's ledger only.
struct ConnectorConfig {
  enum class Type { kNone, kSpool, kWebhook };
  Type type = Type::kNone;
  SpoolOptions spool;
  WebhookOptions webhook;
};

// "none", "spool", "webhook" — the spelling in configuration and in the ledger.
std::string_view to_string(ConnectorConfig::Type type) noexcept;

// Parses {"type":"spool","dir":"…"} or {"type":"webhook","url":"…","timeout_ms":…,
// "attempts":…,"backoff_initial_ms":…,"backoff_max_ms":…,"headers":{…}} or {"type":"none"}.
// Unknown keys, wrong types and out-of-range values are refused. On failure returns nothing
// and sets *error_key to the offending key ("url", "attempts", "headers.X-Token", or "" for
// the whole object) and *error to what is wrong. A spool "dir" may be left out: the caller
// then chooses one (hubd uses <data_dir>/spool/<department>).
std::optional<ConnectorConfig> parse_connector_config(std::string_view json_text, std::string* error_key,
                                                      std::string* error);

// The result of one hand-off.
struct HandoffResult {
  bool ok = false;
  std::string detail;  // ok: where it went (file name, "HTTP 201, attempt 2"); failed: why
};

class Connector {
 public:
  virtual ~Connector() = default;
  virtual ConnectorConfig::Type type() const noexcept = 0;
  // Hands over the actions decided for `event`. Blocks until the department has them (file
  // complete and renamed into place; 2xx received) or the connector gives up.
  virtual HandoffResult deliver(const Event& event, const std::vector<PolicyAction>& actions) noexcept = 0;

  // Makes every hand-off since the last sync() survive a power cut (the spool fsyncs its
  // folder once for a run of files instead of once per file). Call it before recording the
  // deliveries anywhere; if it fails, treat those hand-offs as not done.
  virtual HandoffResult sync() noexcept { return {true, {}}; }
};

// Makes the connector for `config`; nullptr for Type::kNone. On an unusable configuration
// (spool folder that cannot be created, malformed URL) returns nullptr and sets *error.
std::unique_ptr<Connector> make_connector(const ConnectorConfig& config, std::string* error);

// The JSON object describing one event's actions, as the webhook posts it and as each spool
// line repeats it per action (see docs/connectors.md):
//   {"idempotency_key":"police:42","department":"police","seq":42,"event_id":"…",
//    "household_id":"V03-00417","village":"V03","quarter":"2020Q3","correction":false,
//    "actions":[{"policy_id":"…","action":"defer","amount_fen":null,"reason":"…"}]}
std::string actions_batch_json(const Event& event, const std::vector<PolicyAction>& actions);

// The spool lines for one event: one JSON object per action, each ending in '\n'.
std::string actions_jsonl(const Event& event, const std::vector<PolicyAction>& actions);

// "<department>-<seq, 20 digits>.jsonl", the department being the idempotency key up to its
// last ':' (characters other than letters, digits, '_', '-' and '.' replaced by '_').
std::string spool_file_name(const Event& event);

}  // namespace hub::sdk
