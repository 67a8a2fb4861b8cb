// The SDK's connector implementations, made by make_connector() (connector_config.cpp).
// Internal to the SDK library: plugins use hub/sdk/connectors.h.
#pragma once

#include <memory>
#include <string>

#include "hub/sdk/connectors.h"

namespace hub::sdk::detail {

std::unique_ptr<Connector> make_spool_connector(const SpoolOptions& options, std::string* error);
std::unique_ptr<Connector> make_webhook_connector(const WebhookOptions& options, std::string* error);

// The parts of a webhook URL: "http://host:port" for the client, and the request path.
struct ParsedUrl {
  std::string scheme_host_port;
  std::string path;
};
// Accepts http:// and https:// URLs with a host, an optional port (1-65535) and an optional
// path (default "/"); no user info, query strings are kept in the path. Sets *error otherwise.
std::optional<ParsedUrl> parse_webhook_url(std::string_view url, std::string* error);

}  // namespace hub::sdk::detail
