#include "store/postgresql/pg_chain_walk.h"

#include "store/postgresql/pg_chain.h"

namespace hub::store::pg {

audit::VerifyResult verify_pg_chain(const std::string& dsn, const std::string& hub_id, const ChainedTable& table,
                                    const ReadRecord& read,
                                    const std::optional<std::array<unsigned char, 32>>& public_key) {
  try {
    Connection c(dsn);
    c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");  // one snapshot for the walk
    const std::optional<audit::ChainHead> head = read_chain_head(c, hub_id, table.chain);
    Rows chunk(nullptr);
    int row = 0;
    std::int64_t after = 0;
    bool done = false;
    const audit::VerifyResult result = audit::verify_chain(
        table.name, head,
        [&](audit::ChainRecord& r) {
          if (done) return false;
          if (row >= chunk.size()) {
            chunk = c.exec(table.chunk_sql, Params().text(hub_id).integer(after));
            row = 0;
            if (chunk.empty()) {
              done = true;
              return false;
            }
          }
          read(chunk, row++, r);
          after = r.seq;
          return true;
        },
        public_key);
    c.exec("COMMIT");
    return result;
  } catch (const std::exception& e) {
    return audit::unreadable(table.log_name, "PostgreSQL (hub " + hub_id + ")", e.what());
  }
}

}  // namespace hub::store::pg
