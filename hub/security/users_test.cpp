// The users file and password hashing (security/users.h): real libsodium Argon2id, real files.
#include "security/users.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace {

using hub::security::User;
using hub::security::UserRole;
using hub::security::UsersError;

TEST(Passwords, Argon2idHashVerifiesOnlyItsPassword) {
  const std::string hash = hub::security::hash_password("correct horse battery");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(hub::security::verify_password(hash, "correct horse battery"));
  EXPECT_FALSE(hub::security::verify_password(hash, "correct horse batterY"));
  EXPECT_FALSE(hub::security::verify_password(hash, ""));
  EXPECT_NE(hash, hub::security::hash_password("correct horse battery")) << "a fresh salt each time";
  EXPECT_FALSE(hub::security::verify_password("not a hash", "x"));
  EXPECT_FALSE(hub::security::verify_password("", ""));
}

std::string hash_text() {
  static const std::string hash = hub::security::hash_password("a password 123");
  return hash;
}

UsersError error_of(const std::string& text) {
  auto parsed = hub::security::parse_users(text, {"police", "land"});
  EXPECT_TRUE(std::holds_alternative<UsersError>(parsed)) << text;
  return std::holds_alternative<UsersError>(parsed) ? std::get<UsersError>(parsed) : UsersError{};
}

TEST(UsersFile, ParsesEveryRole) {
  const std::string h = hash_text();
  const std::string text = R"({"users": [
    {"name": "wang.fang", "role": "clerk", "villages": ["V01", "V02"], "password_hash": ")" + h + R"("},
    {"name": "zhao", "role": "supervisor", "password_hash": ")" + h + R"("},
    {"name": "police-1", "role": "department", "department": "police", "password_hash": ")" + h + R"("},
    {"name": "root", "role": "admin", "password_hash": ")" + h + R"(", "disabled": true, "changed_at_ms": 5}]})";
  auto parsed = hub::security::parse_users(text, {"police"});
  ASSERT_TRUE(std::holds_alternative<std::vector<User>>(parsed)) << std::get<UsersError>(parsed).to_string();
  const auto& users = std::get<std::vector<User>>(parsed);
  ASSERT_EQ(users.size(), 4u);
  EXPECT_EQ(users[0].role, UserRole::kClerk);
  EXPECT_EQ(users[0].villages, (std::vector<std::string>{"V01", "V02"}));
  EXPECT_EQ(users[2].department, "police");
  EXPECT_TRUE(users[3].disabled);
  EXPECT_EQ(users[3].changed_at_ms, 5);
  // Written and read back: the same list.
  auto again = hub::security::parse_users(hub::security::users_to_json(users), {"police"});
  ASSERT_TRUE(std::holds_alternative<std::vector<User>>(again));
  EXPECT_EQ(std::get<std::vector<User>>(again).size(), 4u);
  EXPECT_EQ(std::get<std::vector<User>>(again)[0].password_hash, h);
}

TEST(UsersFile, BadInputIsNamedWithAStableCode) {
  const std::string h = hash_text();
  struct Case {
    std::string text, code, field;
  };
  const std::string ok_hash = R"(, "password_hash": ")" + h + R"(")";
  const Case cases[] = {
      {"{not json", "users_invalid_json", ""},
      {R"({"people": []})", "users_invalid_field", "users"},
      {R"({"users": [], "extra": 1})", "users_invalid_field", "extra"},
      {R"({"users": [7]})", "users_invalid_field", "users[0]"},
      {R"({"users": [{"role": "clerk")" + ok_hash + "}]}", "users_missing_field", "users[0].name"},
      {R"({"users": [{"name": "a b", "role": "clerk")" + ok_hash + "}]}", "users_invalid_field", "users[0].name"},
      {R"({"users": [{"name": "a", "role": "boss")" + ok_hash + "}]}", "users_invalid_field", "users[0].role"},
      {R"({"users": [{"name": "a", "role": "department")" + ok_hash + "}]}", "users_missing_field",
       "users[0].department"},
      {R"({"users": [{"name": "a", "role": "department", "department": "tax")" + ok_hash + "}]}",
       "users_unknown_department", "users[0].department"},
      {R"({"users": [{"name": "a", "role": "admin", "department": "police")" + ok_hash + "}]}", "users_invalid_field",
       "users[0].department"},
      {R"({"users": [{"name": "a", "role": "supervisor", "villages": ["V01"])" + ok_hash + "}]}",
       "users_invalid_field", "users[0].villages"},
      {R"({"users": [{"name": "a", "role": "clerk", "villages": ["V 1"])" + ok_hash + "}]}", "users_invalid_field",
       "users[0].villages[0]"},
      {R"({"users": [{"name": "a", "role": "clerk", "password_hash": "secret"}]})", "users_invalid_field",
       "users[0].password_hash"},
      {R"({"users": [{"name": "a", "role": "clerk"}]})", "users_missing_field", "users[0].password_hash"},
      {R"({"users": [{"name": "a", "role": "clerk", "disabled": "no")" + ok_hash + "}]}", "users_invalid_field",
       "users[0].disabled"},
      {R"({"users": [{"name": "a", "role": "clerk", "password": "x")" + ok_hash + "}]}", "users_invalid_field",
       "users[0].password"},
      {R"({"users": [{"name": "a", "role": "clerk")" + ok_hash + R"(}, {"name": "a", "role": "admin")" + ok_hash +
           "}]}",
       "users_duplicate_name", "users[1].name"},
  };
  for (const Case& c : cases) {
    const UsersError e = error_of(c.text);
    EXPECT_EQ(e.code, c.code) << c.text << "\n" << e.to_string();
    EXPECT_EQ(e.field, c.field) << c.text << "\n" << e.to_string();
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(UsersFile, WrittenAtomicallyWithMode0600AndAMissingFileIsNoUsers) {
  const auto dir = std::filesystem::temp_directory_path() / ("hub-users-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "users.json").string();
  auto missing = hub::security::load_users_file(path, {});
  ASSERT_TRUE(std::holds_alternative<std::vector<User>>(missing));
  EXPECT_TRUE(std::get<std::vector<User>>(missing).empty());

  User u;
  u.name = "li";
  u.role = UserRole::kAdmin;
  u.password_hash = hash_text();
  ASSERT_EQ(hub::security::write_users_file(path, {u}), "");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto loaded = hub::security::load_users_file(path, {});
  ASSERT_TRUE(std::holds_alternative<std::vector<User>>(loaded));
  EXPECT_EQ(std::get<std::vector<User>>(loaded).at(0).name, "li");

  std::ofstream(path) << "{\"users\": [1]}";
  auto bad = hub::security::load_users_file(path, {});
  ASSERT_TRUE(std::holds_alternative<UsersError>(bad));
  EXPECT_NE(std::get<UsersError>(bad).message.find(path), std::string::npos) << "the file is named";
  std::filesystem::remove_all(dir);
}

TEST(UsersFile, WrittenByRootBelongsToTheOwnerOfItsDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (as `sudo hubctl users …` runs)";
  const auto dir = std::filesystem::temp_directory_path() / ("hub-users-owner-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);  // nobody: stands for hubd's own user
  User u;
  u.name = "li";
  u.role = UserRole::kAdmin;
  u.password_hash = hash_text();
  const std::string path = (dir / "users.json").string();
  ASSERT_EQ(hub::security::write_users_file(path, {u}), "");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::filesystem::remove_all(dir);
}

}  // namespace
