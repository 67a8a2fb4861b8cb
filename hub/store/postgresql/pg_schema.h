// The PostgreSQL backend's schema versions (issue 16): each component of the backend (the event
// log, the ledger, the audit log) creates and upgrades its own tables with a version, like the
// SQLite files' user_version, recorded in one table of the database:
//
//   hub_schema(component text PRIMARY KEY, version integer)
//
// The tables are shared by every hub on the cluster (several towns, or the two hubd of a
// failover pair): every key starts with hub_id, so versions belong to the database, not to a
// hub. hubd upgrades at start-up, in one transaction under an advisory lock, so two hubd that
// start together do not both upgrade; a database newer than this hubd is refused.
#pragma once

#include <string_view>
#include <vector>

#include "store/postgresql/pg_connection.h"

namespace hub::store::pg {

// Brings `component` to version steps.size(): steps[i] is the SQL (one or more statements)
// that takes it from version i to i + 1; version 0 is "no tables". Returns the version found
// before. Throws PgError (SQLSTATE "XX000": a bug-kind StorageError) naming the component when
// the database is newer than `steps` knows, or the server's error when a step fails (nothing of
// the upgrade is kept then).
int ensure_schema(Connection& connection, std::string_view component, const std::vector<std::string_view>& steps);

}  // namespace hub::store::pg
