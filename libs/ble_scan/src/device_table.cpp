#include "device_table.hpp"

#include <attendance/support/hex.hpp>

#include <algorithm>
#include <charconv>

namespace attendance::ble_scan::detail {

namespace {

constexpr std::string_view kAdapterPrefix = "/org/bluez/hci";
constexpr std::string_view kDevicePrefix = "/dev_";
constexpr std::size_t kAddressChars = 17;  // AA_BB_CC_DD_EE_FF

// N of "/org/bluez/hci<N>" at the start of `path`; `rest` is what follows it.
std::optional<std::uint16_t> adapterIndex(std::string_view path, std::string_view& rest) noexcept {
  if (!path.starts_with(kAdapterPrefix)) return std::nullopt;
  path.remove_prefix(kAdapterPrefix.size());
  std::uint16_t index = 0;
  const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), index);
  if (ec != std::errc{} || end == path.data()) return std::nullopt;
  rest = path.substr(static_cast<std::size_t>(end - path.data()));
  return index;
}

}  // namespace

std::optional<std::uint16_t> parseAdapterPath(std::string_view path) noexcept {
  std::string_view rest;
  const auto index = adapterIndex(path, rest);
  if (!index || !rest.empty()) return std::nullopt;
  return index;
}

std::optional<DeviceKey> parseDevicePath(std::string_view path) noexcept {
  std::string_view rest;
  const auto index = adapterIndex(path, rest);
  if (!index || !rest.starts_with(kDevicePrefix)) return std::nullopt;
  rest.remove_prefix(kDevicePrefix.size());
  if (rest.size() != kAddressChars) return std::nullopt;
  std::uint64_t address = 0;
  for (std::size_t i = 0; i < kAddressChars; i += 3) {
    const int hi = support::hexDigitValue(rest[i]);
    const int lo = support::hexDigitValue(rest[i + 1]);
    if (hi < 0 || lo < 0 || (i + 2 < kAddressChars && rest[i + 2] != '_')) return std::nullopt;
    address = (address << 8U) | static_cast<std::uint64_t>((hi << 4) | lo);
  }
  return DeviceKey::of(*index, address);
}

std::string adapterName(std::uint16_t adapter) { return "hci" + std::to_string(adapter); }

std::string adapterPath(std::uint16_t adapter) { return std::string{kAdapterPrefix} + std::to_string(adapter); }

std::string_view formatAddress(DeviceKey key, std::array<char, 17>& out) noexcept {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  const std::uint64_t address = key.address();
  for (std::size_t byte = 0; byte < 6; ++byte) {
    const auto value = static_cast<unsigned>((address >> (8U * (5 - byte))) & 0xFFU);
    out[byte * 3] = kDigits[value >> 4U];
    out[byte * 3 + 1] = kDigits[value & 0xFU];
    if (byte < 5) out[byte * 3 + 2] = ':';
  }
  return {out.data(), out.size()};
}

std::string devicePath(DeviceKey key) {
  std::array<char, 17> address{};
  std::string path = adapterPath(key.adapter());
  path += kDevicePrefix;
  path += formatAddress(key, address);
  std::replace(path.end() - static_cast<std::ptrdiff_t>(kAddressChars), path.end(), ':', '_');
  return path;
}

void DeviceInfo::setCandidates(AdvertProperty property, const std::vector<Candidate>& from, IgnoredReason why) {
  const auto p = static_cast<std::size_t>(property);
  std::ptrdiff_t offset = 0;
  for (std::size_t i = 0; i < p; ++i) offset += counts[i];
  const auto first = candidates.begin() + offset;
  candidates.erase(first, first + counts[p]);
  const auto kept = std::min<std::size_t>(from.size(), 255);
  candidates.insert(candidates.begin() + offset, from.begin(), from.begin() + static_cast<std::ptrdiff_t>(kept));
  counts[p] = static_cast<std::uint8_t>(kept);
  ignored[p] = why;
}

IgnoredReason DeviceInfo::ignoredReason() const noexcept { return *std::max_element(ignored.begin(), ignored.end()); }

DeviceInfo* DeviceTable::find(DeviceKey key) {
  auto it = devices_.find(key);
  return it == devices_.end() ? nullptr : &it->second;
}

DeviceInfo& DeviceTable::add(DeviceKey key, Clock::time_point firstSeen) {
  // A burst of new devices between two sweeps (one D-Bus batch can carry thousands) must not
  // take the table far past the cap: at maxTrackedDevices + 1/8 the oldest make room at once.
  if (devices_.size() >= maxTrackedDevices_ + maxTrackedDevices_ / 8 + 1 && !devices_.contains(key)) {
    evictBeyond(maxTrackedDevices_ > 0 ? maxTrackedDevices_ - 1 : 0);
  }
  auto [it, added] = devices_.try_emplace(key);
  if (added) it->second.lastSeen = firstSeen;
  return it->second;
}

void DeviceTable::eraseUnder(std::uint16_t adapter) {
  std::erase_if(devices_, [&](const auto& d) { return d.first.adapter() == adapter; });
  std::erase_if(removalQueue_, [&](DeviceKey k) { return k.adapter() == adapter; });
}

void DeviceTable::clear() {
  devices_.clear();
  dirty_.clear();
  removalQueue_.clear();
}

void DeviceTable::markDirty(DeviceKey key, DeviceInfo& dev) {
  if (!dev.dirty) {
    dev.dirty = true;
    dirty_.push_back(key);
  }
}

void DeviceTable::markCachedWithRssi(std::uint16_t adapter) {
  for (auto& [key, dev] : devices_) {
    if (key.adapter() == adapter && dev.rssi) {
      markDirty(key, dev);
    }
  }
}

void DeviceTable::flushDirty(const std::function<void(DeviceKey, DeviceInfo&)>& report) {
  for (const auto key : dirty_) {
    auto it = devices_.find(key);
    if (it != devices_.end() && it->second.dirty) {
      it->second.dirty = false;
      report(key, it->second);
    }
  }
  dirty_.clear();
}

void DeviceTable::collectCandidates(const DeviceInfo& dev, std::vector<Candidate>& out) {
  for (const auto& c : dev.candidates) {  // in property order
    if (std::none_of(out.begin(), out.end(), [&](const Candidate& x) { return x.bleUuid == c.bleUuid; })) {
      out.push_back(c);
    }
  }
}

void DeviceTable::queueRemoval(DeviceKey key) {
  // Forgotten at once, not when the call goes out: removals wait behind kMaxRemovalsInFlight
  // (a slow or hung bluetoothd), and a device waiting there must not hold its cached
  // properties, or the table grows past maxTrackedDevices (issue 13: ~9 500 devices tracked
  // with 10 000 new ones, 2 MiB). Should it advertise before the call goes out, it is
  // adopted again from its PropertiesChanged (as any device we did not see appear).
  removalQueue_.push_back(key);
}

void DeviceTable::sweepStale(Clock::time_point now) {
  if (now - lastStaleSweep_ < std::chrono::seconds{1} && devices_.size() <= maxTrackedDevices_) {
    return;
  }
  lastStaleSweep_ = now;
  std::erase_if(devices_, [&](const auto& d) {
    if (d.second.keep || now - d.second.lastSeen < staleDeviceAge_) return false;
    queueRemoval(d.first);
    return true;
  });
  // Bound the cache: the least recently seen beyond the limit go too.
  evictBeyond(maxTrackedDevices_);
}

void DeviceTable::evictBeyond(std::size_t limit) {
  if (devices_.size() <= limit) return;
  std::vector<std::pair<Clock::time_point, decltype(devices_)::iterator>> removable;
  removable.reserve(devices_.size());  // one allocation, not a doubling series (the peak RSS)
  for (auto it = devices_.begin(); it != devices_.end(); ++it) {
    if (!it->second.keep) removable.emplace_back(it->second.lastSeen, it);
  }
  const std::size_t over = std::min(devices_.size() - limit, removable.size());
  std::nth_element(removable.begin(), removable.begin() + static_cast<std::ptrdiff_t>(over), removable.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < over; ++i) {
    queueRemoval(removable[i].second->first);
    devices_.erase(removable[i].second);  // the other iterators stay valid
  }
}

std::optional<Removal> DeviceTable::nextRemoval() {
  if (!removalsCanMove()) return std::nullopt;
  const DeviceKey key = removalQueue_.back();
  removalQueue_.pop_back();
  ++removalsInFlight_;
  return Removal{adapterPath(key.adapter()), devicePath(key)};
}

std::optional<DeviceTable::Clock::time_point> DeviceTable::nextSweep() const {
  if (devices_.empty()) {
    return std::nullopt;
  }
  return lastStaleSweep_ + std::chrono::seconds{1};
}

}  // namespace attendance::ble_scan::detail
