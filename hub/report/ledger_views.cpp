#include "report/ledger_views.h"

#include <filesystem>

namespace hub::report {

std::unique_ptr<store::Database> open_views(const std::string& data_dir) {
  namespace fs = std::filesystem;
  // Read-write mode only so that ATTACH works on a ledger that hubd has not created yet;
  // query_only then refuses every write through this connection.
  auto db = std::make_unique<store::Database>((fs::path(data_dir) / "ledger.db").string(),
                                              store::Database::Mode::kReadWrite);
  store::Statement attach(*db, "ATTACH DATABASE ? AS ev");
  attach.bind(1, (fs::path(data_dir) / "events.db").string());
  attach.run();
  db->exec("PRAGMA query_only=1");
  return db;
}

std::string policy_state_of_action(const std::string& action) {
  if (action == "apply" || action == "release" || action == "restore") return "applied";
  if (action == "defer") return "deferred";
  if (action == "withhold") return "withheld";
  return "not_applicable";
}

}  // namespace hub::report
