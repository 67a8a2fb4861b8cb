// The webhook connector: one HTTP POST per event to the department's system.
//
// The body is the event's actions as one JSON batch (actions_batch_json), with the headers
// Idempotency-Key: <department>:<seq> and Content-Type: application/json. Any 2xx reply means
// the department has the batch. A connection error, a timeout or any other status is retried
// after a pause that starts at backoff_initial_ms and doubles up to backoff_max_ms, at most
// `attempts` tries in all; then the hand-off fails and the hub retries the event later (with
// the same key, so the department can recognise a batch it already applied).
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <thread>

#include "connector_internal.h"

namespace hub::sdk::detail {
namespace {

class WebhookConnector final : public Connector {
 public:
  WebhookConnector(WebhookOptions options, ParsedUrl url)
      : options_(std::move(options)), url_(std::move(url)), client_(url_.scheme_host_port) {
    const auto timeout = std::chrono::milliseconds(options_.timeout_ms);
    client_.set_connection_timeout(timeout);
    client_.set_read_timeout(timeout);
    client_.set_write_timeout(timeout);
    client_.set_keep_alive(true);  // one connection for a run of events
    client_.set_tcp_nodelay(true);  // a small request per event: do not wait for Nagle
    for (const auto& [name, value] : options_.headers) headers_.emplace(name, value);
  }

  ConnectorConfig::Type type() const noexcept override { return ConnectorConfig::Type::kWebhook; }

  HandoffResult deliver(const Event& event, const std::vector<PolicyAction>& actions) noexcept override {
    try {
      return post(event, actions);
    } catch (const std::exception& e) {
      return {false, "webhook " + options_.url + ": " + e.what()};
    }
  }

 private:
  HandoffResult post(const Event& event, const std::vector<PolicyAction>& actions) {
    if (actions.empty()) return {true, "no actions to hand over"};
    const std::string body = actions_batch_json(event, actions);
    httplib::Headers headers = headers_;
    headers.emplace("Idempotency-Key", event.idempotency_key);
    std::string last_failure;
    std::int64_t pause_ms = options_.backoff_initial_ms;
    for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
      if (attempt > 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        pause_ms = std::min(options_.backoff_max_ms, pause_ms * 2);
      }
      const auto result = client_.Post(url_.path, headers, body, "application/json");
      if (result && result->status >= 200 && result->status < 300)
        return {true, "HTTP " + std::to_string(result->status) + ", attempt " + std::to_string(attempt)};
      last_failure = result ? "HTTP " + std::to_string(result->status) : httplib::to_string(result.error());
      client_.stop();  // do not reuse a connection in an unknown state
    }
    return {false, "webhook POST " + options_.url + " failed after " + std::to_string(options_.attempts) +
                       (options_.attempts == 1 ? " attempt" : " attempts") + ", last: " + last_failure};
  }

  WebhookOptions options_;
  ParsedUrl url_;
  httplib::Client client_;
  httplib::Headers headers_;
};

bool valid_host_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

}  // namespace

std::optional<ParsedUrl> parse_webhook_url(std::string_view url, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<ParsedUrl> {
    if (error) *error = "'" + std::string(url) + "' is not a usable URL: " + why;
    return std::nullopt;
  };
  std::string_view scheme;
  if (url.starts_with("http://")) scheme = "http";
  else if (url.starts_with("https://")) scheme = "https";
  else return fail("it must start with http:// or https://");
  std::string_view rest = url.substr(scheme.size() + 3);
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (path.find_first_of(" \r\n\t") != std::string::npos) return fail("the path contains white space");

  std::string_view host = authority;
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    const std::string_view port = authority.substr(colon + 1);
    int number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number < 1 || number > 65535)
      return fail("the port must be a number from 1 to 65535");
  }
  if (host.empty()) return fail("the host is missing");
  if (!std::all_of(host.begin(), host.end(), valid_host_character))
    return fail("the host may contain only letters, digits, '.', '-' and '_' (no user name or IPv6 literal)");
  return ParsedUrl{std::string(scheme) + "://" + std::string(authority), path};
}

std::unique_ptr<Connector> make_webhook_connector(const WebhookOptions& options, std::string* error) {
  auto url = parse_webhook_url(options.url, error);
  if (!url) return nullptr;
  if (options.attempts < 1 || options.timeout_ms < 1 || options.backoff_initial_ms < 0 ||
      options.backoff_max_ms < options.backoff_initial_ms) {
    if (error) *error = "webhook: attempts and timeout_ms must be at least 1, backoff_max_ms >= backoff_initial_ms >= 0";
    return nullptr;
  }
  return std::make_unique<WebhookConnector>(options, std::move(*url));
}

}  // namespace hub::sdk::detail
