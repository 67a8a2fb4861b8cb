#include "livefeed/topic_interest.h"

#include <string>

#include <gtest/gtest.h>

namespace hub::livefeed {
namespace {

std::string subscribe(const std::string& prefix) { return std::string(1, '\1') + prefix; }
std::string unsubscribe(const std::string& prefix) { return std::string(1, '\0') + prefix; }

TEST(TopicInterest, NobodySubscribedWantsNothing) {
  const TopicInterest interest;
  EXPECT_TRUE(interest.empty());
  EXPECT_FALSE(interest.wants("status/V01/credit"));
  EXPECT_FALSE(interest.may_want("delivery/"));
}

TEST(TopicInterest, AnEmptyPrefixWantsEverything) {
  TopicInterest interest;
  EXPECT_TRUE(interest.apply(subscribe("")));
  EXPECT_TRUE(interest.wants("status/V01/credit"));
  EXPECT_TRUE(interest.wants("failure/police"));
  EXPECT_TRUE(interest.may_want("delivery/"));
}

TEST(TopicInterest, APrefixWantsItsTopicsAndItsFamilyOnly) {
  TopicInterest interest;
  ASSERT_TRUE(interest.apply(subscribe("delivery/police/")));
  EXPECT_TRUE(interest.wants("delivery/police/V03/breach"));
  EXPECT_FALSE(interest.wants("delivery/schools/V03/breach"));
  EXPECT_FALSE(interest.wants("delivery/"));  // shorter than the prefix
  EXPECT_TRUE(interest.may_want("delivery/"));
  EXPECT_TRUE(interest.may_want("delivery/police/"));
  EXPECT_FALSE(interest.may_want("delivery/schools/"));
  EXPECT_FALSE(interest.may_want("status/"));
  EXPECT_FALSE(interest.may_want("failure/"));

  ASSERT_TRUE(interest.apply(subscribe("stat")));
  EXPECT_TRUE(interest.may_want("status/"));
  EXPECT_TRUE(interest.wants("status/V01/credit"));
}

TEST(TopicInterest, TheLastUnsubscriptionOfAPrefixRemovesIt) {
  TopicInterest interest;
  ASSERT_TRUE(interest.apply(subscribe("status/")));
  EXPECT_FALSE(interest.apply(subscribe("status/")));  // already there: nothing changes
  ASSERT_TRUE(interest.apply(unsubscribe("status/")));
  EXPECT_TRUE(interest.empty());
  EXPECT_FALSE(interest.wants("status/V01/credit"));
  EXPECT_FALSE(interest.apply(unsubscribe("status/")));  // not there
}

TEST(TopicInterest, OtherMessagesAreIgnored) {
  TopicInterest interest;
  EXPECT_FALSE(interest.apply(""));
  EXPECT_FALSE(interest.apply("\x02status/"));
  EXPECT_FALSE(interest.apply("status/"));
  EXPECT_TRUE(interest.empty());
}

}  // namespace
}  // namespace hub::livefeed
