// The shipped configuration compiled into hubd: config/hub.json and the department
// catalogues config/departments/<id>.json (generated at build time by embed_config.cmake).
#pragma once

#include <map>
#include <string>

namespace hub {

const char* embedded_hub_json();
// Department id -> catalogue JSON text.
const std::map<std::string, std::string>& embedded_catalogues();

}  // namespace hub
