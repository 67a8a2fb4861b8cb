#include "store/postgresql/pg_schema.h"

#include <string>

namespace hub::store::pg {

int ensure_schema(Connection& connection, std::string_view component, const std::vector<std::string_view>& steps) {
  Connection::Transaction tx(connection);
  // One upgrader at a time across every hubd on the cluster (released at COMMIT/ROLLBACK).
  connection.exec("SELECT pg_advisory_xact_lock(hashtext('chengxin-hub schema'))");
  connection.exec("CREATE TABLE IF NOT EXISTS hub_schema (component text PRIMARY KEY, version integer NOT NULL)");
  const Rows found =
      connection.exec("SELECT version FROM hub_schema WHERE component = $1", Params().text(component));
  const int version = found.empty() ? 0 : static_cast<int>(found.integer(0, 0));
  const int known = static_cast<int>(steps.size());
  if (version > known)
    throw PgError("XX000", "PostgreSQL: " + std::string(component) + " schema version " + std::to_string(version) +
                               " is newer than this hubd understands (" + std::to_string(known) +
                               "); upgrade hubd / 数据库版本比本程序新，请升级 hubd");
  for (int v = version; v < known; ++v) connection.exec(steps[static_cast<std::size_t>(v)]);
  if (version < known)
    connection.exec(
        "INSERT INTO hub_schema (component, version) VALUES ($1, $2) "
        "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        Params().text(component).integer(known));
  tx.commit();
  return version;
}

}  // namespace hub::store::pg
