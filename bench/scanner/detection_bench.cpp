// Detection on a simulated venue hour (issue 13 §3, docs/benchmarks-scanner.md).
//
// 2,000 registered participants each in range for a 10 s stay and 500 registered passers-by heard
// for under a second at weak RSSI, spread over one hour, their phones advertising at one interval
// per scenario, with packets missed and RSSI noise. Every received packet goes through the real
// scanner pieces on simulated time: raw AD bytes -> parseAdvertisingData -> roster -> presence rule
// -> dedup -> jsonl_log::Writer (a real file, fsync every second as shipped), with pipeline.tick()
// after every packet and at every deadline, as the scanner's loop does. No D-Bus: an hour runs in
// seconds. Reports per scenario: the share of participants checked in, the share of passers-by
// checked in, and the latency from arrival (entering range) to the line being durable.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <attendance/ble_scan/advertisement.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/log.hpp>
#include <attendance/support/uuid.hpp>
#include "scanner/boot_clock.hpp"
#include "scanner/pipeline.hpp"
#include "scanner/roster.hpp"

namespace {

using namespace std::chrono_literals;
namespace as = attendance::scanner;
namespace bs = attendance::ble_scan;
namespace jl = attendance::jsonl_log;
using attendance::support::Uuid;

constexpr double kHour = 3600.0;
constexpr int kParticipants = 2000;
constexpr int kPassers = 500;

struct Phone {
  Uuid id;
  std::vector<std::uint8_t> air;  // the legacy advertisement it sends
  double arrive = 0;
  double leave = 0;
  double interval = 1;
  double level = -60;  // mean RSSI where it is
  bool participant = true;
  double durableAt = -1;  // first line of this phone durable at (simulated s), -1: never logged
};

struct Packet {
  double at;
  int phone;
  int rssi;
};

struct Scenario {
  const char* name;
  double interval;  // < 0: each phone uniform in [0.1, 1.0] s (iOS foreground)
  double stay;
  double miss;
  std::chrono::milliseconds minDwell = as::PresenceOptions{}.minDwell;  // --min-dwell, the shipped default
  jl::FsyncPolicy fsync = jl::FsyncPolicy::interval;
  double passerMax = 0.9;                                         // passers-by are heard for 0.2 s to this long
  std::size_t minSightings = as::PresenceOptions{}.minSightings;  // --min-sightings
};

// What a phone sends, by format, exactly as on air (flags + one participant AD; ADR 0028).
std::vector<std::uint8_t> airFor(const Uuid& id, int format) {
  std::vector<std::uint8_t> a{0x02, 0x01, 0x06};
  const auto put = [&a](std::initializer_list<std::uint8_t> b) { a.insert(a.end(), b); };
  const auto idBytes = [&a, &id](bool reversed) {
    if (reversed)
      a.insert(a.end(), id.bytes.rbegin(), id.bytes.rend());
    else
      a.insert(a.end(), id.bytes.begin(), id.bytes.end());
  };
  switch (format) {
    case 0:  // iBeacon
      put({0x1a, 0xff, 0x4c, 0x00, 0x02, 0x15});
      idBytes(false);
      put({0x00, 0x01, 0x00, 0x02, 0xc5});
      break;
    case 1:  // Eddystone-UID
      put({0x03, 0x03, 0xaa, 0xfe, 0x17, 0x16, 0xaa, 0xfe, 0x00, 0xe7});
      idBytes(false);
      put({0x00, 0x00});
      break;
    case 2:  // a 128-bit service UUID (little-endian on air)
      put({0x11, 0x07});
      idBytes(true);
      break;
    default:  // service data under the 16-bit attendance UUID 0xFFF9
      put({0x13, 0x16, 0xf9, 0xff});
      idBytes(false);
      break;
  }
  return a;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Result {
  double detection = 0, passersLogged = 0, p50 = 0, p99 = 0, worst = 0;
  std::uint64_t packets = 0, lines = 0, lastSeenLines = 0;
  double wallSeconds = 0;
};

Result run(const Scenario& sc, std::uint64_t seed, const std::filesystem::path& dir) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0, 1);
  const auto uni = [&](double a, double b) { return a + (b - a) * u01(rng); };
  std::normal_distribution<double> noise(0, 4);  // dB around the phone's level

  std::vector<Phone> phones;
  std::string roster = R"({"eventId":"evt-bench","bleUuids":[)";
  for (int i = 0; i < kParticipants + kPassers; ++i) {
    Phone p;
    for (auto& b : p.id.bytes) b = static_cast<std::uint8_t>(rng());
    p.id.bytes[6] = static_cast<std::uint8_t>((p.id.bytes[6] & 0x0f) | 0x40);
    p.id.bytes[8] = static_cast<std::uint8_t>((p.id.bytes[8] & 0x3f) | 0x80);
    p.participant = i < kParticipants;
    p.air = airFor(p.id, static_cast<int>(rng() % 4));
    p.interval = sc.interval > 0 ? sc.interval : uni(0.1, 1.0);
    if (p.participant) {
      p.arrive = uni(0, kHour - sc.stay);
      p.leave = p.arrive + sc.stay;
      p.level = uni(-85, -50);
    } else {
      p.arrive = uni(0, kHour - 1);
      p.leave = p.arrive + uni(0.2, sc.passerMax);
      p.level = uni(-97, -86);
    }
    roster += (i ? ",\"" : "\"") + p.id.toString() + "\"";
    phones.push_back(std::move(p));
  }
  roster += "]}";

  std::vector<Packet> packets;
  for (int i = 0; i < static_cast<int>(phones.size()); ++i) {
    const Phone& p = phones[static_cast<std::size_t>(i)];
    // The phone was advertising before it came into range: the first packet heard is at a random phase.
    for (double t = p.arrive + uni(0, p.interval); t <= p.leave; t += p.interval + uni(0, 0.010)) {
      if (u01(rng) < sc.miss) continue;
      const int rssi = static_cast<int>(std::lround(std::clamp(p.level + noise(rng), -127.0, 20.0)));
      packets.push_back({t, i, rssi});
    }
  }
  std::sort(packets.begin(), packets.end(), [](const Packet& a, const Packet& b) { return a.at < b.at; });

  const auto wall0 = std::chrono::steady_clock::now();
  attendance::support::SimulatedTimeSource clock;
  as::SimulatedBootClock boot(clock, "0f3c2a9e-1b2d-4c5e-8f70-123456789abc", 1000);
  auto loaded = as::Roster::parse(roster);
  if (!loaded) {
    std::fprintf(stderr, "roster: %s\n", loaded.error().message.c_str());
    std::exit(1);
  }
  const auto log = dir / (std::string("detection-") + std::to_string(seed) + ".jsonl");
  std::filesystem::remove(log);
  auto writer = jl::Writer::open(log, {.fsync = sc.fsync, .syncInterval = 1s},
                                 attendance::support::toEpochMillis(clock.systemTime()));
  if (!writer) {
    std::fprintf(stderr, "log: %s\n", writer.error().message.c_str());
    std::exit(1);
  }
  as::PipelineOptions options{.scannerId = "Entrance-Scanner-01", .eventId = "evt-bench"};
  options.lastSeenInterval = 5min;  // as shipped
  options.presence.minDwell = sc.minDwell;
  options.presence.minSightings = sc.minSightings;
  as::Pipeline pipeline(options, clock, boot, **writer, &*loaded);

  double now = 0;
  const auto moveTo = [&](double t) {
    if (t > now) {
      clock.advance(std::chrono::nanoseconds{static_cast<std::int64_t>((t - now) * 1e9)});
      now = t;
    }
  };
  std::vector<std::pair<std::uint64_t, int>> logged;  // (line number, phone) in log order
  std::size_t durableUpTo = 0;
  const auto tick = [&] {
    if (!pipeline.tick()) {
      std::fprintf(stderr, "tick failed\n");
      std::exit(1);
    }
    while (durableUpTo < logged.size() && logged[durableUpTo].first <= (*writer)->durableLines()) {
      Phone& p = phones[static_cast<std::size_t>(logged[durableUpTo].second)];
      if (p.durableAt < 0) p.durableAt = now;
      ++durableUpTo;
    }
  };
  // When the scanner's loop would next wake without a packet: a deadline of the pipeline, or 1 s.
  const auto nextWake = [&] {
    double t = now + 1.0;
    if (const auto d = pipeline.nextDeadline()) {
      const double dt = std::chrono::duration<double>(*d - clock.monotonicTime()).count();
      t = std::min(t, now + std::max(dt, 0.0));
    }
    return t;
  };
  double wake = nextWake();
  for (const Packet& pk : packets) {
    while (wake <= pk.at) {
      moveTo(wake);
      tick();
      wake = std::max(nextWake(), now + 0.001);
    }
    moveTo(pk.at);
    const Phone& p = phones[static_cast<std::size_t>(pk.phone)];
    auto ids = bs::parseAdvertisingData(p.air);
    if (!ids) std::exit(2);
    for (const auto& c : ids->candidates) {
      if (pipeline.onSighting(c.bleUuid, pk.rssi, clock.systemTime()) == as::Verdict::logged) {
        logged.emplace_back((*writer)->lines(), pk.phone);
      }
    }
    tick();
    wake = std::max(nextWake(), now + 0.001);
  }
  while (now < kHour + 15) {
    moveTo(wake);
    tick();
    wake = std::max(nextWake(), now + 0.001);
  }
  if (!pipeline.flush()) std::exit(1);

  Result r;
  r.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::vector<double> latencies;
  int detected = 0, passersLogged = 0;
  for (const Phone& p : phones) {
    if (p.participant && p.durableAt >= 0) {
      ++detected;
      latencies.push_back(p.durableAt - p.arrive);
    }
    if (!p.participant && p.durableAt >= 0) ++passersLogged;
  }
  r.detection = 100.0 * detected / kParticipants;
  r.passersLogged = 100.0 * passersLogged / kPassers;
  r.p50 = percentile(latencies, 0.50);
  r.p99 = percentile(latencies, 0.99);
  r.worst = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  r.packets = packets.size();
  r.lines = pipeline.counters().logged;
  r.lastSeenLines = pipeline.counters().lastSeenWritten;
  std::filesystem::remove(log);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  attendance::support::log::setMinimumLevel(attendance::support::log::Level::warn);  // one log.durable a second
  std::uint64_t seed = 1;
  double miss = 0.10;
  std::filesystem::path dir = std::filesystem::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--miss")
      miss = std::strtod(argv[i + 1], nullptr);
    else if (flag == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--seed N] [--miss 0.1] [--dir DIR]\n", argv[0]);
      return 2;
    }
  }
  const auto dwell = as::PresenceOptions{}.minDwell;
  const Scenario scenarios[] = {
      {"Android low-latency 100 ms", 0.1, 10, miss},
      {"Android balanced 250 ms", 0.25, 10, miss},
      {"Android low-power 1 s", 1.0, 10, miss},
      {"iOS foreground 100 ms-1 s", -1, 10, miss},
      {"1 s, 30 % of packets missed", 1.0, 10, 0.30},
      {"1 s, --fsync always", 1.0, 10, miss, dwell, jl::FsyncPolicy::always},
      // The --min-dwell choices (ADR 0025): latency at the slow end, passers-by at the fast end,
      // also with passers-by heard for up to 1.5 s (longer than any dwell below 1.5 s).
      {"1 s, --min-dwell 2s", 1.0, 10, miss, 2000ms},
      {"1 s, --min-dwell 1.5s", 1.0, 10, miss, 1500ms},
      {"1 s, --min-dwell 1s", 1.0, 10, miss, 1000ms},
      {"iOS, --min-dwell 2s", -1, 10, miss, 2000ms},
      {"iOS, --min-dwell 1.5s", -1, 10, miss, 1500ms},
      {"iOS, --min-dwell 1s", -1, 10, miss, 1000ms},
      {"100 ms, passers-by up to 1.5 s, --min-dwell 2s", 0.1, 10, miss, 2000ms, jl::FsyncPolicy::interval, 1.5},
      {"100 ms, passers-by up to 1.5 s, --min-dwell 1.5s", 0.1, 10, miss, 1500ms, jl::FsyncPolicy::interval, 1.5},
      {"100 ms, passers-by up to 1.5 s, --min-dwell 1s", 0.1, 10, miss, 1000ms, jl::FsyncPolicy::interval, 1.5},
      // What bounds the p99 at 1 s (ADR 0025 "The latency goal at 1 s advertising"): the lost
      // packets (none missed), and the second sighting itself (one packet, RSSI alone).
      {"1 s, no packet missed", 1.0, 10, 0.0},
      {"1 s, no packet missed, --min-dwell 1s", 1.0, 10, 0.0, 1000ms},
      {"1 s, --min-sightings 1 --min-dwell 0", 1.0, 10, miss, 0ms, jl::FsyncPolicy::interval, 0.9, 1},
      {"250 ms, passers-by up to 1.5 s", 0.25, 10, miss, dwell, jl::FsyncPolicy::interval, 1.5},
  };
  std::printf(
      "seed %llu, %d participants (10 s stays) + %d passers-by (0.2-0.9 s, -97..-86 dBm) over 1 h, "
      "defaults: --min-sightings 2 --min-dwell %gs --rssi-min -90, --fsync interval 1s\n\n",
      static_cast<unsigned long long>(seed), kParticipants, kPassers,
      std::chrono::duration<double>(as::PresenceOptions{}.minDwell).count());
  std::printf(
      "| advertising | missed | packets | detected | passers-by logged | latency p50 | p99 | max | "
      "check-in lines | last-seen lines | run time |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& sc : scenarios) {
    const Result r = run(sc, seed, dir);
    std::printf("| %s | %.0f %% | %llu | %.2f %% | %.2f %% | %.2f s | %.2f s | %.2f s | %llu | %llu | %.1f s |\n",
                sc.name, sc.miss * 100, static_cast<unsigned long long>(r.packets), r.detection, r.passersLogged, r.p50,
                r.p99, r.worst, static_cast<unsigned long long>(r.lines),
                static_cast<unsigned long long>(r.lastSeenLines), r.wallSeconds);
    std::fflush(stdout);
  }
  return 0;
}
