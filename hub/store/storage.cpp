#include "store/storage.h"

#include "store/sqlite/sqlite_storage.h"

namespace hub::store {

std::unique_ptr<Storage> open_storage(const HubConfig& config) {
  return std::make_unique<SqliteStorage>(config.data_dir);
}

}  // namespace hub::store
