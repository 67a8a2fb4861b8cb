// The dashboard's static files (hub/http/static/), compiled into hubd by embed_static.cmake:
// path ("/index.html", "/vendor/chart.umd.min.js") → contents.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace hub::http {

const std::map<std::string, std::string_view>& static_files();

}  // namespace hub::http
