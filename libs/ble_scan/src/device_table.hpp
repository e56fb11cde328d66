#pragma once

#include <attendance/ble_scan/advertisement.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// The scanner's model of BlueZ's Device1 objects: what each one last advertised, which
// ones have an advertisement not yet reported, and which are due for RemoveDevice
// (stale or beyond the cap, ADR 0021). No D-Bus in here: the sdbus adapter decodes
// properties into it (bluez_signals.cpp) and sends the removals it hands out (bluez_scanner.cpp).
namespace attendance::ble_scan::detail {

// A BlueZ device object path, "/org/bluez/hci<N>/dev_AA_BB_CC_DD_EE_FF", in 8 bytes: the
// adapter index N above the 48-bit address. The table, its dirty list and its removal queue
// hold these instead of the 37-byte path (and the device no longer keeps its address and
// adapter path as strings): ~150 B less a tracked device (issue 13, the 10 000-device RSS).
struct DeviceKey {
  std::uint64_t bits = 0;

  [[nodiscard]] static constexpr DeviceKey of(std::uint16_t adapter, std::uint64_t address) noexcept {
    return DeviceKey{(std::uint64_t{adapter} << 48U) | (address & 0xFFFF'FFFF'FFFFULL)};
  }
  [[nodiscard]] constexpr std::uint16_t adapter() const noexcept { return static_cast<std::uint16_t>(bits >> 48U); }
  [[nodiscard]] constexpr std::uint64_t address() const noexcept { return bits & 0xFFFF'FFFF'FFFFULL; }
  friend constexpr bool operator==(DeviceKey, DeviceKey) noexcept = default;
};

struct DeviceKeyHash {
  std::size_t operator()(DeviceKey k) const noexcept { return std::hash<std::uint64_t>{}(k.bits); }
};

// The key of "/org/bluez/hci<N>/dev_AA_BB_CC_DD_EE_FF" (hex digits in either case); nullopt
// for any other path (BlueZ names every device object so).
[[nodiscard]] std::optional<DeviceKey> parseDevicePath(std::string_view path) noexcept;
// N of the adapter path "/org/bluez/hci<N>"; nullopt for any other path.
[[nodiscard]] std::optional<std::uint16_t> parseAdapterPath(std::string_view path) noexcept;
// "/org/bluez/hci<N>" and "/org/bluez/hci<N>/dev_AA_BB_CC_DD_EE_FF" again.
[[nodiscard]] std::string adapterPath(std::uint16_t adapter);
[[nodiscard]] std::string devicePath(DeviceKey key);
// "hci<N>".
[[nodiscard]] std::string adapterName(std::uint16_t adapter);
// "AA:BB:CC:DD:EE:FF" in `out` (no terminator); a view of it.
[[nodiscard]] std::string_view formatAddress(DeviceKey key, std::array<char, 17>& out) noexcept;

// The Device1 properties that carry an advertisement's data, in the order their ids count
// (the first property that gives an id wins).
enum class AdvertProperty : std::uint8_t { manufacturer_data = 0, service_data = 1, uuids = 2 };
inline constexpr std::size_t kAdvertProperties = 3;

struct DeviceInfo {
  std::chrono::steady_clock::time_point lastSeen{};
  // The ids each property gave, in one array grouped by property in AdvertProperty order
  // (`counts` per property): one vector a device instead of three (issue 13, memory).
  std::vector<Candidate> candidates;
  std::array<std::uint8_t, kAdvertProperties> counts{};
  // Why each property gave no id (IgnoredReason::none when it gave some): an advertisement
  // without candidates is counted under the greatest of the three (the parser's own rule).
  std::array<IgnoredReason, kAdvertProperties> ignored{IgnoredReason::no_known_format, IgnoredReason::no_known_format,
                                                       IgnoredReason::no_known_format};
  std::optional<std::int16_t> rssi;
  bool keep = false;   // paired/trusted/connected: never RemoveDevice it
  bool dirty = false;  // has an advertisement not yet turned into sightings

  // Replaces what `property` gave: its ids (the first 255 kept) and why it gave none.
  void setCandidates(AdvertProperty property, const std::vector<Candidate>& from, IgnoredReason why);
  // The reason for an advertisement without ids: the greatest of the properties'.
  [[nodiscard]] IgnoredReason ignoredReason() const noexcept;
};

// A RemoveDevice call to send: `device` on adapter `adapterPath`.
struct Removal {
  std::string adapterPath;
  std::string device;
};

class DeviceTable {
public:
  using Clock = std::chrono::steady_clock;
  // RemoveDevice calls awaiting an answer at most; the rest wait in the queue, so a hung
  // bluetoothd does not collect an unbounded number of pending calls.
  static constexpr std::size_t kMaxRemovalsInFlight = 4;

  DeviceTable(std::chrono::milliseconds staleDeviceAge, std::size_t maxTrackedDevices)
      : staleDeviceAge_(staleDeviceAge), maxTrackedDevices_(maxTrackedDevices) {}

  [[nodiscard]] DeviceInfo* find(DeviceKey key);
  // The device `key`, created if new with its lastSeen `firstSeen`.
  DeviceInfo& add(DeviceKey key, Clock::time_point firstSeen);
  void erase(DeviceKey key) { devices_.erase(key); }
  // Forgets every device of an adapter (it went away), queued removals included.
  void eraseUnder(std::uint16_t adapter);
  // Forgets everything (bluetoothd restarted, or a fresh GetManagedObjects). Removals
  // already sent stay counted until they answer.
  void clear();
  [[nodiscard]] std::size_t size() const noexcept { return devices_.size(); }
  [[nodiscard]] bool empty() const noexcept { return devices_.empty(); }

  // One advertisement often arrives as several signals (InterfacesAdded, then
  // PropertiesChanged for RSSI and for the data, depending on the BlueZ version):
  // everything about one device that arrives in one batch is one advertisement.
  void markDirty(DeviceKey key, DeviceInfo& dev);
  // Marks the devices of `adapter` that BlueZ cached with an RSSI (seen during an
  // active discovery) as if just advertised.
  void markCachedWithRssi(std::uint16_t adapter);
  // Calls `report` once per dirty device, in the order they became dirty.
  void flushDirty(const std::function<void(DeviceKey, DeviceInfo&)>& report);

  // The participant ids a device's advertisement carries, each once (first property wins:
  // manufacturer data, service data, service UUIDs). Appends to `out`.
  static void collectCandidates(const DeviceInfo& dev, std::vector<Candidate>& out);

  // Queues removal of devices not updated for staleDeviceAge, and of the least recently
  // seen beyond maxTrackedDevices, and forgets them; at most once a second unless over the cap.
  // (add() also evicts at once when a burst takes the table 1/8 past the cap.)
  void sweepStale(Clock::time_point now);
  // The next removal to send, if one is queued and fewer than kMaxRemovalsInFlight await
  // an answer. Queued devices are already forgotten (sweepStale()), so the table stays
  // within maxTrackedDevices however slowly bluetoothd answers.
  [[nodiscard]] std::optional<Removal> nextRemoval();
  // A RemoveDevice call handed out by nextRemoval() answered (or failed).
  void removalAnswered() noexcept { --removalsInFlight_; }
  [[nodiscard]] bool removalsCanMove() const noexcept {
    return !removalQueue_.empty() && removalsInFlight_ < kMaxRemovalsInFlight;
  }
  [[nodiscard]] std::size_t removalsInFlight() const noexcept { return removalsInFlight_; }
  // When sweepStale() next has something to look at (none while the table is empty).
  [[nodiscard]] std::optional<Clock::time_point> nextSweep() const;
  void resetSweepClock(Clock::time_point now) { lastStaleSweep_ = now; }

private:
  void queueRemoval(DeviceKey key);
  // Queues removal of (and forgets) the least recently seen devices, never kept ones, until at
  // most `limit` are tracked (or only kept ones are left).
  void evictBeyond(std::size_t limit);

  std::chrono::milliseconds staleDeviceAge_;
  std::size_t maxTrackedDevices_;
  std::unordered_map<DeviceKey, DeviceInfo, DeviceKeyHash> devices_;
  std::vector<DeviceKey> dirty_;
  std::vector<DeviceKey> removalQueue_;
  std::size_t removalsInFlight_ = 0;
  Clock::time_point lastStaleSweep_{};
};

}  // namespace attendance::ble_scan::detail
