// Selecting a page of a report (report_query.hpp), without a database: filters,
// search, every sort key in both directions, offset and limit, and the page
// JSON parsed back and compared with the full report's JSON.
#include <attendance/core/report_query.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <vector>

namespace core = attendance::core;
namespace json = boost::json;
using attendance::support::Uuid;
using core::ParticipantStatus;
using core::ReportFilter;
using core::ReportSort;
using Rows = std::vector<std::uint32_t>;

namespace {

const core::TimePoint kT0 = core::parseIsoUtc("2024-07-20T10:00:00Z").value();

core::TimePoint at(int minutes) { return kT0 + std::chrono::minutes{minutes}; }

Uuid uuid(int n) {
  char text[64];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d", n);
  return *Uuid::parse(text);
}

core::ParticipantRow row(int n, ParticipantStatus status, std::string name, std::string email,
                         std::optional<int> first = std::nullopt, std::optional<int> last = std::nullopt,
                         std::vector<std::string> scanners = {}) {
  core::ParticipantRow p;
  p.userId = "u-" + std::to_string(n);
  p.displayName = std::move(name);
  p.email = std::move(email);
  p.bleUuid = uuid(n);
  p.status = status;
  if (first) p.seen.firstSeen = at(*first);
  if (last) p.seen.lastSeen = at(*last);
  p.seen.count = first ? 3 : 0;
  p.seen.scanners = std::move(scanners);
  return p;
}

// Rows in the report's order (attended, walk-ins, no-shows). Ties on purpose:
// two "Same Name" rows with equal first sightings, "bob"/"Bob" differing only
// in case, equal scanner lists.
core::EventReport sample() {
  core::EventReport r;
  r.event.id = "ev-1";
  r.event.name = "Meetup \"one\"";
  r.event.venue = "Hall";
  r.event.startsAt = at(0);
  r.generatedAt = at(200);
  r.synced = true;
  using S = ParticipantStatus;
  r.participants = {
      row(0, S::attended, "Ada Lovelace", "ada@example.org", 10, 50, {"B"}),
      row(1, S::attended, "Same Name", "same1@example.org", 5, 50, {"A", "B"}),
      row(2, S::attended, "Same Name", "same2@example.org", 5, 70, {"a"}),
      row(3, S::attended, "bob", "bob@example.org", 20, 20, {"B"}),
      row(4, S::attended, "Zoë Ångström", "zoe@example.org", 1, 2, {"C"}),
      row(5, S::walk_in, "Cy", "cy@EXAMPLE.org", 30, 30, {"A"}),
      row(6, S::no_show, "Bob", "bob.b@example.org"),
      row(7, S::no_show, "dave", "a.dave@example.org"),
  };
  r.registered = 7;
  r.attended = 5;
  r.noShows = 2;
  r.walkIns = 1;
  r.unknownDevices = 1;
  r.attendanceRate = 5.0 / 7.0;
  core::UnknownDeviceRow u;
  u.bleUuid = uuid(99);
  u.seen.firstSeen = at(3);
  u.seen.lastSeen = at(4);
  u.seen.count = 2;
  u.seen.scanners = {"A"};
  r.unknown.push_back(u);
  r.scanners = {{"A", at(100), 2, 10, 9}, {"B", at(110), 1, 5, 5}};
  r.arrivals = {{at(0), 3}, {at(15), 2}, {at(30), 1}};
  return r;
}

Rows select(const core::EventReport& r, core::ReportQuery q) {
  q.limit = 1000;
  return core::selectParticipants(r, q).rows;
}

core::ReportQuery sorted(ReportSort sort, bool descending) {
  core::ReportQuery q;
  q.sort = sort;
  q.descending = descending;
  return q;
}

core::ReportQuery searching(std::string text, ReportFilter filter = ReportFilter::all) {
  core::ReportQuery q;
  q.search = std::move(text);
  q.filter = filter;
  return q;
}

TEST(ReportQuery, NamesRoundTripAndUnknownNamesAreRefused) {
  for (const auto f : {ReportFilter::all, ReportFilter::attended, ReportFilter::no_show, ReportFilter::walk_in}) {
    EXPECT_EQ(core::parseReportFilter(core::toString(f)), f);
  }
  for (const auto s : {ReportSort::report, ReportSort::name, ReportSort::email, ReportSort::status,
                       ReportSort::first_seen, ReportSort::last_seen, ReportSort::scanners}) {
    EXPECT_EQ(core::parseReportSort(core::toString(s)), s);
  }
  EXPECT_EQ(core::toString(ReportFilter::no_show), "no-show");
  EXPECT_EQ(core::toString(ReportSort::first_seen), "firstSeen");
  EXPECT_FALSE(core::parseReportFilter("no_show"));
  EXPECT_FALSE(core::parseReportFilter("Attended"));
  EXPECT_FALSE(core::parseReportFilter(""));
  EXPECT_FALSE(core::parseReportSort("first_seen"));
  EXPECT_FALSE(core::parseReportSort("Name"));
}

TEST(ReportQuery, FiltersKeepTheReportOrder) {
  const auto r = sample();
  core::ReportQuery q;
  EXPECT_EQ(core::selectParticipants(r, q).total, 8U);
  q.filter = ReportFilter::attended;
  EXPECT_EQ(select(r, q), (Rows{0, 1, 2, 3, 4}));
  EXPECT_EQ(core::selectParticipants(r, q).total, 5U);
  q.filter = ReportFilter::no_show;
  EXPECT_EQ(select(r, q), (Rows{6, 7}));
  q.filter = ReportFilter::walk_in;
  EXPECT_EQ(select(r, q), (Rows{5}));
  q.sort = ReportSort::name;
  q.filter = ReportFilter::no_show;
  EXPECT_EQ(select(r, q), (Rows{6, 7}));
}

TEST(ReportQuery, SearchFoldsAsciiLettersOnlyAndLooksAtNameAndEmail) {
  const auto r = sample();
  EXPECT_EQ(select(r, searching("BOB")), (Rows{3, 6}));       // names bob, Bob and their emails
  EXPECT_EQ(select(r, searching("b.B@")), (Rows{6}));         // email only
  EXPECT_EQ(select(r, searching("example.ORG")).size(), 8U);  // cy@EXAMPLE.org too
  EXPECT_EQ(select(r, searching("lovelace")), (Rows{0}));
  EXPECT_EQ(select(r, searching("zoë")), (Rows{4}));
  EXPECT_EQ(select(r, searching("ZOË")), (Rows{}));   // Ë is not an ASCII letter: no folding
  EXPECT_EQ(select(r, searching("ÅNG")), (Rows{4}));  // Å exact, NG folded
  EXPECT_EQ(select(r, searching("ång")), (Rows{}));
  EXPECT_EQ(select(r, searching("same", ReportFilter::attended)), (Rows{1, 2}));
  EXPECT_EQ(select(r, searching("same", ReportFilter::no_show)), (Rows{}));
  EXPECT_EQ(select(r, searching("u-1")), (Rows{}));  // the user id is not searched
  EXPECT_EQ(select(r, searching("nobody at all")), (Rows{}));
  auto q = searching("a");
  q.limit = 2;
  const auto page = core::selectParticipants(r, q);
  EXPECT_EQ(page.total, 8U);  // every email has an a
  EXPECT_EQ(page.rows, (Rows{0, 1}));
}

TEST(ReportQuery, EverySortKeyBothDirectionsEmptiesLastTiesInReportOrder) {
  const auto r = sample();
  struct Case {
    ReportSort sort;
    Rows asc;
    Rows desc;
  };
  const Case cases[] = {
      {ReportSort::report, {0, 1, 2, 3, 4, 5, 6, 7}, {7, 6, 5, 4, 3, 2, 1, 0}},
      // "Bob" and "bob" fold equal; the bytes then put "Bob" first. The two "Same Name" rows stay in order.
      {ReportSort::name, {0, 6, 3, 5, 7, 1, 2, 4}, {4, 1, 2, 7, 5, 3, 6, 0}},
      {ReportSort::email, {7, 0, 6, 3, 5, 1, 2, 4}, {4, 2, 1, 5, 3, 6, 0, 7}},
      {ReportSort::status, {0, 1, 2, 3, 4, 6, 7, 5}, {5, 6, 7, 0, 1, 2, 3, 4}},
      {ReportSort::first_seen, {4, 1, 2, 0, 3, 5, 6, 7}, {5, 3, 0, 1, 2, 4, 6, 7}},
      {ReportSort::last_seen, {4, 3, 5, 0, 1, 2, 6, 7}, {2, 0, 1, 5, 3, 4, 6, 7}},
      // Joined lists: "A" < "a" < "A;B" < "B" = "B" < "C"; no scanners last.
      {ReportSort::scanners, {5, 2, 1, 0, 3, 4, 6, 7}, {4, 0, 3, 1, 2, 5, 6, 7}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string{core::toString(c.sort)});
    EXPECT_EQ(select(r, sorted(c.sort, false)), c.asc);
    EXPECT_EQ(select(r, sorted(c.sort, true)), c.desc);
    EXPECT_EQ(core::sortParticipants(r, c.sort, false), c.asc);
    EXPECT_EQ(core::sortParticipants(r, c.sort, true), c.desc);
  }
}

TEST(ReportQuery, OffsetAndLimit) {
  const auto r = sample();
  auto q = sorted(ReportSort::name, false);
  q.offset = 2;
  q.limit = 3;
  auto page = core::selectParticipants(r, q);
  EXPECT_EQ(page.total, 8U);
  EXPECT_EQ(page.rows, (Rows{3, 5, 7}));
  q.offset = 7;
  EXPECT_EQ(core::selectParticipants(r, q).rows, (Rows{4}));
  for (const std::size_t past : {std::size_t{8}, std::size_t{100}, std::size_t{1} << 40}) {
    q.offset = past;
    page = core::selectParticipants(r, q);
    EXPECT_EQ(page.total, 8U);
    EXPECT_TRUE(page.rows.empty());
  }
  q.offset = 0;
  q.limit = 0;
  EXPECT_TRUE(core::selectParticipants(r, q).rows.empty());
  // With a filter: offset counts matching rows only.
  q.filter = ReportFilter::attended;
  q.sort = ReportSort::report;
  q.offset = 4;
  q.limit = 10;
  page = core::selectParticipants(r, q);
  EXPECT_EQ(page.total, 5U);
  EXPECT_EQ(page.rows, (Rows{4}));
  q.offset = 5;
  page = core::selectParticipants(r, q);
  EXPECT_EQ(page.total, 5U);
  EXPECT_TRUE(page.rows.empty());
  // An empty report.
  const core::EventReport empty;
  const auto none = core::selectParticipants(empty, searching("x"));
  EXPECT_EQ(none.total, 0U);
  EXPECT_TRUE(none.rows.empty());
}

TEST(ReportQuery, PageJsonIsTheFullJsonWithOnePageOfParticipants) {
  const auto r = sample();
  core::ReportQuery q;
  q.filter = ReportFilter::attended;
  q.sort = ReportSort::name;
  q.descending = true;
  q.search = "a \"quote\\";  // escaped in "q"
  q.offset = 0;
  q.limit = 2;
  // Nothing matches that search; use a plain one for rows and keep the odd one for escaping.
  const auto none = core::selectParticipants(r, q);
  EXPECT_EQ(none.total, 0U);
  const auto oddPage = json::parse(core::renderReportPageJson(r, q, none)).as_object();
  EXPECT_EQ(oddPage.at("page").at("q"), "a \"quote\\");
  EXPECT_TRUE(oddPage.at("participants").as_array().empty());

  q.search = "E";
  q.offset = 1;
  const auto selection = core::selectParticipants(r, q);
  EXPECT_EQ(selection.total, 5U);           // attended rows whose name or email has an e
  EXPECT_EQ(selection.rows, (Rows{1, 2}));  // name desc: Zoë (offset 0), Same Name, Same Name
  const auto page = json::parse(core::renderReportPageJson(r, q, selection)).as_object();
  const auto full = json::parse(core::renderReportJson(r)).as_object();

  std::vector<std::string> keys;
  for (const auto& kv : page) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"event", "generatedAt", "synced", "summary", "page", "participants",
                                            "scanners", "arrivals"}));
  for (const char* same : {"event", "generatedAt", "synced", "summary", "scanners", "arrivals"}) {
    EXPECT_EQ(page.at(same), full.at(same)) << same;
  }
  EXPECT_EQ(page.at("summary").at("unknownDevices"), 1);
  EXPECT_EQ(page.at("page"), json::parse(R"({"offset":1,"limit":2,"total":5,"filter":"attended","sort":"name",)"
                                         R"("dir":"desc","q":"E"})"));
  const auto& rows = page.at("participants").as_array();
  const auto& allRows = full.at("participants").as_array();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0], allRows[1]);
  EXPECT_EQ(rows[1], allRows[2]);

  // Defaults: the "all" filter, report order ascending, empty q.
  const core::ReportQuery defaults;
  const auto first = json::parse(core::renderReportPageJson(r, defaults, core::selectParticipants(r, defaults)));
  EXPECT_EQ(first.at("page"), json::parse(R"({"offset":0,"limit":50,"total":8,"filter":"all","sort":"report",)"
                                          R"("dir":"asc","q":""})"));
  EXPECT_EQ(first.at("participants"), full.at("participants"));
}

TEST(ReportQuery, ChartBucketsPickTheNarrowestWidthThatFits) {
  const auto r = sample();                                            // first check-ins from 10:01 to 10:30
  EXPECT_EQ(core::chartBucketWidth(r, 36), std::chrono::minutes{1});  // 30 one-minute buckets
  EXPECT_EQ(core::chartBucketWidth(r, 10), std::chrono::minutes{5});  // 2 and 10:02..10:30 would be 15
  EXPECT_EQ(core::chartBucketWidth(r, 1), std::chrono::minutes{60});  // 30 min straddles 10:30
  EXPECT_EQ(core::chartBucketWidth(r, 0), std::chrono::minutes{60});  // treated as 1

  core::EventReport days = sample();
  days.participants[4].seen.firstSeen = at(3 * 24 * 60);                   // three days later
  EXPECT_EQ(core::chartBucketWidth(days, 36), std::chrono::minutes{180});  // 2 h would need 37
  // 20 and 23 July fall into two 2-day buckets counted from the epoch (19924 and 19926).
  EXPECT_EQ(core::chartBucketWidth(days, 2), std::chrono::minutes{2 * 1440});
  EXPECT_EQ(core::chartBucketWidth(days, 1), std::chrono::minutes{4 * 1440});  // 19924..19927

  core::EventReport nobody = sample();
  for (auto& p : nobody.participants) p.seen.firstSeen.reset();
  EXPECT_EQ(core::chartBucketWidth(nobody, 36), std::chrono::minutes{1});
}

TEST(ReportQuery, PageWithChartBucketsCarriesArrivalsInThatWidth) {
  auto r = sample();
  core::ReportQuery q;
  q.chartBuckets = 10;
  const auto page = json::parse(core::renderReportPageJson(r, q, core::selectParticipants(r, q))).as_object();
  const auto& arrivals = page.at("arrivals").as_object();
  EXPECT_EQ(arrivals.at("bucketMinutes"), 5);
  const auto& buckets = arrivals.at("buckets").as_array();
  ASSERT_EQ(buckets.size(), 7U);  // 10:00, 10:05, ..., 10:30
  EXPECT_EQ(buckets.front().at("start"), "2024-07-20T10:00:00.000Z");
  EXPECT_EQ(buckets.back().at("start"), "2024-07-20T10:30:00.000Z");
  std::int64_t sum = 0;
  for (const auto& b : buckets) sum += b.at("arrivals").as_int64();
  EXPECT_EQ(sum, 6);                        // everyone seen: five attended and the walk-in
  EXPECT_EQ(buckets[1].at("arrivals"), 2);  // 10:05 and 10:05 (the two "Same Name")

  // Without it the page has the report's own buckets, as the full JSON.
  const core::ReportQuery plain;
  const auto own = json::parse(core::renderReportPageJson(r, plain, core::selectParticipants(r, plain)));
  EXPECT_EQ(own.at("arrivals"), json::parse(core::renderReportJson(r)).at("arrivals"));
}

}  // namespace
