// attendance-core-bench: the same N records through
//   1. psql \copy into check_ins (the anchor: PostgreSQL's own bulk path),
//   2. parseBatchBody + ingestBatch (what POST /batchCheckIn does, minus HTTP),
//   3. the same body again (all duplicates),
//   4. the original design's way: one performCheckIn transaction per record
//      (on a sample, reported per record),
//   5. the report of a large event (buildReport, renderReportJson),
//   6. the report cache: version query, hits, pages (report_cache.hpp),
//   7. the first request after a sync of 100 / 2,000 check-ins: the cache's
//      incremental update against a full build.
// Creates and drops its own database in the cluster given by DATABASE_URL or
// the PG* variables. Results: docs/benchmarks-core.md.
#include <attendance/core/core.hpp>
#include <attendance/core/report_cache.hpp>
#include <attendance/support/clock.hpp>

#include "report_compute.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "bench_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace core = attendance::core;
using attendance::bench::median;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double cpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string uuidFor(int run, int i) {
  char text[64];
  std::snprintf(text, sizeof text, "%08x-%04x-4000-8000-%012x", static_cast<unsigned>(i), static_cast<unsigned>(run),
                static_cast<unsigned>(i) * 2654435761U);
  return text;
}

constexpr std::int64_t kT0 = 1721471400000;
constexpr const char* kScanner = "Entrance-Scanner-01";

std::string body(const std::string& eventId, int run, int n) {
  std::string b;
  b.reserve(static_cast<std::size_t>(n) * 110 + 64);
  b += "{\"eventId\":\"" + eventId + "\",\"records\":[";
  for (int i = 0; i < n; ++i) {
    if (i != 0) b += ',';
    b += "{\"bleUuid\":\"" + uuidFor(run, i) + "\",\"checkInTime\":" + std::to_string(kT0 + i) + ",\"scannerId\":\"" +
         kScanner + "\"}";
  }
  return b + "]}";
}

int usage() {
  std::fprintf(stderr,
               "usage: attendance-core-bench [--records N] [--sample N] [--repeat N] [--report-participants N]\n"
               "                             [--report-only] [--explain]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int records = 100000;
  int sample = 5000;
  int repeat = 3;
  int reportParticipants = 50000;
  bool reportOnly = false;
  bool explain = false;
  if (!attendance::bench::readOptions(argc, argv,
                                      {{"--records", &records},
                                       {"--sample", &sample},
                                       {"--repeat", &repeat},
                                       {"--report-participants", &reportParticipants}},
                                      {{"--report-only", &reportOnly}, {"--explain", &explain}})) {
    return usage();
  }

  int rc = 0;
  try {
    attendance::bench::ScratchDatabase db{"attendance_bench", core::DatabaseConfig::fromEnvironment().conninfo};
    const core::DatabaseConfig& cfg = db.config();
    core::ConnectionPool& pool = db.pool();
    const auto now = attendance::support::fromEpochMillis(kT0 + 3'600'000);
    if (!core::createScanner(pool, kScanner, now)) throw std::runtime_error("createScanner failed");

    std::vector<double> copyTimes, ingestTimes, dupTimes, parseTimes;
    for (int run = 0; run < (reportOnly ? 0 : repeat); ++run) {
      // 1. Anchor: psql \copy of the same rows into check_ins.
      const std::string copyEvent = fmt::format("copy-{}", run);
      if (!core::createEvent(pool, {copyEvent, "copy", "", std::nullopt, std::nullopt}, now)) {
        throw std::runtime_error("createEvent failed");
      }
      const std::string csvPath = fmt::format("/tmp/attendance-core-bench-{}-{}.csv", ::getpid(), run);
      {
        std::ofstream csv{csvPath};
        for (int i = 0; i < records; ++i)
          csv << copyEvent << ',' << uuidFor(run, i) << ',' << kT0 + i << ',' << kScanner << '\n';
      }
      const std::string cmd = fmt::format(
          "psql -X -q -v ON_ERROR_STOP=1 -d {} -c \"\\copy check_ins (event_id, ble_uuid, check_in_time, scanner_id) "
          "FROM '{}' WITH (FORMAT csv)\"",
          db.name(), csvPath);
      auto start = Clock::now();
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("psql \\copy failed");
      copyTimes.push_back(secondsSince(start));
      std::remove(csvPath.c_str());

      // 2. parseBatchBody + ingestBatch, one transaction.
      const std::string eventId = fmt::format("ingest-{}", run);
      if (!core::createEvent(pool, {eventId, "ingest", "", std::nullopt, std::nullopt}, now)) {
        throw std::runtime_error("createEvent failed");
      }
      if (!core::assignScanner(pool, kScanner, eventId, now)) throw std::runtime_error("assignScanner failed");
      const std::string b = body(eventId, run, records);
      start = Clock::now();
      auto parsed = core::parseBatchBody(b);
      parseTimes.push_back(secondsSince(start));
      if (!parsed.ok()) throw std::runtime_error(parsed.message);
      auto result = core::ingestBatch(pool, core::IngestRequest::fromParsed(std::move(parsed.batch), kScanner), now);
      ingestTimes.push_back(secondsSince(start));
      if (!result || result->inserted != static_cast<std::size_t>(records)) throw std::runtime_error("ingest failed");

      // 3. The same body again: all duplicates.
      start = Clock::now();
      auto again = core::parseBatchBody(b);
      auto dup = core::ingestBatch(pool, core::IngestRequest::fromParsed(std::move(again.batch), kScanner), now);
      dupTimes.push_back(secondsSince(start));
      if (!dup || dup->inserted != 0) throw std::runtime_error("duplicate ingest inserted rows");
    }

    if (!reportOnly) {
      // 4. One transaction per record (the original design's loop), on a sample.
      const std::string loopEvent = "per-record";
      if (!core::createEvent(pool, {loopEvent, "loop", "", std::nullopt, std::nullopt}, now)) {
        throw std::runtime_error("createEvent failed");
      }
      auto start = Clock::now();
      for (int i = 0; i < sample; ++i) {
        core::CheckInRecord rec;
        rec.index = static_cast<std::size_t>(i);
        rec.bleUuid = *attendance::support::Uuid::parse(uuidFor(999, i));
        rec.checkInTimeMs = kT0 + i;
        rec.scannerId = kScanner;
        if (!core::performCheckIn(pool, loopEvent, rec)) throw std::runtime_error("performCheckIn failed");
      }
      const double loopSeconds = secondsSince(start);
      const double loopPerRecordUs = loopSeconds / sample * 1e6;

      const double copyS = median(copyTimes);
      const double ingestS = median(ingestTimes);
      const double ingestPerRecordUs = ingestS / records * 1e6;
      fmt::print("records per batch:            {}\n", records);
      fmt::print("repeats (median reported):    {}\n", repeat);
      fmt::print("psql \\copy (anchor):          {:.3f} s\n", copyS);
      fmt::print("parseBatchBody only:          {:.3f} s\n", median(parseTimes));
      fmt::print("parse + ingestBatch:          {:.3f} s  ({:.2f}x anchor, {:.2f} us/record)\n", ingestS,
                 ingestS / copyS, ingestPerRecordUs);
      fmt::print("same body again (duplicates): {:.3f} s\n", median(dupTimes));
      fmt::print("performCheckIn loop:          {:.3f} s for {} records ({:.1f} us/record)\n", loopSeconds, sample,
                 loopPerRecordUs);
      fmt::print("per-record speed-up:          {:.1f}x\n", loopPerRecordUs / ingestPerRecordUs);
    }

    // 5. The report of a large event: N registered participants, 80% of them
    //    seen 5 times each (4N check-ins), one scanner.
    {
      pqxx::connection c{cfg.conninfo};
      pqxx::work tx{c};
      tx.exec("INSERT INTO events (id, name, created_at) VALUES ('report', 'Report', now())");
      tx.exec_params("INSERT INTO scanner_assignments VALUES ($1, 'report', now())", std::string{kScanner});
      tx.exec_params(
          "INSERT INTO users (id, email, display_name, ble_uuid, created_at) "
          "SELECT gen_random_uuid(), 'user' || g || '@example.org', 'User ' || g, gen_random_uuid(), now() "
          "FROM generate_series(1, $1) g",
          reportParticipants);
      tx.exec("INSERT INTO registrations SELECT 'report', id, now() FROM users");
      // As ingestBatch stores them: every check-in carries the receipt that brought it.
      const auto receipt = tx.exec_params1(
                                 "INSERT INTO sync_receipts (event_id, scanner_id, received_at, received) "
                                 "VALUES ('report', $1, now(), $2) RETURNING id",
                                 std::string{kScanner}, reportParticipants * 4)[0]
                               .as<std::int64_t>();
      tx.exec_params(
          "INSERT INTO check_ins (event_id, ble_uuid, check_in_time, scanner_id, receipt_id) "
          "SELECT 'report', u.ble_uuid, $1::bigint + k * 60000 + (random() * 1000)::int, $2, $4 "
          "FROM (SELECT ble_uuid FROM users LIMIT $3) u, generate_series(1, 5) k",
          kT0, std::string{kScanner}, reportParticipants * 4 / 5, receipt);
      tx.commit();
      pqxx::nontransaction analyze{c};
      analyze.exec("ANALYZE");
    }
    // Each run: wall time, and this process's CPU time (the client side:
    // row parsing, computation, rendering), which the load on a shared machine
    // inflates less than wall time.
    // The first report after the sync folds all 200k check-ins into the
    // summary table (migration 0002); later ones read the summary.
    double firstReport = 0;
    {
      const auto t = Clock::now();
      auto rep = core::buildReport(pool, "report", now);
      if (!rep) throw std::runtime_error("buildReport failed");
      firstReport = secondsSince(t);
    }
    std::vector<double> buildTimes, renderTimes, buildCpu, renderCpu, totalTimes;
    std::size_t jsonBytes = 0;
    for (int run = 0; run < repeat; ++run) {
      auto t = Clock::now();
      auto cpu = cpuSeconds();
      auto rep = core::buildReport(pool, "report", now);
      buildTimes.push_back(secondsSince(t));
      buildCpu.push_back(cpuSeconds() - cpu);
      if (!rep) throw std::runtime_error("buildReport failed");
      const auto t2 = Clock::now();
      cpu = cpuSeconds();
      jsonBytes = core::renderReportJson(*rep).size();
      renderTimes.push_back(secondsSince(t2));
      renderCpu.push_back(cpuSeconds() - cpu);
      totalTimes.push_back(secondsSince(t));
      if (rep->registered != reportParticipants || rep->attended != reportParticipants * 4 / 5) {
        throw std::runtime_error("report numbers are wrong");
      }
    }
    if (explain) {
      pqxx::connection c{cfg.conninfo};
      pqxx::work tx{c};
      tx.exec("SET LOCAL jit = off");
      for (const char* sql : attendance::core::detail::kReportExplainedQueries) {
        std::string text = sql;
        for (std::size_t at = text.find("$1"); at != std::string::npos; at = text.find("$1")) {
          text.replace(at, 2, "'report'");
        }
        if (text.find('$') != std::string::npos) continue;  // needs more parameters than the event id
        fmt::print("EXPLAIN ANALYZE {}\n", text);
        for (const auto& row : tx.exec("EXPLAIN (ANALYZE, BUFFERS) " + text)) fmt::print("  {}\n", row[0].c_str());
      }
    }
    fmt::print("report, {} participants, {} check-ins ({} runs, median; best):\n", reportParticipants,
               reportParticipants * 4, repeat);
    fmt::print("  buildReport:      {:.3f} s; {:.3f} s  (client CPU {:.3f} s)\n", median(buildTimes),
               *std::min_element(buildTimes.begin(), buildTimes.end()), median(buildCpu));
    fmt::print("  renderReportJson: {:.3f} s; {:.3f} s  (client CPU {:.3f} s, {} bytes)\n", median(renderTimes),
               *std::min_element(renderTimes.begin(), renderTimes.end()), median(renderCpu), jsonBytes);
    fmt::print("  build + render:   {:.3f} s; {:.3f} s\n", median(totalTimes),
               *std::min_element(totalTimes.begin(), totalTimes.end()));
    // 6. The report cache (report_cache.hpp): what a request costs once the
    //    report is built and the data has not changed. Each run starts with an
    //    empty cache, so every "first" below really computes.
    {
      std::vector<double> versionT, coldT, hitT, pageT, nameFirstT, nameAgainT, noShowT, searchT, jsonFirstT,
          jsonAgainT;
      std::size_t pageBytes = 0, fullBytes = 0, noShows = 0, searchTotal = 0;
      const auto timed = [](std::vector<double>& into, auto&& f) {
        const auto t = Clock::now();
        f();
        into.push_back(secondsSince(t));
      };
      for (int run = 0; run < repeat; ++run) {
        timed(versionT, [&] {
          if (!core::readReportVersion(pool, "report")) throw std::runtime_error("readReportVersion failed");
        });
        core::ReportCache cache;
        std::shared_ptr<const core::CachedReport> cold, hit;
        timed(coldT, [&] {
          auto r = cache.get(pool, "report", now);
          if (!r) throw std::runtime_error("ReportCache::get failed");
          cold = *r;
        });
        timed(hitT, [&] {
          auto r = cache.get(pool, "report", now);
          if (!r) throw std::runtime_error("ReportCache::get failed");
          hit = *r;
        });
        if (hit != cold || cache.stats().rebuilds != 1 || cache.stats().hits != 1) {
          throw std::runtime_error("the second get was not a hit");
        }
        core::ReportQuery q;
        timed(pageT, [&] { pageBytes = hit->pageJson(q).size(); });
        q.sort = core::ReportSort::name;
        timed(nameFirstT, [&] { (void)hit->pageJson(q); });
        q.offset = 50;  // the next page: the name order is kept
        timed(nameAgainT, [&] { (void)hit->pageJson(q); });
        q = {};
        q.filter = core::ReportFilter::no_show;
        timed(noShowT, [&] {
          noShows = hit->select(q).total;
          (void)hit->pageJson(q);
        });
        q = {};
        q.search = "USER 123";
        timed(searchT, [&] {
          searchTotal = hit->select(q).total;
          (void)hit->pageJson(q);
        });
        timed(jsonFirstT, [&] { fullBytes = hit->json().size(); });
        timed(jsonAgainT, [&] { (void)hit->json().size(); });
        if (noShows != static_cast<std::size_t>(reportParticipants - reportParticipants * 4 / 5) || searchTotal == 0) {
          throw std::runtime_error("report pages are wrong");
        }
      }
      const auto ms = [](const std::vector<double>& v) { return median(v) * 1e3; };
      fmt::print("report cache, same event ({} runs, median, ms):\n", repeat);
      fmt::print("  readReportVersion (one query):               {:8.3f}\n", ms(versionT));
      fmt::print("  get, empty cache (version + buildReport):    {:8.3f}\n", ms(coldT));
      fmt::print("  get, hit (version query + lookup):           {:8.3f}\n", ms(hitT));
      fmt::print("  page 1 JSON, sort=report (50 rows):          {:8.3f}  ({} bytes)\n", ms(pageT), pageBytes);
      fmt::print("  page 1 JSON, sort=name, first (sorts 50k):   {:8.3f}\n", ms(nameFirstT));
      fmt::print("  page 2 JSON, sort=name, order kept:          {:8.3f}\n", ms(nameAgainT));
      fmt::print("  page 1 JSON, filter=no-show ({} rows):     {:8.3f}\n", noShows, ms(noShowT));
      fmt::print("  page 1 JSON, q=\"USER 123\" ({} matches):     {:8.3f}\n", searchTotal, ms(searchT));
      fmt::print("  full json() on a hit, first (renders):       {:8.3f}  ({} bytes)\n", ms(jsonFirstT), fullBytes);
      fmt::print("  full json() on a hit, again (kept):          {:8.3f}\n", ms(jsonAgainT));
      fmt::print("  => a page request on a hit (get + page 1):   {:8.3f}\n", ms(hitT) + ms(pageT));
    }
    // 7. The first request after a sync (issue 5): ReportCache::get merges
    //    the new receipts into the cached report (incremental update) instead
    //    of building it again; a second cache that always builds in full
    //    (incrementalMaxCheckIns = 0) gives the comparison. After each sync of
    //    100 or 2,000 new check-ins (registered people, some of them no-shows
    //    until then, and a few unknown devices) both caches are asked once;
    //    the two reports must render the same JSON.
    {
      core::ReportCache incremental;
      core::ReportCache::Options fullOptions;
      fullOptions.incrementalMaxCheckIns = 0;
      core::ReportCache full{fullOptions};
      if (!incremental.get(pool, "report", now) || !full.get(pool, "report", now)) {
        throw std::runtime_error("ReportCache::get failed");
      }
      std::vector<std::string> bles;
      {
        pqxx::connection c{cfg.conninfo};
        pqxx::nontransaction tx{c};
        for (const auto& row : tx.exec("SELECT ble_uuid::text FROM users ORDER BY email"))
          bles.emplace_back(row[0].c_str());
      }
      int batchNo = 0;
      auto sync = [&](int n) {
        ++batchNo;
        std::string b = "{\"eventId\":\"report\",\"records\":[";
        for (int i = 0; i < n; ++i) {
          if (i != 0) b += ',';
          const std::string ble =
              i % 20 == 19 ? uuidFor(0x5000 + batchNo, i)
                           : bles[(static_cast<std::size_t>(batchNo) * 7919U + static_cast<std::size_t>(i) * 104729U) %
                                  bles.size()];
          b += fmt::format("{{\"bleUuid\":\"{}\",\"checkInTime\":{},\"scannerId\":\"{}\"}}", ble,
                           kT0 + 14'400'000 + static_cast<std::int64_t>(batchNo) * 100'000 + i, kScanner);
        }
        b += "]}";
        auto parsed = core::parseBatchBody(b);
        if (!parsed.ok()) throw std::runtime_error(parsed.message);
        auto r = core::ingestBatch(pool, core::IngestRequest::fromParsed(std::move(parsed.batch), kScanner), now);
        if (!r || r->inserted != static_cast<std::size_t>(n)) throw std::runtime_error("ingest failed");
      };
      struct Times {
        std::vector<double> update, json, page, fullGet;
      };
      Times t100, t2000;
      for (int run = 0; run < repeat; ++run) {
        for (const int n : {100, 2000}) {
          Times& into = n == 100 ? t100 : t2000;
          sync(n);
          const auto before = incremental.stats().incremental;
          std::shared_ptr<const core::CachedReport> updated, rebuilt;
          auto t = Clock::now();
          auto r = incremental.get(pool, "report", now);
          into.update.push_back(secondsSince(t));
          if (!r || incremental.stats().incremental != before + 1)
            throw std::runtime_error("not an incremental update");
          updated = *r;
          t = Clock::now();
          (void)updated->json();
          into.json.push_back(secondsSince(t));
          t = Clock::now();
          (void)updated->pageJson(core::ReportQuery{});
          into.page.push_back(secondsSince(t));
          t = Clock::now();
          auto f = full.get(pool, "report", now);
          into.fullGet.push_back(secondsSince(t));
          if (!f) throw std::runtime_error("ReportCache::get failed");
          rebuilt = *f;
          core::EventReport a = updated->report();
          a.generatedAt = rebuilt->report().generatedAt;
          if (core::renderReportJson(a) != rebuilt->json()) {
            throw std::runtime_error("the incremental report differs from the full build");
          }
        }
      }
      // Where the default threshold (incrementalMaxCheckIns = 50,000) sits: one
      // sync of 20,000 and one of 50,000 new check-ins, measured once each.
      Times t20k, t50k;
      for (const int n : {20'000, 50'000}) {
        Times& into = n == 20'000 ? t20k : t50k;
        sync(n);
        auto t = Clock::now();
        auto r = incremental.get(pool, "report", now);
        into.update.push_back(secondsSince(t));
        if (!r) throw std::runtime_error("ReportCache::get failed");
        t = Clock::now();
        auto f = full.get(pool, "report", now);
        into.fullGet.push_back(secondsSince(t));
        if (!f) throw std::runtime_error("ReportCache::get failed");
        core::EventReport a = (*r)->report();
        a.generatedAt = (*f)->report().generatedAt;
        if (core::renderReportJson(a) != (*f)->json()) throw std::runtime_error("the incremental report differs");
      }
      const auto ms = [](const std::vector<double>& v) { return median(v) * 1e3; };
      fmt::print(
          "one sync of 20,000 / 50,000 new check-ins (once each, ms): incremental get {:.3f} / {:.3f}, "
          "full build get {:.3f} / {:.3f}\n",
          ms(t20k.update), ms(t50k.update), ms(t20k.fullGet), ms(t50k.fullGet));
      fmt::print("after a sync ({} runs each, median, ms):        100 new     2,000 new\n", repeat);
      fmt::print("  get, incremental update:                   {:10.3f} {:12.3f}\n", ms(t100.update), ms(t2000.update));
      fmt::print("  + full json() of the updated report:       {:10.3f} {:12.3f}\n", ms(t100.json), ms(t2000.json));
      fmt::print("  + page 1 JSON of the updated report:       {:10.3f} {:12.3f}\n", ms(t100.page), ms(t2000.page));
      fmt::print("  get, full build (incrementalMaxCheckIns 0): {:9.3f} {:12.3f}\n", ms(t100.fullGet),
                 ms(t2000.fullGet));
      const auto& st = incremental.stats();
      fmt::print("  incremental cache: {} rebuilds, {} of them incremental\n", st.rebuilds, st.incremental);
    }
    // A scanner syncs 1,000 more check-ins: the next report folds just those.
    core::ReportCache::Options alwaysFull;
    alwaysFull.incrementalMaxCheckIns = 0;
    core::ReportCache afterSync{alwaysFull};
    if (!afterSync.get(pool, "report", now)) throw std::runtime_error("ReportCache::get failed");
    {
      std::string more = "{\"eventId\":\"report\",\"records\":[";
      pqxx::connection c{cfg.conninfo};
      pqxx::work tx{c};
      const auto uuids = tx.exec_params("SELECT ble_uuid::text FROM users ORDER BY id LIMIT 1000");
      for (std::size_t i = 0; i < uuids.size(); ++i) {
        if (i != 0) more += ',';
        more += fmt::format("{{\"bleUuid\":\"{}\",\"checkInTime\":{},\"scannerId\":\"{}\"}}", uuids[i][0].c_str(),
                            kT0 + 7'200'000 + static_cast<std::int64_t>(i), kScanner);
      }
      more += "]}";
      tx.commit();
      auto parsed = core::parseBatchBody(more);
      if (!parsed.ok()) throw std::runtime_error(parsed.message);
      if (!core::ingestBatch(pool, core::IngestRequest::fromParsed(std::move(parsed.batch), kScanner), now)) {
        throw std::runtime_error("ingest failed");
      }
      const auto t = Clock::now();
      auto rep = core::buildReport(pool, "report", now);
      if (!rep) throw std::runtime_error("buildReport failed");
      const auto json = core::renderReportJson(*rep);
      fmt::print("  after 1,000 more check-ins, build + render: {:.3f} s\n", secondsSince(t));
      // A cache that always builds in full notices the new receipt and rebuilds (the fold is done already).
      auto t2 = Clock::now();
      auto rebuilt = afterSync.get(pool, "report", now);
      if (!rebuilt || afterSync.stats().rebuilds != 2) throw std::runtime_error("the cache did not rebuild");
      const double rebuildS = secondsSince(t2);
      t2 = Clock::now();
      if (!afterSync.get(pool, "report", now) || afterSync.stats().hits != 1) throw std::runtime_error("no hit");
      fmt::print("  after the sync, ReportCache::get rebuilds: {:.3f} s; the next get hits: {:.3f} ms\n", rebuildS,
                 secondsSince(t2) * 1e3);
    }
    fmt::print("  first report after the sync (folds every check-in): buildReport {:.3f} s\n", firstReport);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attendance-core-bench: %s\n", e.what());
    rc = 1;
  }
  return rc;
}
