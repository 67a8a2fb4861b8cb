// The clients file: what it lets in, and an error naming the entry for every mistake.
#include "security/keys.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "testing/temp_dir.h"

namespace hub::security {
namespace {

using nlohmann::json;

const std::set<std::string> kDepartments{"police", "schools"};
const std::string kKeyA = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const std::string kKeyB = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

json entry(const std::string& name, const json& role, const std::string& key) {
  return {{"name", name}, {"role", role}, {"public_key", key}};
}

void expect_error(const json& file, const std::string& key, const std::string& fragment) {
  SCOPED_TRACE(file.dump());
  auto r = parse_clients(file.dump(), kDepartments);
  ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
  EXPECT_EQ(std::get<ConfigError>(r).key, key) << std::get<ConfigError>(r).to_string();
  EXPECT_NE(std::get<ConfigError>(r).message.find(fragment), std::string::npos) << std::get<ConfigError>(r).message;
}

TEST(ClientsFile, ListsEachKeyWithItsRoles) {
  auto r = parse_clients(json{{"clients", {entry("admin", "admin", kKeyA),
                                           entry("police-and-schools", {"department:police", "department:schools"}, kKeyB)}}}
                             .dump(),
                         kDepartments);
  ASSERT_TRUE(std::holds_alternative<KeyRing>(r)) << std::get<ConfigError>(r).to_string();
  const KeyRing& ring = std::get<KeyRing>(r);
  ASSERT_NE(ring.find(kKeyB), nullptr);
  EXPECT_EQ(ring.find(kKeyB)->name, "police-and-schools");
  EXPECT_TRUE(ring.find(kKeyB)->has_role("department:schools"));
  EXPECT_FALSE(ring.find(kKeyB)->has_role("publisher"));
  EXPECT_TRUE(ring.find(kKeyA)->has_role("admin"));
  EXPECT_EQ(ring.find("0000000000000000000000000000000000000000"), nullptr);
}

TEST(ClientsFile, EveryMistakeNamesItsEntry) {
  EXPECT_TRUE(std::holds_alternative<ConfigError>(parse_clients("{", kDepartments)));
  expect_error(json::object(), "clients", "required");
  expect_error(json{{"clients", json::array()}, {"keys", 1}}, "keys", "unknown key");
  expect_error(json{{"clients", {42}}}, "clients[0]", "must be an object");
  expect_error(json{{"clients", {entry("a b", "admin", kKeyA)}}}, "clients[0].name", "letters, digits");
  expect_error(json{{"clients", {entry("a", "admin", kKeyA), entry("a", "admin", kKeyB)}}}, "clients[1].name",
               "listed twice");
  expect_error(json{{"clients", {entry("a", "admin", "not a key")}}}, "clients[0].public_key", "40 Z85");
  expect_error(json{{"clients", {entry("a", "admin", kKeyA), entry("b", "observer", kKeyA)}}},
               "clients[1].public_key", "same key");
  expect_error(json{{"clients", {entry("a", "king", kKeyA)}}}, "clients[0].role", "unknown role 'king'");
  expect_error(json{{"clients", {entry("a", "department:land", kKeyA)}}}, "clients[0].role",
               "department 'land' is not one of this hub's configured plugins");
  expect_error(json{{"clients", {entry("a", json::array(), kKeyA)}}}, "clients[0].role", "required");
  expect_error(json{{"clients", {entry("a", {"admin", 7}, kKeyA)}}}, "clients[0].role", "strings");
  // Found by fuzz_clients: a NUL inside the 40 characters ended the key for libzmq's decoder,
  // so a key that no client can present was let in.
  std::string nul_key = kKeyA;
  nul_key[5] = '\0';
  expect_error(json{{"clients", {entry("a", "admin", nul_key)}}}, "clients[0].public_key", "40 Z85");
  EXPECT_FALSE(is_z85_key(nul_key));
  json extra = entry("a", "admin", kKeyA);
  extra["secret_key"] = "x";
  expect_error(json{{"clients", {extra}}}, "clients[0].secret_key", "unknown key");
}

TEST(Keys, FirstRunMakesTheHubsAdminAndPublisherKeysWithPrivateSecretsAndNeverOverwrites) {
  hub::testing::TempDir dir;
  const std::string keys = dir.file("keys");
  const auto created = prepare_keys(keys, keys + "/clients.json");
  EXPECT_EQ(created.size(), 5u);  // the directory, hub, admin, publisher, clients.json
  struct stat st {};
  ASSERT_EQ(::stat(keys.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const char* name : {"hub", "admin", "publisher"}) {
    const std::string secret = keys + "/" + name + ".curve.key";
    ASSERT_EQ(::stat(secret.c_str(), &st), 0) << secret;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << secret;
    EXPECT_EQ(public_key_of(read_key_file(secret)), read_key_file(keys + "/" + name + ".curve.pub"));
  }
  auto ring = load_clients_file(keys + "/clients.json", {});
  ASSERT_TRUE(std::holds_alternative<KeyRing>(ring));
  EXPECT_TRUE(std::get<KeyRing>(ring).find(read_key_file(keys + "/admin.curve.pub"))->has_role("admin"));
  EXPECT_TRUE(std::get<KeyRing>(ring).find(read_key_file(keys + "/publisher.curve.pub"))->has_role("publisher"));
  // A second start changes nothing; a key is never overwritten.
  const std::string before = read_key_file(keys + "/hub.curve.key");
  EXPECT_TRUE(prepare_keys(keys, keys + "/clients.json").empty());
  EXPECT_EQ(read_key_file(keys + "/hub.curve.key"), before);
  EXPECT_THROW(generate_curve_key_pair(keys, "admin"), std::runtime_error);
  // A public key without its secret is not silently replaced.
  std::filesystem::remove(keys + "/hub.curve.key");
  EXPECT_THROW(prepare_keys(keys, keys + "/clients.json"), std::runtime_error);
}

}  // namespace
}  // namespace hub::security
