#include "store/storage.h"

#include "store/postgresql/pg_storage.h"
#include "store/sqlite/sqlite_storage.h"

namespace hub::store {

std::unique_ptr<Storage> open_storage(const HubConfig& config) {
  if (config.storage.backend == StorageBackend::kPostgresql)
    return std::make_unique<pg::PgStorage>(config.storage.dsn, config.storage.hub_id);
  return std::make_unique<SqliteStorage>(config.data_dir);
}

}  // namespace hub::store
