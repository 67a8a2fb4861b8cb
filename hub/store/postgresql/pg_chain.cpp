#include "store/postgresql/pg_chain.h"

#include <cstring>

#include "store/postgresql/pg_schema.h"

namespace hub::store::pg {

namespace {

constexpr const char* kUpsertHead =
    "INSERT INTO chain_head (hub_id, chain, seq, hash) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (hub_id, chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";

Params head_params(const std::string& hub_id, const std::string& chain, std::int64_t seq, const Hash& hash) {
  return Params().text(hub_id).text(chain).integer(seq).bytes(hash_bytes(hash));
}

}  // namespace

std::string hash_bytes(const Hash& hash) { return {reinterpret_cast<const char*>(hash.data()), hash.size()}; }

void ensure_chain_schema(Connection& connection) {
  ensure_schema(connection, "chains",
                {"CREATE TABLE chain_head (hub_id text NOT NULL, chain text NOT NULL, seq bigint NOT NULL, "
                 "hash bytea NOT NULL, PRIMARY KEY (hub_id, chain))"});
}

void PgChain::load(Connection& connection) {
  const Rows rows = connection.exec("SELECT seq, hash FROM chain_head WHERE hub_id = $1 AND chain = $2",
                                    Params().text(hub_id_).text(chain_));
  seq_ = 0;
  hash_ = Hash{};
  if (!rows.empty()) {
    seq_ = rows.integer(0, 0);
    const std::string bytes = rows.bytes(0, 1);
    if (bytes.size() != hash_.size())
      throw PgError("XX000", "PostgreSQL: the " + chain_ + " chain head of hub " + hub_id_ + " is not 32 bytes");
    std::memcpy(hash_.data(), bytes.data(), hash_.size());
  }
  previous_ = Hash{};
  committed_seq_ = seq_;
  committed_hash_ = hash_;
  linked_ = false;
}

void PgChain::send_head(Pipeline& pipeline) const {
  if (linked_) pipeline.send(kUpsertHead, head_params(hub_id_, chain_, seq_, hash_));
}

void PgChain::write_head(Connection& connection) const {
  if (linked_) connection.exec(kUpsertHead, head_params(hub_id_, chain_, seq_, hash_));
}

void PgChain::committed() noexcept {
  committed_seq_ = seq_;
  committed_hash_ = hash_;
  linked_ = false;
}

void PgChain::rolled_back() noexcept {
  seq_ = committed_seq_;
  hash_ = committed_hash_;
  linked_ = false;
}

std::optional<audit::ChainHead> read_chain_head(Connection& connection, const std::string& hub_id,
                                                const std::string& chain) {
  const Rows rows = connection.exec("SELECT seq, hash FROM chain_head WHERE hub_id = $1 AND chain = $2",
                                    Params().text(hub_id).text(chain));
  if (rows.empty()) return std::nullopt;
  const std::string bytes = rows.bytes(0, 1);
  return audit::ChainHead{rows.integer(0, 0), audit::to_hex(reinterpret_cast<const unsigned char*>(bytes.data()),
                                                            bytes.size())};
}

}  // namespace hub::store::pg
