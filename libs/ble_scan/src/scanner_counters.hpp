#pragma once

#include <atomic>
#include <cstdint>

namespace attendance::ble_scan::detail {

// ScannerCounters as relaxed atomics: the scanner's thread writes them, a status thread
// may read them (BluezScanner::counters()).
struct AtomicCounters {
  std::atomic<std::uint64_t> advertisements{0};
  std::atomic<std::uint64_t> sightings{0};
  std::atomic<std::uint64_t> ignoredNoise{0};
  std::atomic<std::uint64_t> belowRssiFloor{0};
  std::atomic<std::uint64_t> malformedValues{0};
  std::atomic<std::uint64_t> discoveryStarts{0};
  std::atomic<std::uint64_t> discoveryRestarts{0};
  std::atomic<std::uint64_t> watchdogRestarts{0};
  std::atomic<std::uint64_t> devicesRemoved{0};
  std::atomic<std::uint64_t> dbusErrors{0};
  std::atomic<std::uint64_t> adapterPowerCycles{0};
  std::atomic<std::uint64_t> appleOverflowFrames{0};
  std::atomic<std::uint64_t> backgroundIphones{0};
  std::atomic<std::uint64_t> backgroundIphonesPeak{0};
};

inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) { c.fetch_add(by, std::memory_order_relaxed); }

}  // namespace attendance::ble_scan::detail
