// The event-id filter: never a false negative (an id added is always "may contain"), false
// positives near the designed 1 % at its capacity, and still correct past it.
#include "eventlog/event_id_filter.h"

#include <gtest/gtest.h>

#include <string>

namespace hub {
namespace {

std::string id(const char* prefix, int i) { return std::string(prefix) + std::to_string(i); }

TEST(EventIdFilter, EveryAddedIdMayBeContained) {
  EventIdFilter filter(10000);
  for (int i = 0; i < 10000; ++i) filter.add(id("ev-2021Q1-V01-", i));
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(filter.may_contain(id("ev-2021Q1-V01-", i))) << i;
  EXPECT_EQ(filter.size(), 10000u);
  EXPECT_FALSE(filter.full());
}

TEST(EventIdFilter, FalsePositivesNearOnePercentAtCapacity) {
  EventIdFilter filter(100000);
  for (int i = 0; i < 100000; ++i) filter.add(id("reg-V01-", i));
  int false_positives = 0;
  for (int i = 0; i < 100000; ++i) false_positives += filter.may_contain(id("reg-V02-", i)) ? 1 : 0;
  // 10 bits and 7 probes per id: 0.82 % in theory.
  EXPECT_GT(false_positives, 300);
  EXPECT_LT(false_positives, 1500);
}

TEST(EventIdFilter, PastItsCapacityItIsFullAndStillHasNoFalseNegatives) {
  EventIdFilter filter(0);  // the smallest: 1,024 ids
  EXPECT_EQ(filter.capacity(), 1024u);
  for (int i = 0; i < 5000; ++i) filter.add(id("com-V01-", i));
  EXPECT_TRUE(filter.full());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(filter.may_contain(id("com-V01-", i))) << i;
  EXPECT_FALSE(EventIdFilter(1024).may_contain("anything")) << "an empty filter contains nothing";
}

}  // namespace
}  // namespace hub
