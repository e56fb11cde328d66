// admin-report-bench: latency of the attendance report for a large event.
//
//   pg_virtualenv -t -- build/ci/bench/admin/admin-report-bench [--participants 50000] [--check-ins 200000] [--runs 15]
//
// Creates its own database (PG* environment), seeds N registered participants
// and M check-ins from 4 scanners (80% of participants attended), then measures
//   1. core::buildReport + renderReportJson in process (no cache),
//   2. over HTTP through the real console (one connection per request, signed in):
//      - GET /api/events/{id}/report cold: the first request after a sync (a
//        small batch ingested before each run; no background refresh), and the
//        first request after a sync when the background refresh had a moment,
//      - the same warm (unchanged data: the cached report's JSON),
//      - pages of 50 (?limit=50 …): default order, sorted by name, the no-shows,
//        a search; the first request of each also computes that sort order,
//      - GET /events/{id}/report.csv warm, GET /events/{id} (the page shell), GET /events.
// Prints one JSON object per measurement: median, p90, max in milliseconds and bytes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>
#include <unistd.h>

#include "web/app.hpp"
#include <attendance/core/core.hpp>
#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/server.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/log.hpp>

#include <attendance/core/admin_accounts.hpp>

namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using namespace attendance;

struct Stats {
  double median = 0, p90 = 0, max = 0;
};

Stats summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Stats s;
  s.median = ms[ms.size() / 2];
  s.p90 = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)];
  s.max = ms.back();
  return s;
}

void print(const std::string& what, const Stats& s, std::size_t bytes, int runs) {
  std::cout << fmt::format(
                   R"({{"measure":"{}","runs":{},"median_ms":{:.1f},"p90_ms":{:.1f},"max_ms":{:.1f},"bytes":{}}})",
                   what, runs, s.median, s.p90, s.max, bytes)
            << std::endl;
}

http::response<http::string_body> get(std::uint16_t port, const std::string& target, const std::string& cookie,
                                      http::verb verb = http::verb::get, const std::string& body = {},
                                      const std::string& contentType = {}) {
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream{ioc};
  stream.connect(boost::asio::ip::tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!cookie.empty()) req.set(http::field::cookie, cookie);
  if (!contentType.empty()) req.set(http::field::content_type, contentType);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(512U * 1024U * 1024U);
  http::read(stream, buf, parser);
  return parser.release();
}

std::string cookieFrom(const http::response<http::string_body>& res, const std::string& name) {
  for (const auto& f : res.base()) {
    if (f.name() != http::field::set_cookie) continue;
    std::string v(f.value());
    if (v.rfind(name + "=", 0) == 0) return v.substr(0, v.find(';'));
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  int participants = 50'000;
  int checkIns = 200'000;
  int runs = 15;
  bool keep = false;  // --keep-db: leave the database for EXPLAIN sessions
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--participants")
      participants = std::atoi(argv[i + 1]);
    else if (a == "--check-ins")
      checkIns = std::atoi(argv[i + 1]);
    else if (a == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (a == "--keep-db")
      keep = std::string(argv[i + 1]) == "1";
  }
  support::log::setMinimumLevel(support::log::Level::warn);
  const std::string db = "admin_bench_" + std::to_string(::getpid());
  {
    pqxx::connection c{""};
    pqxx::nontransaction tx{c};
    tx.exec("CREATE DATABASE " + tx.quote_name(db));
  }
  int status = 0;
  try {
    core::DatabaseConfig cfg;
    cfg.conninfo = "dbname=" + db;
    cfg.poolSize = 4;
    core::ConnectionPool pool{cfg};
    if (auto m = core::migrate(pool); !m) throw std::runtime_error("migrate: " + m.error().message());
    support::RealTimeSource clock;
    const auto now = clock.systemTime();
    const std::int64_t t0 = support::toEpochMillis(now) - 4 * 3600 * 1000;

    auto seedStart = Clock::now();
    core::NewEvent ev;
    ev.id = "big-event";
    ev.name = "Big Conference";
    if (auto e = core::createEvent(pool, ev, now); !e) throw std::runtime_error("event");
    for (int s = 1; s <= 4; ++s) {
      (void)core::createScanner(pool, "Door-" + std::to_string(s), now);
      (void)core::assignScanner(pool, "Door-" + std::to_string(s), "big-event", now);
    }
    {
      pqxx::connection c{cfg.conninfo};
      pqxx::work tx{c};
      tx.exec_params(
          "INSERT INTO users (id, email, display_name, ble_uuid, created_at) "
          "SELECT gen_random_uuid(), 'person' || g || '@example.org', 'Person ' || g, gen_random_uuid(), now() "
          "FROM generate_series(1, $1) g",
          participants);
      tx.exec("INSERT INTO registrations (event_id, user_id, created_at) SELECT 'big-event', id, now() FROM users");
      // 80% attended; their check-ins spread over 4 scanners and 3 hours.
      tx.exec_params(
          "WITH seen AS (SELECT ble_uuid, row_number() OVER (ORDER BY email) AS n FROM users), "
          "     att AS (SELECT ble_uuid, n FROM seen WHERE n <= $1 * 0.8) "
          "INSERT INTO check_ins (event_id, ble_uuid, check_in_time, scanner_id, receipt_id) "
          "SELECT 'big-event', a.ble_uuid, $2 + ((a.n * 7919 + k * 104729) % 10800) * 1000 + k, "
          "       'Door-' || (1 + (a.n + k) % 4), NULL "
          "FROM att a, generate_series(0, ceil($3::numeric / ($1 * 0.8))::int - 1) k "
          "ON CONFLICT DO NOTHING",
          participants, t0, checkIns);
      tx.exec_params(
          "INSERT INTO sync_receipts (event_id, scanner_id, received_at, received, inserted) "
          "SELECT 'big-event', scanner_id, now(), count(*), count(*) FROM check_ins GROUP BY scanner_id");
      // Each check-in belongs to its scanner's receipt, as ingestBatch stores them.
      tx.exec(
          "UPDATE check_ins c SET receipt_id = r.id FROM sync_receipts r "
          "WHERE r.event_id = c.event_id AND r.scanner_id = c.scanner_id");
      tx.exec("ANALYZE");
      tx.commit();
      const auto n = pqxx::nontransaction{c}.exec("SELECT count(*) FROM check_ins")[0][0].as<long>();
      std::cerr << fmt::format("seeded {} participants, {} check-ins in {:.1f} s\n", participants, n,
                               std::chrono::duration<double>(Clock::now() - seedStart).count());
    }

    // 1. In process.
    std::vector<double> inProcess;
    std::size_t jsonBytes = 0;
    for (int i = 0; i < runs; ++i) {
      const auto start = Clock::now();
      auto report = core::buildReport(pool, "big-event", clock.systemTime());
      if (!report) throw std::runtime_error("report: " + report.error().message());
      const std::string json = core::renderReportJson(*report);
      inProcess.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      jsonBytes = json.size();
    }
    print("core buildReport + renderReportJson", summarize(inProcess), jsonBytes, runs);

    // 2. Over HTTP through the real console.
    core::AdminAuthConfig auth;
    auth.opsLimit = 1;
    auth.memLimit = 8192;
    if (!core::createAdmin(pool, "bench@example.org", "bench-password", auth, now)) throw std::runtime_error("admin");
    http_server::BlockingPool blocking{4, 64};

    // A console on 127.0.0.1:0 with the given options, signed in.
    struct Console {
      http_server::MetricsRegistry metrics;
      std::unique_ptr<admin_web::WebApp> app;
      std::unique_ptr<http_server::Server> server;
      std::thread thread;
      std::uint16_t port = 0;
      std::string session;
      ~Console() {
        if (server) server->stop();
        if (thread.joinable()) thread.join();
      }
    };
    auto startConsole = [&](admin_web::WebOptions options) {
      auto c = std::make_unique<Console>();
      c->app = std::make_unique<admin_web::WebApp>(pool, blocking, clock, std::move(options), &c->metrics);
      http_server::Router router;
      c->app->addRoutes(router);
      http_server::ServerConfig sc;
      sc.accessLog = false;
      sc.ioThreads = 1;
      c->server = std::make_unique<http_server::Server>(sc, std::move(router), c->metrics, &clock);
      c->port = c->server->listen().port();
      c->thread = std::thread{[srv = c->server.get()] { srv->run(); }};
      const auto loginPage = get(c->port, "/login", {});
      const std::string loginCookie = cookieFrom(loginPage, "attendance_login");
      const std::string& html = loginPage.body();
      const auto at = html.find("name=\"csrf\" value=\"") + 19;
      const std::string csrf = html.substr(at, html.find('"', at) - at);
      const auto signedIn = get(c->port, "/login", loginCookie, http::verb::post,
                                "csrf=" + csrf + "&email=bench%40example.org&password=bench-password",
                                "application/x-www-form-urlencoded");
      c->session = cookieFrom(signedIn, "attendance_session");
      if (c->session.empty()) throw std::runtime_error("sign-in failed");
      return c;
    };

    // One small sync: a batch of 100 new check-ins from Door-1, as attendance-sync would send.
    int syncNo = 0;
    auto smallSync = [&] {
      core::IngestRequest req;
      req.eventId = "big-event";
      req.scannerId = "Door-1";
      pqxx::connection c{cfg.conninfo};
      pqxx::nontransaction tx{c};
      const auto users = tx.exec_params("SELECT ble_uuid::text FROM users ORDER BY email OFFSET $1 LIMIT 100",
                                        (syncNo * 100) % participants);
      for (std::size_t i = 0; i < users.size(); ++i) {
        req.records.push_back({i, *support::Uuid::parse(users[i][0].as<std::string>()),
                               t0 + 11'000'000 + syncNo * 1000 + static_cast<std::int64_t>(i), "Door-1"});
      }
      ++syncNo;
      if (auto r = core::ingestBatch(pool, req, clock.systemTime()); !r) throw std::runtime_error("ingest");
    };

    auto measure = [&](const Console& c, const std::string& name, const std::string& target, int n,
                       const std::function<void()>& before = {}) {
      std::vector<double> ms;
      std::size_t bytes = 0;
      for (int i = 0; i < n; ++i) {
        if (before) before();
        const auto start = Clock::now();
        const auto res = get(c.port, target, c.session);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        if (res.result() != http::status::ok)
          throw std::runtime_error(target + " answered " + std::to_string(res.result_int()));
        bytes = res.body().size();
      }
      print(name, summarize(ms), bytes, n);
      return ms.front();
    };

    {
      admin_web::WebOptions options = admin_web::WebOptions::forTests();  // no background refresh
      auto console = startConsole(options);
      const std::string report = "/api/events/big-event/report";
      measure(*console, "GET report JSON, cold (first request after a sync)", report, runs, smallSync);
      measure(*console, "GET report JSON, warm", report, runs);
      for (const auto& [name, query] : std::vector<std::pair<std::string, std::string>>{
               {"default order", "?limit=50"},
               {"sort=name", "?sort=name&limit=50"},
               {"filter=no-show", "?filter=no-show&limit=50"},
               {"search q=person123", "?q=person123&limit=50"},
               {"sort=firstSeen desc, page 3", "?sort=firstSeen&dir=desc&offset=100&limit=50"}}) {
        const double first = measure(*console, "GET report page (" + name + ")", report + query, runs);
        std::cout << fmt::format(R"({{"measure":"first GET report page ({}) incl. computing its order","ms":{:.1f}}})",
                                 name, first)
                  << std::endl;
      }
      measure(*console, "GET report.csv, warm", "/events/big-event/report.csv", runs);
      measure(*console, "GET /events/{id} (page shell)", "/events/big-event", runs);
      measure(*console, "GET /events (list with counts)", "/events", runs);
      std::cout << fmt::format(R"({{"measure":"report cache","hits":{},"misses":{},"rebuilds":{}}})",
                               console->metrics.value("admin_report_cache_hits_total"),
                               console->metrics.value("admin_report_cache_misses_total"),
                               console->metrics.value("admin_report_cache_rebuilds_total"))
                << std::endl;
    }
    {
      // With the background refresh (as `serve` runs it): the sync's rebuild
      // happens before the organizer looks.
      admin_web::WebOptions options = admin_web::WebOptions::forTests();
      options.reportRefreshInterval = std::chrono::milliseconds{200};
      auto console = startConsole(options);
      const std::string report = "/api/events/big-event/report?limit=50";
      (void)get(console->port, report, console->session);  // cached once
      measure(*console, "GET report page, first after a sync with the background refresh (2 s later)", report, runs,
              [&] {
                smallSync();
                std::this_thread::sleep_for(std::chrono::milliseconds{2000});
              });
    }
  } catch (const std::exception& e) {
    std::cerr << "admin-report-bench: " << e.what() << '\n';
    status = 1;
  }
  if (keep) {
    std::cerr << "kept database " << db << '\n';
    return status;
  }
  try {
    pqxx::connection c{""};
    pqxx::nontransaction tx{c};
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(db) + " WITH (FORCE)");
  } catch (...) {
  }
  return status;
}
