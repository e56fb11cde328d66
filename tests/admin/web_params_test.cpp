// Pure request parsing: the report API's page parameters and the event form's times.
#include <gtest/gtest.h>

#include <attendance/core/report.hpp>

#include "web/event_time.hpp"
#include "web/report_params.hpp"

namespace attendance::admin_web {
namespace {

using core::ReportFilter;
using core::ReportSort;

TEST(ReportParams, NoPageParameterMeansTheFullReport) {
  for (const char* q : {"", "_=1700000000", "page=2&x=y", "&&"}) {
    SCOPED_TRACE(q);
    const auto r = parseReportRequest(q);
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_FALSE(r.paged);
  }
}

TEST(ReportParams, ReadsEveryParameter) {
  const auto r =
      parseReportRequest("offset=100&limit=25&filter=no-show&q=Ana+L%C3%ADma%2B&sort=firstSeen&dir=desc&buckets=36");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.paged);
  EXPECT_EQ(r.query.offset, 100U);
  EXPECT_EQ(r.query.limit, 25U);
  EXPECT_EQ(r.query.filter, ReportFilter::no_show);
  EXPECT_EQ(r.query.search, "Ana L\xC3\xADma+");
  EXPECT_EQ(r.query.sort, ReportSort::first_seen);
  EXPECT_TRUE(r.query.descending);
  EXPECT_EQ(r.query.chartBuckets, 36U);
  // buckets alone asks for a page too; without it the page has the report's own buckets.
  EXPECT_TRUE(parseReportRequest("buckets=1").paged);
  EXPECT_EQ(parseReportRequest("limit=5").query.chartBuckets, 0U);
}

TEST(ReportParams, DefaultsForTheOnesLeftOut) {
  const auto r = parseReportRequest("q=");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.paged);
  EXPECT_EQ(r.query.offset, 0U);
  EXPECT_EQ(r.query.limit, 50U);
  EXPECT_EQ(r.query.filter, ReportFilter::all);
  EXPECT_EQ(r.query.search, "");
  EXPECT_EQ(r.query.sort, ReportSort::report);
  EXPECT_FALSE(r.query.descending);
  for (const auto& [text, sort] :
       std::vector<std::pair<const char*, ReportSort>>{{"sort=report", ReportSort::report},
                                                       {"sort=name", ReportSort::name},
                                                       {"sort=email", ReportSort::email},
                                                       {"sort=status", ReportSort::status},
                                                       {"sort=lastSeen", ReportSort::last_seen},
                                                       {"sort=scanners", ReportSort::scanners}}) {
    EXPECT_EQ(parseReportRequest(text).query.sort, sort) << text;
  }
  EXPECT_EQ(parseReportRequest("filter=walk-in").query.filter, ReportFilter::walk_in);
  EXPECT_EQ(parseReportRequest("filter=attended").query.filter, ReportFilter::attended);
  EXPECT_FALSE(parseReportRequest("dir=asc").query.descending);
}

TEST(ReportParams, RefusesBadValuesNamingTheParameter) {
  for (const auto& [query, name] : std::vector<std::pair<std::string, std::string>>{
           {"limit=0", "limit"},
           {"limit=501", "limit"},
           {"limit=+5", "limit"},
           {"limit=5.0", "limit"},
           {"limit", "limit"},
           {"offset=-3", "offset"},
           {"offset=99999999999999999999", "offset"},
           {"offset=100000001", "offset"},
           {"filter=ALL", "filter"},
           {"filter=noshow", "filter"},
           {"sort=Name", "sort"},
           {"dir=descending", "dir"},
           {"q=" + std::string(201, 'x'), "q"},
           {"q=%E", "q"},
           {"sort=name&sort=email", "sort"},
           {"buckets=0", "buckets"},
           {"buckets=501", "buckets"},
           {"buckets=auto", "buckets"},
           {"buckets=3&buckets=4", "buckets"},
       }) {
    SCOPED_TRACE(query);
    const auto r = parseReportRequest(query);
    EXPECT_EQ(r.error.substr(0, name.size() + 1), name + ":") << r.error;
  }
  // 200 bytes of UTF-8 are fine, 201 are not, whatever the characters.
  std::string two;
  for (int i = 0; i < 100; ++i) two += "%C3%A9";
  EXPECT_TRUE(parseReportRequest("q=" + two).error.empty());
  EXPECT_FALSE(parseReportRequest("q=" + two + "x").error.empty());
}

using Clock = std::chrono::system_clock;
std::string iso(const Result<std::optional<Clock::time_point>>& r) {
  if (!r) return "error";
  if (!*r) return "none";
  return core::formatIsoUtc(**r);
}

TEST(EventFormTime, PrefersTheInstantTheBrowserComputed) {
  // Berlin: summer (UTC+2) and winter (UTC+1) dates typed on the same day get
  // their own offsets; the browser sends the instants.
  EXPECT_EQ(iso(parseFormTime("2026-07-15T18:00", "2026-07-15T16:00:00.000Z", "-60")), "2026-07-15T16:00:00.000Z");
  EXPECT_EQ(iso(parseFormTime("2026-12-15T18:00", "2026-12-15T17:00:00.000Z", "-120")), "2026-12-15T17:00:00.000Z");
  EXPECT_EQ(iso(parseFormTime("2026-03-29T03:30", "2026-03-29T03:30:00+02:00", "")), "2026-03-29T01:30:00.000Z");
  // The instant needs a zone.
  EXPECT_EQ(iso(parseFormTime("2026-07-15T18:00", "2026-07-15T16:00", "")), "error");
  EXPECT_EQ(iso(parseFormTime("2026-07-15T18:00", "2026-07-15", "")), "error");
  EXPECT_EQ(iso(parseFormTime("", "garbage-but-long-enough-Z", "")), "error");
}

TEST(EventFormTime, WithoutTheInstantTheLocalValueUsesTzOffsetOrUtc) {
  // Scripts: tzOffset as getTimezoneOffset() (UTC - local, minutes).
  EXPECT_EQ(iso(parseFormTime("2026-10-01T18:00", "", "-120")), "2026-10-01T16:00:00.000Z");
  EXPECT_EQ(iso(parseFormTime("2026-10-01T18:00", "", "300")), "2026-10-01T23:00:00.000Z");
  // The form without JavaScript: UTC, as its labels say.
  EXPECT_EQ(iso(parseFormTime("2026-10-01T18:00", "", "")), "2026-10-01T18:00:00.000Z");
  EXPECT_EQ(iso(parseFormTime("2026-10-01T18:00:30", "", "")), "2026-10-01T18:00:30.000Z");
  // A local value with its own zone is taken as it is.
  EXPECT_EQ(iso(parseFormTime("2026-10-01T18:00+02:00", "", "-600")), "2026-10-01T16:00:00.000Z");
  EXPECT_EQ(iso(parseFormTime("2026-10-01T18:00Z", "", "")), "2026-10-01T18:00:00.000Z");
  EXPECT_EQ(iso(parseFormTime("", "", "-60")), "none");
}

TEST(EventFormTime, RefusesWhatIsNotADateAndTime) {
  for (const auto& [local, tz] : std::vector<std::pair<std::string, std::string>>{
           {"2026-10-01", ""},
           {"tomorrow", ""},
           {"2026-13-01T18:00", ""},
           {"2026-10-01T25:00", ""},
           {"2026-10-01T18:00", "abc"},
           {"2026-10-01T18:00", "1441"},
           {"2026-10-01T18:00", "-1441"},
           {std::string(41, '2'), ""},
       }) {
    SCOPED_TRACE(local + " " + tz);
    EXPECT_EQ(iso(parseFormTime(local, "", tz)), "error");
  }
}

}  // namespace
}  // namespace attendance::admin_web
