// attendance-private-ids-bench: ingest of 100,000 records for an event of N registered
// participants (50,000 by default) lasting 12 hours, with static bleUuids (the anchor) and
// with private rotating ids (issue 11 §2), alternating A B A B:
//   static   parseBatchBody + ingestBatch of records carrying participants' static bleUuids;
//   cold     the same for a private-ids event with a fresh PrivateIdResolver (no cached index:
//            the keys are decrypted and the windows the batch touches hashed inside the request);
//   warm     another batch of that event on the same resolver (the index is reused);
//   prepared a fresh resolver whose index was built ahead by PrivateIdResolver::prepare (what the
//            backend does when a scanner fetches the event's roster at its start), then a batch;
//            the time prepare took is reported apart ("prepare").
// Each batch is new data from its own scanner, so all three take the direct COPY path.
// Creates and drops its own database in the cluster given by the PG* variables (pg_virtualenv).
// Results: docs/benchmarks.md, "Private rotating ids".
#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/core/core.hpp>
#include <attendance/core/identity_keys.hpp>
#include <attendance/core/private_ids.hpp>
#include <attendance/support/clock.hpp>

#include <fmt/format.h>
#include <pqxx/pqxx>
#include <sodium.h>

#include "bench_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace core = attendance::core;
using attendance::bench::median;
namespace bid = attendance::beacon_id;
using attendance::support::Uuid;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kStart = 1721458800000;          // 2024-07-20T07:00:00Z, a window boundary
constexpr std::int64_t kLengthMs = 12LL * 3600 * 1000;  // a 12-hour event
constexpr std::int64_t kWindowMs = 900'000;

std::string hex(const std::uint8_t* p, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
  return s;
}

struct Participant {
  std::string id;
  Uuid bleUuid;
  bid::IdentityKey key;
};

// n records of random participants at random times of the event (distinct per seed).
std::string body(const std::string& eventId, const std::string& scanner, const std::vector<Participant>& people,
                 const attendance::support::BleNamespace& ns, bool rotating, int n, unsigned seed) {
  std::mt19937_64 rng{seed};
  std::uniform_int_distribution<std::size_t> who{0, people.size() - 1};
  std::uniform_int_distribution<std::int64_t> when{0, kLengthMs - 1};
  std::string b = "{\"eventId\":\"" + eventId + "\",\"records\":[";
  b.reserve(static_cast<std::size_t>(n) * 110);
  for (int i = 0; i < n; ++i) {
    const auto& p = people[who(rng)];
    const std::int64_t t = kStart + when(rng);
    const Uuid id = rotating ? bid::bleUuidAt(p.key, ns, {}, t).value() : p.bleUuid;
    if (i != 0) b += ',';
    b += "{\"bleUuid\":\"" + id.toString() + "\",\"checkInTime\":" + std::to_string(t) + ",\"scannerId\":\"" + scanner +
         "\"}";
  }
  return b + "]}";
}

int usage() {
  std::fprintf(stderr, "usage: attendance-private-ids-bench [--pairs N] [--participants N] [--records N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int pairs = 5;
  int participants = 50'000;
  int records = 100'000;
  if (!attendance::bench::readOptions(
          argc, argv, {{"--pairs", &pairs}, {"--participants", &participants}, {"--records", &records}})) {
    return usage();
  }
  if (sodium_init() < 0) return 1;

  int rc = 0;
  try {
    attendance::bench::ScratchDatabase db{"attendance_pid_bench", ""};
    const core::DatabaseConfig& cfg = db.config();
    core::ConnectionPool& pool = db.pool();
    const auto ns = core::readBleNamespace(pool).value();
    const core::ServerKey serverKey = core::ServerKey::generate();
    const auto now = attendance::support::fromEpochMillis(kStart + kLengthMs);

    // Participants: static bleUuids in the namespace and identity keys, stored as the backend stores them.
    std::vector<Participant> people(static_cast<std::size_t>(participants));
    {
      pqxx::connection c{cfg.conninfo};
      pqxx::work tx{c};
      pqxx::stream_to users{tx, "users",
                            std::vector<std::string>{"id", "email", "display_name", "ble_uuid", "created_at"}};
      for (int i = 0; i < participants; ++i) {
        auto& p = people[static_cast<std::size_t>(i)];
        Uuid u;
        randombytes_buf(u.bytes.data(), u.bytes.size());
        u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0f) | 0x40);
        u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3f) | 0x80);
        p.id = u.toString();
        std::copy(ns.bytes.begin(), ns.bytes.end(), p.bleUuid.bytes.begin());
        randombytes_buf(p.bleUuid.bytes.data() + 10, 6);
        randombytes_buf(p.key.bytes.data(), p.key.bytes.size());
        users << std::make_tuple(p.id, fmt::format("user{}@example.org", i), fmt::format("User {}", i),
                                 p.bleUuid.toString(), std::string{"2024-07-01 00:00:00+00"});
      }
      users.complete();
      pqxx::stream_to keys{tx, "participant_identity_keys",
                           std::vector<std::string>{"user_id", "key_version", "nonce", "ciphertext", "created_at"}};
      for (const auto& p : people) {
        const auto s = core::sealIdentityKey(serverKey, *Uuid::parse(p.id), p.key);
        keys << std::make_tuple(p.id, 1, "\\x" + hex(s.nonce.data(), s.nonce.size()),
                                "\\x" + hex(s.ciphertext.data(), s.ciphertext.size()),
                                std::string{"2024-07-01 00:00:00+00"});
      }
      keys.complete();
      tx.commit();
    }
    for (const bool priv : {false, true}) {
      core::NewEvent ev;
      ev.id = priv ? "private" : "static";
      ev.name = ev.id.value();
      ev.startsAt = attendance::support::fromEpochMillis(kStart);
      ev.endsAt = attendance::support::fromEpochMillis(kStart + kLengthMs);
      ev.privateIds = priv;
      if (!core::createEvent(pool, ev, now)) throw std::runtime_error("createEvent failed");
      pqxx::connection c{cfg.conninfo};
      pqxx::work tx{c};
      tx.exec_params("INSERT INTO registrations SELECT $1, id, now() FROM users", *ev.id);
      tx.commit();
    }
    {
      pqxx::connection c{cfg.conninfo};
      pqxx::nontransaction tx{c};
      tx.exec("VACUUM ANALYZE");
    }

    std::vector<double> staticS, coldS, warmS, preparedS, prepareS;
    const auto run = [&](const std::string& eventId, const std::string& scanner, bool rotating, unsigned seed,
                         core::IngestOptions& options) {
      if (!core::createScanner(pool, scanner, now) || !core::assignScanner(pool, scanner, eventId, now))
        throw std::runtime_error("scanner setup failed");
      const std::string b = body(eventId, scanner, people, ns, rotating, records, seed);
      const auto start = Clock::now();
      auto parsed = core::parseBatchBody(b);
      auto r = core::ingestBatch(pool, core::IngestRequest::fromParsed(std::move(parsed.batch), scanner), now, options);
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      if (!r) throw std::runtime_error("ingest failed: " + r.error().message());
      if (!r->rejected.empty() || r->registered == 0 || r->unknownDevices != 0) {
        throw std::runtime_error(fmt::format("unexpected result: {} rejected, {} registered, {} unknown",
                                             r->rejected.size(), r->registered, r->unknownDevices));
      }
      return s;
    };
    fmt::print("{} participants, {} records per batch, 12-hour event, {} pairs (seconds: parse + ingest)\n",
               participants, records, pairs);
    for (int k = 0; k < pairs; ++k) {
      core::IngestOptions staticOptions;
      core::IngestOptions privateOptions;
      privateOptions.privateIds = std::make_shared<core::PrivateIdResolver>(serverKey);  // cold: nothing cached
      core::IngestOptions preparedOptions;
      preparedOptions.privateIds = std::make_shared<core::PrivateIdResolver>(serverKey);
      const auto seed = static_cast<unsigned>(1000 + 4 * k);
      double a = 0, cold = 0, warm = 0, prepared = 0, prepare = 0;
      const auto privateRuns = [&] {
        cold = run("private", fmt::format("S-cold-{}", k), true, seed + 1, privateOptions);
        warm = run("private", fmt::format("S-warm-{}", k), true, seed + 2, privateOptions);
        const auto start = Clock::now();
        if (!preparedOptions.privateIds->prepare(pool, "private")) throw std::runtime_error("prepare failed");
        prepare = std::chrono::duration<double>(Clock::now() - start).count();
        prepared = run("private", fmt::format("S-prepared-{}", k), true, seed + 3, preparedOptions);
      };
      if (k % 2 == 0) {
        a = run("static", fmt::format("S-static-{}", k), false, seed, staticOptions);
        privateRuns();
      } else {
        privateRuns();
        a = run("static", fmt::format("S-static-{}", k), false, seed, staticOptions);
      }
      staticS.push_back(a);
      coldS.push_back(cold);
      warmS.push_back(warm);
      preparedS.push_back(prepared);
      prepareS.push_back(prepare);
      fmt::print(
          "pair {}: static {:.3f}  private cold {:.3f} ({:.2f}x)  warm {:.3f} ({:.2f}x)  prepared {:.3f} ({:.2f}x; "
          "prepare took {:.3f})\n",
          k + 1, a, cold, cold / a, warm, warm / a, prepared, prepared / a, prepare);
    }
    const auto range = [](const std::vector<double>& v) {
      return fmt::format("{:.3f} .. {:.3f}", *std::min_element(v.begin(), v.end()),
                         *std::max_element(v.begin(), v.end()));
    };
    std::vector<double> coldRatio, warmRatio, preparedRatio;
    for (std::size_t i = 0; i < staticS.size(); ++i) {
      coldRatio.push_back(coldS[i] / staticS[i]);
      warmRatio.push_back(warmS[i] / staticS[i]);
      preparedRatio.push_back(preparedS[i] / staticS[i]);
    }
    fmt::print("median static {:.3f} s (spread {})\n", median(staticS), range(staticS));
    fmt::print("median cold   {:.3f} s (spread {}), ratio per pair median {:.2f}x (spread {})\n", median(coldS),
               range(coldS), median(coldRatio), range(coldRatio));
    fmt::print("median warm   {:.3f} s (spread {}), ratio per pair median {:.2f}x (spread {})\n", median(warmS),
               range(warmS), median(warmRatio), range(warmRatio));
    fmt::print(
        "median prepared {:.3f} s (spread {}), ratio per pair median {:.2f}x (spread {}); prepare {:.3f} s "
        "(spread {})\n",
        median(preparedS), range(preparedS), median(preparedRatio), range(preparedRatio), median(prepareS),
        range(prepareS));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attendance-private-ids-bench: %s\n", e.what());
    rc = 1;
  }
  return rc;
}
