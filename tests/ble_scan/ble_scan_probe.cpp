// A minimal consumer of BluezScanner for integration tests: prints one JSON line per
// sighting on stdout ({"bleUuid":...,"format":...,"rssi":...,"address":...,"adapter":...,"atMs":...})
// until SIGTERM/SIGINT, then a final {"counters":{...}} line. Exit 0 on a clean stop,
// 1 when the bus is lost, 2 on bad arguments.
#include <attendance/ble_scan/bluez_scanner.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/json_text.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

attendance::ble_scan::BluezScanner* gScanner = nullptr;
volatile std::sig_atomic_t gStop = 0;

void onSignal(int /*signo*/) {
  gStop = 1;
  if (gScanner != nullptr) {
    gScanner->wake();
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace attendance;
  ble_scan::ScannerOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a{argv[i]};
    if (a == "--adapter" && i + 1 < argc) {
      options.adapterName = argv[++i];
    } else if (a == "--rssi-min" && i + 1 < argc) {
      options.rssiMin = static_cast<std::int16_t>(std::atoi(argv[++i]));
    } else if (a == "--formats" && i + 1 < argc) {
      auto f = ble_scan::FormatSet::parse(argv[++i]);
      if (!f) {
        std::fprintf(stderr, "ble_scan_probe: --formats: %s\n", f.error().message.c_str());
        return 2;
      }
      options.parser.formats = *f;
    } else {
      std::fprintf(stderr, "usage: ble_scan_probe [--adapter NAME] [--rssi-min N] [--formats LIST]\n");
      return 2;
    }
  }
  support::RealTimeSource clock;
  std::string line;
  auto created = ble_scan::BluezScanner::create(options, clock, [&](const ble_scan::Sighting& s) {
    line.clear();
    line += "{\"bleUuid\":\"" + s.bleUuid.toString() + "\",\"format\":\"";
    line += ble_scan::formatName(s.format);
    line += "\",\"rssi\":" + (s.rssi ? std::to_string(*s.rssi) : std::string{"null"});
    line += ",\"address\":";
    support::appendJsonString(line, s.address);
    line += ",\"adapter\":";
    support::appendJsonString(line, s.adapter);
    line += ",\"atMs\":" + std::to_string(support::toEpochMillis(s.seenAt)) + "}\n";
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  });
  if (!created) {
    std::fprintf(stderr, "ble_scan_probe: %s\n", created.error().message.c_str());
    return 1;
  }
  auto& scanner = **created;
  gScanner = &scanner;
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  if (auto r = scanner.start(); !r) {
    std::fprintf(stderr, "ble_scan_probe: %s\n", r.error().message.c_str());
    return 1;
  }
  int rc = 0;
  while (gStop == 0) {
    if (auto r = scanner.poll(std::chrono::seconds{1}); !r) {
      std::fprintf(stderr, "ble_scan_probe: %s\n", r.error().message.c_str());
      rc = 1;
      break;
    }
  }
  scanner.stop();
  const auto c = scanner.counters();
  std::printf(
      "{\"counters\":{\"advertisements\":%llu,\"sightings\":%llu,\"ignoredNoise\":%llu,\"belowRssiFloor\":%llu,"
      "\"malformedValues\":%llu,\"discoveryRestarts\":%llu,\"devicesRemoved\":%llu,\"trackedDevices\":%zu}}\n",
      static_cast<unsigned long long>(c.advertisements), static_cast<unsigned long long>(c.sightings),
      static_cast<unsigned long long>(c.ignoredNoise), static_cast<unsigned long long>(c.belowRssiFloor),
      static_cast<unsigned long long>(c.malformedValues), static_cast<unsigned long long>(c.discoveryRestarts),
      static_cast<unsigned long long>(c.devicesRemoved), scanner.trackedDevices());
  gScanner = nullptr;
  return rc;
}
