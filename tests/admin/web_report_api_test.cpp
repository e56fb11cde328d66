// The report API over real sockets and a real PostgreSQL database: the page
// parameters are validated, every page equals the matching slice of the full
// report (computed here from the full JSON, independently of core's selection
// code), answers follow the data after an ingest, the background refresh
// rebuilds a changed report before anyone asks, and a session is still needed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <thread>

#include <attendance/core/assignments.hpp>
#include <attendance/core/batch.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/report.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/core/users.hpp>

#include <attendance/core/admin_accounts.hpp>
#include "web/html.hpp"
#include "admin/web_fixture.hpp"

namespace attendance::admin_web::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr const char* kEmail = "organizer@example.org";
constexpr const char* kPassword = "correct horse battery";

// ---- the expected page, from the full report's JSON ---------------------------

std::string fold(std::string_view s) {
  std::string out{s};
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Text order of the contract: ASCII letters folded first, then the bytes.
int compareText(const std::string& a, const std::string& b) {
  const std::string fa = fold(a);
  const std::string fb = fold(b);
  if (fa != fb) return fa < fb ? -1 : 1;
  if (a != b) return a < b ? -1 : 1;
  return 0;
}

struct Query {
  std::string filter = "all";
  std::string q;
  std::string sort = "report";
  std::string dir = "asc";
  std::size_t offset = 0;
  std::size_t limit = 50;
};

// The sort key of one participant; nullopt = empty (sorted last in both directions).
std::optional<std::string> sortKey(const json::object& p, const std::string& sort) {
  auto text = [&](const char* field) -> std::optional<std::string> {
    const auto& v = p.at(field);
    if (v.is_null()) return std::nullopt;
    return std::string(v.as_string());
  };
  if (sort == "name") return text("name");
  if (sort == "email") return text("email");
  if (sort == "status") return text("status");
  if (sort == "firstSeen") return text("firstSeen");  // same-length ISO 8601 UTC: text order is time order
  if (sort == "lastSeen") return text("lastSeen");
  // scanners: the joined list. The test's scanner ids are S1..S3 (same length),
  // so any separator gives the same order.
  std::string joined;
  for (const auto& s : p.at("scanners").as_array()) joined += (joined.empty() ? "" : ",") + std::string(s.as_string());
  if (joined.empty()) return std::nullopt;
  return joined;
}

json::array expectedPage(const json::array& all, const Query& q, std::size_t& total) {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& p = all[i].as_object();
    if (q.filter != "all" && p.at("status").as_string() != q.filter) continue;
    if (!q.q.empty()) {
      const std::string needle = fold(q.q);
      if (fold(std::string(p.at("name").as_string())).find(needle) == std::string::npos &&
          fold(std::string(p.at("email").as_string())).find(needle) == std::string::npos) {
        continue;
      }
    }
    rows.push_back(i);
  }
  total = rows.size();
  const bool desc = q.dir == "desc";
  if (q.sort == "report") {
    if (desc) std::reverse(rows.begin(), rows.end());
  } else {
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
      const auto ka = sortKey(all[a].as_object(), q.sort);
      const auto kb = sortKey(all[b].as_object(), q.sort);
      if (!ka || !kb) return ka.has_value() && !kb.has_value();  // empties last, either way
      const int c = compareText(*ka, *kb);
      return desc ? c > 0 : c < 0;
    });
  }
  json::array out;
  for (std::size_t i = q.offset; i < rows.size() && i < q.offset + q.limit; ++i) out.push_back(all[rows[i]]);
  return out;
}

std::string target(const std::string& eventId, const Query& q) {
  return "/api/events/" + eventId + "/report?filter=" + q.filter + "&q=" + urlEncode(q.q) + "&sort=" + q.sort +
         "&dir=" + q.dir + "&offset=" + std::to_string(q.offset) + "&limit=" + std::to_string(q.limit);
}

// ---- fixture -----------------------------------------------------------------

class ReportApiTest : public ::testing::Test {
protected:
  explicit ReportApiTest(WebOptions options = WebOptions::forTests()) : server(db, std::move(options)) {
    core::AdminAuthConfig s;
    s.opsLimit = 1;
    s.memLimit = 8192;
    EXPECT_TRUE(core::createAdmin(server.pool(), kEmail, kPassword, s, server.clock.systemTime()).has_value());
  }

  Browser signedIn() {
    Browser b{server.port()};
    EXPECT_EQ(b.login(kEmail, kPassword).result(), http::status::see_other);
    return b;
  }

  core::User makeUser(const std::string& email, const std::string& name) {
    core::NewUser u;
    u.email = email;
    u.displayName = name;
    auto r = core::createUser(server.pool(), u, core::AuthConfig::forTests(), server.clock.systemTime());
    EXPECT_TRUE(r.has_value()) << email;
    return *r;
  }

  void ingest(const std::string& scanner, const std::vector<std::pair<support::Uuid, std::int64_t>>& seen) {
    core::IngestRequest req;
    req.eventId = eventId;
    req.scannerId = scanner;
    for (std::size_t i = 0; i < seen.size(); ++i) req.records.push_back({i, seen[i].first, seen[i].second, scanner});
    auto r = core::ingestBatch(server.pool(), req, server.clock.systemTime());
    ASSERT_TRUE(r.has_value());
  }

  // 40 participants: names that differ only in case, a true tie (same name),
  // non-ASCII; attended with shared first-seen times and one to three scanners;
  // no-shows; three walk-ins; two unknown devices.
  void seed() {
    core::NewEvent ev;
    ev.id = eventId;
    ev.name = "Conference";
    ASSERT_TRUE(core::createEvent(server.pool(), ev, server.clock.systemTime()).has_value());
    for (const char* s : {"S1", "S2", "S3"}) {
      ASSERT_TRUE(core::createScanner(server.pool(), s, server.clock.systemTime()).has_value());
      ASSERT_TRUE(core::assignScanner(server.pool(), s, eventId, server.clock.systemTime()).has_value());
    }
    const std::vector<std::pair<std::string, std::string>> named = {
        {"alice@example.org", "alice Adams"}, {"alan@example.org", "Alan Brook"},  {"albert@other.org", "ALBERT Cole"},
        {"bob1@example.org", "bob Dean"},     {"bob2@example.org", "Bob Dean"},    {"sam1@example.org", "Sam Lee"},
        {"sam2@example.org", "Sam Lee"},      {"zoe@example.org", "Zoë Ångström"}, {"ana@other.org", "Ana Lima"},
    };
    std::vector<core::User> people;
    for (const auto& [email, name] : named) people.push_back(makeUser(email, name));
    for (int i = 0; i < 31; ++i) {
      people.push_back(
          makeUser("p" + std::to_string(i) + "@example.org", "Person " + std::to_string(10 + (i * 7) % 31)));
    }
    for (const auto& u : people) {
      ASSERT_TRUE(core::registerForEvent(server.pool(), eventId, u.id, server.clock.systemTime()).has_value());
    }
    std::vector<core::User> walkIns;
    for (int i = 0; i < 3; ++i)
      walkIns.push_back(makeUser("walk" + std::to_string(i) + "@example.org", "Walker " + std::to_string(i)));
    const std::int64_t t0 = support::toEpochMillis(server.clock.systemTime() - 3h);
    // People 0..25 attended: first seen in pairs (ties), scanners depending on i.
    std::vector<std::pair<support::Uuid, std::int64_t>> s1, s2, s3;
    for (std::size_t i = 0; i < 26; ++i) {
      const std::int64_t first = t0 + static_cast<std::int64_t>(i / 2) * 60'000;
      s1.emplace_back(people[i].bleUuid, first);
      if (i % 3 == 0) s2.emplace_back(people[i].bleUuid, first + 600'000 + static_cast<std::int64_t>(i) * 1000);
      if (i % 4 == 1) s3.emplace_back(people[i].bleUuid, first + 1'200'000);
    }
    for (std::size_t i = 0; i < walkIns.size(); ++i)
      s2.emplace_back(walkIns[i].bleUuid, t0 + 90'000 * static_cast<std::int64_t>(i + 1));
    s3.emplace_back(*support::Uuid::parse("0b6d4b9e-5c57-4a44-9a39-3e8f1c2d7a10"), t0 + 5'000);
    s3.emplace_back(*support::Uuid::parse("1c7e5caf-6d68-4b55-8b4a-4f902d3e8b21"), t0 + 7'000);
    ingest("S1", s1);
    ingest("S2", s2);
    ingest("S3", s3);
    noShow = people.back();
  }

  json::object getJson(Browser& b, const std::string& t) {
    const auto res = b.get(t);
    EXPECT_EQ(res.result(), http::status::ok) << t << ": " << res.body();
    return json::parse(res.body()).as_object();
  }

  TestDatabase db;
  TestServer server;
  std::string eventId = "conf-2026";
  core::User noShow;
};

TEST_F(ReportApiTest, PageParametersAreValidatedAndTheErrorNamesTheParameter) {
  seed();
  Browser b = signedIn();
  const std::string base = "/api/events/" + eventId + "/report?";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"limit=0", "limit"},
      {"limit=501", "limit"},
      {"limit=ten", "limit"},
      {"limit=", "limit"},
      {"limit=-1", "limit"},
      {"offset=-1", "offset"},
      {"offset=1e3", "offset"},
      {"offset=", "offset"},
      {"filter=present", "filter"},
      {"filter=", "filter"},
      {"sort=age", "sort"},
      {"sort=first_seen", "sort"},
      {"dir=up", "dir"},
      {"dir=", "dir"},
      {"q=" + std::string(201, 'a'), "q"},
      {"q=%zz", "q"},
      {"limit=10&limit=20", "limit"},
  };
  for (const auto& [query, name] : bad) {
    SCOPED_TRACE(query);
    const auto res = b.get(base + query);
    EXPECT_EQ(res.result(), http::status::bad_request);
    const auto body = json::parse(res.body()).as_object();
    EXPECT_TRUE(std::string(body.at("error").as_string()).starts_with(name + ":")) << res.body();
  }
  // The edges are fine; unknown parameters (cache busters) are ignored.
  for (const std::string& ok :
       std::vector<std::string>{"limit=1", "limit=500", "offset=0", "offset=100000", "q=" + std::string(200, 'a'),
                                "filter=walk-in&sort=lastSeen&dir=desc", "_=12345&limit=5"}) {
    SCOPED_TRACE(ok);
    EXPECT_EQ(b.get(base + ok).result(), http::status::ok);
  }
  EXPECT_EQ(b.get("/api/events/nope/report?limit=5").result(), http::status::not_found);
}

TEST_F(ReportApiTest, EveryPageIsTheMatchingSliceOfTheFullReport) {
  seed();
  Browser b = signedIn();
  const auto fullRes = b.get("/api/events/" + eventId + "/report");
  ASSERT_EQ(fullRes.result(), http::status::ok);
  // Without page parameters: exactly core's renderer (= attendance-admin report --format json).
  auto report = core::buildReport(server.pool(), eventId, server.clock.systemTime());
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(fullRes.body(), core::renderReportJson(*report));
  const auto full = json::parse(fullRes.body()).as_object();
  const auto& all = full.at("participants").as_array();
  ASSERT_EQ(all.size(), 43U);  // 40 registered + 3 walk-ins
  EXPECT_EQ(full.at("summary").at("unknownDevices").as_int64(), 2);

  std::vector<Query> queries;
  queries.push_back({});                                    // the defaults
  queries.push_back({"all", "", "report", "asc", 40, 10});  // last page of the report order
  queries.push_back({"all", "", "report", "desc", 0, 7});
  queries.push_back({"all", "", "name", "asc", 0, 500});  // case folding, ties, non-ASCII
  queries.push_back({"all", "", "name", "desc", 3, 9});
  queries.push_back({"attended", "", "name", "desc", 0, 50});
  queries.push_back({"all", "", "email", "asc", 10, 10});
  queries.push_back({"all", "", "firstSeen", "asc", 0, 500});   // equal times, no-shows last
  queries.push_back({"all", "", "firstSeen", "desc", 20, 20});  // no-shows last in desc too
  queries.push_back({"all", "", "lastSeen", "desc", 0, 30});
  queries.push_back({"all", "", "scanners", "asc", 0, 500});
  queries.push_back({"all", "", "scanners", "desc", 0, 500});
  queries.push_back({"all", "", "status", "desc", 0, 500});
  queries.push_back({"walk-in", "", "firstSeen", "asc", 0, 50});
  queries.push_back({"no-show", "person", "name", "asc", 0, 5});   // filter and search together
  queries.push_back({"all", "LEE", "email", "desc", 0, 50});       // search folds case
  queries.push_back({"all", "sam lee", "report", "asc", 0, 50});   // a space (sent as %20)
  queries.push_back({"all", "@other.org", "name", "asc", 0, 50});  // matches emails
  queries.push_back({"all", "Ångström", "name", "asc", 0, 50});    // UTF-8 bytes
  queries.push_back({"attended", "", "name", "asc", 1000, 50});    // past the end
  queries.push_back({"all", "nobody-has-this", "name", "asc", 0, 50});
  for (const Query& q : queries) {
    const std::string t = target(eventId, q);
    SCOPED_TRACE(t);
    const auto page = getJson(b, t);
    std::size_t total = 0;
    const json::array expected = expectedPage(all, q, total);
    EXPECT_EQ(page.at("participants").as_array(), expected)
        << "got " << json::serialize(page.at("participants")) << "\nwant " << json::serialize(expected);
    const auto& p = page.at("page").as_object();
    EXPECT_EQ(p.at("total").as_int64(), static_cast<std::int64_t>(total));
    EXPECT_EQ(p.at("offset").as_int64(), static_cast<std::int64_t>(q.offset));
    EXPECT_EQ(p.at("limit").as_int64(), static_cast<std::int64_t>(q.limit));
    EXPECT_EQ(p.at("filter").as_string(), q.filter);
    EXPECT_EQ(p.at("sort").as_string(), q.sort);
    EXPECT_EQ(p.at("dir").as_string(), q.dir);
    EXPECT_EQ(p.at("q").as_string(), q.q);
    // The rest of the answer is the full report's: one consistent report per page.
    for (const char* same : {"event", "generatedAt", "synced", "summary", "scanners", "arrivals"}) {
      EXPECT_EQ(page.at(same), full.at(same)) << same;
    }
    EXPECT_FALSE(page.contains("unknownDevices"));
  }
  // A "+" in the query string is a space too (HTML forms, URLSearchParams).
  const auto plus = getJson(b, "/api/events/" + eventId + "/report?q=sam+lee");
  EXPECT_EQ(plus.at("page").at("total").as_int64(), 2);
  EXPECT_EQ(plus.at("page").at("q").as_string(), "sam lee");
  // One parameter is enough for a page; the rest are the defaults.
  const auto one = getJson(b, "/api/events/" + eventId + "/report?limit=3");
  std::size_t total = 0;
  EXPECT_EQ(one.at("participants").as_array(), expectedPage(all, Query{"all", "", "report", "asc", 0, 3}, total));
  EXPECT_EQ(one.at("page").at("total").as_int64(), 43);
}

TEST_F(ReportApiTest, AnswersFollowTheDataAfterAnIngest) {
  seed();
  Browser b = signedIn();
  const std::string attendedPage = "/api/events/" + eventId + "/report?filter=attended&sort=name&limit=100";
  const auto before = getJson(b, attendedPage);
  const auto attended = before.at("page").at("total").as_int64();
  EXPECT_EQ(attended, 26);
  const auto fullBefore = getJson(b, "/api/events/" + eventId + "/report");
  EXPECT_EQ(fullBefore.at("summary").at("attended").as_int64(), 26);
  const std::string csvBefore = b.get("/events/" + eventId + "/report.csv").body();

  // The last no-show arrives late: a new batch from S1.
  ingest("S1", {{noShow.bleUuid, support::toEpochMillis(server.clock.systemTime() - 10min)}});

  const auto after = getJson(b, attendedPage);
  EXPECT_EQ(after.at("page").at("total").as_int64(), attended + 1);
  bool found = false;
  for (const auto& p : after.at("participants").as_array()) found = found || p.at("email").as_string() == noShow.email;
  EXPECT_TRUE(found) << noShow.email << " is listed as attended";
  const auto fullRes = b.get("/api/events/" + eventId + "/report");
  auto report = core::buildReport(server.pool(), eventId, server.clock.systemTime());
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(fullRes.body(), core::renderReportJson(*report));
  EXPECT_EQ(report->attended, attended + 1);
  const std::string csvAfter = b.get("/events/" + eventId + "/report.csv").body();
  EXPECT_NE(csvAfter, csvBefore);
  EXPECT_EQ(csvAfter, "\xEF\xBB\xBF" + core::renderReportCsv(*report));

  // A new registration and a renamed participant show up as well.
  const auto late = makeUser("late@example.org", "Late Comer");
  ASSERT_TRUE(core::registerForEvent(server.pool(), eventId, late.id, server.clock.systemTime()).has_value());
  const auto noShows = getJson(b, "/api/events/" + eventId + "/report?filter=no-show&q=late");
  EXPECT_EQ(noShows.at("page").at("total").as_int64(), 1);
  EXPECT_EQ(noShows.at("summary").at("registered").as_int64(), 41);
  (void)db.scalar("UPDATE users SET display_name = 'Renamed Person' WHERE email = 'late@example.org'");
  const auto renamed = getJson(b, "/api/events/" + eventId + "/report?q=renamed");
  ASSERT_EQ(renamed.at("participants").as_array().size(), 1U);
  EXPECT_EQ(renamed.at("participants").at(0).at("name").as_string(), "Renamed Person");
}

// Issue 16: the event page works without JavaScript. After a sync its HTML
// holds the totals, the last sync per scanner and the participant table's
// first page: 50 rows in the order the page's script asks for first (by first
// seen, earliest first, named on #report), the same rows as that API page.
TEST_F(ReportApiTest, TheEventPageHoldsTheTotalsAndTheFirstPageWithoutJavaScript) {
  seed();
  // 20 more registered no-shows: 63 participants, more than one page.
  for (int i = 0; i < 20; ++i) {
    const auto u = makeUser("late" + std::to_string(i) + "@example.org", "Late " + std::to_string(i));
    ASSERT_TRUE(core::registerForEvent(server.pool(), eventId, u.id, server.clock.systemTime()).has_value());
  }
  Browser b = signedIn();
  const auto res = b.get("/events/" + eventId);
  ASSERT_EQ(res.result(), http::status::ok);
  const std::string html = res.body();

  std::map<std::string, std::string> totals;
  const std::regex stat(R"re(<div class="stat-label">([^<]*)</div><div class="stat-value[^"]*">([^<]*)</div>)re");
  for (std::sregex_iterator it(html.begin(), html.end(), stat), end; it != end; ++it) totals[(*it)[1]] = (*it)[2];
  EXPECT_EQ(totals, (std::map<std::string, std::string>{{"Registered", "60"},
                                                        {"Attended", "26"},
                                                        {"No-shows", "34"},
                                                        {"Walk-ins", "3"},
                                                        {"Unknown devices", "2"},
                                                        {"Attendance rate", "43.3%"}}));
  EXPECT_TRUE(html.find("<code>S3</code>") != std::string::npos) << "last sync per scanner";
  EXPECT_EQ(html.find("Attendance data has not been synced."), std::string::npos);
  EXPECT_NE(html.find(R"(data-sort="firstSeen" data-dir="asc")"), std::string::npos);

  // The rows: name and email of each, in order.
  const auto from = html.find("<table id=\"participant-table\"");
  ASSERT_NE(from, std::string::npos) << html;
  const std::string table = html.substr(from, html.find("</table>", from) - from);
  std::vector<std::pair<std::string, std::string>> rows;
  const std::regex row(R"re(<tr><td>([^<]*)</td><td>([^<]*)</td>)re");
  for (std::sregex_iterator it(table.begin(), table.end(), row), end; it != end; ++it)
    rows.emplace_back((*it)[1], (*it)[2]);

  const auto full = getJson(b, "/api/events/" + eventId + "/report");
  std::size_t total = 0;
  const json::array expected =
      expectedPage(full.at("participants").as_array(), Query{"all", "", "firstSeen", "asc", 0, 50}, total);
  ASSERT_EQ(total, 63U);
  std::vector<std::pair<std::string, std::string>> want;
  for (const auto& p : expected) {
    want.emplace_back(escape(std::string(p.at("name").as_string())), escape(std::string(p.at("email").as_string())));
  }
  EXPECT_EQ(rows.size(), 50U);
  EXPECT_EQ(rows, want);
  EXPECT_NE(html.find("<span id=\"page-info\">1–50 of 63</span>"), std::string::npos);
  // The first page the script asks for is the same page.
  const auto api = getJson(b, "/api/events/" + eventId + "/report?sort=firstSeen&dir=asc&limit=50");
  EXPECT_EQ(api.at("participants").as_array(), expected);
}

// Issue 16: "Records received" says distinct vs. resent. A scanner that sends
// part of its log again (a retry, a --follow restart) has received more records
// than it stored; the last-sync table shows both and the difference.
TEST_F(ReportApiTest, TheScannerTableSplitsRecordsReceivedIntoDistinctResentAndRefused) {
  core::NewEvent ev;
  ev.id = eventId;
  ev.name = "Conference";
  ASSERT_TRUE(core::createEvent(server.pool(), ev, server.clock.systemTime()).has_value());
  for (const char* s : {"S1", "S2"}) {
    ASSERT_TRUE(core::createScanner(server.pool(), s, server.clock.systemTime()).has_value());
    ASSERT_TRUE(core::assignScanner(server.pool(), s, eventId, server.clock.systemTime()).has_value());
  }
  const auto ana = makeUser("ana@example.org", "Ana");
  const auto bo = makeUser("bo@example.org", "Bo");
  const std::int64_t t0 = support::toEpochMillis(server.clock.systemTime() - 1h);
  ingest("S1", {{ana.bleUuid, t0}, {bo.bleUuid, t0 + 1000}});
  // The same two again, one new and one from a clock that was never set (1970,
  // refused): 6 received, 3 distinct, 2 resent, 1 refused.
  ingest("S1", {{ana.bleUuid, t0}, {bo.bleUuid, t0 + 1000}, {ana.bleUuid, t0 + 60'000}, {bo.bleUuid, 1000}});
  ingest("S2", {{bo.bleUuid, t0 + 5000}});

  Browser b = signedIn();
  const auto full = getJson(b, "/api/events/" + eventId + "/report");
  using Counts = std::vector<std::int64_t>;  // received, stored, resent, refused
  std::map<std::string, Counts> fromJson;
  for (const auto& s : full.at("scanners").as_array()) {
    fromJson[std::string(s.at("scannerId").as_string())] = {
        s.at("recordsReceived").as_int64(), s.at("recordsStored").as_int64(), s.at("recordsResent").as_int64(),
        s.at("recordsRefused").as_int64()};
  }
  EXPECT_EQ(fromJson, (std::map<std::string, Counts>{{"S1", {6, 3, 2, 1}}, {"S2", {1, 1, 0, 0}}}));
  // A page of the report carries the same scanners (app.js renders them from it).
  const auto paged = getJson(b, "/api/events/" + eventId + "/report?limit=1");
  EXPECT_EQ(json::serialize(paged.at("scanners")), json::serialize(full.at("scanners")));

  const std::string html = b.get("/events/" + eventId).body();
  const auto from = html.find("<table id=\"scanner-table\"");
  ASSERT_NE(from, std::string::npos) << html;
  const std::string table = html.substr(from, html.find("</table>", from) - from);
  std::vector<std::string> head;
  const std::regex th(R"re(<th[^>]*>([^<]*)</th>)re");
  for (std::sregex_iterator it(table.begin(), table.end(), th), end; it != end; ++it) head.push_back((*it)[1]);
  EXPECT_EQ(head,
            (std::vector<std::string>{"Scanner", "Last sync", "Records received", "Distinct", "Resent", "Refused"}));
  std::vector<std::vector<std::string>> rows;
  const std::regex row(
      R"re(<tr><td><code>([^<]*)</code></td><td[^>]*>.*?</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td></tr>)re");
  for (std::sregex_iterator it(table.begin(), table.end(), row), end; it != end; ++it)
    rows.push_back({(*it)[1], (*it)[2], (*it)[3], (*it)[4], (*it)[5]});
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{{"S1", "6", "3", "2", "1"}, {"S2", "1", "1", "0", "0"}}))
      << table;
}

// Issue 16: the ids no participant has get their own tab on the event page,
// apart from the participants' table: server-rendered (a link with
// ?tab=unknown-devices, so it works without JavaScript) and their own CSV.
TEST_F(ReportApiTest, UnknownDevicesHaveTheirOwnTabAndCsv) {
  seed();
  Browser b = signedIn();
  const auto full = getJson(b, "/api/events/" + eventId + "/report");
  // What the report says about them: bleUuid, first and last seen, scanners, sightings.
  std::vector<std::vector<std::string>> expected;
  for (const auto& u : full.at("unknownDevices").as_array()) {
    std::string scanners;
    for (const auto& s : u.at("scanners").as_array())
      scanners += (scanners.empty() ? "" : ", ") + std::string(s.as_string());
    const auto utc = [](const json::value& t) {
      const std::string iso(t.as_string());
      return iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC";
    };
    expected.push_back({std::string(u.at("bleUuid").as_string()), utc(u.at("firstSeen")), utc(u.at("lastSeen")),
                        scanners, std::to_string(u.at("sightings").as_int64())});
  }
  ASSERT_EQ(expected.size(), 2U);
  EXPECT_EQ(expected[0][0], "0b6d4b9e-5c57-4a44-9a39-3e8f1c2d7a10");
  EXPECT_EQ(expected[0][3], "S3");

  const auto rowsOf = [](const std::string& html) {
    std::vector<std::vector<std::string>> rows;
    const auto from = html.find("<table id=\"unknown-table\"");
    if (from == std::string::npos) return rows;
    const std::string table = html.substr(from, html.find("</table>", from) - from);
    const std::regex row(
        R"re(<tr><td><code>([^<]*)</code></td><td[^>]*><time[^>]*>([^<]*)</time></td><td[^>]*><time[^>]*>([^<]*)</time></td><td>([^<]*)</td><td class="num">([^<]*)</td></tr>)re");
    for (std::sregex_iterator it(table.begin(), table.end(), row), end; it != end; ++it)
      rows.push_back({(*it)[1], (*it)[2], (*it)[3], (*it)[4], (*it)[5]});
    return rows;
  };
  const std::string page = b.get("/events/" + eventId).body();
  // Both tabs are links; the participants' one is open, the unknown devices' panel is hidden.
  EXPECT_NE(page.find("<a href=\"/events/" + eventId +
                      "?tab=unknown-devices#unknown-devices\" data-tab=\"unknown-devices\">Unknown devices <span "
                      "class=\"badge\" id=\"unknown-count\">2</span></a>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("id=\"participants\"><div"), std::string::npos) << "the participants are shown";
  EXPECT_NE(page.find("id=\"unknown-devices\" hidden>"), std::string::npos) << page;
  EXPECT_EQ(rowsOf(page), expected);
  // Not among the participants.
  const auto people = page.substr(page.find("id=\"participants\""),
                                  page.find("id=\"unknown-devices\"") - page.find("id=\"participants\""));
  EXPECT_EQ(people.find("0b6d4b9e"), std::string::npos);

  const std::string tab = b.get("/events/" + eventId + "?tab=unknown-devices").body();
  EXPECT_NE(tab.find("id=\"participants\" hidden>"), std::string::npos) << tab;
  EXPECT_NE(tab.find("id=\"unknown-devices\"><div"), std::string::npos) << tab;
  EXPECT_NE(tab.find("data-tab=\"unknown-devices\" aria-current=\"true\""), std::string::npos) << tab;
  EXPECT_NE(tab.find("<span id=\"unknown-info\">1–2 of 2</span>"), std::string::npos) << tab;
  EXPECT_EQ(rowsOf(tab), expected);

  // Their own CSV: BOM, header, one row each as in the report.
  const auto csv = b.get("/events/" + eventId + "/unknown-devices.csv");
  ASSERT_EQ(csv.result(), http::status::ok);
  EXPECT_EQ(csv[http::field::content_disposition], "attachment; filename=\"unknown-devices-" + eventId + ".csv\"");
  std::string want =
      "\xEF\xBB\xBF"
      "bleUuid,firstSeen,lastSeen,scanners,sightings\r\n";
  for (const auto& u : full.at("unknownDevices").as_array()) {
    want += std::string(u.at("bleUuid").as_string()) + "," + std::string(u.at("firstSeen").as_string()) + "," +
            std::string(u.at("lastSeen").as_string()) + ",S3," + std::to_string(u.at("sightings").as_int64()) + "\r\n";
  }
  EXPECT_EQ(csv.body(), want);
  EXPECT_EQ(Browser{server.port()}.get("/events/" + eventId + "/unknown-devices.csv").result(),
            http::status::see_other);
}

TEST_F(ReportApiTest, ASessionIsStillRequired) {
  seed();
  Browser anon{server.port()};
  for (const std::string& t :
       std::vector<std::string>{"/api/events/" + eventId + "/report?limit=5",
                                "/api/events/" + eventId + "/report?limit=0",  // not even validated
                                "/api/events/" + eventId + "/report"}) {
    SCOPED_TRACE(t);
    const auto res = anon.get(t);
    EXPECT_EQ(res.result(), http::status::unauthorized);
    EXPECT_EQ(res.body().find("Conference"), std::string::npos);
  }
  const std::string csvPath = "/events/" + eventId + "/report.csv";
  const auto csv = anon.get(csvPath);
  EXPECT_EQ(csv.result(), http::status::see_other);
  EXPECT_EQ(csv[http::field::location], "/login?next=" + urlEncode(csvPath));  // the download after sign-in
}

// Issue 14 §1: while followers upload, the report says per scanner "live — last
// upload 12 s ago" (a batch within the last 30 s of the console's clock), on the
// server-rendered page and in the small status the page polls; before any batch
// exactly today's "Attendance data has not been synced.".
TEST_F(ReportApiTest, EachScannerIsLiveWhileItsBatchesArriveAndNotSyncedBeforeAny) {
  core::NewEvent ev;
  ev.id = eventId;
  ev.name = "Conference";
  ASSERT_TRUE(core::createEvent(server.pool(), ev, server.clock.systemTime()).has_value());
  for (const char* s : {"S1", "S2"}) {
    ASSERT_TRUE(core::createScanner(server.pool(), s, server.clock.systemTime()).has_value());
    ASSERT_TRUE(core::assignScanner(server.pool(), s, eventId, server.clock.systemTime()).has_value());
  }
  const auto someone = makeUser("alice@example.org", "Alice");
  Browser b = signedIn();
  const std::string live = "/api/events/" + eventId + "/live";
  const std::string page = "/events/" + eventId;

  auto before = getJson(b, live);
  EXPECT_FALSE(before.at("synced").as_bool());
  EXPECT_FALSE(before.at("live").as_bool());
  EXPECT_TRUE(before.at("scanners").as_array().empty());
  std::string html = b.get(page).body();
  EXPECT_NE(html.find("Attendance data has not been synced."), std::string::npos) << html;
  EXPECT_EQ(html.find("live —"), std::string::npos);

  const std::int64_t seen = support::toEpochMillis(server.clock.systemTime() - 1min);
  ingest("S1", {{someone.bleUuid, seen}});
  server.clock.advance(20s);
  ingest("S2", {{someone.bleUuid, seen + 1000}});
  server.clock.advance(12s);

  const auto now = getJson(b, live);
  EXPECT_TRUE(now.at("synced").as_bool());
  EXPECT_TRUE(now.at("live").as_bool());
  EXPECT_EQ(now.at("windowSeconds").as_int64(), 30);
  EXPECT_GT(now.at("refreshSeconds").as_int64(), 0);
  const auto& scanners = now.at("scanners").as_array();
  ASSERT_EQ(scanners.size(), 2U);
  EXPECT_EQ(scanners.at(0).at("scannerId").as_string(), "S1");
  EXPECT_FALSE(scanners.at(0).at("live").as_bool());
  EXPECT_EQ(scanners.at(0).at("secondsAgo").as_int64(), 32);
  EXPECT_EQ(scanners.at(0).at("text").as_string(), "last upload 32 s ago");
  EXPECT_EQ(scanners.at(1).at("scannerId").as_string(), "S2");
  EXPECT_TRUE(scanners.at(1).at("live").as_bool());
  EXPECT_EQ(scanners.at(1).at("text").as_string(), "live — last upload 12 s ago");
  html = b.get(page).body();
  EXPECT_EQ(html.find("Attendance data has not been synced."), std::string::npos);
  EXPECT_NE(html.find("live — last upload 12 s ago"), std::string::npos) << html;
  EXPECT_NE(html.find("last upload 32 s ago"), std::string::npos) << html;

  // Nothing new: the version stays, and after the window nobody is live.
  server.clock.advance(2min);
  const auto later = getJson(b, live);
  EXPECT_EQ(later.at("version"), now.at("version"));
  EXPECT_FALSE(later.at("live").as_bool());
  EXPECT_EQ(later.at("scanners").at(1).at("text").as_string(), "last upload 2 min ago");
  // A new batch moves the version, which is what tells the page to fetch again.
  ingest("S1", {{someone.bleUuid, seen + 2000}});
  const auto moved = getJson(b, live);
  EXPECT_NE(moved.at("version"), now.at("version"));
  EXPECT_EQ(moved.at("scanners").at(0).at("text").as_string(), "live — last upload 0 s ago");

  Browser anon{server.port()};
  EXPECT_EQ(anon.get(live).result(), http::status::unauthorized);
}

double metric(std::uint16_t port, const std::string& name) {
  Browser anon{port};
  const std::string text = anon.get("/metrics").body();
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

constexpr auto kRefreshEvery = 30s;

WebOptions refreshing() {
  WebOptions o = WebOptions::forTests();
  o.reportRefreshInterval = kRefreshEvery;
  return o;
}

// The refresh timer runs on the server's simulated clock: it fires when the test moves
// the clock, so the test sees each run and knows nothing ran in between.
class ReportRefreshTest : public ReportApiTest {
protected:
  ReportRefreshTest() : ReportApiTest(refreshing()) {}

  double refreshRuns() { return metric(server.port(), "admin_report_refresh_runs_total"); }

  // Moves the clock one interval on and waits (bounded) for that run to finish.
  void tick() {
    const double before = refreshRuns();
    server.clock.advance(kRefreshEvery);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (refreshRuns() <= before && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(refreshRuns(), before + 1);
  }
};

TEST_F(ReportRefreshTest, TheBackgroundRefreshRebuildsAChangedReportBeforeAnyoneAsks) {
  seed();
  Browser b = signedIn();
  const std::string t = "/api/events/" + eventId + "/report?filter=attended&limit=1";
  EXPECT_EQ(getJson(b, t).at("page").at("total").as_int64(), 26);
  EXPECT_EQ(metric(server.port(), "admin_report_cache_misses_total"), 1);
  EXPECT_EQ(metric(server.port(), "admin_report_cache_rebuilds_total"), 1);

  ingest("S2", {{noShow.bleUuid, support::toEpochMillis(server.clock.systemTime() - 5min)}});
  // Real time passing is not the interval passing: no run until the clock moves.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(refreshRuns(), 0);
  EXPECT_EQ(metric(server.port(), "admin_report_cache_rebuilds_total"), 1);
  // No request: the timer notices the new receipt and rebuilds.
  tick();
  ASSERT_EQ(metric(server.port(), "admin_report_cache_rebuilds_total"), 2);
  // Only a new receipt arrived: the cached report was updated, not built again.
  EXPECT_EQ(metric(server.port(), "admin_report_cache_incremental_total"), 1);
  // The next view is a hit and already shows the new check-in.
  EXPECT_EQ(getJson(b, t).at("page").at("total").as_int64(), 27);
  EXPECT_EQ(metric(server.port(), "admin_report_cache_misses_total"), 1);
  EXPECT_EQ(metric(server.port(), "admin_report_cache_hits_total"), 1);
  // Unchanged data is not rebuilt however often the timer runs.
  for (int i = 0; i < 3; ++i) tick();
  EXPECT_EQ(metric(server.port(), "admin_report_cache_rebuilds_total"), 2);
}

}  // namespace
}  // namespace attendance::admin_web::testing
