// The verification walk of a chain kept in a PostgreSQL table (the events, the audit records,
// the ledger's deliveries): the rows of one hub read back in chain order, a chunk at a time, in
// one REPEATABLE READ READ ONLY snapshot, against the head in chain_head (pg_chain.h), with
// audit's walker (audit::verify_chain), so that a verifier names the first record modified,
// deleted, inserted or reordered exactly as it does for the SQLite files. Opens its own
// connection; any thread.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "store/postgresql/pg_connection.h"

namespace hub::store::pg {

// Fills `record` from row `row` of a chunk (the store's own columns, as its writer chained them).
using ReadRecord = std::function<void(const Rows& rows, int row, audit::ChainRecord& record)>;

struct ChainedTable {
  std::string chain;          // its row in chain_head: "events", "audit", "ledger"
  audit::ChainName name;      // the chain, in messages
  audit::ChainName log_name;  // what holds it, in messages ("unreadable")
  // One chunk: $1 = hub_id, $2 = the last seq read (0 first), ordered by the chain's seq, with
  // a LIMIT; read() sets the record's seq, from which the next chunk starts.
  std::string chunk_sql;
};

audit::VerifyResult verify_pg_chain(const std::string& dsn, const std::string& hub_id, const ChainedTable& table,
                                    const ReadRecord& read,
                                    const std::optional<std::array<unsigned char, 32>>& public_key = std::nullopt);

}  // namespace hub::store::pg
