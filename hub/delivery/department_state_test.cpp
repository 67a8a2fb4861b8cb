#include "delivery/department_state.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

namespace hub::delivery {
namespace {

using S = DeliveryState;
using I = DeliveryInput;

constexpr std::array kStates{S::kStarting, S::kRunning,  S::kRetrying,      S::kRefused,
                             S::kDisabled, S::kStopped,  S::kWaitingForHost};

// The whole machine, written out: for each input, the next state from each state in the
// order of kStates (starting, running, retrying, refused, disabled, stopped, waiting_for_host).
struct Row {
  I input;
  std::array<S, 7> next;
};
// clang-format off
constexpr Row kTable[] = {
  //                       starting     running      retrying     refused      disabled     stopped      waiting_for_host
  {I::kDisabledByConfig,  {S::kDisabled, S::kDisabled, S::kDisabled, S::kDisabled, S::kDisabled, S::kDisabled, S::kDisabled}},
  {I::kStarted,           {S::kRunning,  S::kRunning,  S::kRunning,  S::kRunning,  S::kRunning,  S::kRunning,  S::kRunning}},
  {I::kStartedInBackoff,  {S::kRetrying, S::kRetrying, S::kRetrying, S::kRetrying, S::kRetrying, S::kRetrying, S::kRetrying}},
  {I::kStartRefused,      {S::kRefused,  S::kRefused,  S::kRefused,  S::kRefused,  S::kRefused,  S::kRefused,  S::kRefused}},
  {I::kReloaded,          {S::kRunning,  S::kRunning,  S::kRetrying, S::kRunning,  S::kDisabled, S::kStopped,  S::kWaitingForHost}},
  {I::kReloadRefusedDown, {S::kRefused,  S::kRefused,  S::kRefused,  S::kRefused,  S::kRefused,  S::kRefused,  S::kRefused}},
  {I::kFailed,            {S::kRetrying, S::kRetrying, S::kRetrying, S::kRetrying, S::kRetrying, S::kRetrying, S::kWaitingForHost}},
  {I::kParked,            {S::kStarting, S::kRunning,  S::kRunning,  S::kRefused,  S::kDisabled, S::kStopped,  S::kWaitingForHost}},
  {I::kBackoffOver,       {S::kStarting, S::kRunning,  S::kRunning,  S::kRefused,  S::kDisabled, S::kStopped,  S::kWaitingForHost}},
  {I::kHostLost,          {S::kWaitingForHost, S::kWaitingForHost, S::kWaitingForHost, S::kWaitingForHost,
                           S::kWaitingForHost, S::kWaitingForHost, S::kWaitingForHost}},
  {I::kLedgerWriteFailed, {S::kStarting, S::kRetrying, S::kRetrying, S::kRefused,  S::kDisabled, S::kStopped,  S::kWaitingForHost}},
  {I::kStopping,          {S::kStarting, S::kStopped,  S::kStopped,  S::kRefused,  S::kDisabled, S::kStopped,  S::kStopped}},
};
// clang-format on

TEST(DepartmentState, EveryStateAndInputGoesWhereTheTableSays) {
  int checked = 0;
  for (const Row& row : kTable) {
    for (std::size_t i = 0; i < kStates.size(); ++i) {
      EXPECT_EQ(next_state(kStates[i], row.input), row.next[i])
          << to_string(kStates[i]) << " × " << to_string(row.input) << " → " << to_string(next_state(kStates[i], row.input))
          << ", the table says " << to_string(row.next[i]);
      ++checked;
    }
  }
  // Every input has its row: a new input without one fails here.
  EXPECT_EQ(std::size(kTable), static_cast<std::size_t>(I::kStopping) + 1);
  EXPECT_EQ(checked, 12 * 7);
}

TEST(DepartmentState, NamesAreTheWiresAndDistinct) {
  std::set<std::string_view> names;
  for (S s : kStates) names.insert(to_string(s));
  EXPECT_EQ(names.size(), kStates.size());
  EXPECT_EQ(to_string(S::kWaitingForHost), "waiting_for_host");
  EXPECT_EQ(to_string(S::kRunning), "running");
}

TEST(DepartmentState, ShownStateLetsAnOperatorsDisableAndAHostCrashShow) {
  for (S s : kStates) EXPECT_EQ(shown_state(s, /*disabled_by_operator=*/true, /*host_failing=*/true), "disabled");
  for (S s : {S::kStarting, S::kRunning, S::kRetrying, S::kWaitingForHost})
    EXPECT_EQ(shown_state(s, false, true), "failing") << to_string(s);
  for (S s : {S::kRefused, S::kDisabled, S::kStopped}) EXPECT_EQ(shown_state(s, false, true), to_string(s));
  for (S s : kStates) EXPECT_EQ(shown_state(s, false, false), to_string(s));
}

}  // namespace
}  // namespace hub::delivery
