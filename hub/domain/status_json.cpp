#include "domain/status_json.h"

namespace hub {

nlohmann::json error_reply(const Status& status) {
  nlohmann::json e{{"code", status.code}, {"message", status.message}};
  if (!status.field.empty()) e["field"] = status.field;
  return nlohmann::json{{"ok", false}, {"error", std::move(e)}};
}

}  // namespace hub
