// Random tampering of a hash chain kept in a table of a real SQLite file (events.db's `event`,
// ledger.db's `delivery`), as someone with the file and sqlite3 would do it: one record
// modified, deleted (with or without renumbering the rest), inserted (a well-chained forgery,
// renumbering the rest), appended after the head, or swapped with another. Each trial says
// which record verification must name. Shared by the event and ledger chain tests; the
// audit.db version of the same is in audit/audit_log_test.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "store/sqlite/database.h"

namespace hub::testing {

struct ChainTable {
  std::string table;       // "event", "delivery"
  std::string seq_column;  // the chain's seq: "seq", "chain_seq"
  std::int64_t records = 0;
  // Statements that change one field of record %K% (replaced by its seq) or what it refers to.
  std::vector<std::string> modifications;
  // Inserts a forged row at chain seq `seq` whose hash is chained onto `previous` correctly.
  std::function<void(store::Database&, std::int64_t seq, const audit::Hash& previous)> insert_chained;
};

struct Tampering {
  std::string what;
  std::int64_t named = 0;  // the record verification must name
};

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

inline audit::Hash stored_hash(store::Database& db, const ChainTable& t, std::int64_t seq) {
  audit::Hash out{};
  if (seq < 1) return out;
  store::Statement q(db, ("SELECT hash FROM " + t.table + " WHERE " + t.seq_column + " = ?").c_str());
  q.bind(1, seq);
  if (!q.step()) throw std::runtime_error("no record " + std::to_string(seq));
  const std::string bytes = q.column_blob(0);
  if (bytes.size() != out.size()) throw std::runtime_error("record " + std::to_string(seq) + " has no 32-byte hash");
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

// Moves the records with seq >= from by `by` (±1) without tripping over unique keys.
inline void renumber(store::Database& db, const ChainTable& t, std::int64_t from, int by) {
  const std::string& c = t.seq_column;
  db.exec(("UPDATE " + t.table + " SET " + c + " = -" + c + " WHERE " + c + " >= " + std::to_string(from)).c_str());
  db.exec(("UPDATE " + t.table + " SET " + c + " = -" + c + " + (" + std::to_string(by) + ") WHERE " + c + " < 0").c_str());
}

inline Tampering tamper(const std::string& path, const ChainTable& t, std::mt19937& rng) {
  auto pick = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  store::Database db(path, store::Database::Mode::kReadWrite);
  const std::int64_t k = pick(1, t.records);
  const std::string K = std::to_string(k);
  const std::string& c = t.seq_column;
  const std::string where = " WHERE " + c + " = " + K;
  switch (pick(0, 8)) {
    case 0:
    case 1:
    case 2: {
      const auto& m = t.modifications[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(t.modifications.size()) - 1))];
      const std::string statement = replace_all(m, "%K%", K);
      db.exec(statement.c_str());
      if (db.changes() != 1) throw std::runtime_error("changed " + std::to_string(db.changes()) + " rows: " + statement);
      return {"modify: " + statement, k};
    }
    case 3: db.exec(("DELETE FROM " + t.table + where).c_str()); return {"delete " + K, k};
    case 4:
      db.exec(("DELETE FROM " + t.table + where).c_str());
      renumber(db, t, k + 1, -1);
      return {"delete and renumber " + K, k};
    case 5: {
      // A careful forger: the inserted record chains onto its predecessor with a valid hash.
      const audit::Hash previous = stored_hash(db, t, k - 1);
      renumber(db, t, k, +1);
      t.insert_chained(db, k, previous);
      return {"insert (chained) and renumber " + K, k};
    }
    case 6:
      t.insert_chained(db, t.records + 1, stored_hash(db, t, t.records));
      return {"append after the head", t.records + 1};
    default: {
      std::int64_t j = pick(1, t.records - 1);
      if (j >= k) ++j;
      const std::string a = std::to_string(std::min(k, j)), b = std::to_string(std::max(k, j));
      // The two records trade places (everything but the seq moves).
      db.exec(("UPDATE " + t.table + " SET " + c + " = -" + c + " WHERE " + c + " IN (" + a + ", " + b + ")").c_str());
      db.exec(("UPDATE " + t.table + " SET " + c + " = CASE " + c + " WHEN -" + a + " THEN " + b + " ELSE " + a +
               " END WHERE " + c + " < 0").c_str());
      return {"swap " + a + " and " + b, std::min(k, j)};
    }
  }
}

// The 32 bytes as an SQL blob literal.
inline std::string blob_literal(const audit::Hash& h) { return "X'" + audit::to_hex(h.data(), h.size()) + "'"; }

}  // namespace hub::testing
