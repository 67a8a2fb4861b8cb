// The command lines of the real executables (hubctl, hubd, hub-plugin-host), run as users run
// them: every hubctl verb and action answers --help with exit 0 on stdout, and a usage error
// exits 2 naming what was wrong and the --help to run (common/command_line.h). hub-towngen's
// command line is tested in towngen/town_generator_test.cpp.
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/run_command.h"

namespace {

using hub::testing::run_command;

const std::string kHubctl = HUBCTL_PATH;

// Every verb, and every action of the verbs that have them.
const std::vector<std::string> kHubctlCommands = {
    "publish",      "import",         "status",          "household",      "households",  "parked",      "parked list",
    "parked retry", "parked skip",    "plugins",         "plugins list",   "plugins reload", "plugins disable",
    "plugins enable", "report",       "reconcile",       "audit",          "audit verify", "keys",
    "keys list",    "keys reload",    "keygen",          "backup",         "restore",     "users",
    "users add",    "users passwd",   "users disable",   "users enable",   "users list",
    "complaints",   "complaints add", "complaints show", "complaints list", "complaints investigate",
    "complaints rule", "notice", "notice propose", "notice list", "notice show", "notice confirm"};

TEST(HubctlCommandLine, EveryVerbAnswersHelpWithExitZeroNamingTheVerb) {
  for (const std::string& command : kHubctlCommands) {
    for (const char* help : {"--help", "-h"}) {
      const auto r = run_command(kHubctl + " " + command + " " + help, false);
      EXPECT_EQ(r.exit_code, 0) << command << " " << help << ": " << r.output;
      EXPECT_NE(r.output.find("Usage: hubctl " + command), std::string::npos) << command << ": " << r.output;
    }
  }
  // --help after other options too, and before the verb (hubctl's own help).
  auto r = run_command(kHubctl + " import --dry-run --help", false);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--max-file-mb"), std::string::npos) << r.output;
  r = run_command(kHubctl + " --json parked retry --by alice --help", false);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--department"), std::string::npos) << r.output;
}

TEST(HubctlCommandLine, TheListAboveHoldsEveryVerbOfTheHelp) {
  const auto r = run_command(kHubctl + " --help", false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Exit codes: 0 ok, 1 rejected or failed, 2 usage error, 3 hub unreachable"),
            std::string::npos)
      << r.output;
  // The lines after "Subcommands:" start with two spaces and the verb.
  std::istringstream lines(r.output.substr(r.output.find("Subcommands:")));
  std::string line;
  std::getline(lines, line);
  std::set<std::string> verbs;
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0) verbs.insert(line.substr(2, line.find(' ', 2) - 2));
  // Both ways: every verb of the help has a --help test, and every verb tested is in the help.
  std::set<std::string> listed;
  for (const auto& command : kHubctlCommands)
    if (command.find(' ') == std::string::npos) listed.insert(command);
  EXPECT_EQ(verbs, listed) << r.output;
}

TEST(HubctlCommandLine, UsageErrorsExitTwoNamingTheBadOptionAndTheHelpToRun) {
  struct Case {
    std::string arguments;
    std::vector<std::string> said;  // on stderr
  };
  const std::vector<Case> cases = {
      {"import --bogus data.csv", {"hubctl: unknown option '--bogus'", "Try 'hubctl import --help'"}},
      {"--bogus status", {"unknown option '--bogus'", "Try 'hubctl --help'"}},
      {"status --json --bogus", {"unknown option '--bogus'", "Try 'hubctl status --help'"}},
      {"parked retry --bogus 1", {"unknown option '--bogus'", "Try 'hubctl parked retry --help'"}},
      {"frob", {"unknown command 'frob'"}},
      {"parked frob", {"unknown command 'frob'", "hubctl parked --help"}},
      {"parked list retry", {"unexpected argument 'retry'", "hubctl parked list --help"}},
      {"status household", {"unexpected argument 'household'", "hubctl status --help"}},
      {"", {"no command given"}},
      {"parked", {"parked needs one of: list, retry, skip"}},
      {"keys", {"keys needs one of: list, reload"}},
      {"import", {"import needs exactly one FILE"}},
      {"import a.csv b.csv", {"unexpected argument 'b.csv'"}},
      {"publish --household", {"--household"}},
      {"publish --household V01-00001 --quarter 2020Q4", {"publish needs --status"}},
      {"report", {"report needs --quarter"}},
      {"import --max-file-mb x a.csv", {"--max-file-mb must be a whole number"}},
      {"parked retry", {"parked retry needs --department, --household or --seq"}},
      {"parked list --seq 0", {"--seq needs a positive number"}},
      {"plugins disable", {"plugins disable needs exactly one department"}},
      {"--timeout soon status", {"--timeout needs milliseconds"}},
      {"--key ../x status", {"--key needs a key's NAME"}},
      {"keygen ../x", {"usage: hubctl keygen NAME"}},
      {"backup", {"backup needs --to DIR", "hubctl backup --help"}},
      {"complaints", {"complaints needs one of: add, show, list, investigate, rule"}},
      {"complaints show", {"complaints show needs the complaint's ID"}},
      {"notice", {"notice needs one of: propose, list, show, confirm"}},
      {"notice propose", {"notice propose needs the evaluations FILE", "hubctl notice propose --help"}},
      {"notice propose /nonexistent/q.csv", {"cannot read /nonexistent/q.csv"}},
      {"complaints rule --outcome upheld", {"complaints rule needs the complaint's ID"}},
      {"complaints list --limit x", {"--limit needs a number"}},
      {"complaints add --bogus 1", {"unknown option '--bogus'", "Try 'hubctl complaints add --help'"}},
      {"restore --data-dir /nonexistent/d", {"restore needs --from DIR", "hubctl restore --help"}},
      {"restore --from /nonexistent/b", {"restore needs --data-dir D", "hubctl restore --help"}},
  };
  for (const Case& c : cases) {
    const auto r = run_command(kHubctl + " " + c.arguments);
    EXPECT_EQ(r.exit_code, 2) << c.arguments << ": " << r.output;
    for (const auto& text : c.said)
      EXPECT_NE(r.output.find(text), std::string::npos) << c.arguments << ": " << r.output;
    EXPECT_EQ(run_command(kHubctl + " " + c.arguments, false).output, "") << c.arguments << ": stdout";
  }
}

TEST(HubctlCommandLine, AuditVerifyOnPostgresqlNeedsBothTheDsnAndTheHubId) {
  for (const std::string args : {"--dsn 'host=/nowhere dbname=x'", "--hub-id town-a"}) {
    const auto r = run_command(kHubctl + " audit verify " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
    EXPECT_NE(r.output.find("--dsn and --hub-id go together"), std::string::npos) << args << ": " << r.output;
  }
}

TEST(HubctlCommandLine, VersionAndJsonAfterTheVerb) {
  auto r = run_command(kHubctl + " --version", false);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.rfind("hubctl ", 0), 0u) << r.output;
  // --json is taken after the verb as well as before it; this hub does not exist (exit 3).
  r = run_command(kHubctl + " --admin tcp://127.0.0.1:1 --timeout 200 status --json");
  EXPECT_EQ(r.exit_code, 3) << r.output;
}

TEST(DaemonCommandLine, HelpVersionAndUsageErrorsOfHubdAndThePluginHost) {
  for (const std::string program : {HUBD_PATH, HUB_PLUGIN_HOST_PATH}) {
    const std::string name = program.substr(program.rfind('/') + 1);
    auto r = run_command(program + " --help", false);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Usage: " + name), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--config FILE"), std::string::npos) << r.output;
    r = run_command(program + " --version", false);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.rfind(name + " ", 0), 0u) << r.output;
    EXPECT_NE(r.output.find("(plugin ABI "), std::string::npos) << r.output;
    r = run_command(program + " --bogus");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(name + ": unknown option '--bogus'"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Try '" + name + " --help'"), std::string::npos) << r.output;
    r = run_command(program + " --config");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("--config"), std::string::npos) << r.output;
  }
  const auto r = run_command(std::string(HUB_PLUGIN_HOST_PATH));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--config is required"), std::string::npos) << r.output;
}

}  // namespace
