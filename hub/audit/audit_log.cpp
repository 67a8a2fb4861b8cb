#include "audit/audit_log.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <fstream>
#include <memory>
#include <stdexcept>


namespace hub::audit {
namespace {


void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

// SHA-256 with OpenSSL's libcrypto, which uses the CPU's SHA extensions where it has them
// (libsodium's SHA-256 is portable C, about 5x slower here; the chains hash every event and
// every delivery on the hub's hot paths). Same function, same bytes: the tests check it
// against libsodium's crypto_hash_sha256.
class Sha256 {
 public:
  Sha256() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    thread_local const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    ctx_ = context.get();
    if (md == nullptr || ctx_ == nullptr || EVP_DigestInit_ex(ctx_, md, nullptr) != 1)
      throw std::runtime_error("SHA-256 is not available (OpenSSL libcrypto)");
  }
  void update(const void* data, std::size_t size) {
    if (EVP_DigestUpdate(ctx_, data, size) != 1) throw std::runtime_error("SHA-256 update failed");
  }
  void put_u64(std::int64_t value) {
    unsigned char bytes[8];
    const auto v = static_cast<std::uint64_t>(value);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(v >> (56 - 8 * i));
    update(bytes, sizeof bytes);
  }
  void put_text(const std::string& text) {
    unsigned char bytes[4];
    const auto n = static_cast<std::uint32_t>(text.size());
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<unsigned char>(n >> (24 - 8 * i));
    update(bytes, sizeof bytes);
    update(text.data(), text.size());
  }
  Hash final() {
    Hash out;
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx_, out.data(), &size) != 1 || size != out.size()) throw std::runtime_error("SHA-256 failed");
    return out;
  }

 private:
  EVP_MD_CTX* ctx_ = nullptr;
};

std::string hex(const Hash& h) { return to_hex(h.data(), h.size()); }

std::string bilingual(const std::string& zh, const std::string& en) { return zh + " / " + en; }

}  // namespace

std::string sha256_hex(std::istream& in) {
  Sha256 sha;
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) sha.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  return hex(sha.final());
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::optional<std::vector<unsigned char>> from_hex(const std::string& text, std::size_t size) {
  if (text.size() != size * 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<unsigned char> out(size);
  for (std::size_t i = 0; i < size; ++i) {
    const int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return out;
}

SigningKey SigningKey::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the signing key " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  const auto bytes = from_hex(line, 64);
  if (!bytes) throw std::runtime_error(path + " is not an Ed25519 secret key (128 hex digits, NAME.sign.key from hubctl keygen)");
  SigningKey key;
  std::copy(bytes->begin(), bytes->end(), key.secret_key.begin());
  crypto_sign_ed25519_sk_to_pk(key.public_key.data(), key.secret_key.data());
  return key;
}

SigningKey SigningKey::generate() {
  ensure_sodium();
  SigningKey key;
  crypto_sign_keypair(key.public_key.data(), key.secret_key.data());
  return key;
}

Hash record_hash(const Hash& previous, std::int64_t seq, std::int64_t at_ms, const AuditEntry& entry) {
  Sha256 sha;
  sha.update(previous.data(), previous.size());
  sha.put_u64(seq);
  sha.put_u64(at_ms);
  sha.put_text(entry.kind);
  sha.put_text(entry.actor);
  sha.put_text(entry.subject);
  sha.put_text(entry.detail);
  return sha.final();
}

std::string signature_hex(const Hash& hash, const SigningKey& key) {
  ensure_sodium();
  std::array<unsigned char, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, hash.data(), hash.size(), key.secret_key.data());
  return to_hex(signature.data(), signature.size());
}

RowDetail& RowDetail::null() {
  bytes_ += 'n';
  return *this;
}

RowDetail& RowDetail::integer(std::int64_t value) {
  bytes_ += 'i';
  const auto v = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) bytes_ += static_cast<char>(v >> (56 - 8 * i));
  return *this;
}

void RowDetail::length_prefixed(char tag, std::string_view value) {
  bytes_ += tag;
  const auto n = static_cast<std::uint32_t>(value.size());
  for (int i = 0; i < 4; ++i) bytes_ += static_cast<char>(n >> (24 - 8 * i));
  bytes_.append(value);
}

RowDetail& RowDetail::text(std::string_view value) {
  length_prefixed('t', value);
  return *this;
}

RowDetail& RowDetail::blob(std::string_view value) {
  length_prefixed('b', value);
  return *this;
}

RowDetail& RowDetail::real(std::string_view printed) {
  length_prefixed('r', printed);
  return *this;
}

std::string blob_to_hex(const std::string& blob) {
  return to_hex(reinterpret_cast<const unsigned char*>(blob.data()), blob.size());
}

VerifyResult unreadable(const ChainName& name, const std::string& path, const std::string& why) {
  VerifyResult result;
  result.problem = "unreadable";
  result.message = bilingual("无法读取" + name.zh + " " + path, "cannot read the " + name.en + " " + path + ": " + why);
  return result;
}

VerifyResult verify_chain(const ChainName& name, const std::optional<ChainHead>& head, const NextRecord& next,
                          const std::optional<std::array<unsigned char, 32>>& public_key) {
  ensure_sodium();
  VerifyResult result;
  std::string previous_subject;  // of record expected - 1
  auto fail = [&](std::int64_t seq, const std::string& subject, const std::string& problem, const std::string& zh,
                  const std::string& en) {
    result.ok = false;
    result.first_bad_seq = seq;
    result.first_bad_subject = subject;
    result.problem = problem;
    const std::string about = subject.empty() ? "" : " (" + subject + ")";
    result.message = bilingual(name.zh + "第 " + std::to_string(seq) + " 条记录" + about + zh,
                               name.en + ": record " + std::to_string(seq) + about + " " + en);
    return result;
  };
  const std::string zeros(64, '0');
  std::string previous_hash = zeros, before_previous_hash;  // hex
  std::int64_t expected = 1;
  auto computed = [](const ChainRecord& r, std::int64_t seq) {
    Hash previous{};
    if (const auto bytes = from_hex(r.prev_hash, previous.size())) std::copy(bytes->begin(), bytes->end(), previous.begin());
    return hex(record_hash(previous, seq, r.at_ms, r.entry));
  };
  ChainRecord r;
  while (next(r)) {
    const std::string& subject = r.entry.subject;
    if (r.seq > expected)
      return fail(expected, "", "deleted", "已被删除（序号跳过）", "was deleted: the chain jumps from record " +
                                                              std::to_string(expected - 1) + " to " + std::to_string(r.seq));
    if (r.seq < expected)  // possible only where the seq is not a key (ledger.db's chain_seq)
      return fail(r.seq, subject, "inserted", "是插入的（序号重复）",
                  "was inserted: another record has the same place in the chain");
    if (r.hash.empty())
      return fail(r.seq, subject, "inserted", "不在链中（没有哈希）",
                  "is not in the chain: it has no hash (inserted, or its hash was removed)");
    const bool chained = r.prev_hash == previous_hash;
    const bool intact = computed(r, r.seq) == r.hash;
    if (!chained || !intact) {
      // Find what happened from what the record still matches.
      if (!chained && expected > 1 && r.prev_hash == before_previous_hash)
        return fail(expected - 1, previous_subject, "inserted", "是插入的（原链中没有它）",
                    "was inserted: record " + std::to_string(r.seq) + " follows the record before it");
      if (!chained && r.prev_hash != previous_hash && computed(r, r.seq + 1) == r.hash)
        return fail(expected, "", "deleted", "已被删除或移动（此处是下一条记录的内容）",
                    "was deleted or moved: this place holds the record that belongs at " + std::to_string(r.seq + 1));
      if (chained && !intact)
        return fail(r.seq, subject, "modified", "已被修改（内容与哈希不符）", "was modified: its content does not match its hash");
      if (!chained && intact)
        return fail(r.seq, subject, "reordered", "顺序被改动（与前一条记录不衔接）",
                    "was reordered or moved: it does not follow record " + std::to_string(r.seq - 1));
      return fail(r.seq, subject, "modified", "已被修改或移动", "was modified or moved: neither its content nor its place "
                                                             "matches the chain");
    }
    if (public_key) {
      const auto signature = r.signature ? from_hex(*r.signature, crypto_sign_BYTES) : std::nullopt;
      const auto hash = from_hex(r.hash, 32);
      if (!signature || !hash ||
          crypto_sign_verify_detached(signature->data(), hash->data(), hash->size(), public_key->data()) != 0)
        return fail(r.seq, subject, "bad_signature", "签名无效", "has no valid signature from the hub's key");
      ++result.signatures_checked;
    }
    before_previous_hash = previous_hash;
    previous_hash = r.hash;
    previous_subject = subject;
    ++expected;
    ++result.records;
  }
  const std::int64_t last = expected - 1;
  if (head && head->seq > last)
    return fail(last + 1, "", "deleted", "已被删除（链尾缺失）",
                "was deleted: the chain ends at record " + std::to_string(last) + " but its head says " +
                    std::to_string(head->seq));
  if (head && head->seq < last)
    return fail(head->seq + 1, "", "inserted", "是插入的（在链头之后）",
                "was inserted after the chain's head (record " + std::to_string(head->seq) + ")");
  if (head && head->hash != previous_hash)
    return fail(last, previous_subject, "modified", "已被修改（与链头不符）", "was modified: it does not match the chain's head");
  if (!head && last > 0)
    return fail(last, previous_subject, "modified", "链头丢失", "is the last record, and the chain's head is missing");
  result.ok = true;
  result.head_hash_hex = previous_hash == zeros ? "" : previous_hash;
  result.message = bilingual(name.zh + "完整：" + std::to_string(last) + " 条记录",
                             name.en + " intact: " + std::to_string(last) + " records");
  return result;
}

}  // namespace hub::audit
