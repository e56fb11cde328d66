#include "under_attack.hpp"

#include <atomic>
#include <cmath>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <attendance/batch_client/content_digest.hpp>

#include "admin_session.hpp"
#include "attacks.hpp"
#include "connection.hpp"
#include "process_stats.hpp"
#include "samples.hpp"
#include "seed_file.hpp"
#include "sync_upload.hpp"

namespace attendance::bench {

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string kVictimEmail = "victim@load.example";

// One measured round: written by the normal client's thread while it runs (only
// it touches uploads/reads), the rest by the main thread; read after both stop.
struct Round {
  std::string attack;
  bool underAttack = false;
  UploadStats uploads;
  Samples reads;
  std::map<unsigned, long> readAnswers;
  long readNetworkErrors = 0;
  long readReconnects = 0;
  double backendCpu = 0;
  double adminCpu = 0;
  double driverCpu = 0;
  double machineBusy = 0;
  double machineTotal = 0;
  long backendRssKiB = -1;
  long adminRssKiB = -1;
  std::map<int, long> attackAnswers;
  long long attackBytes = 0;
};

struct NormalClient {
  NormalClient(const UnderAttackOptions& options, SeedFile seedFile, std::string password, std::vector<Round>& all)
      : o(options), seed(std::move(seedFile)), adminPassword(std::move(password)), rounds(all) {}

  const UnderAttackOptions& o;
  SeedFile seed;
  std::string adminPassword;
  std::vector<Round>& rounds;
  std::atomic<int> round{-1};
  std::atomic<bool> stop{false};
  std::atomic<bool> ready{false};
  std::atomic<int> running{0};
  // Where answers go between rounds.
  Round spare;

  // An answer counts for the round it arrived in, or else the one its request
  // was sent in (a request sent during an attack's ramp that takes the whole
  // round still counts for the attack).
  Round& roundFor(int startedIn) {
    const int k = round.load() >= 0 ? round.load() : startedIn;
    return k >= 0 ? rounds[static_cast<std::size_t>(k)] : spare;
  }

  void fail(std::string what) {
    std::lock_guard lock{m};
    failure = std::move(what);
    stop = true;
  }
  [[nodiscard]] std::string failed() {
    std::lock_guard lock{m};
    return failure;
  }

private:
  std::mutex m;
  std::string failure;
};

asio::awaitable<void> sleepUntil(SteadyClock::time_point t) {
  asio::steady_timer timer{co_await asio::this_coro::executor, t};
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// A scanner posting small batches of fresh sightings at a steady pace.
asio::awaitable<void> normalUploads(NormalClient& nc) {
  const tcp::endpoint backend{asio::ip::make_address("127.0.0.1"), nc.o.backendPort};
  Connection c{co_await asio::this_coro::executor, backend};
  std::mt19937 random{7};
  const batch_client::RetryPolicy policy;  // attendance-sync's
  const std::string auth = "Bearer " + nc.seed.apiKeys.front();
  const std::string& scannerId = nc.seed.scannerIds.front();
  const auto nowMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::int64_t t = (nowMs - 6 * 3'600'000) / 1000 * 1000;
  std::size_t user = 0;
  while (!nc.stop.load()) {
    const auto started = SteadyClock::now();
    const int startedIn = nc.round.load();
    UploadStats stats;
    std::string body = fmt::format(R"({{"eventId":"{}","records":[)", nc.o.eventId);
    for (int i = 0; i < nc.o.batchRecords; ++i) {
      body += fmt::format(R"({}{{"bleUuid":"{}","checkInTime":{},"scannerId":"{}"}})", i == 0 ? "" : ",",
                          nc.seed.bleUuids[user++ % nc.seed.bleUuids.size()], t++, scannerId);
    }
    body += "]}";
    const std::string digest = batch_client::contentDigestSha256(body);
    Request req = makeRequest(http::verb::post, "/batchCheckIn", std::move(body));
    req.set(http::field::authorization, auth);
    req.set("Content-Digest", digest);  // as attendance-sync sends it
    (void)co_await uploadBatch(c, req, policy, std::chrono::seconds{nc.o.requestTimeoutSeconds}, random, stats);
    nc.roundFor(startedIn).uploads.merge(stats);
    co_await sleepUntil(started + std::chrono::milliseconds{nc.o.intervalMs});
  }
  --nc.running;
}

// An organizer reading the report page (what the console's script asks for).
asio::awaitable<void> normalReads(NormalClient& nc) {
  const tcp::endpoint admin{asio::ip::make_address("127.0.0.1"), nc.o.adminPort};
  const auto timeout = std::chrono::seconds{nc.o.requestTimeoutSeconds};
  Connection c{co_await asio::this_coro::executor, admin};
  const std::string cookie = co_await signInToAdmin(c, nc.o.adminEmail, nc.adminPassword, timeout);
  // The participant whose password the guessing attack tries (one real Argon2id hash).
  {
    const tcp::endpoint backend{asio::ip::make_address("127.0.0.1"), nc.o.backendPort};
    Connection b{co_await asio::this_coro::executor, backend};
    const Reply created = co_await b.exchange(
        makeRequest(http::verb::post, "/api/participants",
                    R"({"email":")" + kVictimEmail + R"(","displayName":"Victim","password":"correct horse battery"})"),
        timeout);
    if (created.status != 201) throw std::runtime_error(fmt::format("creating the victim: {}", created.status));
  }
  nc.ready = true;
  const std::string target =
      "/api/events/" + nc.o.eventId + "/report?offset=0&limit=50&filter=all&sort=report&dir=asc&buckets=36";
  while (!nc.stop.load()) {
    const auto started = SteadyClock::now();
    const int startedIn = nc.round.load();
    Request req = makeRequest(http::verb::get, target);
    req.set(http::field::cookie, cookie);
    const Reply reply = co_await c.exchange(req, timeout);
    Round& r = nc.roundFor(startedIn);
    if (reply.reconnected) ++r.readReconnects;
    if (reply.status == 0) {
      ++r.readNetworkErrors;
    } else {
      ++r.readAnswers[reply.status];
      if (reply.status == 200) r.reads.add(reply.elapsed);
    }
    co_await sleepUntil(started + std::chrono::milliseconds{nc.o.intervalMs});
  }
  --nc.running;
}

void measure(const UnderAttackOptions& o, NormalClient& nc, Round& r, int k, AttackTally* tally) {
  const auto before = cpuMark(o.backendPid, o.adminPid);
  if (tally != nullptr) tally->reset();
  nc.round = k;
  std::this_thread::sleep_for(std::chrono::seconds{o.roundSeconds});
  nc.round = -1;
  const auto after = cpuMark(o.backendPid, o.adminPid);
  r.backendCpu = after.backend - before.backend;
  r.adminCpu = after.admin - before.admin;
  r.driverCpu = after.driver - before.driver;
  r.machineBusy = after.machine.busy - before.machine.busy;
  r.machineTotal = after.machine.total - before.machine.total;
  if (o.backendPid > 0) r.backendRssKiB = statusKiB(o.backendPid, "VmRSS");
  if (o.adminPid > 0) r.adminRssKiB = statusKiB(o.adminPid, "VmRSS");
  if (tally != nullptr) {
    r.attackAnswers = tally->answers();
    r.attackBytes = tally->bytes();
  }
}

// "12.3 (11.0-14.2)": the median of the rounds' figures and their range.
std::string spread(const std::vector<double>& xs) {
  if (xs.empty()) return "-";
  for (const double x : xs) {
    if (std::isnan(x)) return "no answer in a round";
  }
  const auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
  return fmt::format("{:.1f} ({:.1f}-{:.1f})", median(xs), *lo, *hi);
}

std::string errorsText(const std::vector<const Round*>& rounds) {
  std::map<std::string, long> errors;
  for (const Round* r : rounds) {
    for (const auto& [status, n] : r->uploads.answers) {
      if (status != 200) errors[fmt::format("upload {}", status)] += n;
    }
    if (r->uploads.networkErrors != 0) errors["upload no answer"] += r->uploads.networkErrors;
    for (const auto& [status, n] : r->readAnswers) {
      if (status != 200) errors[fmt::format("report {}", status)] += n;
    }
    if (r->readNetworkErrors != 0) errors["report no answer"] += r->readNetworkErrors;
  }
  long reconnects = 0;
  for (const Round* r : rounds) reconnects += r->uploads.reconnects + r->readReconnects;
  std::string out;
  for (const auto& [what, n] : errors) out += fmt::format("{}{} x{}", out.empty() ? "" : ", ", what, n);
  if (out.empty()) out = "none";
  if (reconnects != 0) out += fmt::format(" ({} kept-alive connections closed by the server, resent)", reconnects);
  return out;
}

std::string attackAnswersText(const std::vector<const Round*>& rounds, int seconds) {
  std::map<int, long> all;
  long long bytes = 0;
  for (const Round* r : rounds) {
    for (const auto& [status, n] : r->attackAnswers) all[status] += n;
    bytes += r->attackBytes;
  }
  if (all.empty()) return "-";
  const double window = static_cast<double>(seconds) * static_cast<double>(rounds.size());
  std::string out;
  for (const auto& [status, n] : all) {
    const std::string what = status == 0 ? "closed" : status == -1 ? "no connect" : std::to_string(status);
    out += fmt::format("{}{} {:.0f}/s", out.empty() ? "" : ", ", what, static_cast<double>(n) / window);
  }
  return fmt::format("{}; {:.1f} MB/s sent", out, static_cast<double>(bytes) / window / 1e6);
}

}  // namespace

int runUnderAttack(const UnderAttackOptions& o) {
  std::vector<Attack> attacks;
  attacks.push_back({"control", "(no attack: the B rounds run nothing either, to show the noise)", 0, {}});
  for (auto& a : sectionOneAttacks()) {
    if (o.only.empty() || ("," + o.only + ",").find("," + a.name + ",") != std::string::npos) {
      attacks.push_back(std::move(a));
    }
  }
  const AttackTarget target{o.backendPort, o.adminPort, o.eventId, loadSeedFile(o.seedFile).apiKeys.at(1),
                            kVictimEmail};

  std::vector<Round> rounds(attacks.size() * static_cast<std::size_t>(o.pairs) * 2);
  NormalClient nc{o, loadSeedFile(o.seedFile), readFirstLine(o.adminPasswordFile), rounds};
  asio::io_context ioc{1};
  auto onEnd = [&nc](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      nc.fail(ex.what());
    }
  };
  nc.running = 2;
  asio::co_spawn(ioc, normalReads(nc), onEnd);
  asio::co_spawn(ioc, normalUploads(nc), onEnd);
  std::thread io{[&ioc] { ioc.run(); }};
  const auto readyBy = SteadyClock::now() + 60s;
  while (!nc.ready && nc.failed().empty() && SteadyClock::now() < readyBy) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(2s);  // warm: connections open, the report cached

  std::cout << fmt::format(
                   "latency under attack: {} pairs of {} s rounds per attack (A = no attack, B = attack, "
                   "alternating); normal client: {} records per POST and a report page read, each every {} ms\n",
                   o.pairs, o.roundSeconds, o.batchRecords, o.intervalMs)
            << std::flush;
  std::size_t k = 0;
  for (const Attack& attack : attacks) {
    if (!nc.failed().empty()) break;
    for (int p = 0; p < o.pairs; ++p) {
      Round& baseline = rounds[k];
      baseline.attack = attack.name;
      measure(o, nc, baseline, static_cast<int>(k), nullptr);
      ++k;

      Round& attacked = rounds[k];
      attacked.attack = attack.name;
      attacked.underAttack = true;
      AttackTally tally;
      std::atomic<bool> stop{false};
      std::vector<std::thread> threads;
      for (int t = 0; t < attack.threads; ++t) {
        threads.emplace_back([&, t] { attack.run(target, t, stop, tally); });
      }
      std::this_thread::sleep_for(std::chrono::seconds{o.rampSeconds});
      measure(o, nc, attacked, static_cast<int>(k), &tally);
      ++k;
      stop = true;
      for (auto& t : threads) t.join();
      std::this_thread::sleep_for(std::chrono::seconds{o.settleSeconds});
      std::cout << fmt::format("  {} pair {}: upload p50 {:.1f} -> {:.1f} ms, report p50 {:.1f} -> {:.1f} ms\n",
                               attack.name, p + 1, baseline.uploads.answered200.p50(),
                               attacked.uploads.answered200.p50(), baseline.reads.p50(), attacked.reads.p50())
                << std::flush;
    }
  }
  nc.stop = true;
  io.join();
  if (const auto failure = nc.failed(); !failure.empty()) {
    std::cerr << "the normal client failed: " << failure << "\n";
    return 1;
  }

  // The table: per attack, the rounds' medians and ranges without (A) and with (B) it.
  std::cout << "\n| attack | upload p50 ms, A -> B | upload p99 ms, A -> B | report p50 ms, A -> B | report p99 ms, "
               "A -> B | normal client's errors, A / B | CPU s per round, backend / admin, A -> B | attackers' answers "
               "(B) |\n"
               "|---|---|---|---|---|---|---|---|\n";
  json::array rows;
  for (std::size_t a = 0; a < attacks.size() && a * 2 * static_cast<std::size_t>(o.pairs) < k; ++a) {
    std::vector<const Round*> base;
    std::vector<const Round*> hit;
    for (int p = 0; p < o.pairs; ++p) {
      const std::size_t i = (a * static_cast<std::size_t>(o.pairs) + static_cast<std::size_t>(p)) * 2;
      base.push_back(&rounds[i]);
      hit.push_back(&rounds[i + 1]);
    }
    auto figures = [](const std::vector<const Round*>& rs, auto f) {
      std::vector<double> out;
      for (const Round* r : rs) out.push_back(f(*r));
      return out;
    };
    const auto up50 = [](const Round& r) { return r.uploads.answered200.p50(); };
    const auto up99 = [](const Round& r) { return r.uploads.answered200.p99(); };
    const auto rd50 = [](const Round& r) { return r.reads.p50(); };
    const auto rd99 = [](const Round& r) { return r.reads.p99(); };
    const auto cpu = [](const Round& r) { return r.backendCpu; };
    const auto adminCpu = [](const Round& r) { return r.adminCpu; };
    std::cout << fmt::format(
        "| {} | {} -> {} | {} -> {} | {} -> {} | {} -> {} | {} / {} | {} | {} |\n", attacks[a].description,
        spread(figures(base, up50)), spread(figures(hit, up50)), spread(figures(base, up99)),
        spread(figures(hit, up99)), spread(figures(base, rd50)), spread(figures(hit, rd50)),
        spread(figures(base, rd99)), spread(figures(hit, rd99)), errorsText(base), errorsText(hit),
        fmt::format("{:.2f} / {:.2f} -> {:.2f} / {:.2f}", median(figures(base, cpu)), median(figures(base, adminCpu)),
                    median(figures(hit, cpu)), median(figures(hit, adminCpu))),
        attackAnswersText(hit, o.roundSeconds));
    for (const auto* group : {&base, &hit}) {
      for (const Round* r : *group) {
        json::object row;
        row["attack"] = attacks[a].name;
        row["under_attack"] = r->underAttack;
        row["upload_p50_ms"] = r->uploads.answered200.p50();
        row["upload_p99_ms"] = r->uploads.answered200.p99();
        row["upload_n"] = r->uploads.answered200.count();
        row["read_p50_ms"] = r->reads.p50();
        row["read_p99_ms"] = r->reads.p99();
        row["read_n"] = r->reads.count();
        row["errors"] = errorsText({r});
        row["backend_cpu_s"] = r->backendCpu;
        row["driver_cpu_s"] = r->driverCpu;
        row["machine_busy_s"] = r->machineBusy;
        row["machine_total_s"] = r->machineTotal;
        row["backend_rss_mib"] = static_cast<double>(r->backendRssKiB) / 1024.0;
        row["admin_cpu_s"] = r->adminCpu;
        row["admin_rss_mib"] = static_cast<double>(r->adminRssKiB) / 1024.0;
        row["attack_answers"] = attackAnswersText({r}, o.roundSeconds);
        rows.push_back(std::move(row));
      }
    }
  }
  std::cout << "\nper round (A/B, upload p50/p99, report p50/p99 ms, CPU s of the backend, the admin server and "
               "this driver (attackers included), machine busy s of all cores, RSS MiB of the backend and the admin "
               "server at the round's end):\n";
  for (std::size_t i = 0; i < k; ++i) {
    const Round& r = rounds[i];
    std::cout << fmt::format(
        "  {:<20} {} up {:.1f}/{:.1f} (n={}) report {:.1f}/{:.1f} (n={}) cpu {:.2f}/{:.2f}/{:.2f} "
        "machine {:.2f}/{:.2f} rss {:.1f}/{:.1f} errors: {}\n",
        r.attack, r.underAttack ? "B" : "A", r.uploads.answered200.p50(), r.uploads.answered200.p99(),
        r.uploads.answered200.count(), r.reads.p50(), r.reads.p99(), r.reads.count(), r.backendCpu, r.adminCpu,
        r.driverCpu, r.machineBusy, r.machineTotal, static_cast<double>(r.backendRssKiB) / 1024.0,
        static_cast<double>(r.adminRssKiB) / 1024.0, errorsText({&r}));
  }
  if (!o.jsonOut.empty()) {
    std::ofstream f{o.jsonOut};
    f << json::serialize(rows) << "\n";
  }
  return 0;
}

}  // namespace attendance::bench
