#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>

// How many iPhones are near the scanner with the app in the background (issue 13 §2). Such a
// phone sends only Apple's overflow area (ManufacturerData[0x004C] = 01 + 16-byte bitmask): no id
// can be read from it (ADR 0022), but counting them tells the door staff how many people to ask
// to open the app. Counted per device (BlueZ object path) seen within a recent window rather than
// per frame, because a phone sends several frames a second. An iPhone changes its random address
// about every 15 minutes, so a total over the run would count the same phone many times; the peak
// of the windowed count is what the final summary reports. Pure: the caller passes the time.
// Bounded: at most `capacity` devices are tracked, further ones are not counted until old ones
// leave the window. Not thread-safe.
namespace attendance::ble_scan::detail {

class BackgroundIphones {
public:
  using Clock = std::chrono::steady_clock;

  BackgroundIphones(std::chrono::milliseconds window, std::size_t capacity);

  // One overflow-area frame from `device`.
  void seen(std::string_view device, Clock::time_point now);
  // Forgets devices silent for longer than the window (at most once a second unless full)
  // and updates the peak.
  void expire(Clock::time_point now);

  // Devices seen within the window, as of the last seen()/expire().
  [[nodiscard]] std::size_t current() const noexcept { return lastSeen_.size(); }
  [[nodiscard]] std::size_t peak() const noexcept { return peak_; }
  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }

private:
  void sweep(Clock::time_point now);

  std::chrono::milliseconds window_;
  std::size_t capacity_;
  // Keyed by a hash of the device path: 16 bytes a device whatever the path's length. A
  // collision merges two phones into one, which undercounts by one in 2^64.
  std::unordered_map<std::uint64_t, Clock::time_point> lastSeen_;
  std::size_t peak_ = 0;
  std::uint64_t frames_ = 0;
  Clock::time_point lastSweep_{};
};

}  // namespace attendance::ble_scan::detail
