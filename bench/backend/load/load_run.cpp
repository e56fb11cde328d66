#include "load_run.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include <attendance/batch_client/content_digest.hpp>

#include "admin_session.hpp"
#include "connection.hpp"
#include "process_stats.hpp"
#include "samples.hpp"
#include "seed_file.hpp"
#include "sync_upload.hpp"

namespace attendance::bench {

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int kScannerBlock = 1;  // scanners connect from 127.1.x.y
constexpr int kReaderBlock = 2;   // report readers from 127.2.x.y

asio::awaitable<void> sleepFor(SteadyClock::duration d) {
  asio::steady_timer t{co_await asio::this_coro::executor, d};
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

// An unregistered device's bleUuid: fixed, so reruns send the same records.
std::string unknownDevice(int i) { return fmt::format("00000000-0000-4000-8000-{:012x}", i + 1); }

// What the scanners send, as request bodies, and what the database and the
// report must then hold.
struct Workload {
  std::vector<std::vector<std::string>> bodies;  // [scanner][batch]
  std::unordered_set<std::string> rows;          // "scannerId|checkInTime|bleUuid"
  std::size_t registeredSeen = 0;
  std::size_t unknownSeen = 0;
  std::size_t bodyBytes = 0;
};

Workload makeWorkload(const LoadOptions& o, const SeedFile& seed) {
  Workload w;
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  // Six hours ago, on the second: within the backend's 24 h slack of the (undated) event.
  const std::int64_t base = (now.count() - 6 * 3'600'000) / 1000 * 1000;
  const auto& users = seed.bleUuids;
  std::set<std::string> registered;
  std::set<std::string> unknown;
  w.rows.reserve(static_cast<std::size_t>(o.scanners) * static_cast<std::size_t>(o.records));
  w.bodies.resize(static_cast<std::size_t>(o.scanners));
  for (int s = 0; s < o.scanners; ++s) {
    const std::string& scannerId = seed.scannerIds[static_cast<std::size_t>(s)];
    std::string body;
    int inBatch = 0;
    for (int i = 0; i < o.records; ++i) {
      // One in ten sightings is a phone nobody registered; the rest cycle through the users.
      std::string ble;
      if (i % 10 == 9 && o.unknownDevices > 0) {
        ble = unknownDevice((s * 31 + i) % o.unknownDevices);
        unknown.insert(ble);
      } else {
        ble = users[static_cast<std::size_t>(s * 7919 + i) % users.size()];
        registered.insert(ble);
      }
      const std::int64_t t = base + std::int64_t{i} * 1000 + s % 1000;
      if (inBatch == 0) body = fmt::format(R"({{"eventId":"{}","records":[)", o.eventId);
      if (inBatch > 0) body += ',';
      body += fmt::format(R"({{"bleUuid":"{}","checkInTime":{},"scannerId":"{}"}})", ble, t, scannerId);
      w.rows.insert(fmt::format("{}|{}|{}", scannerId, t, ble));
      if (++inBatch == o.batchSize || i + 1 == o.records) {
        body += "]}";
        w.bodyBytes += body.size();
        w.bodies[static_cast<std::size_t>(s)].push_back(std::move(body));
        body.clear();
        inBatch = 0;
      }
    }
  }
  w.registeredSeen = registered.size();
  w.unknownSeen = unknown.size();
  return w;
}

// The report reads, in the order each reader cycles through them: three pages as
// the console's report page asks for them, the full JSON (= attendance-admin
// report --format json) and the CSV download.
struct ReportRead {
  std::string kind;
  std::string target;
};
std::vector<ReportRead> reportReads(const std::string& eventId) {
  const std::string base = "/api/events/" + eventId + "/report";
  return {
      {"page", base + "?offset=0&limit=50&filter=all&sort=report&dir=asc&buckets=36"},
      {"page", base + "?offset=50&limit=50&filter=attended&sort=name&dir=asc&buckets=36"},
      {"page", base + "?offset=0&limit=50&filter=all&sort=lastSeen&dir=desc&buckets=36"},
      {"full", base},
      {"csv", "/events/" + eventId + "/report.csv"},
  };
}

// Everything the coroutines share (one io_context thread: plain members).

struct Run {
  explicit Run(const LoadOptions& options)
      : o(options),
        backend(asio::ip::make_address("127.0.0.1"), options.backendPort),
        admin(asio::ip::make_address("127.0.0.1"), options.adminPort),
        adminPassword(readFirstLine(options.adminPasswordFile)),
        seed(loadSeedFile(options.seedFile)),
        reads(reportReads(options.eventId)),
        timeout(options.requestTimeoutSeconds * 1000) {}

  const LoadOptions& o;
  tcp::endpoint backend;
  tcp::endpoint admin;
  std::string adminPassword;
  SeedFile seed;
  Workload work;
  std::vector<ReportRead> reads;
  batch_client::RetryPolicy policy;  // attendance-sync's defaults
  std::chrono::milliseconds timeout;

  bool released = false;
  bool uploadsDone = false;
  int readersReady = 0;
  int readersDone = 0;
  int scannersDone = 0;
  int scannersFailed = 0;
  bool finished = false;
  SteadyClock::time_point startedAt;
  SteadyClock::time_point lastAckAt;

  UploadStats uploads;
  std::int64_t received = 0;
  std::int64_t inserted = 0;
  std::int64_t duplicates = 0;
  std::int64_t rejected = 0;
  std::map<std::string, Samples> readLatency;  // kind -> latency of 200 answers
  std::map<unsigned, long> readAnswers;
  long readNetworkErrors = 0;
  std::vector<std::string> failures;

  CpuMark cpuBefore;
  CpuMark cpuAfter;
  long backendRssBefore = -1;
  long adminRssBefore = -1;
  long adminPeakSignIns = -1;
  long backendPeak = -1;  // VmHWM when the last upload and read were answered
  long adminPeak = -1;
  bool peakResetOk = true;
  std::string finalReport;
};

asio::awaitable<void> scanner(Run& run, int s) {
  Connection c{co_await asio::this_coro::executor, run.backend,
               run.o.oneAddress ? asio::ip::address{} : loopbackSource(kScannerBlock, s)};
  std::mt19937 random{static_cast<unsigned>(s) + 1};
  const std::string auth = "Bearer " + run.seed.apiKeys[static_cast<std::size_t>(s)];
  for (auto& body : run.work.bodies[static_cast<std::size_t>(s)]) {
    const std::string digest = batch_client::contentDigestSha256(body);
    Request req = makeRequest(http::verb::post, "/batchCheckIn", std::move(body));
    req.set(http::field::authorization, auth);
    req.set("Content-Digest", digest);  // as attendance-sync sends it
    const auto ack = co_await uploadBatch(c, req, run.policy, run.timeout, random, run.uploads);
    if (!ack) {
      ++run.scannersFailed;
      break;
    }
    run.received += ack->received;
    run.inserted += ack->inserted;
    run.duplicates += ack->duplicates;
    run.rejected += ack->rejected;
    run.lastAckAt = SteadyClock::now();
  }
  if (++run.scannersDone == run.o.scanners) run.uploadsDone = true;
}

asio::awaitable<void> reader(Run& run, int r) {
  Connection c{co_await asio::this_coro::executor, run.admin, loopbackSource(kReaderBlock, r)};
  const std::string cookie = co_await signInToAdmin(c, run.o.adminEmail, run.adminPassword, run.timeout);
  ++run.readersReady;
  while (!run.released) co_await sleepFor(2ms);
  for (std::size_t i = static_cast<std::size_t>(r); !run.uploadsDone; ++i) {
    const ReportRead& read = run.reads[i % run.reads.size()];
    Request req = makeRequest(http::verb::get, read.target);
    req.set(http::field::cookie, cookie);
    const Reply reply = co_await c.exchange(req, run.timeout);
    if (reply.status == 0) {
      ++run.readNetworkErrors;
      run.uploads.problem("report read without an answer: " + reply.error.message());
    } else {
      ++run.readAnswers[reply.status];
      if (reply.status == 200) {
        run.readLatency[read.kind].add(reply.elapsed);
      } else if (reply.status != 429 && reply.status != 503) {
        run.uploads.problem(
            fmt::format("report read {} answered {}: {}", read.target, reply.status, reply.body.substr(0, 200)));
      }
    }
    auto pause = std::chrono::milliseconds{run.o.readerPauseMs};
    if (!reply.retryAfter.empty()) pause = std::max<std::chrono::milliseconds>(pause, 1s);
    co_await sleepFor(pause);
  }
  ++run.readersDone;
}

asio::awaitable<void> orchestrate(Run& run) {
  auto ex = co_await asio::this_coro::executor;
  auto recordFailure = [&run](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& failure) {
      run.failures.emplace_back(failure.what());
    }
  };
  // Readers sign in first (Argon2id per sign-in), then everyone starts together.
  for (int r = 0; r < run.o.readers; ++r) asio::co_spawn(ex, reader(run, r), recordFailure);
  while (run.readersReady < run.o.readers) {
    if (!run.failures.empty()) co_return;
    co_await sleepFor(5ms);
  }
  // The peaks from here on are the load's: the readers' sign-ins (Argon2id, 64 MiB
  // each) raised the admin server's already, so that one is kept apart.
  if (run.o.backendPid > 0) {
    run.backendRssBefore = statusKiB(run.o.backendPid, "VmRSS");
    run.peakResetOk = resetPeakRss(run.o.backendPid);
  }
  if (run.o.adminPid > 0) {
    run.adminPeakSignIns = statusKiB(run.o.adminPid, "VmHWM");
    run.adminRssBefore = statusKiB(run.o.adminPid, "VmRSS");
    run.peakResetOk = resetPeakRss(run.o.adminPid) && run.peakResetOk;
  }
  run.cpuBefore = cpuMark(run.o.backendPid, run.o.adminPid);
  run.startedAt = SteadyClock::now();
  run.released = true;
  for (int s = 0; s < run.o.scanners; ++s) asio::co_spawn(ex, scanner(run, s), recordFailure);
  while (run.scannersDone < run.o.scanners || run.readersDone < run.o.readers) {
    if (!run.failures.empty()) co_return;
    co_await sleepFor(5ms);
  }
  run.cpuAfter = cpuMark(run.o.backendPid, run.o.adminPid);
  if (run.o.backendPid > 0) run.backendPeak = statusKiB(run.o.backendPid, "VmHWM");
  if (run.o.adminPid > 0) run.adminPeak = statusKiB(run.o.adminPid, "VmHWM");
  // The report after the last acknowledged batch must count every record.
  Connection c{ex, run.admin, loopbackSource(kReaderBlock, run.o.readers)};
  Request req = makeRequest(http::verb::get, run.reads[3].target);
  req.set(http::field::cookie, co_await signInToAdmin(c, run.o.adminEmail, run.adminPassword, run.timeout));
  const Reply reply = co_await c.exchange(req, run.timeout);
  if (reply.status != 200) run.failures.push_back(fmt::format("final report read answered {}", reply.status));
  run.finalReport = reply.body;
  run.finished = true;
}

struct Check {
  std::string what;
  bool ok;
  std::string detail;
};

std::vector<Check> checkReport(const Run& run) {
  std::vector<Check> checks;
  boost::system::error_code ec;
  const auto v = json::parse(run.finalReport, ec);
  if (ec || !v.is_object()) return {{"the final report is JSON", false, run.finalReport.substr(0, 200)}};
  const auto& summary = v.at("summary").as_object();
  const auto attended = summary.at("attended").to_number<std::int64_t>();
  const auto unknown = summary.at("unknownDevices").to_number<std::int64_t>();
  checks.push_back({"report: attended = registered users seen", attended == std::int64_t(run.work.registeredSeen),
                    fmt::format("{} (expected {})", attended, run.work.registeredSeen)});
  checks.push_back({"report: unknown devices", unknown == std::int64_t(run.work.unknownSeen),
                    fmt::format("{} (expected {})", unknown, run.work.unknownSeen)});
  std::int64_t stored = 0;
  std::int64_t received = 0;
  int exact = 0;
  for (const auto& s : v.at("scanners").as_array()) {
    const auto n = s.at("recordsStored").to_number<std::int64_t>();
    stored += n;
    received += s.at("recordsReceived").to_number<std::int64_t>();
    if (n == run.o.records) ++exact;
  }
  checks.push_back(
      {"report: every scanner's recordsStored = records sent", exact == run.o.scanners,
       fmt::format("{} of {} scanners; {} stored, {} received in all", exact, run.o.scanners, stored, received)});
  return checks;
}

std::vector<Check> checkDatabase(const Run& run, std::int64_t& storedRows) {
  std::vector<Check> checks;
  pqxx::connection db{run.o.databaseUrl};
  pqxx::read_transaction tx{db};
  const auto rows = tx.exec_params(
      "SELECT scanner_id, check_in_time, ble_uuid::text FROM check_ins WHERE event_id = $1", run.o.eventId);
  storedRows = static_cast<std::int64_t>(rows.size());
  std::size_t unexpected = 0;
  std::unordered_set<std::string> found;
  found.reserve(rows.size());
  for (const auto& row : rows) {
    std::string key = fmt::format("{}|{}|{}", row[0].c_str(), row[1].c_str(), row[2].c_str());
    if (run.work.rows.count(key) == 0) ++unexpected;
    found.insert(std::move(key));
  }
  std::size_t missing = 0;
  for (const auto& key : run.work.rows) missing += found.count(key) == 0 ? 1 : 0;
  const auto everywhere = tx.exec1("SELECT count(*) FROM check_ins")[0].as<std::int64_t>();
  checks.push_back({"database: check-ins of the event = records sent", rows.size() == run.work.rows.size(),
                    fmt::format("{} (expected {})", rows.size(), run.work.rows.size())});
  checks.push_back({"database: every record sent is stored, once", missing == 0 && found.size() == rows.size(),
                    fmt::format("{} missing, {} rows for {} distinct records", missing, rows.size(), found.size())});
  checks.push_back({"database: nothing else stored", unexpected == 0 && everywhere == storedRows,
                    fmt::format("{} rows not sent, {} check-ins in all", unexpected, everywhere)});
  return checks;
}

double mib(long kib) { return kib < 0 ? -1 : static_cast<double>(kib) / 1024.0; }

}  // namespace

int runLoad(const LoadOptions& o) {
  Run run{o};
  if (static_cast<std::size_t>(o.scanners) > run.seed.apiKeys.size()) {
    std::cerr << "the seed file has " << run.seed.apiKeys.size() << " scanners, not " << o.scanners << "\n";
    return 2;
  }
  run.work = makeWorkload(o, run.seed);
  const std::size_t batchesPerScanner = run.work.bodies.empty() ? 0 : run.work.bodies.front().size();
  std::cout << fmt::format(
                   "load: {} scanners x {} records (batches of {}: {} per scanner, {:.1f} MiB in all) + {} report "
                   "readers ({} ms between reads), event {}; scanners connect from {}\n",
                   o.scanners, o.records, o.batchSize, batchesPerScanner,
                   static_cast<double>(run.work.bodyBytes) / 1048576.0, o.readers, o.readerPauseMs, o.eventId,
                   o.oneAddress ? "one address (127.0.0.1)" : "an address each (127.1.x.y)")
            << std::flush;

  {
    asio::io_context ioc{1};
    // When the run ends, well or not, whatever still waits (a reader at the start gate) ends with it.
    asio::co_spawn(ioc, orchestrate(run), [&run, &ioc](std::exception_ptr e) {
      ioc.stop();
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        run.failures.emplace_back(ex.what());
      }
    });
    ioc.run_for(std::chrono::seconds{o.timeoutSeconds});
  }
  if (!run.finished) {
    run.failures.push_back(fmt::format("the run did not finish within {} s: {} of {} scanners done", o.timeoutSeconds,
                                       run.scannersDone, o.scanners));
  }

  const double wall = std::chrono::duration<double>(run.lastAckAt - run.startedAt).count();
  const std::int64_t total = std::int64_t{o.scanners} * o.records;
  const long backendPeak = run.backendPeak;
  const long adminPeak = run.adminPeak;
  const double runSeconds = run.cpuAfter.machine.total - run.cpuBefore.machine.total;  // all cores
  const double machineBusy = run.cpuAfter.machine.busy - run.cpuBefore.machine.busy;
  const double backendCpu = run.cpuAfter.backend - run.cpuBefore.backend;
  const double adminCpu = run.cpuAfter.admin - run.cpuBefore.admin;
  const double driverCpu = run.cpuAfter.driver - run.cpuBefore.driver;

  std::vector<Check> checks;
  checks.push_back(
      {"every upload answer 200, 429 or 503; none without an answer", run.uploads.onlyBackpressure(),
       fmt::format("{} network errors, {} batches given up", run.uploads.networkErrors, run.uploads.gaveUp)});
  bool readsOk = run.readNetworkErrors == 0;
  for (const auto& [status, n] : run.readAnswers)
    readsOk = readsOk && (status == 200 || status == 429 || status == 503);
  checks.push_back(
      {"every report answer 200, 429 or 503", readsOk, fmt::format("{} without an answer", run.readNetworkErrors)});
  checks.push_back({"acknowledged: received = records sent, nothing rejected",
                    run.received == total && run.rejected == 0,
                    fmt::format("received {}, inserted {}, duplicates {}, rejected {}", run.received, run.inserted,
                                run.duplicates, run.rejected)});
  checks.push_back({"acknowledged: inserted = records sent", run.inserted == total,
                    fmt::format("{} (expected {})", run.inserted, total)});
  std::int64_t storedRows = -1;
  if (run.finished) {
    for (auto& c : checkReport(run)) checks.push_back(std::move(c));
    try {
      for (auto& c : checkDatabase(run, storedRows)) checks.push_back(std::move(c));
    } catch (const std::exception& e) {
      checks.push_back({"database readable", false, e.what()});
    }
  }
  for (const auto& f : run.failures) checks.push_back({"no failure", false, f});

  auto statuses = [](const std::map<unsigned, long>& m) {
    std::string out;
    for (const auto& [status, n] : m) out += fmt::format("{}{} x{}", out.empty() ? "" : ", ", status, n);
    return out.empty() ? std::string{"none"} : out;
  };
  std::cout << fmt::format("  wall time (start to the last batch acknowledged)  {:.3f} s\n", wall)
            << fmt::format("  throughput                                        {:.0f} records/s\n",
                           wall > 0 ? static_cast<double>(run.inserted) / wall : 0.0)
            << fmt::format("  upload attempts answered 200                      {}\n",
                           run.uploads.answered200.summary())
            << fmt::format("    of which sending the request                    {}\n", run.uploads.sent200.summary())
            << fmt::format("  upload attempts answered 429/503                  {}\n",
                           run.uploads.backpressure.summary())
            << fmt::format("  batches, retries and waits included               {}\n", run.uploads.batches.summary())
            << fmt::format("  upload answers                                    {}; {} reconnects\n",
                           statuses(run.uploads.answers), run.uploads.reconnects);
  for (const auto& [kind, samples] : run.readLatency) {
    std::cout << fmt::format("  report reads ({:<4})                               {}\n", kind, samples.summary());
  }
  std::cout << fmt::format("  report answers                                    {}\n", statuses(run.readAnswers))
            << fmt::format(
                   "  backend peak RSS (VmHWM)                          {:.1f} MiB (VmRSS {:.1f} MiB before){}\n",
                   mib(backendPeak), mib(run.backendRssBefore),
                   run.peakResetOk ? "" : " (could not reset VmHWM: the peak includes the setup)")
            << fmt::format(
                   "  admin server peak RSS (VmHWM)                     {:.1f} MiB (VmRSS {:.1f} MiB before; "
                   "peak {:.1f} MiB during the readers' {} sign-ins)\n",
                   mib(adminPeak), mib(run.adminRssBefore), mib(run.adminPeakSignIns), o.readers)
            << fmt::format(
                   "  CPU s during the run: backend {:.2f}, admin {:.2f}, this driver {:.2f}; machine busy "
                   "{:.2f} of {:.2f} (all cores)\n",
                   backendCpu, adminCpu, driverCpu, machineBusy, runSeconds);
  bool allOk = true;
  for (const auto& c : checks) {
    allOk = allOk && c.ok;
    std::cout << fmt::format("  [{}] {}: {}\n", c.ok ? "ok" : "FAILED", c.what, c.detail);
  }
  for (const auto& p : run.uploads.problems) std::cout << "  problem: " << p << "\n";

  if (!o.jsonOut.empty()) {
    json::object out;
    out["scanners"] = o.scanners;
    out["records"] = o.records;
    out["batch_size"] = o.batchSize;
    out["batches_per_scanner"] = batchesPerScanner;
    out["readers"] = o.readers;
    out["one_address"] = o.oneAddress;
    out["wall_s"] = wall;
    out["records_per_s"] = wall > 0 ? static_cast<double>(run.inserted) / wall : 0.0;
    out["upload_p50_ms"] = run.uploads.answered200.p50();
    out["upload_p99_ms"] = run.uploads.answered200.p99();
    out["upload_max_ms"] = run.uploads.answered200.max();
    out["batch_p50_ms"] = run.uploads.batches.p50();
    out["batch_p99_ms"] = run.uploads.batches.p99();
    Samples allReads;
    for (const auto& [kind, samples] : run.readLatency) {
      out["read_" + kind + "_p50_ms"] = samples.p50();
      out["read_" + kind + "_p99_ms"] = samples.p99();
      out["read_" + kind + "_n"] = samples.count();
      allReads.merge(samples);
    }
    out["read_p50_ms"] = allReads.p50();
    out["read_p99_ms"] = allReads.p99();
    out["read_n"] = allReads.count();
    json::object answers;
    for (const auto& [status, n] : run.uploads.answers) answers[std::to_string(status)] = n;
    out["upload_answers"] = answers;
    json::object reads;
    for (const auto& [status, n] : run.readAnswers) reads[std::to_string(status)] = n;
    out["read_answers"] = reads;
    out["backend_peak_rss_mib"] = mib(backendPeak);
    out["backend_rss_before_mib"] = mib(run.backendRssBefore);
    out["admin_peak_rss_mib"] = mib(adminPeak);
    out["admin_peak_rss_sign_ins_mib"] = mib(run.adminPeakSignIns);
    out["cpu_backend_s"] = backendCpu;
    out["cpu_admin_s"] = adminCpu;
    out["cpu_driver_s"] = driverCpu;
    out["cpu_machine_busy_s"] = machineBusy;
    out["cpu_machine_total_s"] = runSeconds;
    out["stored_rows"] = storedRows;
    out["ok"] = allOk;
    std::ofstream f{o.jsonOut};
    f << json::serialize(out) << "\n";
  }
  std::cout << (allOk ? "load: every check passed\n" : "load: FAILED\n");
  return allOk ? 0 : 1;
}

}  // namespace attendance::bench
