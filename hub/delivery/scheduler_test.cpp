// The scheduler against a real events.db: batches are cut at the batch size and at the end of a
// chunk (1,024 events), never past the last committed event, and before an event held back,
// which alone is stepped over; at the end of the log each new event is read once for every
// department.
#include "delivery/scheduler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eventlog/event_log.h"
#include "store/sqlite/sqlite_event_store.h"
#include "testing/temp_dir.h"

namespace hub::delivery {
namespace {

// `n` household registrations, seqs 1..n, in events.db under `dir`.
std::string log_with(const hub::testing::TempDir& dir, int n) {
  const std::string path = dir.file("events.db");
  EventLog log(std::make_unique<store::SqliteEventStore>(path));
  std::vector<WireEvent> events;
  for (int i = 1; i <= n; ++i) {
    const std::string id = "V01-" + std::to_string(10000 + i);
    events.push_back(parse_event(nlohmann::json{{"type", "household"}, {"event_id", "reg-" + id},
                                                {"household_id", id}, {"village", "V01"}})
                         .value());
  }
  EXPECT_TRUE(log.stage(events, false).ok());
  log.commit_group(1'600'000'000'000);
  return path;
}

TEST(Scheduler, CutsAtTheBatchSizeTheChunkAndTheLastCommittedEvent) {
  hub::testing::TempDir dir;
  Scheduler scheduler(store::sqlite_event_reader_opener(log_with(dir, 1100)), 500);

  auto cut = scheduler.next(0, 1100, {});
  ASSERT_TRUE(cut.chunk);
  EXPECT_EQ(cut.chunk->first_seq, 1u);
  EXPECT_EQ(cut.begin, 0u);
  EXPECT_EQ(cut.end, 500u);
  EXPECT_EQ(cut.upto, 500u);
  cut = scheduler.next(1000, 1100, {});  // the first chunk ends at 1,024
  EXPECT_EQ(cut.begin, 1000u);  // seq 1,001
  EXPECT_EQ(cut.end, 1024u);
  EXPECT_EQ(cut.upto, 1024u);
  cut = scheduler.next(1024, 1050, {});  // committed up to 1,050 only
  EXPECT_EQ(cut.chunk->first_seq, 1025u);
  EXPECT_EQ(cut.upto, 1050u);
  cut = scheduler.next(1050, 1100, {});  // the chunk is read again when the log has grown
  EXPECT_EQ(cut.upto, 1100u);
  EXPECT_EQ(scheduler.event_at(1100, 1100).seq, 1100u);
  EXPECT_EQ(scheduler.single(7, 1100).upto, 7u);
}

TEST(Scheduler, StopsBeforeAnEventHeldBackAndStepsOverItAlone) {
  hub::testing::TempDir dir;
  Scheduler scheduler(store::sqlite_event_reader_opener(log_with(dir, 20)), 100);
  std::vector<std::uint64_t> asked;
  const Scheduler::HeldBack held = [&](const LoggedEvent& e) {
    asked.push_back(e.seq);
    return e.seq == 5 || e.seq == 6;
  };
  auto cut = scheduler.next(0, 20, held);
  EXPECT_EQ(cut.end - cut.begin, 4u);
  EXPECT_EQ(cut.upto, 4u);
  cut = scheduler.next(4, 20, held);
  EXPECT_FALSE(cut.chunk) << "seq 5 is held back: nothing to send";
  EXPECT_EQ(cut.upto, 5u);
  cut = scheduler.next(5, 20, held);
  EXPECT_FALSE(cut.chunk);
  EXPECT_EQ(cut.upto, 6u);
  cut = scheduler.next(6, 20, held);
  ASSERT_TRUE(cut.chunk);
  EXPECT_EQ(cut.chunk->events[cut.begin].seq, 7u);
  EXPECT_EQ(cut.upto, 20u);
  EXPECT_EQ(asked.front(), 1u);
}

// The real SQLite reader, counting the rows it returns.
class CountingReader : public EventReader {
 public:
  CountingReader(std::unique_ptr<EventReader> real, std::uint64_t& rows) : real_(std::move(real)), rows_(rows) {}
  std::vector<LoggedEvent> read(std::uint64_t from, std::uint64_t to) override {
    auto events = real_->read(from, to);
    rows_ += events.size();
    return events;
  }
  std::int64_t received_at(std::uint64_t seq) override { return real_->received_at(seq); }

 private:
  std::unique_ptr<EventReader> real_;
  std::uint64_t& rows_;
};

TEST(Scheduler, AtTheEndOfTheLogEachNewEventIsReadOnceForEveryDepartment) {
  hub::testing::TempDir dir;
  std::uint64_t rows = 0;
  const EventReaderOpener real = store::sqlite_event_reader_opener(log_with(dir, 1100));
  Scheduler scheduler([&] { return std::make_unique<CountingReader>(real(), rows); }, 512);

  // Nine departments at the end of the log while events are committed one at a time (the
  // latency path): each pump sends the new event alone.
  std::vector<std::uint64_t> sent(9, 0);
  for (std::uint64_t last = 1; last <= 1100; ++last) {
    for (auto& upto : sent) {
      const auto cut = scheduler.next(upto, last, {});
      ASSERT_TRUE(cut.chunk);
      ASSERT_EQ(cut.end - cut.begin, 1u) << "seq " << last;
      EXPECT_EQ(cut.chunk->events[cut.begin].seq, last);
      upto = cut.upto;
    }
  }
  EXPECT_EQ(rows, 1100u) << "every event read once, not the chunk so far again for each new event";

  // A department that was stopped catches up from the start: whole chunks, cut at the batch size.
  rows = 0;
  auto cut = scheduler.next(0, 1100, {});
  EXPECT_EQ(cut.upto, 512u);
  cut = scheduler.next(cut.upto, 1100, {});
  EXPECT_EQ(cut.upto, 1024u);
  EXPECT_EQ(rows, 1024u) << "the first chunk read once for both batches";
}

}  // namespace
}  // namespace hub::delivery
