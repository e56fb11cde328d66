// attendance-sync and logs in the original design's three-key format (no eventId):
// --event supplies the event, a line naming another event refuses the run.
#include "sync/checkpoint.hpp"
#include "sync/summary.hpp"
#include "sync/sync_run_fixture.hpp"

using namespace attendance::testing::sync_run;

namespace {

// What the original Python scanner writes: json.dumps with its default ", " and ": ".
std::string threeKeyLine(int i, std::int64_t time = 0) {
  return R"({"bleUuid": ")" + uuidFor(i) + R"(", "checkInTime": )" +
         std::to_string(time != 0 ? time : kEventTime + i * 1000) + R"(, "scannerId": "S1"})" + "\n";
}

class SyncEvent : public SyncRun {
protected:
  void appendThreeKey(int from, int to) {
    std::string text;
    for (int i = from; i < to; ++i) text += threeKeyLine(i);
    append(text);
  }
  as::SyncOptions withEvent(std::string event = "ev1") {
    auto o = options();
    o.eventId = std::move(event);
    return o;
  }
};

}  // namespace

TEST_F(SyncEvent, ThreeKeyLinesAreSentUnderTheEventOptionInTheOriginalBody) {
  appendThreeKey(0, 7);
  EXPECT_EQ(run(withEvent()), as::kExitOk) << err.str() << out.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 7));
  const auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 2u);  // 5 + 2
  EXPECT_EQ(reqs[1].body, R"({"eventId":"ev1","records":[{"bleUuid":")" + uuidFor(5) + R"(","checkInTime":)" +
                              std::to_string(kEventTime + 5000) + R"(,"scannerId":"S1"},{"bleUuid":")" + uuidFor(6) +
                              R"(","checkInTime":)" + std::to_string(kEventTime + 6000) + R"(,"scannerId":"S1"}]})");
  EXPECT_NE(err.str().find("7 lines without eventId belong to event ev1 (--event)"), std::string::npos) << err.str();
}

TEST_F(SyncEvent, WithoutTheOptionAThreeKeyLogIsRefusedSayingToPassEventAndTheRerunSendsAll) {
  appendRecords(0, 6);  // our own lines first: the refusal must come before any of them is sent
  appendThreeKey(6, 9);
  EXPECT_EQ(run(options()), as::kExitUsage);
  EXPECT_NE(err.str().find("line 7 has no eventId"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("3 such lines"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("Pass --event ID"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("Nothing was sent"), std::string::npos) << err.str();
  EXPECT_EQ(backend.batchRequests(), 0u);
  EXPECT_FALSE(std::filesystem::exists(as::checkpointPathFor(log)));

  EXPECT_EQ(run(withEvent()), as::kExitOk) << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 9));
}

TEST_F(SyncEvent, ALineWhoseOwnEventDiffersFromTheOptionRefusesTheWholeRun) {
  appendThreeKey(0, 11);
  appendRecords(11, 12, "ev1");
  appendRecords(12, 13, "ev2");  // line 13: two batches' worth of records come before it
  appendThreeKey(13, 14);
  EXPECT_EQ(run(withEvent("ev1")), as::kExitUsage);
  EXPECT_NE(err.str().find(R"(line 13 has eventId "ev2" but --event is "ev1")"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("Nothing was sent"), std::string::npos) << err.str();
  EXPECT_EQ(backend.batchRequests(), 0u);
  EXPECT_TRUE(backend.rows().empty());
}

TEST_F(SyncEvent, LinesNamingTheSameEventAsTheOptionMixWithThreeKeyLines) {
  appendThreeKey(0, 3);
  appendRecords(3, 5, "ev1");
  appendThreeKey(5, 6);
  EXPECT_EQ(run(withEvent("ev1")), as::kExitOk) << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 6));
}

TEST_F(SyncEvent, AResumedSyncOfAThreeKeyLogSendsOnlyWhatWasNotAcknowledged) {
  appendThreeKey(0, 23);
  failFromRequest(3);
  EXPECT_EQ(requestsOfRun(withEvent(), as::kExitNetwork), 6u);  // 2 acknowledged, 4 failed attempts at the 3rd...
  EXPECT_EQ(backend.rows(), expectedRows(0, 10));
  const auto cp = as::loadCheckpoint(as::checkpointPathFor(log));
  ASSERT_TRUE(cp && *cp);
  EXPECT_EQ((*cp)->nextLine, 11u);
  backend.before(nullptr);
  // ...so the rerun sends the 13 records after line 10: 5 + 5 + 3.
  EXPECT_EQ(requestsOfRun(withEvent(), as::kExitOk), 3u);
  EXPECT_TRUE(hasRow(out.str(), "records sent", 13)) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "duplicates", 0)) << out.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 23));
}

TEST_F(SyncEvent, ThreeKeyLinesHaveNoBootTimeSoTheyAreNeverCorrectedOnlyChecked) {
  env.clockSynchronized = [] { return true; };
  append(threeKeyLine(0, 1'000'000));  // the Pi believed it was 1970
  appendThreeKey(1, 2);
  EXPECT_EQ(run(withEvent()), as::kExitRejected) << err.str();
  EXPECT_EQ(backend.rows(), (std::set<at::Row>{row(1)}));
  EXPECT_TRUE(hasRow(out.str(), "times corrected", 0)) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "implausible times", 1)) << out.str();
  EXPECT_NE(out.str().find("line 1: checkInTime before 2020-01-01"), std::string::npos) << out.str();
}

TEST_F(SyncEvent, TheDryRunRefusesLikeARealRun) {
  appendThreeKey(0, 2);
  auto o = options();
  o.dryRun = true;
  EXPECT_EQ(run(o), as::kExitUsage);
  EXPECT_NE(err.str().find("Pass --event ID"), std::string::npos) << err.str();
  o.eventId = "ev1";
  EXPECT_EQ(run(o), as::kExitOk) << err.str();
  EXPECT_TRUE(hasRow(out.str(), "records to send", 2)) << out.str();
}

TEST_F(SyncEvent, AnEmptyOrOverlongEventOptionIsAUsageError) {
  appendThreeKey(0, 1);
  EXPECT_EQ(run(withEvent("")), as::kExitUsage);
  EXPECT_NE(err.str().find("--event"), std::string::npos) << err.str();
  EXPECT_EQ(run(withEvent(std::string(257, 'e'))), as::kExitUsage);
  EXPECT_NE(err.str().find("--event"), std::string::npos) << err.str();
  EXPECT_EQ(backend.batchRequests(), 0u);
}
